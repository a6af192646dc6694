package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
)

// Strategies for network_error.

// reconnectConfig is the parameters of wait_for_reconnection.
type reconnectConfig struct {
	// TimeoutMS is how long to wait for the network (the seed's 30 s).
	TimeoutMS Millis `json:"timeout_ms"`
	// PollMS is the pause between two checks.
	PollMS Millis `json:"poll_ms"`
}

func (p *reconnectConfig) validate() error {
	return firstErr(atLeast("timeout_ms", p.TimeoutMS, 0), atLeast("poll_ms", p.PollMS, minPoll))
}

func defaultReconnect() reconnectConfig { return reconnectConfig{TimeoutMS: 30000, PollMS: 500} }

// waitForReconnection polls the browser's network state until it is online
// again, then retries.
func waitForReconnection(c *heal.Call) abi.Result {
	cfg := defaultReconnect()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	offline := 0
	ok, st, err := poll(c, cfg.PollMS.D(), cfg.TimeoutMS.D(), func() (bool, error) {
		ns, err := c.NetworkState()
		if err == nil && !ns.Online {
			offline++
		}
		return err == nil && ns.Online, err
	})
	details := map[string]any{"poll": st, "offline_checks": offline, "timeout_ms": cfg.TimeoutMS}
	switch {
	case err != nil:
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("reading the network state: %v", err)), details)
	case !ok:
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("still offline after %d ms", st.WaitedMS)), details)
	case offline == 0:
		return heal.WithDetails(heal.Retry("the browser is online"), details)
	}
	c.Logf(heal.LevelInfo, "back online after %d ms", st.WaitedMS)
	return heal.WithDetails(heal.Retry(fmt.Sprintf("back online after %d ms", st.WaitedMS)), details)
}

// retryRequestConfig is the parameters of retry_request.
type retryRequestConfig struct {
	// MaxRetries is how many requests are tried.
	MaxRetries int `json:"max_retries"`
	// BaseMS is the pause after the first failure; InitialDelayMS, the
	// name the default error patterns use, overrides it when given.
	BaseMS         Millis  `json:"base_ms"`
	InitialDelayMS *Millis `json:"initial_delay_ms,omitempty"`
	// Backoff is how the pause grows: "exponential" (times Multiplier
	// after each failure), "linear" or "constant"; at most MaxBackoffMS.
	Backoff      string  `json:"backoff"`
	Multiplier   float64 `json:"multiplier"`
	MaxBackoffMS Millis  `json:"max_backoff_ms"`
	// Jitter is the random part of each pause (0..1): a pause of d lasts
	// between d*(1-jitter) and d, so that clients do not retry in step.
	Jitter float64 `json:"jitter"`
	// TimeoutMS is the longest wait for one request.
	TimeoutMS Millis `json:"timeout_ms"`
}

func (p *retryRequestConfig) validate() error {
	if p.InitialDelayMS != nil {
		p.BaseMS, p.InitialDelayMS = *p.InitialDelayMS, nil
	}
	switch {
	case p.Jitter < 0 || p.Jitter > 1:
		return fmt.Errorf("%w jitter: must be within 0..1, not %v", errConfig, p.Jitter)
	case p.Backoff != "exponential" && p.Backoff != "linear" && p.Backoff != "constant":
		return fmt.Errorf("%w backoff: %q is not exponential, linear or constant", errConfig, p.Backoff)
	case p.Multiplier < 1:
		return fmt.Errorf("%w multiplier: must be at least 1, not %v", errConfig, p.Multiplier)
	}
	return firstErr(atLeast("max_retries", p.MaxRetries, 1), atLeast("base_ms", p.BaseMS, 0),
		atLeast("max_backoff_ms", p.MaxBackoffMS, p.BaseMS), atLeast("timeout_ms", p.TimeoutMS, 1))
}

func defaultRetryRequest() retryRequestConfig {
	return retryRequestConfig{MaxRetries: 3, BaseMS: 500, Backoff: "exponential", Multiplier: 2, MaxBackoffMS: 8000,
		Jitter: 0.5, TimeoutMS: 15000}
}

// pause returns the pause after failure i (0-based), before jitter.
func (p *retryRequestConfig) pause(i int) time.Duration {
	switch p.Backoff {
	case "constant":
		return p.BaseMS.D()
	case "linear":
		return min(p.BaseMS.D()*time.Duration(i+1), p.MaxBackoffMS.D())
	}
	return backoff(p.BaseMS.D(), p.Multiplier, i, p.MaxBackoffMS.D())
}

// retryRequest repeats the failed request with exponential backoff and
// jitter: the navigation itself for a navigate action (done when it works),
// else a reload of the page (then the action is retried).
func retryRequest(c *heal.Call) abi.Result {
	cfg := defaultRetryRequest()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	delay := func(i int) time.Duration {
		return jittered(cfg.pause(i), cfg.Jitter, rand.Float64())
	}
	details := map[string]any{"base_ms": cfg.BaseMS, "backoff": cfg.Backoff, "jitter": cfg.Jitter}
	var try func(time.Duration) (abi.ActResult, error)
	if isNavigation(c) {
		u := c.Request.Action.URL
		details["request"], details["url"] = "navigate", u
		try = func(t time.Duration) (abi.ActResult, error) {
			return c.Navigate(abi.Navigation{URL: u, TimeoutMS: t.Milliseconds()})
		}
	} else {
		details["request"] = "reload"
		try = func(t time.Duration) (abi.ActResult, error) {
			return c.Reload(abi.Navigation{TimeoutMS: t.Milliseconds()})
		}
	}
	res, tries, ok := retryLoop(c, cfg.MaxRetries, cfg.TimeoutMS.D(), delay, try)
	details["tries"] = tries
	if !ok {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("the %s failed %d times", details["request"], len(tries))), details)
	}
	details["landed"] = res.URL
	if isNavigation(c) {
		return heal.WithDetails(done(fmt.Sprintf("loaded %s on try %d", res.URL, len(tries))), details)
	}
	return heal.WithDetails(heal.Retry(fmt.Sprintf("reloaded the page on try %d", len(tries))), details)
}

// backoff returns base * factor^i, capped at limit.
func backoff(base time.Duration, factor float64, i int, limit time.Duration) time.Duration {
	d := float64(base)
	for ; i > 0 && d < float64(limit); i-- {
		d *= factor
	}
	return min(time.Duration(d), limit)
}

// jittered shortens d by up to jitter*d, by the random fraction r in [0, 1).
func jittered(d time.Duration, jitter, r float64) time.Duration {
	return d - time.Duration(float64(d)*jitter*r)
}
