# selfheal.builtin: every built-in strategy in one Go guest module, so the
# engine compiles one ~2-4 MB module instead of one per strategy.
BUILTIN_STRATEGIES := $(PLUGINS)/selfheal.builtin/builtin.wasm
WASM_TARGETS += $(BUILTIN_STRATEGIES)

$(BUILTIN_STRATEGIES): $(filter-out %_test.go,$(wildcard strategies/*.go)) strategies/go.mod \
		$(wildcard sdk/go/go.mod sdk/go/heal/*.go sdk/go/internal/*/*.go abi/*.go) strategies/manifest.toml
	@mkdir -p $(@D)
	cd strategies && $(GO_WASM) -o $(CURDIR)/$@ .
	$(SEAL) strategies/manifest.toml $@
