package main

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/healtest"
)

const (
	bannerX = "/html[1]/body[1]/div[1]"
	acceptX = "/html[1]/body[1]/div[1]/div[1]/button[1]"
)

// bannerPage is a shop page whose cookie banner covers the buy button. The
// banner goes when its accept button is clicked; an "OK" button outside the
// banner must never be clicked.
func bannerPage() *healtest.Host {
	box := func(e abi.Element, y, h float64) abi.Element {
		e.Rect = abi.Rect{X: 0, Y: y, Width: 1280, Height: h}
		return e
	}
	h := healtest.NewHost().AddElements(
		box(el("button", "/html[1]/body[1]/main[1]/button[1]", map[string]string{"id": "buy"}, "Buy now", true), 600, 40),
		box(el("button", "/html[1]/body[1]/main[1]/button[2]", nil, "OK", true), 100, 40),
		box(el("div", bannerX, map[string]string{"id": "cookie-banner", "class": "banner fixed"}, "We use cookies Accept all Settings", true), 560, 160),
		box(el("p", bannerX+"/p[1]", map[string]string{"class": "banner-text"}, "We use cookies", true), 570, 20),
		box(el("button", acceptX, nil, "Accept all", true), 600, 30),
		box(el("button", bannerX+"/div[1]/button[2]", nil, "Settings", true), 600, 30),
	)
	return hideWhen(h, "#cookie-banner", func(a healtest.Action) bool {
		return a.Func == "heal_browser_act.click" && a.Locator.XPath == acceptX
	})
}

// hideWhen hides the elements css selects shortly after an action that
// matches happened.
func hideWhen(h *healtest.Host, css string, match func(healtest.Action) bool) *healtest.Host {
	var check func(*healtest.Host)
	check = func(h *healtest.Host) {
		if slices.ContainsFunc(h.Actions(), match) {
			h.Update(css, func(e *abi.Element) { e.Visible = false })
			return
		}
		h.At(10*time.Millisecond, check)
	}
	return h.At(10*time.Millisecond, check)
}

func TestDismissOverlay(t *testing.T) {
	messages := []string{
		`click at (640, 620) intercepted by <div id=cookie-banner class="banner fixed">`,
		`browser: click css "#buy": click intercepted: <button #buy> at (640,620) is covered; intercepted by <div #cookie-banner.banner.fixed>`,
		`element click intercepted: Element <button id="buy">...</button> is not clickable at point (640, 620). Other element would receive the click: <p class="banner-text">...</p>`,
		`<p class=\"banner-text\">We use cookies</p> from <div id=\"cookie-banner\">…</div> subtree intercepts pointer events`,
		`Click failed: the element is covered`, // names nothing: the container selectors find the banner
	}
	for _, msg := range messages {
		t.Run(msg[:20], func(t *testing.T) {
			h := bannerPage()
			res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).errMsg(msg).
				config(`{"container_selectors": ["div.banner", "[role=dialog]"]}`).run(t, h, "dismiss_overlay")
			want(t, res, abi.OutcomeRetry, `dismissed the overlay with "Accept all"`)
			if got := actions(h); !slices.Equal(got, []string{"click"}) {
				t.Fatalf("actions %v, want one click", got)
			}
		})
	}
	t.Run("escape", func(t *testing.T) {
		h := healtest.NewHost().AddElements(
			el("div", "/html[1]/body[1]/div[2]", map[string]string{"role": "dialog", "class": "modal"}, "Subscribe to our newsletter", true),
			el("input", "/html[1]/body[1]/div[2]/input[1]", map[string]string{"type": "submit", "value": "Subscribe"}, "", true),
		)
		hideWhen(h, "div.modal", func(a healtest.Action) bool { return a.Locator.Key == "Escape" })
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).errMsg("Click failed").
			config(`{"container_selectors": ["[role=dialog]"]}`).run(t, h, "dismiss_overlay")
		want(t, res, abi.OutcomeRetry, "with Escape")
	})
	t.Run("stays", func(t *testing.T) {
		h := healtest.NewHost().AddElements(
			el("div", "/html[1]/body[1]/div[1]", map[string]string{"id": "wall"}, "Paywall", true),
			el("button", "/html[1]/body[1]/div[1]/button[1]", nil, "Close", true),
			el("a", "/html[1]/body[1]/div[1]/a[1]", nil, "OK", true),
			el("a", "/html[1]/body[1]/div[1]/a[2]", map[string]string{"aria-label": "Dismiss"}, "", true),
		)
		res := newCall(abi.ActionHover, &abi.Target{CSS: "#buy"}).errMsg(`intercepted by <div id="wall">`).
			config(`{"max_clicks": 2}`).run(t, h, "dismiss_overlay")
		want(t, res, abi.OutcomeGiveUp, "still there after clicking 2 controls")
		// Preference follows dismiss_texts: "ok" before "close".
		if got := actions(h); !slices.Equal(got, []string{"click", "click", "press"}) || h.Actions()[0].Locator.XPath != "/html[1]/body[1]/div[1]/a[1]" {
			t.Fatalf("actions %v %+v, want OK, then Close, then Escape", got, h.Actions())
		}
	})
	t.Run("sticky header covers part of the target", func(t *testing.T) {
		header := el("header", "/html[1]/body[1]/header[1]", map[string]string{"class": "sticky"}, "Shop", true)
		header.Rect = abi.Rect{X: 0, Y: 0, Width: 1280, Height: 60}
		target := el("button", "/html[1]/body[1]/main[1]/button[1]", map[string]string{"id": "buy"}, "Buy", true)
		target.Rect = abi.Rect{X: 100, Y: 40, Width: 80, Height: 40}
		h := healtest.NewHost().AddElements(header, target)
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).errMsg(`intercepted by <header class="sticky">`).
			config(`{"press_escape": false}`).run(t, h, "dismiss_overlay")
		want(t, res, abi.OutcomeUseElement, "uncovered part")
		if w := (abi.Point{X: 140, Y: 70}); res.Point == nil || *res.Point != w {
			t.Fatalf("point %v, want %v", res.Point, w)
		}
	})
	t.Run("no overlay", func(t *testing.T) {
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).errMsg("Click failed").run(t, healtest.NewHost(), "dismiss_overlay")
		want(t, res, abi.OutcomeGiveUp, "no overlay")
	})
}

func TestParseInterceptor(t *testing.T) {
	tests := []struct {
		msg  string
		want tagInfo
		ok   bool
	}{
		{`click intercepted by <div id=cookie-banner class=...>`, tagInfo{Tag: "div", ID: "cookie-banner", Classes: []string{"..."}}, true},
		{`intercepted by <DIV ID="x y" class='a  b' role=dialog>`, tagInfo{Tag: "div", ID: "x y", Classes: []string{"a", "b"}, Role: "dialog"}, true},
		{`Other element would receive the click: <div class="overlay"></div>`, tagInfo{Tag: "div", Classes: []string{"overlay"}}, true},
		{`<button id="go">Go</button> is not clickable. Other element would receive the click: <span class="x">`, tagInfo{Tag: "span", Classes: []string{"x"}}, true},
		{`<div class=\"modal\">…</div> intercepts pointer events`, tagInfo{Tag: "div", Classes: []string{"modal"}}, true},
		{`<span>x</span> from <div id="root">…</div> subtree intercepts pointer events`, tagInfo{Tag: "span"}, true},
		{`intercepted by <div id="cut`, tagInfo{Tag: "div", ID: "cut"}, true},
		{`only <aside class=promo> here`, tagInfo{Tag: "aside", Classes: []string{"promo"}}, true},
		{`browser: click css "#buy": click intercepted: <button #buy> at (640,620) is covered; intercepted by <div #cookie-banner.banner.fixed>`,
			tagInfo{Tag: "div", ID: "cookie-banner", Classes: []string{"banner", "fixed"}}, true},
		{`intercepted by <div.modal-backdrop.show>`, tagInfo{Tag: "div", Classes: []string{"modal-backdrop", "show"}}, true},
		{`intercepted by <section #Consent>`, tagInfo{Tag: "section", ID: "Consent"}, true},
		{`Click failed: 1 < 2`, tagInfo{}, false},
		{`<a> and <b> but no verb`, tagInfo{}, false},
		{``, tagInfo{}, false},
	}
	for _, tt := range tests {
		got, ok := parseInterceptor(tt.msg)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseInterceptor(%q) = %+v, %v, want %+v, %v", tt.msg, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDismissLabel(t *testing.T) {
	texts := defaultOverlay().DismissTexts
	tests := []struct {
		text string
		ok   bool
	}{
		{"Accept all cookies", true}, {"OK", true}, {"ok!", true}, {"×", true}, {"No thanks", true},
		{"Book now", false}, {"Acceptance policy", false}, {"Okay", false}, {"", false},
		{"Read our privacy policy and click close to continue browsing the site", false},
	}
	for _, tt := range tests {
		if _, _, ok := dismissLabel(abi.Element{Text: tt.text}, texts); ok != tt.ok {
			t.Errorf("dismissLabel(%q) = %v, want %v", tt.text, ok, tt.ok)
		}
	}
}

// FuzzParseInterceptor checks that no error message makes the parser panic
// and that what it returns is a lower-case tag.
func FuzzParseInterceptor(f *testing.F) {
	f.Add(`intercepted by <div id=cookie-banner class="a b">`)
	f.Add(`<p class=\"x\"> intercepts pointer events`)
	f.Add(`receive the click: <`)
	f.Fuzz(func(t *testing.T, msg string) {
		got, ok := parseInterceptor(msg)
		if ok && (got.Tag == "" || got.Tag != toLowerASCII(got.Tag)) {
			t.Fatalf("parseInterceptor(%q) = %+v", msg, got)
		}
	})
}

func TestSelectorsOfInterceptor(t *testing.T) {
	got := tagInfo{Tag: "div", ID: `cookie "x"`, Classes: []string{"banner", "md:flex", "-x", "2col", "a_b-1"}, Role: "dialog"}.selectors()
	w := []string{`[id="cookie \"x\""]`, "div.banner.-x.a_b-1", "div[role=dialog]"}
	if !slices.Equal(got, w) {
		t.Fatalf("selectors() = %q, want %q", got, w)
	}
}
