package main

import (
	"strings"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/healtest"
)

func TestWaitAndRetry(t *testing.T) {
	buy := el("button", "/html[1]/body[1]/button[1]", map[string]string{"id": "buy"}, "Buy", true)
	t.Run("waits", func(t *testing.T) {
		h := healtest.NewHost().AddElements(buy)
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).run(t, h, "wait_and_retry")
		want(t, res, abi.OutcomeRetry, "waited 1000 ms")
		between(t, "elapsed", h.Elapsed(), time.Second, time.Second)
		if d := details(t, res); d["visible"] != true || res.Retry != nil {
			t.Fatalf("details %v, retry %+v: want the target seen visible and a plain retry", d, res.Retry)
		}
	})
	t.Run("delay_ms honoured", func(t *testing.T) {
		h := healtest.NewHost()
		want(t, newCall(abi.ActionClick, nil).config(`{"delay_ms": 300}`).run(t, h, "wait_and_retry"), abi.OutcomeRetry, "waited 300 ms")
		between(t, "elapsed", h.Elapsed(), 300*time.Millisecond, 300*time.Millisecond)
	})
	t.Run("deadline respected", func(t *testing.T) {
		h := healtest.NewHost()
		res := newCall(abi.ActionClick, nil).config(`{"delay_ms": 5000}`).deadline(time.Second).run(t, h, "wait_and_retry")
		want(t, res, abi.OutcomeRetry, "waited 900 ms")
		if res.Retry == nil || res.Retry.DelayMS != 4100 {
			t.Fatalf("retry %+v, want the engine to finish the pause (4100 ms)", res.Retry)
		}
	})
}

func TestUseAlternativeSelector(t *testing.T) {
	old := el("button", "/html[1]/body[1]/form[1]/button[1]", map[string]string{"id": "buy"}, "Buy now", true)
	renamed := old
	renamed.Attrs = map[string]string{"id": "purchase"}
	renamed.XPath = "/html[1]/body[1]/form[1]/button[2]"
	t.Run("resolves by fingerprint", func(t *testing.T) {
		var req abi.ResolveRequest
		h := healtest.NewHost().AddElements(renamed).OnResolve(func(r abi.ResolveRequest) (abi.Resolution, error) {
			req = r
			return abi.Resolution{Element: &renamed, Score: 0.91, Method: "fingerprint",
				Candidates: []abi.Candidate{{Element: renamed, Score: 0.91}}}, nil
		})
		c := newCall(abi.ActionClick, &abi.Target{CSS: "#buy", Text: "Buy now", Fingerprint: &old})
		c.Healing.Level = 2
		res := c.run(t, h, "use_alternative_selector")
		want(t, res, abi.OutcomeUseElement, "resolved by fingerprint")
		if res.Element.XPath != renamed.XPath {
			t.Fatalf("element %s, want %s", res.Element.XPath, renamed.XPath)
		}
		if req.Target.CSS != "" || req.Target.Fingerprint == nil || req.Level != 2 || req.Limit != 5 {
			t.Fatalf("resolve request %+v: want the fingerprint without the failed selector, level 2, 5 candidates", req)
		}
	})
	t.Run("nothing good enough", func(t *testing.T) {
		h := healtest.NewHost().
			OnResolve(func(abi.ResolveRequest) (abi.Resolution, error) { return abi.Resolution{}, notFound("best score 0.41") }).
			OnCandidates(func(abi.ResolveRequest) (abi.Resolution, error) {
				return abi.Resolution{Candidates: []abi.Candidate{{Element: renamed, Score: 0.41, Reasons: []string{"text 0.5"}}}}, nil
			})
		res := newCall(abi.ActionClick, &abi.Target{Text: "Buy now"}).run(t, h, "use_alternative_selector")
		want(t, res, abi.OutcomeGiveUp, "nothing resolves")
		d := details(t, res)
		if cands := d["candidates"].([]any); len(cands) != 1 || !strings.Contains(d["resolver"].(string), "best score 0.41") {
			t.Fatalf("details %v, want the candidate and the resolver's reason", d)
		}
	})
	t.Run("same element as the selector", func(t *testing.T) {
		h := healtest.NewHost().AddElements(old).OnResolve(func(abi.ResolveRequest) (abi.Resolution, error) {
			return abi.Resolution{Element: &old, Score: 1, Method: "text"}, nil
		})
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy", Text: "Buy now"}).run(t, h, "use_alternative_selector")
		want(t, res, abi.OutcomeGiveUp, "already matches")
	})
	t.Run("min_score honoured", func(t *testing.T) {
		h := healtest.NewHost().OnResolve(func(abi.ResolveRequest) (abi.Resolution, error) {
			return abi.Resolution{Element: &renamed, Score: 0.6, Method: "text"}, nil
		})
		res := newCall(abi.ActionClick, &abi.Target{Text: "Buy now"}).config(`{"min_score": 0.7}`).run(t, h, "use_alternative_selector")
		want(t, res, abi.OutcomeGiveUp, "below min_score 0.70")
	})
	t.Run("selector only", func(t *testing.T) {
		want(t, newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).run(t, healtest.NewHost(), "use_alternative_selector"),
			abi.OutcomeGiveUp, "nothing beyond its selector")
	})
}

func TestRefreshDOMState(t *testing.T) {
	buy := el("button", "/html[1]/body[1]/div[1]/button[1]", map[string]string{"id": "buy"}, "Buy now", true)
	spinner := el("div", "/html[1]/body[1]/div[1]", map[string]string{"class": "spinner"}, "", true)
	// The page re-renders at 100 and 400 ms, then keeps still.
	churn := func() *healtest.Host {
		return healtest.NewHost().AddElements(spinner).
			At(100*time.Millisecond, func(h *healtest.Host) { h.AddElements(el("p", "/html[1]/body[1]/p[1]", nil, "loading", true)) }).
			At(400*time.Millisecond, func(h *healtest.Host) { h.AddElements(buy) })
	}
	t.Run("settles then the selector matches", func(t *testing.T) {
		h := churn()
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).run(t, h, "refresh_dom_state")
		want(t, res, abi.OutcomeRetry, "original selector matches")
		// Snapshots at 0, 250 (new), 500 (new), 750 (same).
		between(t, "elapsed", h.Elapsed(), 750*time.Millisecond, 750*time.Millisecond)
	})
	t.Run("settles then resolves", func(t *testing.T) {
		h := churn().OnResolve(func(abi.ResolveRequest) (abi.Resolution, error) {
			return abi.Resolution{Element: &buy, Score: 0.88, Method: "text"}, nil
		})
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#gone", Text: "Buy now"}).run(t, h, "refresh_dom_state")
		want(t, res, abi.OutcomeUseElement, "the DOM settled; resolved by text")
		if dom := details(t, res)["dom"].(map[string]any); dom["settled"] != true || dom["elements"] != 3.0 {
			t.Fatalf("dom %v, want settled with 3 elements", dom)
		}
	})
	t.Run("never settles", func(t *testing.T) {
		h := healtest.NewHost()
		for i := 1; i <= 40; i++ {
			h.At(time.Duration(i)*100*time.Millisecond, func(h *healtest.Host) {
				h.AddElements(el("li", "/html[1]/body[1]/ul[1]/li["+strings.Repeat("1", i)+"]", nil, "", true))
			})
		}
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#gone"}).config(`{"timeout_ms": 2000, "stable_snapshots": 3}`).run(t, h, "refresh_dom_state")
		want(t, res, abi.OutcomeGiveUp, "matches nothing visible")
		if dom := details(t, res)["dom"].(map[string]any); dom["settled"] != false {
			t.Fatalf("dom %v, want not settled", dom)
		}
		between(t, "elapsed", h.Elapsed(), 2*time.Second, 2*time.Second)
	})
}
