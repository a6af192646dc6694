package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
)

// dismiss_overlay: clicks intercepted by cookie banners, modals and sticky
// headers.

// overlayConfig is the parameters of dismiss_overlay.
type overlayConfig struct {
	// DismissTexts are the labels of controls that close an overlay, in
	// order of preference, matched case-insensitively as whole words
	// against a control's text, accessible name, aria-label, value or title.
	DismissTexts []string `json:"dismiss_texts"`
	// ContainerSelectors find overlays when the error does not name the
	// intercepting element (or it has no dismiss control).
	ContainerSelectors []string `json:"container_selectors"`
	// ControlSelectors find the clickable controls.
	ControlSelectors []string `json:"control_selectors"`
	// SettleMS is the pause after a click or Escape for the overlay to go.
	SettleMS Millis `json:"settle_ms"`
	// MaxClicks is how many dismiss controls are tried.
	MaxClicks int `json:"max_clicks"`
	// PressEscape presses Escape when no control cleared the overlay.
	PressEscape bool `json:"press_escape"`
}

func (p *overlayConfig) validate() error {
	if len(p.DismissTexts) == 0 {
		return fmt.Errorf("%w dismiss_texts: empty, so no control could be recognised", errConfig)
	}
	for i, s := range p.DismissTexts {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("%w dismiss_texts[%d]: empty text", errConfig, i)
		}
	}
	if len(p.ControlSelectors) == 0 {
		return fmt.Errorf("%w control_selectors: empty", errConfig)
	}
	return firstErr(atLeast("settle_ms", p.SettleMS, 0), atLeast("max_clicks", p.MaxClicks, 1))
}

func defaultOverlay() overlayConfig {
	var containers []string
	containers = append(containers, "[role=dialog]", "[role=alertdialog]", "[aria-modal=true]", "dialog[open]")
	for _, w := range []string{"cookie", "consent", "gdpr", "modal", "overlay", "banner", "popup"} {
		containers = append(containers, "[id*="+w+" i]", "[class*="+w+" i]")
	}
	return overlayConfig{
		DismissTexts:       []string{"accept", "agree", "got it", "ok", "close", "dismiss", "no thanks", "reject", "×", "✕"},
		ContainerSelectors: containers,
		ControlSelectors: []string{"button", "a", "[role=button]", "input[type=button]", "input[type=submit]",
			"[aria-label]", "[class*=close i]"},
		SettleMS:    300,
		MaxClicks:   3,
		PressEscape: true,
	}
}

// dismissOverlay finds the overlay that took the click (named in the error
// message, or a dialog or banner on the page), clicks its dismiss control
// and checks it went; failing that it presses Escape; failing that, when the
// overlay covers the target only in part (a sticky header), it asks to click
// the part left uncovered.
func dismissOverlay(c *heal.Call) abi.Result {
	cfg := defaultOverlay()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	o := &overlayRun{c: c, cfg: cfg, broken: map[string]string{}}
	tag, named := parseInterceptor(c.Request.Error.Message)
	details := map[string]any{}
	if named {
		details["interceptor"] = tag
	}
	containers, err := o.containers(tag, named)
	if err != nil {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("looking for overlays: %v", err)), details)
	}
	details["overlays"] = briefAll(containers)
	if len(containers) == 0 {
		return heal.WithDetails(heal.GiveUp("no overlay on the page"), details)
	}
	controls, err := o.controls(containers)
	if err != nil {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("looking for dismiss controls: %v", err)), details)
	}
	var clicked []string
	for _, ctl := range controls[:min(len(controls), cfg.MaxClicks)] {
		if budget(c, cfg.SettleMS.D()+minTry) < cfg.SettleMS.D()+minTry {
			break
		}
		if _, err := c.Click(abi.Locator{XPath: ctl.el.XPath, TimeoutMS: budget(c, actTimeout).Milliseconds()}); err != nil {
			c.Logf(heal.LevelDebug, "clicking %s: %v", ctl.el.XPath, err)
			continue
		}
		clicked = append(clicked, fmt.Sprintf("%s %q", ctl.el.XPath, ctl.label))
		details["clicked"] = clicked
		if o.cleared(ctl.overlay) {
			c.Logf(heal.LevelInfo, "dismissed %s with %q", ctl.overlay.XPath, ctl.label)
			return heal.WithDetails(heal.Retry(fmt.Sprintf("dismissed the overlay with %q", ctl.label)), details)
		}
	}
	if cfg.PressEscape && budget(c, cfg.SettleMS.D()+minTry) >= cfg.SettleMS.D()+minTry {
		if _, err := c.Press(abi.Locator{Key: "Escape", TimeoutMS: budget(c, actTimeout).Milliseconds()}); err == nil {
			details["escape"] = true
			if o.cleared(containers[0]) {
				return heal.WithDetails(heal.Retry("dismissed the overlay with Escape"), details)
			}
		}
	}
	if p, ok := o.uncoveredPoint(containers[0]); ok && pointerKinds[c.Request.Action.Kind] {
		details["point"] = p
		return heal.WithDetails(heal.UsePoint(p, "the overlay covers the target only in part; act on the uncovered part"), details)
	}
	if len(o.broken) > 0 {
		details["skipped_selectors"] = o.broken
	}
	msg := "the overlay has no dismiss control and Escape did not close it"
	if len(clicked) > 0 {
		msg = fmt.Sprintf("the overlay is still there after clicking %d controls", len(clicked))
	}
	return heal.WithDetails(heal.GiveUp(msg), details)
}

// tagInfo is an element as an error message names it.
type tagInfo struct {
	Tag     string   `json:"tag"`
	ID      string   `json:"id,omitempty"`
	Classes []string `json:"classes,omitempty"`
	Role    string   `json:"role,omitempty"`
}

// Phrases around the element that took a click, in the messages of this
// engine, Selenium, Playwright and Puppeteer: the element follows the first
// kind and precedes the second.
var (
	interceptBefore = []string{"intercepted by", "receive the click", "covered by", "obscured by", "obstructed by"}
	interceptAfter  = []string{"intercepts pointer events", "would receive the click"}
)

// findFirst returns the byte span of the leftmost phrase in s, matched
// without regard to ASCII case, or -1.
func findFirst(s string, phrases []string) (start, end int) {
	lower := toLowerASCII(s)
	start, end = -1, -1
	for _, p := range phrases {
		if i := strings.Index(lower, p); i >= 0 && (start < 0 || i < start) {
			start, end = i, i+len(p)
		}
	}
	return start, end
}

// toLowerASCII lowers ASCII letters only, so that byte offsets into the
// result are offsets into s.
func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// parseInterceptor finds the intercepting element in an error message: the
// tag after "intercepted by" and its kin, else the last tag before
// "intercepts pointer events", else the only tag in the message. Attribute
// values may be quoted, unquoted or escaped, and the tag may be cut short.
func parseInterceptor(msg string) (tagInfo, bool) {
	msg = strings.NewReplacer(`\"`, `"`, `\'`, `'`, "&quot;", `"`).Replace(msg)
	if _, end := findFirst(msg, interceptBefore); end >= 0 {
		if t, ok := parseTag(strings.TrimLeft(msg[end:], ": \t\n")); ok {
			return t, true
		}
	}
	if start, _ := findFirst(msg, interceptAfter); start >= 0 {
		head := msg[:start]
		// The subtree owner in "<a> from <b> subtree intercepts" is the
		// outer element; the interceptor is the first tag of that clause.
		if i := strings.LastIndex(head, " from <"); i >= 0 {
			head = head[:i]
		}
		for i := strings.LastIndex(head, "<"); i >= 0; i = strings.LastIndex(head[:i], "<") {
			if t, ok := parseTag(head[i:]); ok {
				return t, true
			}
		}
	}
	var tags []tagInfo
	for i := strings.IndexByte(msg, '<'); i >= 0; {
		if t, ok := parseTag(msg[i:]); ok {
			tags = append(tags, t)
		}
		next := strings.IndexByte(msg[i+1:], '<')
		if next < 0 || len(tags) > 1 {
			break
		}
		i += 1 + next
	}
	if len(tags) == 1 {
		return tags[0], true
	}
	return tagInfo{}, false
}

// parseTag reads "<tag attr=value ...>" at the start of s (after spaces).
func parseTag(s string) (tagInfo, bool) {
	s = strings.TrimLeft(s, " \t")
	if len(s) > 1024 {
		// A tag's description is short; this bounds the work on long
		// messages full of '<'.
		s = s[:1024]
	}
	if len(s) < 2 || s[0] != '<' || !isLetter(rune(s[1])) {
		return tagInfo{}, false
	}
	i := 1
	for i < len(s) && (isLetter(rune(s[i])) || s[i] >= '0' && s[i] <= '9' || s[i] == '-') {
		i++
	}
	t := tagInfo{Tag: strings.ToLower(s[1:i])}
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '/') {
			i++
		}
		if i >= len(s) || s[i] == '>' {
			break
		}
		start := i
		for i < len(s) && !strings.ContainsRune(" \t\n=>/", rune(s[i])) {
			i++
		}
		raw := s[start:i]
		if raw != "" && (raw[0] == '#' || raw[0] == '.') {
			// The engine's own notation: <div #id.class1.class2>.
			t.compound(raw)
			continue
		}
		name := strings.ToLower(raw)
		if name == "" {
			i++
			continue
		}
		var val string
		if i < len(s) && s[i] == '=' {
			i++
			if i < len(s) && (s[i] == '"' || s[i] == '\'') {
				q := s[i]
				end := strings.IndexByte(s[i+1:], q)
				if end < 0 {
					val, i = s[i+1:], len(s)
				} else {
					val, i = s[i+1:i+1+end], i+2+end
				}
			} else {
				start := i
				for i < len(s) && !strings.ContainsRune(" \t\n>", rune(s[i])) {
					i++
				}
				val = s[start:i]
			}
		}
		switch name {
		case "id":
			t.ID = val
		case "class":
			t.Classes = strings.Fields(val)
		case "role":
			t.Role = val
		}
	}
	return t, true
}

// compound reads "#id.class1.class2" or ".class1.class2".
func (t *tagInfo) compound(s string) {
	if strings.HasPrefix(s, "#") {
		id, rest, _ := strings.Cut(s[1:], ".")
		t.ID, s = id, rest
	}
	for _, c := range strings.Split(s, ".") {
		if c != "" {
			t.Classes = append(t.Classes, c)
		}
	}
}

func isLetter(r rune) bool { return r < unicode.MaxASCII && unicode.IsLetter(r) }

// plainIdent reports whether s can be written in a CSS selector as is: an
// identifier of ASCII letters, digits, '_' and '-' not starting with a digit.
func plainIdent(s string) bool {
	s = strings.TrimPrefix(s, "-")
	for i, c := range []byte(s) {
		letter := c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (i == 0 || c != '-' && (c < '0' || c > '9')) {
			return false
		}
	}
	return s != ""
}

// selectors returns CSS selectors for the element t describes, most
// specific first.
func (t tagInfo) selectors() []string {
	var out []string
	if t.ID != "" {
		out = append(out, fmt.Sprintf("[id=%s]", strconv.Quote(t.ID)))
	}
	var sel strings.Builder
	sel.WriteString(t.Tag)
	n := 0
	for _, cls := range t.Classes {
		if plainIdent(cls) {
			sel.WriteString("." + cls)
			n++
		}
	}
	if n > 0 {
		out = append(out, sel.String())
	}
	if t.Role != "" && plainIdent(t.Role) {
		out = append(out, t.Tag+"[role="+t.Role+"]")
	}
	return out
}

// overlayRun is the state of one dismiss_overlay call.
type overlayRun struct {
	c   *heal.Call
	cfg overlayConfig
	// broken holds selectors the browser rejected.
	broken map[string]string
	// named is the selector of the element the error names, if found.
	named string
}

// query runs selectors as one list, and one by one when the browser
// rejects the list, skipping those it rejects.
func (o *overlayRun) query(selectors []string, limit int) ([]abi.Element, error) {
	var live []string
	for _, s := range selectors {
		if _, bad := o.broken[s]; !bad {
			live = append(live, s)
		}
	}
	if len(live) == 0 {
		return nil, nil
	}
	els, err := o.c.Query(abi.Query{CSS: strings.Join(live, ", "), Limit: limit})
	if err == nil || !rejected(err) {
		return els, err
	}
	els = nil
	for _, s := range live {
		part, err := o.c.Query(abi.Query{CSS: s, Limit: limit})
		switch {
		case rejected(err):
			o.broken[s] = err.Error()
		case err != nil:
			return els, err
		}
		els = append(els, part...)
	}
	return els, nil
}

// rejected reports a selector the browser could not use: a bad request, or
// not_found, which is how a query reports a selector that does not parse
// (no match is an empty result).
func rejected(err error) bool {
	return errors.Is(err, heal.ErrBadRequest) || heal.IsNotFound(err)
}

// containers returns the visible overlays: the element the error names
// first, then the dialogs and banners the container selectors find.
func (o *overlayRun) containers(t tagInfo, named bool) ([]abi.Element, error) {
	var out []abi.Element
	seen := map[string]bool{}
	add := func(els []abi.Element) {
		for _, el := range els {
			if el.Visible && len(el.Frame) == 0 && !seen[el.XPath] && !pageRoot(el) {
				seen[el.XPath] = true
				out = append(out, el)
			}
		}
	}
	if named {
		for _, sel := range t.selectors() {
			els, err := o.query([]string{sel}, 3)
			if err != nil && fatal(err) && !errors.Is(err, heal.ErrBadRequest) {
				return nil, err
			}
			if len(els) > 0 {
				o.named = sel
				add(els)
				break
			}
		}
	}
	els, err := o.query(o.cfg.ContainerSelectors, 20)
	if err != nil {
		return out, err
	}
	add(els)
	return out, nil
}

// pageRoot reports elements that contain the whole page and so cannot be an
// overlay, though a class such as "modal-open" may select them.
func pageRoot(el abi.Element) bool {
	switch el.Tag {
	case "html", "body", "main":
		return true
	}
	return strings.Count(el.XPath, "/") <= 2
}

// control is a dismiss control found in an overlay.
type control struct {
	el      abi.Element
	overlay abi.Element
	label   string
	rank    int
}

// controls returns the visible dismiss controls inside the overlays, best
// first: by the preference of their label, then by overlay order. A control
// belongs to an overlay when its XPath lies under the overlay's, or under
// the overlay's parent or grandparent for an element the error names, since
// that is often a child of the banner rather than the banner itself.
func (o *overlayRun) controls(overlays []abi.Element) ([]control, error) {
	els, err := o.query(o.cfg.ControlSelectors, 500)
	if err != nil {
		return nil, err
	}
	var out []control
	seen := map[string]bool{}
	for oi, ov := range overlays {
		scopes := []string{ov.XPath}
		if oi == 0 && o.named != "" {
			for p, i := ov.XPath, 0; i < 2; i++ {
				p = parentXPath(p)
				if strings.Count(p, "/") <= 2 {
					break
				}
				scopes = append(scopes, p)
			}
		}
		for si, scope := range scopes {
			for _, el := range els {
				if seen[el.XPath] || !el.Visible || len(el.Frame) > 0 || !within(el.XPath, scope) {
					continue
				}
				label, pref, ok := dismissLabel(el, o.cfg.DismissTexts)
				if !ok {
					continue
				}
				seen[el.XPath] = true
				// The overlay to watch is the scope that holds the control.
				holder := ov
				if si > 0 {
					holder = abi.Element{XPath: scope, Visible: true}
				}
				out = append(out, control{el: el, overlay: holder, label: label, rank: pref*10000 + oi*10 + si})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b control) int { return a.rank - b.rank })
	return out, nil
}

func parentXPath(x string) string {
	if i := strings.LastIndexByte(x, '/'); i > 0 {
		return x[:i]
	}
	return x
}

func within(x, scope string) bool { return x == scope || strings.HasPrefix(x, scope+"/") }

// dismissLabel returns the label of el that matches a dismiss text, and the
// text's preference (its index, doubled, plus one for a partial match).
func dismissLabel(el abi.Element, texts []string) (string, int, bool) {
	labels := []string{el.VisibleText, el.Text, el.Name, el.Attrs["aria-label"], el.Attrs["value"], el.Attrs["title"]}
	best, bestPref := "", -1
	for _, raw := range labels {
		l := strings.ToLower(strings.Join(strings.Fields(raw), " "))
		if l == "" || len([]rune(l)) > 40 {
			continue
		}
		for i, t := range texts {
			t = strings.ToLower(strings.TrimSpace(t))
			pref := -1
			switch {
			case l == t:
				pref = 2 * i
			case containsWord(l, t):
				pref = 2*i + 1
			}
			if pref >= 0 && (bestPref < 0 || pref < bestPref) {
				best, bestPref = raw, pref
			}
		}
	}
	return strings.TrimSpace(best), bestPref, bestPref >= 0
}

// containsWord reports whether phrase occurs in s between word boundaries.
func containsWord(s, phrase string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], phrase)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(phrase)
		if boundary(s, i, true) && boundary(s, end, false) {
			return true
		}
		off = i + 1
	}
}

func boundary(s string, i int, before bool) bool {
	var r rune
	if before {
		if i == 0 {
			return true
		}
		r = []rune(s[:i])[len([]rune(s[:i]))-1]
	} else {
		if i >= len(s) {
			return true
		}
		r = []rune(s[i:])[0]
	}
	return !unicode.IsLetter(r) && !unicode.IsDigit(r)
}

// cleared waits for the page to settle and reports whether the overlay is
// gone: no longer in the page, or not visible.
func (o *overlayRun) cleared(ov abi.Element) bool {
	if !o.c.Sleep(o.cfg.SettleMS.D()) {
		return false
	}
	st, err := o.c.Exists(abi.Query{XPath: ov.XPath})
	if err != nil {
		return false
	}
	return st.Count == 0 || !st.Visible
}

// uncoveredPoint returns the middle of the part of the target's box that
// the overlay leaves uncovered above or below it, when that part is at least
// 4 px high.
func (o *overlayRun) uncoveredPoint(ov abi.Element) (abi.Point, bool) {
	q, ok := heal.QueryOf(o.c.Target())
	if !ok {
		return abi.Point{}, false
	}
	q.Limit = 1
	els, err := o.c.Query(q)
	if err != nil || len(els) == 0 || !els[0].Visible || len(els[0].Frame) > 0 {
		return abi.Point{}, false
	}
	t, v := els[0].Rect, ov.Rect
	if t.X+t.Width <= v.X || v.X+v.Width <= t.X || t.Y+t.Height <= v.Y || v.Y+v.Height <= t.Y {
		return abi.Point{}, false // no overlap: the overlay is not what covers it
	}
	x := t.X + t.Width/2
	if below := (t.Y + t.Height) - (v.Y + v.Height); below >= 4 {
		return abi.Point{X: x, Y: v.Y + v.Height + below/2}, true
	}
	if above := v.Y - t.Y; above >= 4 {
		return abi.Point{X: x, Y: t.Y + above/2}, true
	}
	return abi.Point{}, false
}

func briefAll(els []abi.Element) []elementBrief {
	out := make([]elementBrief, len(els))
	for i, el := range els {
		out[i] = brief(el)
	}
	return out
}
