;; The hot-swap fixture: one strategy, "versioned", whose result names the
;; module's version. Tests patch the digits of "fixture v000" in the binary
;; (same length, so the module stays valid) to build many versions.
;; Compiled with: wat2wasm versioned.wat -o versioned.wasm
(module
  ;; Imported but unused, so a manifest without the "log" grant is refused.
  (import "heal_log" "write" (func $log (param i32 i32 i32)))
  (memory (export "memory") 1)
  ;; result: offset 0, length 44
  (data (i32.const 0) "{\22outcome\22:\22retry\22,\22message\22:\22fixture v000\22}")
  ;; description: offset 256, length 28
  (data (i32.const 256) "{\22strategies\22:[\22versioned\22]}")
  (func (export "heal_abi_version") (result i32) (i32.const 0x10000))
  ;; One request buffer at 1 KiB.
  (func (export "heal_alloc") (param $n i32) (result i32)
    (if (i32.gt_u (local.get $n) (i32.const 64512)) (then (return (i32.const 0))))
    (i32.const 1024))
  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "heal_describe") (result i64) (call $pack (i32.const 256) (i32.const 28)))
  (func (export "heal_run") (param $ptr i32) (param $len i32) (result i64)
    (call $pack (i32.const 0) (i32.const 44)))
)
