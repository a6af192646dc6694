package main

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
)

// Strategies for timeout.

// longerTimeoutConfig is the parameters of retry_with_longer_timeout.
type longerTimeoutConfig struct {
	// Multiplier scales the action's timeout (the seed's 2x). When the
	// strategy already ran for this action, it compounds.
	Multiplier float64 `json:"multiplier"`
	// DefaultTimeoutMS stands for the action's timeout when it has none.
	DefaultTimeoutMS Millis `json:"default_timeout_ms"`
	// MaxTimeoutMS caps the new timeout.
	MaxTimeoutMS Millis `json:"max_timeout_ms"`
}

func (p *longerTimeoutConfig) validate() error {
	if !(p.Multiplier > 1) || math.IsInf(p.Multiplier, 0) {
		return fmt.Errorf("%w multiplier: must be a number above 1, not %v", errConfig, p.Multiplier)
	}
	return firstErr(atLeast("default_timeout_ms", p.DefaultTimeoutMS, 1), atLeast("max_timeout_ms", p.MaxTimeoutMS, 1))
}

func defaultLongerTimeout() longerTimeoutConfig {
	return longerTimeoutConfig{Multiplier: 2, DefaultTimeoutMS: 5000, MaxTimeoutMS: 120000}
}

// retryWithLongerTimeout retries the action with a longer timeout, unless
// the browser is offline, which no timeout cures.
func retryWithLongerTimeout(c *heal.Call) abi.Result {
	cfg := defaultLongerTimeout()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	base := Millis(c.Request.Action.TimeoutMS)
	if base <= 0 {
		base = cfg.DefaultTimeoutMS
	}
	// The engine retries the action as written each time, so a second use
	// of this strategy for the same action must scale further itself.
	times := 1
	for _, s := range c.Request.Tried {
		if s == c.Request.Strategy {
			times++
		}
	}
	next := Millis(min(float64(cfg.MaxTimeoutMS), float64(base)*math.Pow(cfg.Multiplier, float64(times))))
	details := map[string]any{"action_timeout_ms": base, "timeout_ms": next, "multiplier": cfg.Multiplier, "times": times}
	if next <= base {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("the timeout is already %d ms, the max_timeout_ms", base)), details)
	}
	ns, err := c.NetworkState()
	switch {
	case err == nil:
		details["online"], details["inflight"] = ns.Online, ns.Inflight
		if !ns.Online {
			return heal.WithDetails(heal.GiveUp("the browser is offline; a longer timeout cannot help"), details)
		}
	case !heal.IsUnavailable(err):
		details["network_error"] = err.Error()
	}
	if info, err := c.PageInfo(); err == nil {
		details["url"], details["ready_state"] = info.URL, info.ReadyState
	}
	c.Logf(heal.LevelInfo, "retrying with timeout %d ms instead of %d ms", next, base)
	return heal.WithDetails(heal.RetryWith(abi.RetryOptions{TimeoutMS: int64(next)},
		fmt.Sprintf("retry with a %d ms timeout", next)), details)
}

// networkIdleConfig is the parameters of check_network_idle.
type networkIdleConfig struct {
	// IdleMS is the quiet period that counts as idle.
	IdleMS Millis `json:"idle_ms"`
	// TimeoutMS is the longest wait for it.
	TimeoutMS Millis `json:"timeout_ms"`
}

func (p *networkIdleConfig) validate() error {
	return firstErr(atLeast("idle_ms", p.IdleMS, 1), atLeast("timeout_ms", p.TimeoutMS, 1))
}

func defaultNetworkIdle() networkIdleConfig { return networkIdleConfig{IdleMS: 500, TimeoutMS: 10000} }

// checkNetworkIdle waits for the page's network to go quiet, then retries:
// a timeout while requests are still loading often succeeds once they end.
func checkNetworkIdle(c *heal.Call) abi.Result {
	cfg := defaultNetworkIdle()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	before, err := c.NetworkState()
	if err != nil {
		return heal.GiveUp(fmt.Sprintf("reading the network state: %v", err))
	}
	details := map[string]any{"before": before, "idle_ms": cfg.IdleMS}
	if !before.Online {
		return heal.WithDetails(heal.GiveUp("the browser is offline"), details)
	}
	wait := budget(c, cfg.TimeoutMS.D())
	if wait < cfg.IdleMS.D() {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("only %d ms left, less than idle_ms", wait.Milliseconds())), details)
	}
	start := c.Now()
	_, err = c.WaitNetworkIdle(abi.IdleRequest{IdleMS: int64(cfg.IdleMS), TimeoutMS: wait.Milliseconds()})
	details["waited_ms"] = c.Now().Sub(start).Milliseconds()
	if after, aerr := c.NetworkState(); aerr == nil {
		details["after"] = after
	}
	switch {
	case heal.IsTimeout(err):
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("the network was not idle for %d ms within %d ms", cfg.IdleMS, wait.Milliseconds())), details)
	case err != nil:
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("waiting for network idle: %v", err)), details)
	}
	c.Logf(heal.LevelInfo, "network idle after %v ms", details["waited_ms"])
	return heal.WithDetails(heal.Retry("the network is idle"), details)
}

// reloadConfig is the parameters of reload_page.
type reloadConfig struct {
	// TimeoutMS is the longest wait for the reload.
	TimeoutMS Millis `json:"timeout_ms"`
	// IgnoreCache reloads bypassing the browser's cache.
	IgnoreCache bool `json:"ignore_cache"`
	// SettleMS is the longest wait for the network to go idle afterwards.
	SettleMS Millis `json:"settle_ms"`
	// IdleMS is the quiet period that counts as idle.
	IdleMS Millis `json:"idle_ms"`
}

func (p *reloadConfig) validate() error {
	return firstErr(atLeast("timeout_ms", p.TimeoutMS, 1), atLeast("settle_ms", p.SettleMS, 0), atLeast("idle_ms", p.IdleMS, 1))
}

func defaultReload() reloadConfig {
	return reloadConfig{TimeoutMS: 15000, SettleMS: 2000, IdleMS: 500}
}

// reloadPage reloads the page, lets its network settle briefly and retries.
func reloadPage(c *heal.Call) abi.Result {
	cfg := defaultReload()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	details := map[string]any{"ignore_cache": cfg.IgnoreCache}
	if info, err := c.PageInfo(); err == nil {
		details["url_before"] = info.URL
	}
	wait := budget(c, cfg.TimeoutMS.D())
	if wait <= 0 {
		return heal.GiveUp("no time left to reload")
	}
	res, err := c.Reload(abi.Navigation{IgnoreCache: cfg.IgnoreCache, TimeoutMS: wait.Milliseconds()})
	if err := actErr(res, err); err != nil {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("reloading: %v", err)), details)
	}
	details["url"] = res.URL
	details["idle"] = settle(c, cfg.IdleMS.D(), cfg.SettleMS.D())
	c.Logf(heal.LevelInfo, "reloaded %s", res.URL)
	return heal.WithDetails(heal.Retry("reloaded the page"), details)
}

// settle waits up to limit for the network to be idle for idle, and
// reports whether it was. A page that keeps polling never goes idle; that is
// no reason to fail.
func settle(c *heal.Call, idle, limit time.Duration) bool {
	wait := budget(c, limit)
	if wait < idle {
		return false
	}
	_, err := c.WaitNetworkIdle(abi.IdleRequest{IdleMS: idle.Milliseconds(), TimeoutMS: wait.Milliseconds()})
	if err != nil && !errors.Is(err, heal.ErrTimeout) {
		c.Logf(heal.LevelDebug, "waiting for network idle: %v", err)
	}
	return err == nil
}
