package main

import (
	"fmt"
	"strings"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
)

// Strategies for element_not_found.

// waitLongerConfig is the parameters of wait_longer.
type waitLongerConfig struct {
	// TimeoutMS is how long to wait for the element (the seed's 5 s).
	TimeoutMS Millis `json:"timeout_ms"`
	// PollMS is the pause between two checks.
	PollMS Millis `json:"poll_ms"`
	// Visible waits until the element is visible, not merely present.
	Visible bool `json:"visible"`
}

func (p *waitLongerConfig) validate() error {
	return firstErr(atLeast("timeout_ms", p.TimeoutMS, 0), atLeast("poll_ms", p.PollMS, minPoll))
}

func defaultWaitLonger() waitLongerConfig {
	return waitLongerConfig{TimeoutMS: 5000, PollMS: 250, Visible: true}
}

// waitLonger polls for the target until it shows: by its selector when it
// has one, else through the resolver at the request's healing level.
func waitLonger(c *heal.Call) abi.Result {
	cfg := defaultWaitLonger()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	t := c.Target()
	if !hasSelector(t) && !hasSemantics(t) {
		return heal.GiveUp("the action has no target to wait for")
	}
	var (
		last  abi.ExistsResult
		found *abi.Element
		check func() (bool, error)
		via   string
	)
	if q, ok := heal.QueryOf(t); ok {
		via = "selector"
		check = func() (bool, error) {
			r, err := c.Exists(q)
			last = r
			return err == nil && r.Count > 0 && (r.Visible || !cfg.Visible), err
		}
	} else {
		via = "resolver"
		req := abi.ResolveRequest{Target: *t, Level: c.Request.Healing.Level, Limit: 1}
		check = func() (bool, error) {
			res, err := c.Resolve(req)
			if heal.IsNotFound(err) || err == nil && res.Element == nil {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			found = res.Element
			return res.Element.Visible || !cfg.Visible, nil
		}
	}
	c.Logf(heal.LevelInfo, "waiting up to %d ms for %s", cfg.TimeoutMS, describeTarget(t))
	ok, st, err := poll(c, cfg.PollMS.D(), cfg.TimeoutMS.D(), check)
	details := map[string]any{"via": via, "target": describeTarget(t), "poll": st, "timeout_ms": cfg.TimeoutMS}
	if via == "selector" {
		details["count"], details["visible"] = last.Count, last.Visible
	} else if found != nil {
		details["element"] = brief(*found)
	}
	switch {
	case err != nil:
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("cannot watch for the target: %v", err)), details)
	case !ok:
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("%s did not show within %d ms", describeTarget(t), st.WaitedMS)), details)
	}
	return heal.WithDetails(heal.Retry(fmt.Sprintf("target showed after %d ms", st.WaitedMS)), details)
}

// scrollConfig is the parameters of scroll_into_view.
type scrollConfig struct {
	// MaxSteps is how many times the page is scrolled down a screen to
	// make lazily rendered content appear.
	MaxSteps int `json:"max_steps"`
	// SettleMS is the pause after each scroll for content to render.
	SettleMS Millis `json:"settle_ms"`
}

func (p *scrollConfig) validate() error {
	return firstErr(atLeast("max_steps", p.MaxSteps, 0), atLeast("settle_ms", p.SettleMS, 0))
}

func defaultScroll() scrollConfig { return scrollConfig{MaxSteps: 10, SettleMS: 250} }

// scrollIntoView finds the target by its selector or through the resolver
// and scrolls it into view; when it is not on the page yet, it scrolls the
// page down a screen at a time, for content rendered as it comes into view.
func scrollIntoView(c *heal.Call) abi.Result {
	cfg := defaultScroll()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	t := c.Target()
	if !hasSelector(t) && !hasSemantics(t) {
		return heal.GiveUp("the action has no target to scroll to")
	}
	details := map[string]any{"target": describeTarget(t)}
	loc, el, via, err := locateTarget(c, t)
	var scroll scrollProgress
	if err == nil && via == "" {
		scroll, loc, el, via, err = scrollForTarget(c, t, cfg)
		details["page_scroll"] = scroll
	}
	if err != nil {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("looking for the target: %v", err)), details)
	}
	if via == "" {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("%s is not on the page, even after scrolling %d screens", describeTarget(t), scroll.Steps)), details)
	}
	details["via"] = via
	if el != nil {
		details["element"] = brief(*el)
		if len(el.Frame) > 0 {
			// Locators address the top document only; the engine scrolls
			// an element inside a frame when it acts on it.
			return heal.WithDetails(heal.UseElement(*el, "found inside a frame by the resolver"), details)
		}
	}
	loc.TimeoutMS = budget(c, actTimeout).Milliseconds()
	if _, err := c.ScrollIntoView(loc); err != nil {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("scrolling the target into view: %v", err)), details)
	}
	c.Logf(heal.LevelInfo, "scrolled %s into view (found by %s)", describeTarget(t), via)
	if el != nil {
		return heal.WithDetails(heal.UseElement(*el, "scrolled the resolved element into view"), details)
	}
	if q, ok := heal.QueryOf(t); ok {
		if st, err := c.Exists(q); err == nil {
			details["visible"] = st.Visible
		}
	}
	return heal.WithDetails(heal.Retry("scrolled the target into view"), details)
}

// locateTarget finds t on the page now: by its selector when it matches,
// else through the resolver. via is "selector" or "resolver", or empty when
// nothing was found; el is set for the resolver.
func locateTarget(c *heal.Call, t *abi.Target) (loc abi.Locator, el *abi.Element, via string, err error) {
	if q, ok := heal.QueryOf(t); ok {
		st, err := c.Exists(q)
		if err != nil && fatal(err) {
			return loc, nil, "", err
		}
		if err == nil && st.Count > 0 {
			l, _ := heal.LocatorOf(t)
			return l, nil, "selector", nil
		}
	}
	res, err := c.Resolve(abi.ResolveRequest{Target: *t, Level: c.Request.Healing.Level, Limit: 1})
	switch {
	case heal.IsNotFound(err), heal.IsUnavailable(err) && hasSelector(t):
		// Without a resolver a selector target can still be searched for.
		return loc, nil, "", nil
	case err != nil:
		return loc, nil, "", err
	case res.Element == nil:
		return loc, nil, "", nil
	}
	return abi.Locator{XPath: res.Element.XPath}, res.Element, "resolver", nil
}

// scrollProgress is how the page was scrolled looking for a target.
type scrollProgress struct {
	Steps   int     `json:"steps"`
	ScrollY float64 `json:"scroll_y"`
	Bottom  bool    `json:"bottom,omitempty"`
}

// scrollForTarget scrolls the page down a screen at a time, looking for t
// after each step. It stops at the bottom: when the page has neither moved
// nor grown for two steps in a row (a lazy loader may take one settle
// period to add content).
func scrollForTarget(c *heal.Call, t *abi.Target, cfg scrollConfig) (p scrollProgress, loc abi.Locator, el *abi.Element, via string, err error) {
	snap, err := c.Snapshot()
	if err != nil {
		return p, loc, nil, "", err
	}
	prevY, prevN, still := snap.Viewport.ScrollY, len(snap.Elements), 0
	for p.Steps < cfg.MaxSteps && budget(c, cfg.SettleMS.D()) >= cfg.SettleMS.D() {
		p.Steps++
		if _, err := c.Press(abi.Locator{Key: "PageDown", TimeoutMS: budget(c, actTimeout).Milliseconds()}); err != nil && fatal(err) {
			return p, loc, nil, "", err
		}
		if !c.Sleep(cfg.SettleMS.D()) {
			break
		}
		if snap, err = c.Snapshot(); err != nil {
			return p, loc, nil, "", err
		}
		if snap.Viewport.ScrollY == prevY {
			// A focused field swallows PageDown; scroll to the last
			// element instead.
			if last, ok := bottomMost(snap.Elements); ok {
				_, _ = c.ScrollIntoView(abi.Locator{XPath: last.XPath, TimeoutMS: budget(c, actTimeout).Milliseconds()})
				if s, err := c.Snapshot(); err == nil {
					snap = s
				}
			}
		}
		p.ScrollY = snap.Viewport.ScrollY
		if loc, el, via, err = locateTarget(c, t); err != nil || via != "" {
			return p, loc, el, via, err
		}
		if snap.Viewport.ScrollY == prevY && len(snap.Elements) == prevN {
			if still++; still >= 2 {
				p.Bottom = true
				break
			}
		} else {
			still = 0
		}
		prevY, prevN = snap.Viewport.ScrollY, len(snap.Elements)
	}
	return p, loc, nil, "", nil
}

// bottomMost returns the top-document element whose box reaches lowest.
func bottomMost(els []abi.Element) (abi.Element, bool) {
	best, ok := abi.Element{}, false
	for _, el := range els {
		if el.Visible && len(el.Frame) == 0 && el.XPath != "" && (!ok || el.Rect.Y+el.Rect.Height > best.Rect.Y+best.Rect.Height) {
			best, ok = el, true
		}
	}
	return best, ok
}

// visionConfig is the parameters of use_vision_fallback.
type visionConfig struct {
	// MinRatio is the fuzzy-match threshold; 0 uses the healing profile's.
	MinRatio float64 `json:"min_ratio"`
	// MinConfidence is the lowest OCR confidence (0..100) accepted.
	MinConfidence float64 `json:"min_confidence"`
	// MaxTexts is how many of the target's texts are looked for.
	MaxTexts int `json:"max_texts"`
}

func (p *visionConfig) validate() error {
	switch {
	case p.MinRatio < 0 || p.MinRatio > 1:
		return fmt.Errorf("%w min_ratio: must be within 0..1, not %v", errConfig, p.MinRatio)
	case p.MinConfidence < 0 || p.MinConfidence > 100:
		return fmt.Errorf("%w min_confidence: must be within 0..100, not %v", errConfig, p.MinConfidence)
	}
	return atLeast("max_texts", p.MaxTexts, 1)
}

func defaultVision() visionConfig { return visionConfig{MaxTexts: 3} }

// pointerKinds are the actions that can be performed at a point.
var pointerKinds = map[string]bool{abi.ActionClick: true, abi.ActionHover: true, abi.ActionType: true, abi.ActionPress: true}

// useVisionFallback finds the target's text on a screenshot by OCR and asks
// the engine to act at that point.
func useVisionFallback(c *heal.Call) abi.Result {
	cfg := defaultVision()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	if kind := c.Request.Action.Kind; !pointerKinds[kind] {
		return heal.GiveUp(fmt.Sprintf("a %s action cannot be performed at a point", kind))
	}
	texts := targetTexts(c.Target())
	if len(texts) == 0 {
		return heal.GiveUp(fmt.Sprintf("%s has no text to look for on the screen", describeTarget(c.Target())))
	}
	texts = texts[:min(len(texts), cfg.MaxTexts)]
	ratio := cfg.MinRatio
	if ratio == 0 {
		ratio = c.Request.Healing.MinRatio
	}
	type look struct {
		Text       string  `json:"text"`
		Found      bool    `json:"found"`
		OCRText    string  `json:"ocr_text,omitempty"`
		Ratio      float64 `json:"ratio,omitempty"`
		Confidence float64 `json:"confidence,omitempty"`
		Error      string  `json:"error,omitempty"`
	}
	var looks []look
	for _, text := range texts {
		if c.Remaining() <= 0 {
			break
		}
		loc, err := c.LocateText(abi.LocateTextRequest{Text: text, MinRatio: ratio})
		l := look{Text: text, Found: loc.Found, OCRText: loc.Text, Ratio: loc.Ratio, Confidence: loc.Confidence}
		if err != nil {
			l.Error = err.Error()
			looks = append(looks, l)
			if fatal(err) || heal.IsTimeout(err) {
				break
			}
			continue
		}
		looks = append(looks, l)
		if loc.Found && loc.Confidence >= cfg.MinConfidence {
			c.Logf(heal.LevelInfo, "OCR found %q as %q at (%.0f, %.0f), ratio %.2f", text, loc.Text, loc.Point.X, loc.Point.Y, loc.Ratio)
			return heal.WithDetails(heal.UsePoint(loc.Point, fmt.Sprintf("found %q on the screen", firstNonEmpty(loc.Text, text))),
				map[string]any{"looked_for": looks, "rect": loc.Rect, "min_ratio": ratio})
		}
	}
	return heal.WithDetails(heal.GiveUp(fmt.Sprintf("OCR did not find %s on the screen", quoteAll(texts))),
		map[string]any{"looked_for": looks, "min_ratio": ratio})
}

// targetTexts lists the texts a user would see for t, best first, without
// repeats.
func targetTexts(t *abi.Target) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.Join(strings.Fields(s), " ")
		if s == "" || len([]rune(s)) > 100 || seen[strings.ToLower(s)] {
			return
		}
		seen[strings.ToLower(s)] = true
		out = append(out, s)
	}
	add(t.Text)
	add(t.Label)
	if fp := t.Fingerprint; fp != nil {
		add(fp.VisibleText)
		add(fp.Text)
		add(fp.Name)
		add(fp.Attrs["aria-label"])
		add(fp.Attrs["value"])
		add(fp.Attrs["alt"])
		add(fp.Attrs["title"])
	}
	add(t.Placeholder)
	return out
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
