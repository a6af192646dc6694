;; A well-behaved strategy plugin with four strategies, each exercising host functions.
;; Compiled with: wat2wasm good.wat -o good.wasm
(module
  (import "heal_host" "take" (func $take (param i32 i32) (result i32)))
  (import "heal_host" "last_error" (func $last_error (param i32 i32) (result i32)))
  (import "heal_browser" "page_info" (func $page_info (param i32 i32 i32 i32) (result i32)))
  (import "heal_browser" "query" (func $query (param i32 i32 i32 i32) (result i32)))
  (import "heal_time" "sleep_ms" (func $sleep_ms (param i32) (result i32)))
  (import "heal_log" "write" (func $log (param i32 i32 i32)))
  (memory (export "memory") 2)
  ;; malformed query input: offset 16, length 1
  (data (i32.const 16) "[")
  ;; result: give_up bad_request: offset 32, length 45
  (data (i32.const 32) "{\22outcome\22:\22give_up\22,\22message\22:\22bad_request\22}")
  ;; result: abort unexpected: offset 80, length 42
  (data (i32.const 80) "{\22outcome\22:\22abort\22,\22message\22:\22unexpected\22}")
  ;; result: retry cut: offset 128, length 35
  (data (i32.const 128) "{\22outcome\22:\22retry\22,\22message\22:\22cut\22}")
  ;; result: retry full: offset 176, length 36
  (data (i32.const 176) "{\22outcome\22:\22retry\22,\22message\22:\22full\22}")
  ;; result: give_up unknown strategy: offset 224, length 50
  (data (i32.const 224) "{\22outcome\22:\22give_up\22,\22message\22:\22unknown strategy\22}")
  ;; result: give_up host call failed: offset 288, length 50
  (data (i32.const 288) "{\22outcome\22:\22give_up\22,\22message\22:\22host call failed\22}")
  ;; log message: offset 352, length 8
  (data (i32.const 352) "sleeping")
  ;; result prefix (page_info is written after it): offset 16384, length 46
  (data (i32.const 16384) "{\22outcome\22:\22retry\22,\22message\22:\22page\22,\22details\22:")
  ;; description: offset 368, length 65
  (data (i32.const 368) "{\22strategies\22:[\22page_info\22,\22take_page\22,\22bad_query\22,\22sleep_long\22]}")
  (func (export "heal_abi_version") (result i32) (i32.const 0x10000))
  ;; One request buffer at 64 KiB, enough for the fixtures' requests.
  (func (export "heal_alloc") (param $n i32) (result i32)
    (if (i32.gt_u (local.get $n) (i32.const 65536)) (then (return (i32.const 0))))
    (i32.const 65536))
  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "heal_describe") (result i64) (call $pack (i32.const 368) (i32.const 65)))
  ;; finish wraps a page_info response of n bytes (at 16384+46) into the
  ;; result: prefix + response + "}".
  (func $finish (param $n i32) (result i64)
    (if (i32.or (i32.lt_s (local.get $n) (i32.const 0)) (i32.gt_s (local.get $n) (i32.const 8192)))
      (then (return (call $pack (i32.const 288) (i32.const 50)))))
    (i32.store8 (i32.add (i32.const 16430) (local.get $n)) (i32.const 125))
    (call $pack (i32.const 16384) (i32.add (local.get $n) (i32.const 47))))
  ;; The strategy is chosen by the first letter of its name, at offset 13
  ;; of the request ({"strategy":"...).
  (func (export "heal_run") (param $ptr i32) (param $len i32) (result i64)
    (local $c i32) (local $n i32) (local $s i32)
    (local.set $c (i32.load8_u (i32.add (local.get $ptr) (i32.const 13))))
    ;; page_info: the response fits the output buffer.
    (if (i32.eq (local.get $c) (i32.const 112))
      (then (return (call $finish (call $page_info (i32.const 0) (i32.const 0) (i32.const 16430) (i32.const 8192))))))
    ;; take_page: no output buffer, so the response is fetched with take.
    (if (i32.eq (local.get $c) (i32.const 116))
      (then
        (local.set $n (call $page_info (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0)))
        (if (i32.le_s (local.get $n) (i32.const 0)) (then (return (call $finish (i32.const -1)))))
        (return (call $finish (call $take (i32.const 16430) (local.get $n))))))
    ;; bad_query: malformed input gives bad_request and a last_error message.
    (if (i32.eq (local.get $c) (i32.const 98))
      (then
        (local.set $s (call $query (i32.const 16) (i32.const 1) (i32.const 4096) (i32.const 1024)))
        (if (i32.and (i32.eq (local.get $s) (i32.const -1))
                     (i32.gt_s (call $last_error (i32.const 8192) (i32.const 1024)) (i32.const 0)))
          (then (return (call $pack (i32.const 32) (i32.const 45)))))
        (return (call $pack (i32.const 80) (i32.const 42)))))
    ;; sleep_long: asks for 100 s; the host cuts the sleep before the deadline.
    (if (i32.eq (local.get $c) (i32.const 115))
      (then
        (call $log (i32.const 2) (i32.const 352) (i32.const 8))
        (if (i32.eq (call $sleep_ms (i32.const 100000)) (i32.const -3))
          (then (return (call $pack (i32.const 128) (i32.const 35)))))
        (return (call $pack (i32.const 176) (i32.const 36)))))
    (call $pack (i32.const 224) (i32.const 50)))
)
