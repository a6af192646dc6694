package healtest

import (
	"fmt"
	"strings"

	"github.com/selfheal/engine/abi"
)

// selector is one compound CSS selector of the subset the fake page
// understands: an optional tag (or *), then any of #id, .class, [attr] and
// [attr=value] / [attr="value"]. Combinators are not supported.
type selector struct {
	tag     string
	id      string
	classes []string
	attrs   []attrTest
}

type attrTest struct {
	name, value string
	hasValue    bool
}

// parseSelectors reads a comma-separated selector list.
func parseSelectors(css string) ([]selector, error) {
	var out []selector
	for _, part := range strings.Split(css, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("%w: empty selector in %q", abi.ErrBadRequest, css)
		}
		s, err := parseCompound(part)
		if err != nil {
			return nil, fmt.Errorf("%w: selector %q: %v", abi.ErrBadRequest, css, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func parseCompound(s string) (selector, error) {
	var sel selector
	i := 0
	ident := func() string {
		start := i
		for i < len(s) && (isIdentByte(s[i])) {
			i++
		}
		return s[start:i]
	}
	if i < len(s) && s[i] == '*' {
		i++
	} else {
		sel.tag = strings.ToLower(ident())
	}
	for i < len(s) {
		switch c := s[i]; c {
		case '#':
			i++
			if sel.id = ident(); sel.id == "" {
				return sel, fmt.Errorf("empty id at byte %d", i)
			}
		case '.':
			i++
			cls := ident()
			if cls == "" {
				return sel, fmt.Errorf("empty class at byte %d", i)
			}
			sel.classes = append(sel.classes, cls)
		case '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return sel, fmt.Errorf("unclosed [ at byte %d", i)
			}
			body := s[i+1 : i+end]
			i += end + 1
			name, value, hasValue := strings.Cut(body, "=")
			value = strings.Trim(strings.TrimSpace(value), `"'`)
			name = strings.TrimSpace(name)
			if name == "" {
				return sel, fmt.Errorf("empty attribute name in [%s]", body)
			}
			sel.attrs = append(sel.attrs, attrTest{name: name, value: value, hasValue: hasValue})
		default:
			return sel, fmt.Errorf("unsupported %q at byte %d (the fake page knows tag, #id, .class and [attr=value])", c, i)
		}
	}
	return sel, nil
}

func isIdentByte(c byte) bool {
	return c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func (s selector) matches(el *abi.Element) bool {
	if s.tag != "" && s.tag != el.Tag {
		return false
	}
	if s.id != "" && el.Attrs["id"] != s.id {
		return false
	}
	for _, cls := range s.classes {
		if !hasField(el.Attrs["class"], cls) {
			return false
		}
	}
	for _, a := range s.attrs {
		v, ok := el.Attrs[a.name]
		if !ok || a.hasValue && v != a.value {
			return false
		}
	}
	return true
}

func hasField(list, word string) bool {
	for _, f := range strings.Fields(list) {
		if f == word {
			return true
		}
	}
	return false
}

// match returns the indexes of the elements that css or xpath selects. An
// XPath matches an element whose xpath or id_xpath equals it.
func match(els []abi.Element, css, xpath string) ([]int, error) {
	var sels []selector
	switch {
	case css != "" && xpath != "":
		return nil, fmt.Errorf("%w: give css or xpath, not both", abi.ErrBadRequest)
	case css != "":
		var err error
		if sels, err = parseSelectors(css); err != nil {
			return nil, err
		}
	case xpath == "":
		return nil, fmt.Errorf("%w: neither css nor xpath given", abi.ErrBadRequest)
	}
	var out []int
	for i := range els {
		el := &els[i]
		if xpath != "" {
			if el.XPath == xpath || el.IDXPath != "" && el.IDXPath == xpath {
				out = append(out, i)
			}
			continue
		}
		for _, s := range sels {
			if s.matches(el) {
				out = append(out, i)
				break
			}
		}
	}
	return out, nil
}
