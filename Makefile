# Two commands matter: `make run` and `make test`. Both install what is
# missing (scripts/deps.sh) and build every WebAssembly guest from source.

GO        ?= go
export GOFLAGS := -buildvcs=false
export CGO_ENABLED ?= 0

# Everything the build produces lands under build/ (ignored by git).
BUILD     := build
PLUGINS   := $(BUILD)/plugins
ENGINE    := bin/engine

# Guest toolchains.
GO_WASM    := GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -ldflags=-s
CLANG_WASM := clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -nostartfiles \
              -Wl,--no-entry -Wl,--export-dynamic -Wl,-zstack-size=65536
WAT2WASM   := wat2wasm
# seal copies a source manifest beside a built module, writing its sha256.
SEAL       := $(GO) run ./internal/cmd/seal

# Each guest folder contributes a wasm.mk that appends to WASM_TARGETS and
# holds its own rule, so adding a plugin never edits this file.
WASM_TARGETS :=
include $(sort $(shell find . -name wasm.mk -not -path './build/*' -not -path './.git/*'))

TEST_TIMEOUT ?= 25m

.PHONY: all deps wasm build test test-unit fuzz-short run bench fuzz clean

all: build

deps:
	@./scripts/deps.sh

wasm: deps $(WASM_TARGETS)

build: deps wasm
	$(GO) build -o $(ENGINE) ./cmd/engine

# The whole suite: every Go module in the repository, with the race
# detector, against real Chromium, PostgreSQL and the guests built above,
# then a short run of every fuzz target, then one summary line.
test: deps wasm
	FUZZTIME=5s ./scripts/test.sh

run: build
	./scripts/run.sh

bench: deps wasm
	./scripts/bench.sh

# Long fuzzing, run by hand: make fuzz FUZZTIME=10m
FUZZTIME ?= 2m
fuzz: deps wasm
	./scripts/fuzz.sh $(FUZZTIME)

clean:
	rm -rf $(BUILD) bin
