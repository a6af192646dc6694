# c-scroll: a C guest built with clang-14 and wasi-libc.
C_SCROLL := $(PLUGINS)/c-scroll/scroll.wasm
WASM_TARGETS += $(C_SCROLL)

$(C_SCROLL): $(wildcard examples/plugins/c-scroll/*.c examples/plugins/c-scroll/*.h) examples/plugins/c-scroll/manifest.toml
	@mkdir -p $(@D)
	$(CLANG_WASM) -Wall -Wextra -Werror -Wl,--strip-all -o $@ $(filter %.c,$^)
	$(SEAL) examples/plugins/c-scroll/manifest.toml $@
