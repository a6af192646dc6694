package main

import (
	"slices"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/healtest"
)

func navigateCall(u string) *call {
	c := newCall(abi.ActionNavigate, nil)
	c.Action.URL = u
	c.PageURL = "chrome-error://chromewebdata/"
	return c
}

func TestRetryNavigation(t *testing.T) {
	t.Run("loads on the third try", func(t *testing.T) {
		h := healtest.NewHost().FailNext(abi.FnNavigate, 2, errFailed)
		res := navigateCall("http://shop.test/").run(t, h, "retry_navigation")
		want(t, res, abi.OutcomeDone, "on try 3")
		a := h.Actions()
		if len(a) != 1 || a[0].Navigation.URL != "http://shop.test/" {
			t.Fatalf("actions %+v, want one successful navigate", a)
		}
		// Backoff 1 s, then 2 s.
		between(t, "elapsed", h.Elapsed(), 3*time.Second, 3*time.Second)
	})
	t.Run("never loads", func(t *testing.T) {
		h := healtest.NewHost().Fail(abi.FnNavigate, errFailed)
		res := navigateCall("http://shop.test/").config(`{"max_retries": 2, "backoff_ms": 200}`).run(t, h, "retry_navigation")
		want(t, res, abi.OutcomeGiveUp, "did not load in 2 tries")
		tries := details(t, res)["tries"].([]any)
		if len(tries) != 2 || tries[1].(map[string]any)["delay_ms"] != 200.0 || h.Calls(abi.FnNavigate) != 2 {
			t.Fatalf("tries %v, want two with 200 ms between", tries)
		}
	})
	t.Run("deadline respected", func(t *testing.T) {
		h := healtest.NewHost().Fail(abi.FnNavigate, errFailed)
		res := navigateCall("http://shop.test/").config(`{"max_retries": 10}`).deadline(4*time.Second).run(t, h, "retry_navigation")
		// Tries at 0, 1 and 3 s; the next pause (4 s) does not fit.
		want(t, res, abi.OutcomeGiveUp, "did not load in 3 tries")
		between(t, "elapsed", h.Elapsed(), 3*time.Second, 3*time.Second)
	})
	t.Run("other action retried", func(t *testing.T) {
		h := healtest.NewHost()
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).run(t, h, "retry_navigation")
		want(t, res, abi.OutcomeRetry, "reloaded http://shop.test/cart")
	})
	t.Run("nothing to load", func(t *testing.T) {
		c := newCall(abi.ActionClick, nil)
		c.PageURL = "about:blank"
		want(t, c.run(t, healtest.NewHost(), "retry_navigation"), abi.OutcomeGiveUp, "no URL")
	})
}

func TestCheckDNS(t *testing.T) {
	lookup := func(r abi.LookupRequest) (abi.LookupResult, error) {
		if r.Host == "shop.test" {
			return abi.LookupResult{Host: r.Host, Addrs: []string{"127.0.0.1"}}, nil
		}
		return abi.LookupResult{Host: r.Host, Error: "lookup " + r.Host + ": no such host"}, nil
	}
	res := navigateCall("http://shop.test:8080/a").run(t, healtest.NewHost().OnLookupHost(lookup), "check_dns")
	want(t, res, abi.OutcomeRetry, "shop.test resolves to 1 addresses")
	if d := details(t, res); !slices.Equal(d["addrs"].([]any), []any{"127.0.0.1"}) {
		t.Fatalf("details %v lack the addresses", d)
	}
	res = navigateCall("http://gone.test/").run(t, healtest.NewHost().OnLookupHost(lookup), "check_dns")
	want(t, res, abi.OutcomeGiveUp, "gone.test does not resolve: lookup gone.test: no such host")
	want(t, navigateCall("http://shop.test/").run(t, healtest.NewHost(), "check_dns"), abi.OutcomeGiveUp, "unavailable")
}

func TestUseCachedVersion(t *testing.T) {
	h := healtest.NewHost()
	res := navigateCall("http://shop.test/").run(t, h, "use_cached_version")
	want(t, res, abi.OutcomeDone, "cached copy of http://shop.test/ from the snapshot")
	if a := h.Actions(); len(a) != 1 || a[0].Navigation.URL != "http://shop.test/" {
		t.Fatalf("actions %+v, want load_cached of the URL", a)
	}
	res = newCall(abi.ActionClick, nil).run(t, healtest.NewHost(), "use_cached_version")
	want(t, res, abi.OutcomeRetry, "cached copy")
	h = healtest.NewHost().Fail(abi.FnLoadCached, notFound("no snapshot of http://shop.test/"))
	want(t, navigateCall("http://shop.test/").run(t, h, "use_cached_version"), abi.OutcomeGiveUp, "no cached copy")
}
