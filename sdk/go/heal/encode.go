package heal

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/selfheal/engine/abi"
)

// The encoders below write exactly the bytes json.Marshal writes for the
// ABI's types, without reflection: in a Go guest encoding/json costs tens
// of microseconds per call, and every allocation brings the next garbage
// collection closer. Anything they cannot write identically (a NaN, details
// that are not compact JSON, a value of an unknown type) is left to
// encoding/json; FuzzEncode checks that both agree.

// errFallback says an encoder met something only encoding/json handles.
type errFallback struct{}

func (errFallback) Error() string { return "heal: left to encoding/json" }

// encodeResult appends the JSON of r to dst.
func encodeResult(dst []byte, r *abi.Result) ([]byte, error) {
	out, ok := appendResult(dst, r)
	if ok {
		return out, nil
	}
	b, err := json.Marshal(r)
	return append(dst, b...), err
}

func appendResult(b []byte, r *abi.Result) ([]byte, bool) {
	ok := true
	b = append(b, `{"outcome":`...)
	b = appendString(b, string(r.Outcome))
	if r.Message != "" {
		b = append(b, `,"message":`...)
		b = appendString(b, r.Message)
	}
	if r.Element != nil {
		b = append(b, `,"element":`...)
		b, ok = appendElement(b, r.Element)
	}
	if r.Point != nil && ok {
		b = append(b, `,"point":`...)
		b, ok = appendPoint(b, *r.Point)
	}
	if r.Retry != nil && ok {
		b = append(b, `,"retry":{`...)
		b, ok = appendRetry(b, r.Retry)
		b = append(b, '}')
	}
	if len(r.Details) > 0 && ok {
		if !canonical(r.Details) {
			return b, false
		}
		b = append(b, `,"details":`...)
		b = append(b, r.Details...)
	}
	return append(b, '}'), ok
}

// appendRetry writes the members of o, without braces.
func appendRetry(b []byte, o *abi.RetryOptions) ([]byte, bool) {
	m := members{b: b}
	if o.TimeoutMS != 0 {
		m.key("timeout_ms")
		m.b = strconv.AppendInt(m.b, o.TimeoutMS, 10)
	}
	if o.DelayMS != 0 {
		m.key("delay_ms")
		m.b = strconv.AppendInt(m.b, o.DelayMS, 10)
	}
	ok := true
	if o.Target != nil {
		m.key("target")
		m.b, ok = appendTarget(m.b, o.Target)
	}
	return m.b, ok
}

func appendTarget(b []byte, t *abi.Target) ([]byte, bool) {
	m := members{b: append(b, '{')}
	m.str("css", t.CSS)
	m.str("xpath", t.XPath)
	m.str("text", t.Text)
	m.str("role", t.Role)
	m.str("label", t.Label)
	m.str("placeholder", t.Placeholder)
	m.str("near", t.Near)
	ok := true
	if t.Fingerprint != nil {
		m.key("fingerprint")
		m.b, ok = appendElement(m.b, t.Fingerprint)
	}
	return append(m.b, '}'), ok
}

func appendElement(b []byte, e *abi.Element) ([]byte, bool) {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(e.Index), 10)
	b = append(b, `,"tag":`...)
	b = appendString(b, e.Tag)
	if len(e.Attrs) > 0 {
		b = append(b, `,"attrs":`...)
		b = appendStringMap(b, e.Attrs)
	}
	m := members{b: b, n: 1}
	m.str("text", e.Text)
	m.str("visible_text", e.VisibleText)
	m.str("role", e.Role)
	m.str("name", e.Name)
	m.key("xpath")
	m.b = appendString(m.b, e.XPath)
	m.str("id_xpath", e.IDXPath)
	m.key("rect")
	var ok bool
	if m.b, ok = appendRect(m.b, e.Rect); !ok {
		return m.b, false
	}
	m.key("visible")
	m.b = strconv.AppendBool(m.b, e.Visible)
	m.key("enabled")
	m.b = strconv.AppendBool(m.b, e.Enabled)
	m.key("neighbors")
	n := members{b: append(m.b, '{')}
	n.str("above", e.Neighbors.Above)
	n.str("below", e.Neighbors.Below)
	n.str("left", e.Neighbors.Left)
	n.str("right", e.Neighbors.Right)
	m.b = append(n.b, '}')
	if len(e.Frame) > 0 {
		m.key("frame")
		m.b = appendStrings(m.b, e.Frame)
	}
	return append(m.b, '}'), true
}

func appendRect(b []byte, r abi.Rect) ([]byte, bool) {
	ok1, ok2, ok3, ok4 := true, true, true, true
	b = append(b, `{"x":`...)
	b, ok1 = appendFloat(b, r.X)
	b = append(b, `,"y":`...)
	b, ok2 = appendFloat(b, r.Y)
	b = append(b, `,"width":`...)
	b, ok3 = appendFloat(b, r.Width)
	b = append(b, `,"height":`...)
	b, ok4 = appendFloat(b, r.Height)
	return append(b, '}'), ok1 && ok2 && ok3 && ok4
}

func appendPoint(b []byte, p abi.Point) ([]byte, bool) {
	var okX, okY bool
	b = append(b, `{"x":`...)
	b, okX = appendFloat(b, p.X)
	b = append(b, `,"y":`...)
	b, okY = appendFloat(b, p.Y)
	return append(b, '}'), okX && okY
}

// members writes the members of an object: a comma before all but the
// first, and nothing for empty optional strings.
type members struct {
	b []byte
	n int
}

func (m *members) key(k string) {
	if m.n > 0 {
		m.b = append(m.b, ',')
	}
	m.n++
	m.b = append(m.b, '"')
	m.b = append(m.b, k...)
	m.b = append(m.b, '"', ':')
}

// str writes an omitempty string member.
func (m *members) str(k, v string) {
	if v != "" {
		m.key(k)
		m.b = appendString(m.b, v)
	}
}

func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

// appendStringMap writes m with its keys sorted, as encoding/json does.
func appendStringMap(b []byte, m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as json.Marshal does: HTML-safe (<, > and & as
// \u003c...), invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendFloat writes f as encoding/json does; NaN and infinities, which
// json.Marshal refuses, report false.
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as in encoding/json.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendValue writes a value of WithDetails: the common dynamic types
// directly, anything else through json.Marshal of that value alone, which
// writes the same bytes encoding/json would write for it inside a map.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(v), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10), nil
	case uint64:
		return strconv.AppendUint(b, v, 10), nil
	case float64:
		if out, ok := appendFloat(b, v); ok {
			return out, nil
		}
	case []string:
		if v == nil {
			return append(b, "null"...), nil
		}
		return appendStrings(b, v), nil
	case map[string]any:
		if v == nil {
			return append(b, "null"...), nil
		}
		return appendAnyMap(b, v)
	}
	raw, err := json.Marshal(v)
	return append(b, raw...), err
}

func appendAnyMap(b []byte, m map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		if b, err = appendValue(b, m[k]); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

// canonical reports whether raw is valid JSON exactly as json.Marshal
// would embed it: compact, with <, >, &, U+2028 and U+2029 escaped in
// strings, and valid UTF-8.
func canonical(raw []byte) (ok bool) {
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '<' || c == '>' || c == '&':
			return false
		case c == 0xE2 && i+2 < len(raw) && raw[i+1] == 0x80 && (raw[i+2] == 0xA8 || raw[i+2] == 0xA9):
			return false
		}
	}
	if !utf8.Valid(raw) {
		return false
	}
	defer func() {
		if p := recover(); p != nil {
			if _, isBail := p.(bail); !isBail {
				panic(p)
			}
			ok = false
		}
	}()
	r := &reader{b: raw, compact: true}
	r.skip()
	return r.i == len(r.b)
}
