# go-wait-visible: a Go guest built with the standard toolchain.
GO_WAIT_VISIBLE := $(PLUGINS)/go-wait-visible/wait_visible.wasm
WASM_TARGETS += $(GO_WAIT_VISIBLE)

$(GO_WAIT_VISIBLE): $(wildcard examples/plugins/go-wait-visible/*.go examples/plugins/go-wait-visible/go.mod \
		sdk/go/go.mod sdk/go/heal/*.go sdk/go/internal/*/*.go abi/*.go) examples/plugins/go-wait-visible/manifest.toml
	@mkdir -p $(@D)
	cd examples/plugins/go-wait-visible && $(GO_WASM) -o $(CURDIR)/$@ .
	$(SEAL) examples/plugins/go-wait-visible/manifest.toml $@
