package main

import (
	"slices"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/healtest"
)

// challengePage is a host showing a challenge the way title, widget or text
// can show it; clear removes every sign.
func challengePage(sign string) *healtest.Host {
	h := healtest.NewHost().SetPage(abi.PageInfo{URL: "https://shop.test/", Title: "Shop"})
	switch sign {
	case "title":
		h.SetPage(abi.PageInfo{URL: "https://shop.test/", Title: "Security check | Shop"})
	case "widget":
		h.AddElements(el("div", "/html[1]/body[1]/div[1]", map[string]string{"class": "g-recaptcha"}, "", true))
	case "text":
		h.AddElements(el("p", "/html[1]/body[1]/p[1]", nil, "Please verify you are human to continue", true))
	}
	return h
}

func clearChallenge(h *healtest.Host) {
	h.SetPage(abi.PageInfo{URL: "https://shop.test/", Title: "Shop", ReadyState: "complete"})
	h.Update("div, p", func(e *abi.Element) { e.Visible = false })
}

func TestWaitForManualIntervention(t *testing.T) {
	for _, sign := range []string{"title", "widget", "text"} {
		t.Run("clears/"+sign, func(t *testing.T) {
			h := challengePage(sign).At(3500*time.Millisecond, clearChallenge)
			res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).deadline(90*time.Second).run(t, h, "wait_for_manual_intervention")
			want(t, res, abi.OutcomeRetry, "the challenge cleared after 4000 ms")
			d := details(t, res)
			if first := d["first"].(map[string]any); first["present"] != true {
				t.Fatalf("first look %v did not see the challenge", first)
			}
		})
	}
	t.Run("stays", func(t *testing.T) {
		h := challengePage("text")
		res := newCall(abi.ActionClick, nil).config(`{"timeout_ms": 5000, "poll_ms": 500}`).run(t, h, "wait_for_manual_intervention")
		want(t, res, abi.OutcomeAbort, "needs a human")
		between(t, "elapsed", h.Elapsed(), 5*time.Second, 5*time.Second)
		if d := details(t, res); d["poll"].(map[string]any)["checks"] != 11.0 {
			t.Fatalf("details %v, want 11 looks", d)
		}
	})
	t.Run("deadline respected", func(t *testing.T) {
		h := challengePage("title")
		res := newCall(abi.ActionClick, nil).deadline(2*time.Second).run(t, h, "wait_for_manual_intervention")
		want(t, res, abi.OutcomeAbort, "needs a human")
		between(t, "elapsed", h.Elapsed(), 1500*time.Millisecond, 1950*time.Millisecond)
	})
	t.Run("markers honoured", func(t *testing.T) {
		h := challengePage("title")
		res := newCall(abi.ActionClick, nil).config(`{"markers": ["robot check"], "selectors": []}`).run(t, h, "wait_for_manual_intervention")
		want(t, res, abi.OutcomeRetry, "no challenge")
		res = newCall(abi.ActionClick, nil).config(`{"markers": [], "selectors": []}`).run(t, h, "wait_for_manual_intervention")
		want(t, res, abi.OutcomeAbort, "markers and selectors are both empty")
	})
	t.Run("no browser", func(t *testing.T) {
		h := challengePage("title").Detach(abi.CapBrowser)
		want(t, newCall(abi.ActionClick, nil).run(t, h, "wait_for_manual_intervention"), abi.OutcomeGiveUp, "cannot watch the page")
	})
}

func TestUseDifferentApproach(t *testing.T) {
	t.Run("alternative for the host", func(t *testing.T) {
		h := healtest.NewHost()
		c := newCall(abi.ActionClick, nil).config(`{"alternatives": {"shop.test": "https://m.shop.test/start"}, "entry_url": "https://shop.test/home"}`)
		c.PageURL = "https://www.shop.test/cart"
		res := c.run(t, h, "use_different_approach")
		want(t, res, abi.OutcomeRetry, "fresh browser context at https://m.shop.test/start")
		if a := h.Actions(); len(a) != 1 || a[0].Navigation.URL != "https://m.shop.test/start" {
			t.Fatalf("actions %+v, want new_context at the alternative", a)
		}
	})
	t.Run("entry url", func(t *testing.T) {
		h := healtest.NewHost()
		res := newCall(abi.ActionClick, nil).config(`{"entry_url": "https://shop.test/home"}`).run(t, h, "use_different_approach")
		want(t, res, abi.OutcomeRetry, "")
		if u := h.Actions()[0].Navigation.URL; u != "https://shop.test/home" {
			t.Fatalf("new_context at %q, want the entry_url", u)
		}
	})
	t.Run("navigation done in the fresh context", func(t *testing.T) {
		c := newCall(abi.ActionNavigate, nil)
		c.Action.URL = "https://shop.test/cart"
		h := healtest.NewHost()
		want(t, c.run(t, h, "use_different_approach"), abi.OutcomeDone, "fresh browser context")
		if got := actions(h); !slices.Equal(got, []string{"new_context"}) || h.Actions()[0].Navigation.URL != c.Action.URL {
			t.Fatalf("actions %+v", h.Actions())
		}
	})
	t.Run("challenge there too", func(t *testing.T) {
		h := challengePage("widget")
		want(t, newCall(abi.ActionClick, nil).run(t, h, "use_different_approach"), abi.OutcomeGiveUp, "meets the challenge too")
	})
	t.Run("bad entry url", func(t *testing.T) {
		res := newCall(abi.ActionClick, nil).config(`{"entry_url": "ftp://shop.test"}`).run(t, healtest.NewHost(), "use_different_approach")
		want(t, res, abi.OutcomeAbort, "entry_url")
	})
}

// A long wait polls less often rather than exhausting the host-call budget.
func TestLongWaitKeepsToTheBudget(t *testing.T) {
	h := challengePage("title").SetHostCallBudget(20000)
	res := newCall(abi.ActionClick, nil).config(`{"timeout_ms": 600000, "poll_ms": 100}`).deadline(10*time.Minute).run(t, h, "wait_for_manual_intervention")
	want(t, res, abi.OutcomeAbort, "needs a human")
	if n := h.TotalCalls(); n > 20000 {
		t.Fatalf("%d host calls", n)
	}
	if d := details(t, res)["poll"].(map[string]any); d["checks"].(float64) > 601 {
		t.Fatalf("%v checks, want at most 601", d["checks"])
	}
	res = newCall(abi.ActionClick, nil).config(`{"selectors": ["a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a","a"]}`).run(t, h, "wait_for_manual_intervention")
	want(t, res, abi.OutcomeAbort, "selectors: at most 20, not 21")
}
