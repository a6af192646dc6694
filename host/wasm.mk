# Host test fixtures that need a guest toolchain other than wat2wasm. They
# go to build/hosttest, not build/plugins, so they are never loaded as real
# plugins.
HOST_GOPANIC := $(BUILD)/hosttest/gopanic/gopanic.wasm
WASM_TARGETS += $(HOST_GOPANIC)

$(HOST_GOPANIC): $(wildcard host/testdata/gopanic/*.go host/testdata/gopanic/go.mod \
		sdk/go/go.mod sdk/go/heal/*.go sdk/go/internal/*/*.go abi/*.go) host/testdata/gopanic/manifest.toml
	@mkdir -p $(@D)
	cd host/testdata/gopanic && $(GO_WASM) -o $(CURDIR)/$@ .
	$(SEAL) host/testdata/gopanic/manifest.toml $@
