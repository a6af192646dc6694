/* c-scroll: an example strategy plugin in C (clang --target=wasm32-wasi).
 *
 * Strategy scroll_then_retry scrolls the failed action's target into view
 * through heal_browser_act.scroll_into_view, logs what it did and asks the
 * engine to retry; it gives up when the target is not on the page or the
 * browser refuses. Config (all optional): timeout_ms for the scroll,
 * settle_ms the retry delay (default 100). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define IMPORT(mod, fn) __attribute__((import_module(mod), import_name(fn)))
#define EXPORT(fn) __attribute__((export_name(fn)))

IMPORT("heal_host", "take") int32_t heal_take(void *ptr, int32_t cap);
IMPORT("heal_host", "last_error") int32_t heal_last_error(void *ptr, int32_t cap);
IMPORT("heal_log", "write") void heal_log(int32_t level, const void *ptr, int32_t len);
IMPORT("heal_browser_act", "scroll_into_view")
int32_t heal_scroll_into_view(const void *in, int32_t in_len, void *out, int32_t out_cap);

enum { LOG_INFO = 2, LOG_WARN = 3 };
enum { STATUS_NOT_FOUND = -2, STATUS_UNAVAILABLE = -4 };

/* The WASI reactor initialiser: runs the C library's constructors once per
 * instance. Defining it keeps the linker from wrapping every export in
 * constructor and destructor calls, as it does for modules without one. */
extern void __wasm_call_ctors(void);
EXPORT("_initialize") void _initialize(void) { __wasm_call_ctors(); }

EXPORT("heal_abi_version") int32_t heal_abi_version(void) { return 1 << 16 | 0; }

EXPORT("heal_alloc") void *heal_alloc(int32_t size) { return malloc(size > 0 ? (size_t)size : 1); }

static const char describe[] = "{\"strategies\":[\"scroll_then_retry\"]}";

static uint64_t pack(const void *p, size_t n) { return (uint64_t)(uintptr_t)p << 32 | (uint32_t)n; }

EXPORT("heal_describe") uint64_t heal_describe(void) { return pack(describe, sizeof describe - 1); }

/* The result of the previous call: the host copies it before calling any
 * other export, so it is freed when the next call starts. */
static buf result;

/* append_last_error appends the message of the failed host call to b,
 * fetching it again into a larger buffer when it did not fit. */
static void append_last_error(buf *b) {
	char small[128];
	int32_t n = heal_last_error(small, sizeof small);
	if (n <= (int32_t)sizeof small) {
		buf_raw(b, small, n > 0 ? (size_t)n : 0);
		return;
	}
	char *big = malloc((size_t)n);
	if (!big) {
		buf_raw(b, small, sizeof small);
		return;
	}
	int32_t m = heal_last_error(big, n);
	buf_raw(b, big, m > 0 && m <= n ? (size_t)m : 0);
	free(big);
}

static void log_line(int32_t level, buf *b) {
	if (!b->oom)
		heal_log(level, b->p, (int32_t)b->len);
	free(b->p);
}

/* scroll calls scroll_into_view with locator and returns its status; on
 * success *ok says whether the host reported "ok": true. A response too
 * large for the stack buffer is fetched with heal_host.take. */
static int32_t scroll(buf *locator, int *ok) {
	char out[96];
	int32_t n = heal_scroll_into_view(locator->p, (int32_t)locator->len, out, sizeof out);
	if (n < 0)
		return n;
	const char *resp = out;
	char *big = NULL;
	if (n > (int32_t)sizeof out) {
		big = malloc((size_t)n);
		if (!big)
			return -5;
		int32_t m = heal_take(big, n);
		if (m < 0 || m > n) {
			free(big);
			return m < 0 ? m : -5;
		}
		resp = big;
		n = m;
	}
	const char *key[] = {"ok"};
	*ok = json_bool(resp, json_path(resp, (size_t)n, key, 1), 0);
	free(big);
	return 0;
}

static void outcome(const char *name, const char *message) {
	buf_str(&result, "{\"outcome\":\"");
	buf_str(&result, name);
	buf_str(&result, "\",\"message\":");
	buf_quote(&result, message, strlen(message));
}

static uint64_t finish(void) {
	buf_str(&result, "}");
	if (result.oom)
		__builtin_trap(); /* out of memory: let the host replace the instance */
	return pack(result.p, result.len);
}

EXPORT("heal_run") uint64_t heal_run(char *req, int32_t len) {
	free(result.p);
	memset(&result, 0, sizeof result);
	size_t n = len > 0 ? (size_t)len : 0;

	/* One pass over the request's top level, then small nested lookups. */
	static const char *const top_keys[] = {"strategy", "action", "config"};
	span top[3];
	span whole = {0, (long)n};
	json_members(req, whole, top_keys, top, 3);

	char strategy[64];
	long sl = json_string(req, top[0], strategy, sizeof strategy);
	if (sl < 0 || (size_t)sl >= sizeof strategy || strcmp(strategy, "scroll_then_retry") != 0) {
		outcome("give_up", "this module only provides scroll_then_retry");
		free(req);
		return finish();
	}

	/* The target: css preferred, else xpath. */
	static const char *const target_keys[] = {"css", "xpath"};
	span sels[2];
	json_members(req, json_get(req, top[1], "target"), target_keys, sels, 2);
	const char *field = "css";
	span sel = sels[0];
	if (sel.end < 0) {
		field = "xpath";
		sel = sels[1];
	}
	long selLen = sel.end < 0 ? -1 : json_string(req, sel, NULL, 0);
	if (selLen <= 0) {
		outcome("give_up", "the target has neither css nor xpath to scroll to");
		free(req);
		return finish();
	}
	char *selector = malloc((size_t)selLen + 1);
	if (!selector)
		__builtin_trap();
	json_string(req, sel, selector, (size_t)selLen + 1);

	static const char *const config_keys[] = {"timeout_ms", "settle_ms"};
	span cfg[2];
	json_members(req, top[2], config_keys, cfg, 2);
	int64_t timeout_ms = json_int(req, cfg[0], 0);
	int64_t settle_ms = json_int(req, cfg[1], 100);
	free(req); /* the request is ours now; everything needed is copied */

	buf locator = {0};
	buf_str(&locator, "{\"");
	buf_str(&locator, field);
	buf_str(&locator, "\":");
	buf_quote(&locator, selector, (size_t)selLen);
	if (timeout_ms > 0) {
		buf_str(&locator, ",\"timeout_ms\":");
		buf_int(&locator, timeout_ms);
	}
	buf_str(&locator, "}");
	if (locator.oom)
		__builtin_trap();

	int ok = 0;
	int32_t status = scroll(&locator, &ok);
	free(locator.p);

	buf line = {0};
	if (status < 0) {
		buf_str(&result, "{\"outcome\":\"give_up\",\"message\":");
		buf msg = {0};
		buf_str(&msg, status == STATUS_NOT_FOUND     ? "target not on the page: "
			      : status == STATUS_UNAVAILABLE ? "no browser: "
							     : "scroll failed: ");
		append_last_error(&msg);
		buf_quote(&result, msg.p, msg.oom ? 0 : msg.len);
		buf_str(&line, "scroll_into_view failed: ");
		buf_raw(&line, msg.p, msg.oom ? 0 : msg.len);
		free(msg.p);
		log_line(LOG_WARN, &line);
		buf_str(&result, ",\"details\":{\"status\":");
		buf_int(&result, status);
		buf_str(&result, "}");
	} else if (!ok) {
		outcome("give_up", "the browser did not scroll the target");
	} else {
		buf_str(&line, "scrolled ");
		buf_raw(&line, selector, (size_t)selLen);
		buf_str(&line, " into view");
		log_line(LOG_INFO, &line);
		outcome("retry", "scrolled the target into view");
		buf_str(&result, ",\"retry\":{\"delay_ms\":");
		buf_int(&result, settle_ms > 0 ? settle_ms : 0);
		buf_str(&result, "}");
	}
	free(selector);
	return finish();
}
