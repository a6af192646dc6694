package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/healtest"
)

func TestWaitLonger(t *testing.T) {
	buy := el("button", "/html[1]/body[1]/button[1]", map[string]string{"id": "buy"}, "Buy now", true)
	appearAt := func(d time.Duration) *healtest.Host {
		return healtest.NewHost().At(d, func(h *healtest.Host) { h.AddElements(buy) })
	}
	t.Run("appears late", func(t *testing.T) {
		h := appearAt(1200 * time.Millisecond)
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).run(t, h, "wait_longer")
		want(t, res, abi.OutcomeRetry, "showed after")
		between(t, "elapsed", h.Elapsed(), 1200*time.Millisecond, 1450*time.Millisecond)
	})
	t.Run("never appears", func(t *testing.T) {
		h := healtest.NewHost()
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).run(t, h, "wait_longer")
		want(t, res, abi.OutcomeGiveUp, "did not show within 5000 ms")
		between(t, "elapsed", h.Elapsed(), 5000*time.Millisecond, 5000*time.Millisecond)
	})
	t.Run("timeout_ms honoured", func(t *testing.T) {
		h := appearAt(3 * time.Second)
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).config(`{"timeout_ms": "2s", "poll_ms": 100}`).run(t, h, "wait_longer")
		want(t, res, abi.OutcomeGiveUp, "did not show")
		between(t, "elapsed", h.Elapsed(), 2*time.Second, 2*time.Second)
		if n := h.Calls(abi.FnExists); n != 21 {
			t.Errorf("%d checks, want 21 (every 100 ms for 2 s)", n)
		}
	})
	t.Run("deadline respected", func(t *testing.T) {
		h := healtest.NewHost()
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).deadline(time.Second).run(t, h, "wait_longer")
		want(t, res, abi.OutcomeGiveUp, "did not show")
		between(t, "elapsed", h.Elapsed(), 800*time.Millisecond, 950*time.Millisecond)
	})
	t.Run("hidden until shown", func(t *testing.T) {
		hidden := buy
		hidden.Visible = false
		h := healtest.NewHost().AddElements(hidden).At(700*time.Millisecond, func(h *healtest.Host) {
			h.Update("#buy", func(e *abi.Element) { e.Visible = true })
		})
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).run(t, h, "wait_longer")
		want(t, res, abi.OutcomeRetry, "")
		between(t, "elapsed", h.Elapsed(), 700*time.Millisecond, 750*time.Millisecond)

		h = healtest.NewHost().AddElements(hidden)
		res = newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).config(`{"visible": false}`).run(t, h, "wait_longer")
		want(t, res, abi.OutcomeRetry, "after 0 ms")
	})
	t.Run("resolver for a target without selectors", func(t *testing.T) {
		h := healtest.NewHost()
		var levels []int
		h.OnResolve(func(r abi.ResolveRequest) (abi.Resolution, error) {
			levels = append(levels, r.Level)
			if h.Elapsed() < 500*time.Millisecond {
				return abi.Resolution{}, notFound("no Buy now")
			}
			return abi.Resolution{Element: &buy, Score: 0.9, Method: "text"}, nil
		})
		res := newCall(abi.ActionClick, &abi.Target{Text: "Buy now"}).run(t, h, "wait_longer")
		want(t, res, abi.OutcomeRetry, "")
		if levels[0] != 1 || len(levels) != 3 {
			t.Errorf("resolver levels %v, want three calls at level 1", levels)
		}
	})
	t.Run("bad parameter", func(t *testing.T) {
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).config(`{"poll_ms": 10}`).run(t, healtest.NewHost(), "wait_longer")
		want(t, res, abi.OutcomeAbort, "poll_ms: must be at least 50")
		res = newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).config(`{"timeout_ms": "soon"}`).run(t, healtest.NewHost(), "wait_longer")
		want(t, res, abi.OutcomeAbort, `"soon" is neither milliseconds nor a duration`)
	})
	t.Run("no target", func(t *testing.T) {
		want(t, newCall(abi.ActionClick, nil).run(t, healtest.NewHost(), "wait_longer"), abi.OutcomeGiveUp, "no target")
	})
}

func TestScrollIntoView(t *testing.T) {
	buy := el("button", "/html[1]/body[1]/button[1]", map[string]string{"id": "buy"}, "Buy now", false)
	t.Run("by selector", func(t *testing.T) {
		h := healtest.NewHost().AddElements(buy)
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).run(t, h, "scroll_into_view")
		want(t, res, abi.OutcomeRetry, "scrolled the target into view")
		if a := h.Actions(); len(a) != 1 || a[0].Locator.CSS != "#buy" {
			t.Fatalf("actions %+v, want one scroll of #buy", a)
		}
	})
	t.Run("by resolver", func(t *testing.T) {
		moved := buy
		moved.XPath = "/html[1]/body[1]/div[1]/button[1]"
		moved.Attrs = map[string]string{"id": "purchase"}
		h := healtest.NewHost().AddElements(moved).OnResolve(func(r abi.ResolveRequest) (abi.Resolution, error) {
			if r.Target.Fingerprint == nil || r.Level != 1 {
				t.Errorf("resolve request %+v lacks the fingerprint or level", r)
			}
			return abi.Resolution{Element: &moved, Score: 0.8, Method: "fingerprint"}, nil
		})
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy", Fingerprint: &buy}).run(t, h, "scroll_into_view")
		want(t, res, abi.OutcomeUseElement, "resolved element")
		if res.Element.XPath != moved.XPath || h.Actions()[0].Locator.XPath != moved.XPath {
			t.Fatalf("element %s, actions %+v, want %s scrolled and used", res.Element.XPath, h.Actions(), moved.XPath)
		}
	})
	t.Run("lazily rendered", func(t *testing.T) {
		h := healtest.NewHost().At(400*time.Millisecond, func(h *healtest.Host) { h.AddElements(buy) })
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).run(t, h, "scroll_into_view")
		want(t, res, abi.OutcomeRetry, "")
		got := actions(h)
		if got[0] != "press" || got[len(got)-1] != "scroll_into_view" || h.Actions()[0].Locator.Key != "PageDown" {
			t.Fatalf("actions %v, want PageDown presses then a scroll", got)
		}
		if d := details(t, res)["page_scroll"].(map[string]any); d["steps"].(float64) != 2 {
			t.Fatalf("page_scroll %v, want 2 steps (found after 500 ms)", d)
		}
	})
	t.Run("not on the page", func(t *testing.T) {
		h := healtest.NewHost().AddElements(el("p", "/html[1]/body[1]/p[1]", nil, "footer", true))
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).run(t, h, "scroll_into_view")
		want(t, res, abi.OutcomeGiveUp, "not on the page")
		// The page never moves or grows: the bottom is detected after two
		// still steps rather than all ten.
		if d := details(t, res)["page_scroll"].(map[string]any); d["steps"].(float64) != 2 || d["bottom"] != true {
			t.Fatalf("page_scroll %v, want the bottom after 2 steps", d)
		}
	})
	t.Run("max_steps honoured", func(t *testing.T) {
		h := healtest.NewHost()
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).config(`{"max_steps": 1}`).run(t, h, "scroll_into_view")
		want(t, res, abi.OutcomeGiveUp, "after scrolling 1 screens")
	})
	t.Run("deadline respected", func(t *testing.T) {
		h := healtest.NewHost()
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).config(`{"max_steps": 100, "settle_ms": 400}`).deadline(time.Second).run(t, h, "scroll_into_view")
		want(t, res, abi.OutcomeGiveUp, "")
	})
}

func TestUseVisionFallback(t *testing.T) {
	found := abi.TextLocation{Found: true, Point: abi.Point{X: 640, Y: 410}, Rect: abi.Rect{X: 600, Y: 400, Width: 80, Height: 20},
		Text: "Buy now", Ratio: 0.93, Confidence: 91}
	t.Run("found", func(t *testing.T) {
		var asked []abi.LocateTextRequest
		h := healtest.NewHost().OnLocateText(func(r abi.LocateTextRequest) (abi.TextLocation, error) {
			asked = append(asked, r)
			if !strings.EqualFold(r.Text, "Buy now") {
				return abi.TextLocation{}, nil
			}
			return found, nil
		})
		fp := el("button", "/x", map[string]string{"aria-label": "Buy now"}, "buy  now", true)
		res := newCall(abi.ActionClick, &abi.Target{Label: "Purchase", Fingerprint: &fp}).run(t, h, "use_vision_fallback")
		want(t, res, abi.OutcomeUseElement, `found "Buy now"`)
		if res.Point == nil || *res.Point != found.Point {
			t.Fatalf("point %v, want %v", res.Point, found.Point)
		}
		// Label first, then the fingerprint's text; "Buy now" and "buy
		// now" are one text.
		if len(asked) != 2 || asked[0].Text != "Purchase" || asked[0].MinRatio != 0.78 {
			t.Fatalf("asked %+v, want Purchase then Buy now at the profile's 0.78", asked)
		}
	})
	t.Run("parameters honoured", func(t *testing.T) {
		var ratio float64
		h := healtest.NewHost().OnLocateText(func(r abi.LocateTextRequest) (abi.TextLocation, error) {
			ratio = r.MinRatio
			return found, nil
		})
		res := newCall(abi.ActionClick, &abi.Target{Text: "Buy now"}).config(`{"min_ratio": 0.9, "min_confidence": 95}`).run(t, h, "use_vision_fallback")
		want(t, res, abi.OutcomeGiveUp, "OCR did not find")
		if ratio != 0.9 {
			t.Fatalf("min_ratio sent %v, want 0.9", ratio)
		}
	})
	tests := []struct {
		name   string
		kind   string
		target *abi.Target
		host   *healtest.Host
		msg    string
	}{
		{"not on screen", abi.ActionClick, &abi.Target{Text: "Buy"}, healtest.NewHost().OnLocateText(func(abi.LocateTextRequest) (abi.TextLocation, error) {
			return abi.TextLocation{}, nil
		}), `OCR did not find "Buy"`},
		{"no OCR", abi.ActionClick, &abi.Target{Text: "Buy"}, healtest.NewHost(), "OCR did not find"},
		{"no text", abi.ActionClick, &abi.Target{CSS: "#buy"}, healtest.NewHost(), "no text to look for"},
		{"not a pointer action", abi.ActionNavigate, &abi.Target{Text: "Buy"}, healtest.NewHost(), "cannot be performed at a point"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want(t, newCall(tt.kind, tt.target).run(t, tt.host, "use_vision_fallback"), abi.OutcomeGiveUp, tt.msg)
		})
	}
}

func TestTargetTexts(t *testing.T) {
	fp := abi.Element{VisibleText: "Add  to cart", Text: "add to cart", Name: "Add item", Attrs: map[string]string{"title": "Cart"}}
	got := targetTexts(&abi.Target{Text: "", Label: "Basket", Placeholder: "qty", Fingerprint: &fp})
	if w := []string{"Basket", "Add to cart", "Add item", "Cart", "qty"}; !slices.Equal(got, w) {
		t.Fatalf("targetTexts = %q, want %q", got, w)
	}
	if got := targetTexts(&abi.Target{Text: strings.Repeat("x", 101)}); len(got) != 0 {
		t.Fatalf("a 101-character text was kept: %q", got)
	}
}
