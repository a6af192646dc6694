package resolver

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/selfheal/engine/abi"
)

// Selectors are matched against snapshot records, not in a browser, so that
// a resolution can be replayed offline (engine resolve) from the snapshot
// alone and the package stays free of any browser dependency. The supported
// grammar is what workflows use in practice: tag, #id, .class, [attr],
// [attr=v], [attr~=v], [attr^=v], [attr$=v], [attr*=v], the universal
// selector, selector lists, and the descendant (space) and child (>)
// combinators.
//
// A record carries its own attributes only. An ancestor step is matched
// against the ancestor's record when the snapshot holds it; otherwise only
// what the record's paths reveal is known: ancestors' tags (from xpath) and
// the id of the nearest ancestor with an id (from id_xpath). A step that
// needs anything else of an ancestor that is not in the snapshot does not
// match, so a selector never matches more than it would in the browser
// because of missing data.

// ErrSelector is wrapped by errors about selectors the matcher cannot parse.
var ErrSelector = fmt.Errorf("%w: unsupported css selector", abi.ErrBadRequest)

type attrSel struct {
	name, op, val string
}

type compound struct {
	tag     string // "" or "*" for any
	id      string
	classes []string
	attrs   []attrSel
}

type step struct {
	c     compound
	child bool // combinator to the previous step is '>'
}

// selector is one complex selector, steps outermost first.
type selector []step

var cssToken = regexp.MustCompile(`^(?:([a-zA-Z][a-zA-Z0-9-]*|\*)|#([-\w]+)|\.([-\w]+)|\[\s*([-\w:]+)\s*(?:([~^$*|]?=)\s*(?:"([^"]*)"|'([^']*)'|([^\]\s]+))\s*)?\])`)

// parseCSS parses a selector list.
func parseCSS(s string) ([]selector, error) {
	var out []selector
	for _, part := range splitTop(s) {
		sel, err := parseComplex(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("%w %q: %v", ErrSelector, s, err)
		}
		out = append(out, sel)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w %q: empty", ErrSelector, s)
	}
	return out, nil
}

// splitTop splits on commas outside brackets and quotes.
func splitTop(s string) []string {
	var parts []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func parseComplex(s string) (selector, error) {
	if s == "" {
		return nil, fmt.Errorf("empty selector")
	}
	var sel selector
	child := false
	for len(s) > 0 {
		var c compound
		n := 0
		for len(s) > 0 {
			m := cssToken.FindStringSubmatch(s)
			if m == nil {
				break
			}
			switch {
			case m[1] != "":
				if n > 0 {
					return nil, fmt.Errorf("type selector %q must come first", m[1])
				}
				c.tag = strings.ToLower(m[1])
			case m[2] != "":
				c.id = m[2]
			case m[3] != "":
				c.classes = append(c.classes, m[3])
			case m[4] != "":
				c.attrs = append(c.attrs, attrSel{name: strings.ToLower(m[4]), op: m[5], val: m[6] + m[7] + m[8]})
			}
			s = s[len(m[0]):]
			n++
		}
		if n == 0 {
			return nil, fmt.Errorf("cannot parse %q", s)
		}
		sel = append(sel, step{c: c, child: child})
		trimmed := strings.TrimLeft(s, " \t\n")
		child = false
		if strings.HasPrefix(trimmed, ">") {
			child = true
			trimmed = strings.TrimLeft(trimmed[1:], " \t\n")
		} else if len(trimmed) > 0 && len(trimmed) == len(s) {
			return nil, fmt.Errorf("unsupported syntax at %q", s)
		}
		if strings.HasPrefix(trimmed, "+") || strings.HasPrefix(trimmed, "~") || strings.HasPrefix(trimmed, ":") {
			return nil, fmt.Errorf("unsupported syntax at %q", trimmed)
		}
		s = trimmed
	}
	if child {
		return nil, fmt.Errorf("dangling combinator")
	}
	return sel, nil
}

// matchRecord checks a compound against a full record.
func (c *compound) matchRecord(e *abi.Element) bool {
	if c.tag != "" && c.tag != "*" && c.tag != e.Tag {
		return false
	}
	if c.id != "" && e.Attrs["id"] != c.id {
		return false
	}
	if len(c.classes) > 0 {
		have := strings.Fields(e.Attrs["class"])
		for _, want := range c.classes {
			if !contains(have, want) {
				return false
			}
		}
	}
	for _, a := range c.attrs {
		v, ok := e.Attrs[a.name]
		if !ok {
			return false
		}
		if !matchAttr(a, v) {
			return false
		}
	}
	return true
}

func matchAttr(a attrSel, v string) bool {
	switch a.op {
	case "":
		return true
	case "=":
		return v == a.val
	case "~=":
		return contains(strings.Fields(v), a.val)
	case "^=":
		return a.val != "" && strings.HasPrefix(v, a.val)
	case "$=":
		return a.val != "" && strings.HasSuffix(v, a.val)
	case "*=":
		return a.val != "" && strings.Contains(v, a.val)
	case "|=":
		return v == a.val || strings.HasPrefix(v, a.val+"-")
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ancestorInfo is what is known of one ancestor of a record.
type ancestorInfo struct {
	tag    string
	record *abi.Element // nil when the snapshot does not hold it
	id     string       // known id (from id_xpath) when record is nil
}

// cssIndex finds records by frame path and xpath, to reach ancestors.
type cssIndex map[string]*abi.Element

func recordKey(frame []string, xpath string) string {
	return strings.Join(frame, "\x00") + "\x01" + xpath
}

func newCSSIndex(els []abi.Element) cssIndex {
	idx := make(cssIndex, len(els))
	for i := range els {
		idx[recordKey(els[i].Frame, els[i].XPath)] = &els[i]
	}
	return idx
}

var xpathStep = regexp.MustCompile(`^([^\[/]+)\[(\d+)\]$`)

// ancestors lists what is known of e's ancestors, nearest first.
func (idx cssIndex) ancestors(e *abi.Element) []ancestorInfo {
	steps := strings.Split(strings.TrimPrefix(e.XPath, "/"), "/")
	if len(steps) < 2 {
		return nil
	}
	// id of the nearest ancestor with an id, and how many steps up it is.
	idAnc, idUp := "", -1
	if strings.HasPrefix(e.IDXPath, `//*[@id="`) {
		end := strings.Index(e.IDXPath, `"]`)
		if end > 0 {
			rest := e.IDXPath[end+2:]
			up := strings.Count(rest, "/")
			if up > 0 {
				idAnc, idUp = e.IDXPath[len(`//*[@id="`):end], up
			}
		}
	}
	out := make([]ancestorInfo, 0, len(steps)-1)
	for up := 1; up < len(steps); up++ {
		path := "/" + strings.Join(steps[:len(steps)-up], "/")
		m := xpathStep.FindStringSubmatch(steps[len(steps)-up-1])
		tag := ""
		if m != nil {
			tag = strings.ToLower(m[1])
		}
		a := ancestorInfo{tag: tag, record: idx[recordKey(e.Frame, path)]}
		if up == idUp {
			a.id = idAnc
		}
		out = append(out, a)
	}
	return out
}

// matchAncestor checks a compound against an ancestor that may be known only
// by its tag and perhaps its id.
func (c *compound) matchAncestor(a ancestorInfo) bool {
	if a.record != nil {
		return c.matchRecord(a.record)
	}
	if len(c.classes) > 0 || len(c.attrs) > 0 {
		return false
	}
	if c.id != "" && c.id != a.id {
		return false
	}
	return c.tag == "" || c.tag == "*" || c.tag == a.tag
}

// matches reports whether record e matches the complex selector.
func (sel selector) matches(idx cssIndex, e *abi.Element) bool {
	last := len(sel) - 1
	if !sel[last].c.matchRecord(e) {
		return false
	}
	if last == 0 {
		return true
	}
	return matchUp(sel, last, idx.ancestors(e))
}

// matchUp matches steps sel[:i] (with sel[i] already matched) against the
// ancestors, nearest first, backtracking over descendant combinators.
func matchUp(sel selector, i int, anc []ancestorInfo) bool {
	if i == 0 {
		return true
	}
	want := sel[i-1].c
	if sel[i].child {
		if len(anc) == 0 || !want.matchAncestor(anc[0]) {
			return false
		}
		return matchUp(sel, i-1, anc[1:])
	}
	for k := range anc {
		if want.matchAncestor(anc[k]) && matchUp(sel, i-1, anc[k+1:]) {
			return true
		}
	}
	return false
}

// FrameSeparator joins the selectors of frames (iframes, shadow hosts) and of
// the element in one target: "iframe#pay >> button.buy".
const FrameSeparator = " >> "

// MatchCSS returns the indexes (positions in s.Elements) of the records that
// match the selector list. A selector with frame segments matches elements
// at that frame depth whose enclosing frame hosts match the segments.
func MatchCSS(s *abi.Snapshot, css string) ([]int, error) {
	segs := strings.Split(css, FrameSeparator)
	parsed := make([][]selector, len(segs))
	for k, seg := range segs {
		sels, err := parseCSS(seg)
		if err != nil {
			return nil, err
		}
		parsed[k] = sels
	}
	idx := newCSSIndex(s.Elements)
	depth := len(segs) - 1
	var out []int
	for i := range s.Elements {
		e := &s.Elements[i]
		if depth > 0 && len(e.Frame) != depth {
			continue
		}
		if !matchAny(parsed[depth], idx, e) {
			continue
		}
		ok := true
		for k := 0; k < depth && ok; k++ {
			host := idx[recordKey(e.Frame[:k], e.Frame[k])]
			ok = host != nil && matchAny(parsed[k], idx, host)
		}
		if ok {
			out = append(out, i)
		}
	}
	return out, nil
}

func matchAny(sels []selector, idx cssIndex, e *abi.Element) bool {
	for _, sel := range sels {
		if sel.matches(idx, e) {
			return true
		}
	}
	return false
}

// MatchXPath returns the records whose absolute or id-relative XPath equals
// xp, the forms snapshots record. Arbitrary XPath expressions need a browser.
func MatchXPath(s *abi.Snapshot, xp string) []int {
	xp = strings.TrimSpace(xp)
	var out []int
	for i := range s.Elements {
		e := &s.Elements[i]
		if e.XPath == xp || (e.IDXPath != "" && e.IDXPath == xp) || strings.EqualFold(stripOnes(e.XPath), stripOnes(xp)) {
			out = append(out, i)
		}
	}
	return out
}

// stripOnes drops "[1]" positions so that /html/body/div matches
// /html[1]/body[1]/div[1].
func stripOnes(xp string) string { return strings.ReplaceAll(xp, "[1]", "") }
