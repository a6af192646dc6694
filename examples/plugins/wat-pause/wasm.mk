# wat-pause: a guest written by hand in WebAssembly text.
WAT_PAUSE := $(PLUGINS)/wat-pause/pause.wasm
WASM_TARGETS += $(WAT_PAUSE)

$(WAT_PAUSE): examples/plugins/wat-pause/pause.wat examples/plugins/wat-pause/manifest.toml
	@mkdir -p $(@D)
	$(WAT2WASM) -o $@ $<
	$(SEAL) examples/plugins/wat-pause/manifest.toml $@
