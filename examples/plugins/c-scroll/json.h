/* A minimal JSON reader and writer: enough to find values by key path in a
 * request, decode strings (all escapes, \u surrogate pairs to UTF-8) and
 * write escaped strings. No allocation in the reader. */
#ifndef JSON_H
#define JSON_H

#include <stddef.h>
#include <stdint.h>

/* A span of the input: s[start, end). end < 0 means "absent". */
typedef struct {
	long start, end;
} span;

/* Finds the value of key in the object spanning obj. */
span json_get(const char *s, span obj, const char *key);
/* Finds the values of several keys of the object spanning obj in one pass;
 * out[k] is the value of keys[k] (end < 0 when absent). */
void json_members(const char *s, span obj, const char *const *keys, span *out, int nkeys);
/* Finds a value by a path of keys from the top-level object of s[0, n). */
span json_path(const char *s, size_t n, const char *const *keys, int nkeys);
/* Decodes the string value at v into out (cap bytes, NUL-terminated when it
 * fits); returns the decoded length or -1 when v is not a valid string. */
long json_string(const char *s, span v, char *out, size_t cap);
/* Reads the integer value at v; returns def when absent or not an integer. */
int64_t json_int(const char *s, span v, int64_t def);
/* Reads the boolean value at v; returns def when absent or not a boolean. */
int json_bool(const char *s, span v, int def);

/* A growable output buffer. */
typedef struct {
	char *p;
	size_t len, cap;
	int oom;
} buf;

void buf_raw(buf *b, const char *s, size_t n);
void buf_str(buf *b, const char *s); /* raw C string */
void buf_quote(buf *b, const char *s, size_t n); /* JSON string, escaped */
void buf_int(buf *b, int64_t v);

#endif
