#include "json.h"

#include <stdlib.h>
#include <string.h>

static long skip_ws(const char *s, long i, long n) {
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* Returns the index just past the string starting at s[i] == '"', or -1.
 * memchr jumps from quote to quote several bytes at a time, which matters
 * because a request is mostly long strings (error text, element text). */
static long skip_string(const char *s, long i, long n) {
	for (i++; i < n;) {
		const char *q = memchr(s + i, '"', (size_t)(n - i));
		if (!q)
			return -1;
		long j = q - s, k = j;
		while (k > i && s[k - 1] == '\\')
			k--;
		if ((j - k) % 2 == 0) /* an even run of backslashes: the quote is real */
			return j + 1;
		i = j + 1;
	}
	return -1;
}

/* Returns the index just past the value starting at s[i], or -1. Nesting is
 * tracked with a depth counter, so deep input cannot exhaust the stack. */
static long skip_value(const char *s, long i, long n) {
	int depth = 0;
	i = skip_ws(s, i, n);
	do {
		if (i >= n)
			return -1;
		char c = s[i];
		if (c == '"') {
			if ((i = skip_string(s, i, n)) < 0)
				return -1;
		} else if (c == '{' || c == '[') {
			depth++;
			i++;
		} else if (c == '}' || c == ']') {
			if (--depth < 0)
				return -1;
			i++;
		} else if (c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (depth == 0)
				return -1;
			i++;
		} else {
			long start = i;
			while (i < n && (s[i] == '-' || s[i] == '+' || s[i] == '.' || (s[i] >= '0' && s[i] <= '9') ||
					 (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
				i++;
			if (i == start)
				return -1;
		}
	} while (depth > 0);
	return i;
}

/* Compares the JSON string at s[i] (quotes included, up to end) with key. */
static int key_equals(const char *s, long i, long end, const char *key) {
	char tmp[64];
	span v = {i, end};
	long n = json_string(s, v, tmp, sizeof tmp);
	return n >= 0 && (size_t)n < sizeof tmp && strcmp(tmp, key) == 0;
}

span json_get(const char *s, span obj, const char *key) {
	span none = {0, -1};
	long n = obj.end, i = skip_ws(s, obj.start, n);
	if (obj.end < 0 || i >= n || s[i] != '{')
		return none;
	i = skip_ws(s, i + 1, n);
	if (i < n && s[i] == '}')
		return none;
	while (i < n) {
		if (s[i] != '"')
			return none;
		long kend = skip_string(s, i, n);
		if (kend < 0)
			return none;
		int match = key_equals(s, i, kend, key);
		i = skip_ws(s, kend, n);
		if (i >= n || s[i] != ':')
			return none;
		long vstart = skip_ws(s, i + 1, n);
		long vend = skip_value(s, vstart, n);
		if (vend < 0)
			return none;
		if (match) {
			span v = {vstart, vend};
			return v;
		}
		i = skip_ws(s, vend, n);
		if (i < n && s[i] == ',')
			i = skip_ws(s, i + 1, n);
		else
			return none;
	}
	return none;
}

void json_members(const char *s, span obj, const char *const *keys, span *out, int nkeys) {
	for (int k = 0; k < nkeys; k++)
		out[k].start = 0, out[k].end = -1;
	long n = obj.end, i = skip_ws(s, obj.start, n);
	if (obj.end < 0 || i >= n || s[i] != '{')
		return;
	i = skip_ws(s, i + 1, n);
	while (i < n && s[i] == '"') {
		long kend = skip_string(s, i, n);
		if (kend < 0)
			return;
		int which = -1;
		for (int k = 0; k < nkeys && which < 0; k++)
			if (out[k].end < 0 && key_equals(s, i, kend, keys[k]))
				which = k;
		i = skip_ws(s, kend, n);
		if (i >= n || s[i] != ':')
			return;
		long vstart = skip_ws(s, i + 1, n);
		long vend = skip_value(s, vstart, n);
		if (vend < 0)
			return;
		if (which >= 0)
			out[which].start = vstart, out[which].end = vend;
		i = skip_ws(s, vend, n);
		if (i >= n || s[i] != ',')
			return;
		i = skip_ws(s, i + 1, n);
	}
}

span json_path(const char *s, size_t n, const char *const *keys, int nkeys) {
	span v = {0, (long)n};
	for (int k = 0; k < nkeys && v.end >= 0; k++)
		v = json_get(s, v, keys[k]);
	return v;
}

static int hex4(const char *s, long i, long end, unsigned *out) {
	unsigned v = 0;
	if (i + 4 > end)
		return 0;
	for (int k = 0; k < 4; k++) {
		char c = s[i + k];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return 0;
	}
	*out = v;
	return 1;
}

/* put writes one byte if it fits; the length counts every byte anyway. */
#define PUT(c)                      \
	do {                            \
		if ((size_t)len < cap)      \
			out[len] = (char)(c);   \
		len++;                      \
	} while (0)

long json_string(const char *s, span v, char *out, size_t cap) {
	long i = v.start, end = v.end, len = 0;
	if (v.end < 0 || i >= end || s[i] != '"' || s[end - 1] != '"' || end - i < 2)
		return -1;
	for (i++; i < end - 1; i++) {
		char c = s[i];
		if (c != '\\') {
			PUT(c);
			continue;
		}
		if (++i >= end - 1)
			return -1;
		switch (s[i]) {
		case '"': PUT('"'); break;
		case '\\': PUT('\\'); break;
		case '/': PUT('/'); break;
		case 'b': PUT('\b'); break;
		case 'f': PUT('\f'); break;
		case 'n': PUT('\n'); break;
		case 'r': PUT('\r'); break;
		case 't': PUT('\t'); break;
		case 'u': {
			unsigned cp, lo;
			if (!hex4(s, i + 1, end - 1, &cp))
				return -1;
			i += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < end && s[i + 1] == '\\' && s[i + 2] == 'u' &&
			    hex4(s, i + 3, end - 1, &lo) && lo >= 0xDC00 && lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			} else if (cp >= 0xD800 && cp < 0xE000) {
				cp = 0xFFFD; /* a lone surrogate */
			}
			if (cp < 0x80) {
				PUT(cp);
			} else if (cp < 0x800) {
				PUT(0xC0 | cp >> 6);
				PUT(0x80 | (cp & 0x3F));
			} else if (cp < 0x10000) {
				PUT(0xE0 | cp >> 12);
				PUT(0x80 | (cp >> 6 & 0x3F));
				PUT(0x80 | (cp & 0x3F));
			} else {
				PUT(0xF0 | cp >> 18);
				PUT(0x80 | (cp >> 12 & 0x3F));
				PUT(0x80 | (cp >> 6 & 0x3F));
				PUT(0x80 | (cp & 0x3F));
			}
			break;
		}
		default:
			return -1;
		}
	}
	if ((size_t)len < cap)
		out[len] = 0;
	return len;
}

int64_t json_int(const char *s, span v, int64_t def) {
	long i = v.start;
	int neg = 0;
	int64_t x = 0;
	if (v.end < 0 || i >= v.end)
		return def;
	if (s[i] == '-') {
		neg = 1;
		i++;
	}
	if (i >= v.end)
		return def;
	for (; i < v.end; i++) {
		if (s[i] < '0' || s[i] > '9' || x > (INT64_MAX - 9) / 10)
			return def;
		x = x * 10 + (s[i] - '0');
	}
	return neg ? -x : x;
}

int json_bool(const char *s, span v, int def) {
	if (v.end - v.start == 4 && memcmp(s + v.start, "true", 4) == 0)
		return 1;
	if (v.end - v.start == 5 && memcmp(s + v.start, "false", 5) == 0)
		return 0;
	return def;
}

void buf_raw(buf *b, const char *s, size_t n) {
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void buf_str(buf *b, const char *s) { buf_raw(b, s, strlen(s)); }

void buf_quote(buf *b, const char *s, size_t n) {
	static const char hex[] = "0123456789abcdef";
	buf_raw(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char e[2] = {'\\', (char)c};
			buf_raw(b, e, 2);
		} else if (c < 0x20) {
			char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			buf_raw(b, e, 6);
		} else {
			buf_raw(b, (const char *)&c, 1);
		}
	}
	buf_raw(b, "\"", 1);
}

void buf_int(buf *b, int64_t v) {
	char tmp[24];
	int i = sizeof tmp;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--i] = '-';
	buf_raw(b, tmp + i, sizeof tmp - i);
}
