package heal

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/selfheal/engine/abi"
)

// decodeRequest decodes a Request. encoding/json spends most of a Go
// guest's call on a 1 KB request (two passes, reflection, a state machine
// called per byte); the fast path below reads the ABI's Request in one pass
// and hands anything it is not certain to decode exactly as encoding/json
// would (case-folded or repeated keys, invalid UTF-8, lone surrogates,
// unusual numbers, malformed input) to encoding/json, which stays the
// reference: FuzzDecodeRequest checks that both agree.
func decodeRequest(in []byte, req *abi.Request) error {
	if fastDecode(in, req, false) {
		return nil
	}
	*req = abi.Request{}
	return json.Unmarshal(in, req)
}

// decodeOwnedRequest is decodeRequest for an input that nothing writes to
// again: the request's strings and configuration share its memory, which
// saves an allocation per string.
func decodeOwnedRequest(in []byte, req *abi.Request) error {
	if fastDecode(in, req, true) {
		return nil
	}
	*req = abi.Request{}
	return json.Unmarshal(in, req)
}

// bail aborts the fast path.
type bail struct{}

type reader struct {
	b []byte
	i int
	// compact makes whitespace between tokens an error (see canonical).
	compact bool
	// alias makes strings without escapes share the input's memory; set
	// only when the input is never written again.
	alias bool
}

func fastDecodeRequest(in []byte, req *abi.Request) bool { return fastDecode(in, req, false) }

func fastDecode(in []byte, req *abi.Request, alias bool) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if _, isBail := p.(bail); !isBail {
				panic(p)
			}
			ok = false
		}
	}()
	r := &reader{b: in, alias: alias}
	r.request(req)
	r.ws()
	return r.i == len(r.b)
}

func (r *reader) ws() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			if r.compact {
				panic(bail{})
			}
			r.i++
		default:
			return
		}
	}
}

func (r *reader) peek() byte {
	r.ws()
	if r.i >= len(r.b) {
		panic(bail{})
	}
	return r.b[r.i]
}

func (r *reader) expect(c byte) {
	if r.peek() != c {
		panic(bail{})
	}
	r.i++
}

// null consumes a null literal if one is next.
func (r *reader) null() bool {
	if r.peek() == 'n' {
		r.lit("null")
		return true
	}
	return false
}

func (r *reader) lit(word string) {
	if !strings.HasPrefix(string(r.b[r.i:min(len(r.b), r.i+len(word))]), word) {
		panic(bail{})
	}
	r.i += len(word)
}

// object reads an object, calling member to consume the value of each key
// in known (the keys of the type) and skipping others. Repeated keys and
// keys encoding/json would match case-insensitively end the fast path.
func (r *reader) object(known []string, member func(key string)) {
	r.expect('{')
	var seen uint64
	if r.peek() == '}' {
		r.i++
		return
	}
	for {
		key := r.key()
		r.expect(':')
		if k := indexOf(known, key); k >= 0 {
			if seen&(1<<k) != 0 {
				panic(bail{})
			}
			seen |= 1 << k
			member(key)
		} else {
			for _, name := range known {
				if strings.EqualFold(name, key) {
					panic(bail{})
				}
			}
			r.skip()
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return
		default:
			panic(bail{})
		}
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// key reads an object key. Keys are only compared, never kept, so a key
// without escapes shares the input's memory instead of being allocated.
func (r *reader) key() string {
	alias := r.alias
	r.alias = true
	defer func() { r.alias = alias }()
	return r.str()
}

// str reads a string. Strings without escapes or non-ASCII bytes, the
// common case, are a plain copy.
func (r *reader) str() string {
	r.expect('"')
	start := r.i
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			var s string
			if r.alias {
				s = unsafe.String(unsafe.SliceData(r.b[start:]), r.i-start)
			} else {
				s = string(r.b[start:r.i])
			}
			r.i++
			return s
		case c == '\\' || c >= utf8.RuneSelf:
			return r.slowStr(start)
		case c < 0x20:
			panic(bail{})
		}
		r.i++
	}
	panic(bail{})
}

func (r *reader) slowStr(start int) string {
	out := append([]byte(nil), r.b[start:r.i]...)
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			return string(out)
		case c < 0x20:
			panic(bail{})
		case c >= utf8.RuneSelf:
			ch, size := utf8.DecodeRune(r.b[r.i:])
			if ch == utf8.RuneError && size == 1 {
				panic(bail{}) // encoding/json substitutes U+FFFD; let it
			}
			out = append(out, r.b[r.i:r.i+size]...)
			r.i += size
		case c != '\\':
			out = append(out, c)
			r.i++
		default:
			if r.i+1 >= len(r.b) {
				panic(bail{})
			}
			esc := r.b[r.i+1]
			r.i += 2
			switch esc {
			case '"', '\\', '/':
				out = append(out, esc)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				ch := r.hex4()
				if utf16.IsSurrogate(ch) {
					if r.i+1 >= len(r.b) || r.b[r.i] != '\\' || r.b[r.i+1] != 'u' {
						panic(bail{})
					}
					r.i += 2
					ch = utf16.DecodeRune(ch, r.hex4())
					if ch == utf8.RuneError {
						panic(bail{})
					}
				}
				out = utf8.AppendRune(out, ch)
			default:
				panic(bail{})
			}
		}
	}
	panic(bail{})
}

func (r *reader) hex4() rune {
	if r.i+4 > len(r.b) {
		panic(bail{})
	}
	v, err := strconv.ParseUint(string(r.b[r.i:r.i+4]), 16, 32)
	if err != nil {
		panic(bail{})
	}
	r.i += 4
	return rune(v)
}

// number returns the next number token, checked against JSON's grammar:
// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
func (r *reader) number() []byte {
	r.ws()
	start := r.i
	digits := func() int {
		n := 0
		for r.i < len(r.b) && r.b[r.i] >= '0' && r.b[r.i] <= '9' {
			r.i++
			n++
		}
		return n
	}
	if r.i < len(r.b) && r.b[r.i] == '-' {
		r.i++
	}
	lead := r.i
	if n := digits(); n == 0 || n > 1 && r.b[lead] == '0' {
		panic(bail{})
	}
	if r.i < len(r.b) && r.b[r.i] == '.' {
		r.i++
		if digits() == 0 {
			panic(bail{})
		}
	}
	if r.i < len(r.b) && (r.b[r.i] == 'e' || r.b[r.i] == 'E') {
		r.i++
		if r.i < len(r.b) && (r.b[r.i] == '+' || r.b[r.i] == '-') {
			r.i++
		}
		if digits() == 0 {
			panic(bail{})
		}
	}
	return r.b[start:r.i]
}

// int reads an integer; fractions, exponents and overflow are errors for
// encoding/json too, so they leave the fast path.
func (r *reader) int() int64 {
	v, err := strconv.ParseInt(string(r.number()), 10, 64)
	if err != nil {
		panic(bail{})
	}
	return v
}

func (r *reader) float() float64 {
	v, err := strconv.ParseFloat(string(r.number()), 64)
	if err != nil {
		panic(bail{})
	}
	return v
}

func (r *reader) boolean() bool {
	switch r.peek() {
	case 't':
		r.lit("true")
		return true
	case 'f':
		r.lit("false")
		return false
	}
	panic(bail{})
}

// skip consumes any valid value. Deep nesting leaves the fast path rather
// than the stack.
func (r *reader) skip() { r.skipNested(0) }

func (r *reader) skipNested(depth int) {
	if depth > 100 {
		panic(bail{})
	}
	switch r.peek() {
	case '"':
		r.key() // validated, not kept
	case 't', 'f':
		r.boolean()
	case 'n':
		r.lit("null")
	case '{', '[':
		open := r.b[r.i]
		r.i++
		close := byte('}')
		if open == '[' {
			close = ']'
		}
		if r.peek() == close {
			r.i++
			return
		}
		for {
			if open == '{' {
				r.key()
				r.expect(':')
			}
			r.skipNested(depth + 1)
			switch r.peek() {
			case ',':
				r.i++
			case close:
				r.i++
				return
			default:
				panic(bail{})
			}
		}
	default:
		r.number()
	}
}

// raw returns the bytes of the next value, copied, as encoding/json gives a
// json.RawMessage.
func (r *reader) raw() []byte {
	r.ws()
	start := r.i
	r.skip()
	if r.alias {
		return r.b[start:r.i:r.i]
	}
	return append([]byte(nil), r.b[start:r.i]...)
}

// Field names, in declaration order, for object's repeated-key check.
var (
	requestKeys   = []string{"strategy", "error", "action", "attempt", "healing", "config", "session_id", "page_url", "tried", "deadline_ms"}
	errorKeys     = []string{"type", "message", "signal"}
	actionKeys    = []string{"kind", "target", "value", "url", "timeout_ms"}
	healingKeys   = []string{"level", "min_ratio", "pad_mul", "expand_roles"}
	targetKeys    = []string{"css", "xpath", "text", "role", "label", "placeholder", "near", "fingerprint"}
	elementKeys   = []string{"index", "tag", "attrs", "text", "visible_text", "role", "name", "xpath", "id_xpath", "rect", "visible", "enabled", "neighbors", "frame"}
	rectKeys      = []string{"x", "y", "width", "height"}
	neighborsKeys = []string{"above", "below", "left", "right"}
)

// Each decoder below handles a null value as encoding/json does: the field
// keeps its zero value (nil for pointers, maps and slices).

func (r *reader) request(q *abi.Request) {
	r.object(requestKeys, func(key string) {
		if key == "config" {
			q.Config = r.raw()
			return
		}
		if r.null() {
			return
		}
		switch key {
		case "strategy":
			q.Strategy = r.str()
		case "error":
			r.object(errorKeys, func(k string) {
				if r.null() {
					return
				}
				switch k {
				case "type":
					q.Error.Type = r.str()
				case "message":
					q.Error.Message = r.str()
				case "signal":
					q.Error.Signal = r.str()
				}
			})
		case "action":
			r.action(&q.Action)
		case "attempt":
			q.Attempt = int(r.int())
		case "healing":
			r.healing(&q.Healing)
		case "session_id":
			q.SessionID = r.str()
		case "page_url":
			q.PageURL = r.str()
		case "tried":
			q.Tried = r.strings()
		case "deadline_ms":
			q.DeadlineMS = r.int()
		}
	})
}

func (r *reader) healing(h *abi.HealingProfile) {
	r.object(healingKeys, func(k string) {
		if r.null() {
			return
		}
		switch k {
		case "level":
			h.Level = int(r.int())
		case "min_ratio":
			h.MinRatio = r.float()
		case "pad_mul":
			h.PadMul = r.float()
		case "expand_roles":
			h.ExpandRoles = r.boolean()
		}
	})
}

func (r *reader) strings() []string {
	out := []string{}
	r.expect('[')
	if r.peek() == ']' {
		r.i++
		return out
	}
	for {
		if r.null() {
			out = append(out, "")
		} else {
			out = append(out, r.str())
		}
		switch r.peek() {
		case ',':
			r.i++
		case ']':
			r.i++
			return out
		default:
			panic(bail{})
		}
	}
}

func (r *reader) action(a *abi.Action) {
	r.object(actionKeys, func(k string) {
		if r.null() {
			return
		}
		switch k {
		case "kind":
			a.Kind = r.str()
		case "target":
			a.Target = &abi.Target{}
			r.target(a.Target)
		case "value":
			a.Value = r.str()
		case "url":
			a.URL = r.str()
		case "timeout_ms":
			a.TimeoutMS = r.int()
		}
	})
}

func (r *reader) target(t *abi.Target) {
	r.object(targetKeys, func(k string) {
		if r.null() {
			return
		}
		switch k {
		case "css":
			t.CSS = r.str()
		case "xpath":
			t.XPath = r.str()
		case "text":
			t.Text = r.str()
		case "role":
			t.Role = r.str()
		case "label":
			t.Label = r.str()
		case "placeholder":
			t.Placeholder = r.str()
		case "near":
			t.Near = r.str()
		case "fingerprint":
			t.Fingerprint = &abi.Element{}
			r.element(t.Fingerprint)
		}
	})
}

func (r *reader) element(e *abi.Element) {
	r.object(elementKeys, func(k string) {
		if r.null() {
			return
		}
		switch k {
		case "index":
			e.Index = int(r.int())
		case "tag":
			e.Tag = r.str()
		case "attrs":
			e.Attrs = map[string]string{}
			r.attrs(e.Attrs)
		case "text":
			e.Text = r.str()
		case "visible_text":
			e.VisibleText = r.str()
		case "role":
			e.Role = r.str()
		case "name":
			e.Name = r.str()
		case "xpath":
			e.XPath = r.str()
		case "id_xpath":
			e.IDXPath = r.str()
		case "rect":
			r.object(rectKeys, func(k string) {
				if r.null() {
					return
				}
				switch k {
				case "x":
					e.Rect.X = r.float()
				case "y":
					e.Rect.Y = r.float()
				case "width":
					e.Rect.Width = r.float()
				case "height":
					e.Rect.Height = r.float()
				}
			})
		case "visible":
			e.Visible = r.boolean()
		case "enabled":
			e.Enabled = r.boolean()
		case "neighbors":
			r.object(neighborsKeys, func(k string) {
				if r.null() {
					return
				}
				switch k {
				case "above":
					e.Neighbors.Above = r.str()
				case "below":
					e.Neighbors.Below = r.str()
				case "left":
					e.Neighbors.Left = r.str()
				case "right":
					e.Neighbors.Right = r.str()
				}
			})
		case "frame":
			e.Frame = r.strings()
		}
	})
}

// attrs reads a map of strings. A repeated key is left to encoding/json.
func (r *reader) attrs(m map[string]string) {
	r.expect('{')
	if r.peek() == '}' {
		r.i++
		return
	}
	for {
		key := r.str()
		r.expect(':')
		if _, dup := m[key]; dup {
			panic(bail{})
		}
		if r.null() {
			m[key] = ""
		} else {
			m[key] = r.str()
		}
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			return
		default:
			panic(bail{})
		}
	}
}
