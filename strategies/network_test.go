package main

import (
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/healtest"
)

func TestWaitForReconnection(t *testing.T) {
	offline := abi.NetworkState{Online: false}
	t.Run("back online", func(t *testing.T) {
		h := healtest.NewHost().SetNetwork(offline).At(2200*time.Millisecond, func(h *healtest.Host) {
			h.SetNetwork(abi.NetworkState{Online: true})
		})
		res := newCall(abi.ActionClick, nil).deadline(60*time.Second).run(t, h, "wait_for_reconnection")
		want(t, res, abi.OutcomeRetry, "back online after 2500 ms")
	})
	t.Run("stays offline", func(t *testing.T) {
		h := healtest.NewHost().SetNetwork(offline)
		res := newCall(abi.ActionClick, nil).config(`{"timeout_ms": 3000, "poll_ms": 1000}`).run(t, h, "wait_for_reconnection")
		want(t, res, abi.OutcomeGiveUp, "still offline after 3000 ms")
		if n := h.Calls(abi.FnNetworkState); n != 4 {
			t.Fatalf("%d checks, want 4", n)
		}
	})
	t.Run("deadline respected", func(t *testing.T) {
		h := healtest.NewHost().SetNetwork(offline)
		res := newCall(abi.ActionClick, nil).deadline(5*time.Second).run(t, h, "wait_for_reconnection")
		want(t, res, abi.OutcomeGiveUp, "still offline")
		between(t, "elapsed", h.Elapsed(), 4500*time.Millisecond, 4950*time.Millisecond)
	})
	t.Run("online already", func(t *testing.T) {
		want(t, newCall(abi.ActionClick, nil).run(t, healtest.NewHost(), "wait_for_reconnection"), abi.OutcomeRetry, "is online")
	})
}

func TestRetryRequest(t *testing.T) {
	t.Run("navigation works on the third try", func(t *testing.T) {
		h := healtest.NewHost().FailNext(abi.FnNavigate, 2, errFailed)
		res := navigateCall("http://shop.test/").run(t, h, "retry_request")
		want(t, res, abi.OutcomeDone, "on try 3")
		// Pauses of 500 and 1000 ms, each shortened by up to half.
		between(t, "elapsed", h.Elapsed(), 750*time.Millisecond, 1500*time.Millisecond)
	})
	t.Run("other actions reload", func(t *testing.T) {
		h := healtest.NewHost().FailNext(abi.FnReload, 1, errFailed)
		res := newCall(abi.ActionClick, &abi.Target{CSS: "#buy"}).config(`{"jitter": 0}`).run(t, h, "retry_request")
		want(t, res, abi.OutcomeRetry, "reloaded the page on try 2")
		between(t, "elapsed", h.Elapsed(), 500*time.Millisecond, 500*time.Millisecond)
	})
	t.Run("gives up", func(t *testing.T) {
		h := healtest.NewHost().Fail(abi.FnNavigate, errFailed)
		res := navigateCall("http://shop.test/").config(`{"max_retries": 4, "base_ms": 100, "jitter": 0}`).run(t, h, "retry_request")
		want(t, res, abi.OutcomeGiveUp, "the navigate failed 4 times")
		between(t, "elapsed", h.Elapsed(), 700*time.Millisecond, 700*time.Millisecond)
	})
	// The default error pattern's parameters for retry_request.
	t.Run("pattern parameters", func(t *testing.T) {
		tests := []struct {
			params string
			want   time.Duration
		}{
			{`{"backoff": "exponential", "initial_delay_ms": 100, "multiplier": 3.0, "max_retries": 3, "jitter": 0}`, 400 * time.Millisecond},
			{`{"backoff": "linear", "initial_delay_ms": 100, "max_retries": 3, "jitter": 0}`, 300 * time.Millisecond},
			{`{"backoff": "constant", "base_ms": 100, "max_retries": 3, "jitter": 0}`, 200 * time.Millisecond},
		}
		for _, tt := range tests {
			h := healtest.NewHost().Fail(abi.FnNavigate, errFailed)
			want(t, navigateCall("http://shop.test/").config(tt.params).run(t, h, "retry_request"), abi.OutcomeGiveUp, "failed 3 times")
			between(t, tt.params, h.Elapsed(), tt.want, tt.want)
		}
		res := newCall(abi.ActionClick, nil).config(`{"backoff": "fibonacci"}`).run(t, healtest.NewHost(), "retry_request")
		want(t, res, abi.OutcomeAbort, `backoff: "fibonacci" is not exponential`)
	})
	t.Run("bad jitter", func(t *testing.T) {
		want(t, newCall(abi.ActionClick, nil).config(`{"jitter": 2}`).run(t, healtest.NewHost(), "retry_request"), abi.OutcomeAbort, "jitter")
	})
}

func TestBackoff(t *testing.T) {
	ms := time.Millisecond
	for i, w := range []time.Duration{500 * ms, time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
		if got := backoff(500*ms, 2, i, 5*time.Second); got != w {
			t.Errorf("backoff(500ms, %d, 5s) = %v, want %v", i, got, w)
		}
	}
	if got := backoff(time.Second, 2, 200, time.Minute); got != time.Minute {
		t.Errorf("backoff overflows: %v", got)
	}
	for _, r := range []float64{0, 0.5, 0.999} {
		if got := jittered(time.Second, 0.5, r); got > time.Second || got < 500*ms {
			t.Errorf("jittered(1s, 0.5, %v) = %v, outside [500ms, 1s]", r, got)
		}
	}
}
