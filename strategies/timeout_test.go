package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/healtest"
)

func TestRetryWithLongerTimeout(t *testing.T) {
	tests := []struct {
		name    string
		timeout int64
		tried   []string
		cfg     string
		want    int64
	}{
		{"doubles the action's timeout", 5000, nil, "", 10000},
		{"multiplier honoured", 5000, nil, `{"multiplier": 3}`, 15000},
		{"no action timeout", 0, nil, `{"default_timeout_ms": 2000}`, 4000},
		{"compounds when used again", 5000, []string{"wait_longer", "retry_with_longer_timeout"}, "", 20000},
		{"capped", 5000, nil, `{"max_timeout_ms": 7000}`, 7000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).config(tt.cfg)
			c.Action.TimeoutMS, c.Tried = tt.timeout, tt.tried
			h := healtest.NewHost().SetNetwork(abi.NetworkState{Online: true, Inflight: 3})
			res := c.run(t, h, "retry_with_longer_timeout")
			want(t, res, abi.OutcomeRetry, "")
			if res.Retry == nil || res.Retry.TimeoutMS != tt.want {
				t.Fatalf("retry %+v, want timeout_ms %d", res.Retry, tt.want)
			}
			if d := details(t, res); d["inflight"] != 3.0 {
				t.Fatalf("details %v lack the requests in flight", d)
			}
		})
	}
	t.Run("offline", func(t *testing.T) {
		h := healtest.NewHost().SetNetwork(abi.NetworkState{Online: false})
		want(t, newCall(abi.ActionClick, nil).run(t, h, "retry_with_longer_timeout"), abi.OutcomeGiveUp, "offline")
	})
	t.Run("already at the maximum", func(t *testing.T) {
		c := newCall(abi.ActionClick, nil).config(`{"max_timeout_ms": 5000}`)
		want(t, c.run(t, healtest.NewHost(), "retry_with_longer_timeout"), abi.OutcomeGiveUp, "already 5000 ms")
	})
	t.Run("bad multiplier", func(t *testing.T) {
		c := newCall(abi.ActionClick, nil).config(`{"multiplier": 1}`)
		want(t, c.run(t, healtest.NewHost(), "retry_with_longer_timeout"), abi.OutcomeAbort, "multiplier: must be a number above 1")
	})
}

func TestCheckNetworkIdle(t *testing.T) {
	busy := abi.NetworkState{Online: true, Inflight: 2}
	t.Run("goes idle", func(t *testing.T) {
		h := healtest.NewHost().SetNetwork(busy).At(800*time.Millisecond, func(h *healtest.Host) {
			h.SetNetwork(abi.NetworkState{Online: true})
		})
		res := newCall(abi.ActionClick, nil).config(`{"idle_ms": 300}`).deadline(30*time.Second).run(t, h, "check_network_idle")
		want(t, res, abi.OutcomeRetry, "idle")
		if a := h.Actions(); len(a) != 1 || a[0].Idle.IdleMS != 300 || a[0].Idle.TimeoutMS != 10000 {
			t.Fatalf("actions %+v, want one wait_network_idle of 300 ms within 10 s", a)
		}
	})
	t.Run("never idle", func(t *testing.T) {
		h := healtest.NewHost().SetNetwork(busy)
		res := newCall(abi.ActionClick, nil).config(`{"timeout_ms": 2000}`).run(t, h, "check_network_idle")
		want(t, res, abi.OutcomeGiveUp, "not idle for 500 ms within 2000 ms")
		between(t, "elapsed", h.Elapsed(), 2*time.Second, 2*time.Second)
	})
	t.Run("deadline respected", func(t *testing.T) {
		h := healtest.NewHost().SetNetwork(busy)
		res := newCall(abi.ActionClick, nil).deadline(3*time.Second).run(t, h, "check_network_idle")
		want(t, res, abi.OutcomeGiveUp, "not idle")
		if w := h.Actions()[0].Idle.TimeoutMS; w > 2900 {
			t.Fatalf("waited up to %d ms in a 3 s call", w)
		}
	})
	t.Run("offline", func(t *testing.T) {
		h := healtest.NewHost().SetNetwork(abi.NetworkState{})
		want(t, newCall(abi.ActionClick, nil).run(t, h, "check_network_idle"), abi.OutcomeGiveUp, "offline")
	})
}

func TestReloadPage(t *testing.T) {
	t.Run("reloads", func(t *testing.T) {
		h := healtest.NewHost().SetPage(abi.PageInfo{URL: "http://shop.test/"})
		res := newCall(abi.ActionClick, nil).config(`{"ignore_cache": true}`).run(t, h, "reload_page")
		want(t, res, abi.OutcomeRetry, "reloaded")
		if got := actions(h); !slices.Equal(got, []string{"reload", "wait_network_idle"}) || !h.Actions()[0].Navigation.IgnoreCache {
			t.Fatalf("actions %v (%+v), want a cache-bypassing reload then an idle wait", got, h.Actions())
		}
	})
	t.Run("busy page still retried", func(t *testing.T) {
		h := healtest.NewHost().SetNetwork(abi.NetworkState{Online: true, Inflight: 1})
		res := newCall(abi.ActionClick, nil).run(t, h, "reload_page")
		want(t, res, abi.OutcomeRetry, "reloaded")
		if d := details(t, res); d["idle"] != false {
			t.Fatalf("details %v, want idle false", d)
		}
		between(t, "elapsed", h.Elapsed(), 2*time.Second, 2*time.Second)
	})
	t.Run("reload fails", func(t *testing.T) {
		h := healtest.NewHost().Fail(abi.FnReload, fmt.Errorf("reload: %w", context.DeadlineExceeded))
		want(t, newCall(abi.ActionClick, nil).run(t, h, "reload_page"), abi.OutcomeGiveUp, "reloading")
	})
}
