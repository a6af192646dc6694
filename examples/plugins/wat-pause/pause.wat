;; wat-pause: an example strategy plugin written by hand in WebAssembly text.
;;
;; Strategy pause_and_retry logs, sleeps delay_ms (the "delay_ms" key of the
;; request's config; default 250, at most 60000)
;; through heal_time.sleep_ms, which never sleeps past the call's deadline,
;; and returns retry, or give_up when the deadline cut the pause short.
;; Results are constant JSON in data segments.
;;
;; Memory layout: page 0 holds the constants and a scratch area for the log
;; line; the request is written at 65536 (page 1 and up, grown on demand).
(module
  (import "heal_time" "sleep_ms" (func $sleep_ms (param i32) (result i32)))
  (import "heal_log" "write" (func $log_write (param i32 i32 i32)))

  (memory (export "memory") 2)

  (data (i32.const 1024) "{\"strategies\":[\"pause_and_retry\"]}")
  (data (i32.const 1088) "{\"outcome\":\"retry\",\"message\":\"paused before retrying\"}")
  (data (i32.const 1152) "{\"outcome\":\"give_up\",\"message\":\"the deadline cut the pause short\"}")
  (data (i32.const 1280) "\"delay_ms\"")
  (data (i32.const 1296) "pause_and_retry: pausing ")

  (global $describe_len i32 (i32.const 34))
  (global $retry_len i32 (i32.const 54))
  (global $give_up_len i32 (i32.const 66))
  (global $key i32 (i32.const 1280))
  (global $key_len i32 (i32.const 10))
  (global $prefix i32 (i32.const 1296))
  (global $prefix_len i32 (i32.const 25))
  (global $line i32 (i32.const 2048))
  (global $input i32 (i32.const 65536))

  (func (export "heal_abi_version") (result i32)
    (i32.const 0x10000)) ;; 1.0

  ;; One call at a time: every request goes to the same input area, which
  ;; grows to fit. Returns 0 when memory cannot grow.
  (func (export "heal_alloc") (param $n i32) (result i32)
    (local $need i32)
    ;; pages needed for input + n bytes, rounded up
    (local.set $need
      (i32.shr_u (i32.add (i32.add (global.get $input) (local.get $n)) (i32.const 65535)) (i32.const 16)))
    (if (i32.gt_u (local.get $need) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $need) (memory.size))) (i32.const -1))
          (then (return (i32.const 0))))))
    (global.get $input))

  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32))
            (i64.extend_i32_u (local.get $len))))

  (func (export "heal_describe") (result i64)
    (call $pack (i32.const 1024) (global.get $describe_len)))

  ;; matches_key reports whether the key pattern starts at p.
  (func $matches_key (param $p i32) (result i32)
    (local $i i32)
    (loop $next
      (if (i32.eq (local.get $i) (global.get $key_len))
        (then (return (i32.const 1))))
      (if (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $i)))
                  (i32.load8_u (i32.add (global.get $key) (local.get $i))))
        (then (return (i32.const 0))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))
    (unreachable))

  (func $is_space (param $c i32) (result i32)
    (i32.or (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 9)))
            (i32.or (i32.eq (local.get $c) (i32.const 10)) (i32.eq (local.get $c) (i32.const 13)))))

  ;; delay reads the integer after the "delay_ms" key in [p, p+n), or
  ;; returns 250. Values above 60000 are clamped. In an ABI 1.0 request only
  ;; config can hold that key (a quote inside a JSON string is escaped, so the
  ;; pattern cannot match inside text), and the scan runs from the end, where
  ;; the engine's encoder puts config after the large error and action.
  (func $delay (param $p i32) (param $n i32) (result i32)
    (local $start i32) (local $end i32) (local $c i32) (local $v i32) (local $digits i32)
    (local.set $start (local.get $p))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $not_found
      (br_if $not_found (i32.lt_u (local.get $n) (global.get $key_len)))
      ;; find the key, last occurrence first
      (local.set $p (i32.sub (local.get $end) (global.get $key_len)))
      (loop $scan
        (if (call $matches_key (local.get $p))
          (then (local.set $p (i32.add (local.get $p) (global.get $key_len))))
          (else
            (br_if $not_found (i32.eq (local.get $p) (local.get $start)))
            (local.set $p (i32.sub (local.get $p) (i32.const 1)))
            (br $scan))))
      ;; whitespace, a colon, whitespace
      (block $colon
        (loop $ws
          (br_if $not_found (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $c (i32.load8_u (local.get $p)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br_if $colon (i32.eq (local.get $c) (i32.const 58)))
          (br_if $ws (call $is_space (local.get $c)))
          (br $not_found)))
      (block $number
        (loop $ws2
          (br_if $not_found (i32.ge_u (local.get $p) (local.get $end)))
          (br_if $number (i32.eqz (call $is_space (i32.load8_u (local.get $p)))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $ws2)))
      ;; digits
      (block $done
        (loop $digit
          (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
          (br_if $done (i32.gt_u (local.get $c) (i32.const 9)))
          (if (i32.lt_u (local.get $v) (i32.const 1000000))
            (then (local.set $v (i32.add (i32.mul (local.get $v) (i32.const 10)) (local.get $c)))))
          (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $digit)))
      (br_if $not_found (i32.eqz (local.get $digits)))
      (if (i32.gt_u (local.get $v) (i32.const 60000)) (then (local.set $v (i32.const 60000))))
      (return (local.get $v)))
    (i32.const 250))

  ;; log_pause writes "pause_and_retry: pausing N ms" at level info.
  (func $log_pause (param $ms i32)
    (local $q i32) (local $len i32) (local $digits i32) (local $i i32)
    (memory.copy (global.get $line) (global.get $prefix) (global.get $prefix_len))
    ;; count digits, then write them backwards
    (local.set $q (local.get $ms))
    (loop $count
      (local.set $digits (i32.add (local.get $digits) (i32.const 1)))
      (local.set $q (i32.div_u (local.get $q) (i32.const 10)))
      (br_if $count (local.get $q)))
    (local.set $len (i32.add (global.get $prefix_len) (local.get $digits)))
    (local.set $q (local.get $ms))
    (local.set $i (i32.add (global.get $line) (local.get $len)))
    (loop $write
      (local.set $i (i32.sub (local.get $i) (i32.const 1)))
      (i32.store8 (local.get $i) (i32.add (i32.const 48) (i32.rem_u (local.get $q) (i32.const 10))))
      (local.set $q (i32.div_u (local.get $q) (i32.const 10)))
      (br_if $write (local.get $q)))
    ;; " ms"
    (i32.store8 (i32.add (global.get $line) (local.get $len)) (i32.const 32))
    (i32.store8 (i32.add (global.get $line) (i32.add (local.get $len) (i32.const 1))) (i32.const 109))
    (i32.store8 (i32.add (global.get $line) (i32.add (local.get $len) (i32.const 2))) (i32.const 115))
    (call $log_write (i32.const 2) (global.get $line) (i32.add (local.get $len) (i32.const 3))))

  (func (export "heal_run") (param $p i32) (param $n i32) (result i64)
    (local $ms i32)
    (local.set $ms (call $delay (local.get $p) (local.get $n)))
    (call $log_pause (local.get $ms))
    (if (result i64) (i32.eqz (call $sleep_ms (local.get $ms)))
      (then (call $pack (i32.const 1088) (global.get $retry_len)))
      (else (call $pack (i32.const 1152) (global.get $give_up_len)))))
)
