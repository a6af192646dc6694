;; Writes a line to stderr through WASI, then traps: the line must reach the
;; plugin's log and the call's error.
;; Compiled with: wat2wasm stderr.wat -o stderr.wasm
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  ;; iovec {ptr 64, len 21} at 16; bytes written go to 32
  (data (i32.const 16) "\40\00\00\00\15\00\00\00")
  (data (i32.const 64) "boom: the guest died\n")
  (func (export "heal_abi_version") (result i32) (i32.const 0x10000))
  (func (export "heal_alloc") (param $n i32) (result i32)
    (if (i32.gt_u (local.get $n) (i32.const 65536)) (then (return (i32.const 0))))
    (i32.const 65536))
  (func (export "heal_run") (param i32 i32) (result i64)
    (drop (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 32)))
    unreachable)
)
