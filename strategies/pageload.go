package main

import (
	"fmt"
	"net/url"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
)

// Strategies for page_load_failure.

// tryRecord is one try of a retry loop, for the details.
type tryRecord struct {
	Try     int    `json:"try"`
	DelayMS int64  `json:"delay_ms,omitempty"` // the pause before this try
	Error   string `json:"error,omitempty"`
	URL     string `json:"url,omitempty"` // where the page ended up
}

// minTry is the least time worth giving one try.
const minTry = 100 * time.Millisecond

// retryLoop makes up to tries attempts of try, pausing delay(i) before
// attempt i+1. Each attempt gets timeout, capped by the call's deadline; the
// loop ends early when no useful time is left or the service is missing.
func retryLoop(c *heal.Call, tries int, timeout time.Duration, delay func(i int) time.Duration,
	try func(timeout time.Duration) (abi.ActResult, error)) (abi.ActResult, []tryRecord, bool) {
	var log []tryRecord
	for i := 0; i < tries; i++ {
		rec := tryRecord{Try: i + 1}
		if i > 0 {
			d := delay(i - 1)
			if budget(c, d+minTry) < d+minTry {
				break
			}
			if !c.Sleep(d) {
				break
			}
			rec.DelayMS = d.Milliseconds()
		}
		t := budget(c, timeout)
		if t < minTry {
			break
		}
		res, err := try(t)
		rec.URL = res.URL
		if err = actErr(res, err); err == nil {
			log = append(log, rec)
			return res, log, true
		}
		rec.Error = err.Error()
		log = append(log, rec)
		c.Logf(heal.LevelInfo, "try %d of %d failed: %v", i+1, tries, err)
		if fatal(err) {
			break
		}
	}
	return abi.ActResult{}, log, false
}

// navConfig is the parameters of retry_navigation.
type navConfig struct {
	// MaxRetries is how many navigations are tried (the seed's 3).
	MaxRetries int `json:"max_retries"`
	// BackoffMS is the pause after the first failure; it doubles after
	// each further one.
	BackoffMS Millis `json:"backoff_ms"`
	// TimeoutMS is the longest wait for one navigation.
	TimeoutMS Millis `json:"timeout_ms"`
}

func (p *navConfig) validate() error {
	return firstErr(atLeast("max_retries", p.MaxRetries, 1), atLeast("backoff_ms", p.BackoffMS, 0), atLeast("timeout_ms", p.TimeoutMS, 1))
}

func defaultNav() navConfig { return navConfig{MaxRetries: 3, BackoffMS: 1000, TimeoutMS: 15000} }

// retryNavigation navigates to the page again, with backoff between tries.
// For a navigation that is the action's whole effect, so it reports done;
// for any other action it retries the action on the restored page.
func retryNavigation(c *heal.Call) abi.Result {
	cfg := defaultNav()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	u, from := pageURL(c)
	if u == "" {
		return heal.GiveUp("no URL to navigate to: the action has none and the page shows none that can be loaded")
	}
	delay := func(i int) time.Duration { return backoff(cfg.BackoffMS.D(), 2, i, time.Minute) }
	res, tries, ok := retryLoop(c, cfg.MaxRetries, cfg.TimeoutMS.D(), delay, func(t time.Duration) (abi.ActResult, error) {
		return c.Navigate(abi.Navigation{URL: u, TimeoutMS: t.Milliseconds()})
	})
	details := map[string]any{"url": u, "url_from": from, "tries": tries}
	if !ok {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("%s did not load in %d tries", u, len(tries))), details)
	}
	c.Logf(heal.LevelInfo, "navigated to %s on try %d", res.URL, len(tries))
	if isNavigation(c) {
		return heal.WithDetails(done(fmt.Sprintf("loaded %s on try %d", u, len(tries))), details)
	}
	return heal.WithDetails(heal.Retry(fmt.Sprintf("reloaded %s on try %d", u, len(tries))), details)
}

// dnsConfig is the parameters of check_dns; it has none yet.
type dnsConfig struct{}

func (*dnsConfig) validate() error { return nil }

// checkDNS resolves the page's host name and reports the addresses. When
// the name resolves the failure was elsewhere and a retry may work; when it
// does not, retrying is useless and the next strategy should run.
func checkDNS(c *heal.Call) abi.Result {
	var cfg dnsConfig
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	u, from := pageURL(c)
	p, err := url.Parse(u)
	if u == "" || err != nil || p.Hostname() == "" {
		return heal.GiveUp(fmt.Sprintf("no host name to look up in %q", u))
	}
	host := p.Hostname()
	res, err := c.LookupHost(abi.LookupRequest{Host: host})
	details := map[string]any{"host": host, "url": u, "url_from": from}
	if err != nil {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("looking up %s: %v", host, err)), details)
	}
	details["addrs"] = res.Addrs
	if res.Error != "" || len(res.Addrs) == 0 {
		details["error"] = res.Error
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("%s does not resolve: %s", host, firstNonEmpty(res.Error, "no addresses"))), details)
	}
	c.Logf(heal.LevelInfo, "%s resolves to %v", host, res.Addrs)
	return heal.WithDetails(heal.Retry(fmt.Sprintf("%s resolves to %d addresses", host, len(res.Addrs))), details)
}

// cachedConfig is the parameters of use_cached_version.
type cachedConfig struct {
	// TimeoutMS is the longest wait for the cached copy to show.
	TimeoutMS Millis `json:"timeout_ms"`
}

func (p *cachedConfig) validate() error { return atLeast("timeout_ms", p.TimeoutMS, 1) }

func defaultCached() cachedConfig { return cachedConfig{TimeoutMS: 15000} }

// useCachedVersion shows the last good copy of the page: the engine's
// stored snapshot or a configured mirror.
func useCachedVersion(c *heal.Call) abi.Result {
	cfg := defaultCached()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	u, from := pageURL(c)
	details := map[string]any{"url": u, "url_from": from}
	wait := budget(c, cfg.TimeoutMS.D())
	if wait < minTry {
		return heal.WithDetails(heal.GiveUp("no time left to load a cached copy"), details)
	}
	res, err := c.LoadCached(abi.Navigation{URL: u, TimeoutMS: wait.Milliseconds()})
	if heal.IsNotFound(err) {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("no cached copy of %q", u)), details)
	}
	if err := actErr(res, err); err != nil {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("loading the cached copy of %q: %v", u, err)), details)
	}
	details["source"], details["shown"] = res.Source, res.URL
	c.Logf(heal.LevelWarn, "showing the cached copy of %s from %s", u, res.Source)
	msg := fmt.Sprintf("showing the cached copy of %s from the %s", firstNonEmpty(u, res.URL), firstNonEmpty(res.Source, "cache"))
	if isNavigation(c) {
		return heal.WithDetails(done(msg), details)
	}
	return heal.WithDetails(heal.Retry(msg), details)
}
