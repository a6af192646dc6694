;; Returns use_element without an element or a point.
;; Compiled with: wat2wasm noelement.wat -o noelement.wasm
(module
  (memory (export "memory") 2)
  ;; use_element without element or point: offset 16, length 25
  (data (i32.const 16) "{\22outcome\22:\22use_element\22}")
  (func (export "heal_abi_version") (result i32) (i32.const 0x10000))
  ;; One request buffer at 64 KiB, enough for the fixtures' requests.
  (func (export "heal_alloc") (param $n i32) (result i32)
    (if (i32.gt_u (local.get $n) (i32.const 65536)) (then (return (i32.const 0))))
    (i32.const 65536))
  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "heal_run") (param i32 i32) (result i64)
    (call $pack (i32.const 16) (i32.const 25)))
)
