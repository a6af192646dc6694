package main

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
)

// Strategies for security_challenge.

// challengeConfig says how a challenge page is recognised.
type challengeConfig struct {
	// Markers are case-insensitive phrases of a challenge page's title,
	// URL or visible text.
	Markers []string `json:"markers"`
	// Selectors match a challenge's widgets; a visible match is a
	// challenge.
	Selectors []string `json:"selectors"`
}

func defaultChallenge() challengeConfig {
	return challengeConfig{
		Markers: []string{"captcha", "cloudflare", "security check", "verify you are human",
			"checking your browser", "are you a robot", "unusual traffic", "ddos protection", "challenge-platform"},
		Selectors: []string{"iframe[src*=captcha]", "iframe[src*=challenges]", "#challenge-form", "#cf-challenge-running",
			".g-recaptcha", ".h-captcha", ".cf-turnstile", "[name=cf-turnstile-response]"},
	}
}

func (p *challengeConfig) validate() error {
	if len(p.Markers) == 0 && len(p.Selectors) == 0 {
		return fmt.Errorf("%w markers: markers and selectors are both empty, so no challenge could be seen", errConfig)
	}
	for i, m := range p.Markers {
		if strings.TrimSpace(m) == "" {
			return fmt.Errorf("%w markers[%d]: empty marker", errConfig, i)
		}
	}
	if len(p.Selectors) > maxSelectors {
		return fmt.Errorf("%w selectors: at most %d, not %d (each is checked on every look)", errConfig, maxSelectors, len(p.Selectors))
	}
	for i, s := range p.Selectors {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("%w selectors[%d]: empty selector", errConfig, i)
		}
	}
	return nil
}

// maxSelectors bounds the host calls of one look at the page.
const maxSelectors = 20

// challenge is what one look at the page found.
type challenge struct {
	Present   bool     `json:"present"`
	URL       string   `json:"url,omitempty"`
	Title     string   `json:"title,omitempty"`
	Markers   []string `json:"markers,omitempty"`
	Selectors []string `json:"selectors,omitempty"`
}

// challengeDetector looks for a challenge; cheap signs first (URL, title,
// widgets), the page's visible text only when they show nothing.
type challengeDetector struct {
	cfg challengeConfig
	// broken holds selectors the browser rejected, skipped from then on.
	broken map[string]string
}

func newChallengeDetector(cfg challengeConfig) *challengeDetector {
	return &challengeDetector{cfg: cfg, broken: map[string]string{}}
}

func (d *challengeDetector) look(c *heal.Call) (challenge, error) {
	var ch challenge
	info, err := c.PageInfo()
	if err != nil {
		return ch, err
	}
	ch.URL, ch.Title = info.URL, info.Title
	ch.Markers = d.markersIn(info.Title + "\n" + info.URL)
	for _, sel := range d.cfg.Selectors {
		if _, bad := d.broken[sel]; bad {
			continue
		}
		st, err := c.Exists(abi.Query{CSS: sel})
		switch {
		case err != nil && fatal(err) && !heal.IsUnavailable(err):
			d.broken[sel] = err.Error()
			c.Logf(heal.LevelWarn, "challenge selector %q skipped: %v", sel, err)
		case err != nil:
			return ch, err
		case st.Visible:
			ch.Selectors = append(ch.Selectors, sel)
		}
	}
	if len(ch.Markers) == 0 && len(ch.Selectors) == 0 {
		snap, err := c.Snapshot()
		if err != nil {
			return ch, err
		}
		var text strings.Builder
		for _, el := range snap.Elements {
			if el.Visible {
				text.WriteString(firstNonEmpty(el.VisibleText, el.Text))
				text.WriteByte('\n')
			}
		}
		ch.Markers = d.markersIn(text.String())
	}
	ch.Present = len(ch.Markers) > 0 || len(ch.Selectors) > 0
	return ch, nil
}

func (d *challengeDetector) markersIn(s string) []string {
	s = strings.ToLower(s)
	var found []string
	for _, m := range d.cfg.Markers {
		if strings.Contains(s, strings.ToLower(strings.TrimSpace(m))) {
			found = append(found, m)
		}
	}
	return found
}

// manualConfig is the parameters of wait_for_manual_intervention.
type manualConfig struct {
	challengeConfig
	// TimeoutMS is how long a human has to clear the challenge (the
	// seed's 60 s).
	TimeoutMS Millis `json:"timeout_ms"`
	// PollMS is the pause between two looks at the page.
	PollMS Millis `json:"poll_ms"`
	// SettleMS is the longest wait for the network to go idle once the
	// challenge is gone, as the page usually loads the real content then.
	SettleMS Millis `json:"settle_ms"`
}

func (p *manualConfig) validate() error {
	return firstErr(p.challengeConfig.validate(), atLeast("timeout_ms", p.TimeoutMS, 0),
		atLeast("poll_ms", p.PollMS, 100), atLeast("settle_ms", p.SettleMS, 0))
}

func defaultManual() manualConfig {
	return manualConfig{challengeConfig: defaultChallenge(), TimeoutMS: 60000, PollMS: 1000, SettleMS: 3000}
}

// waitForManualIntervention waits for a human to clear a challenge page:
// it retries once the challenge is gone, and aborts healing when it is still
// there at the deadline, since no other strategy can solve it.
func waitForManualIntervention(c *heal.Call) abi.Result {
	cfg := defaultManual()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	d := newChallengeDetector(cfg.challengeConfig)
	var first, last challenge
	looks := 0
	check := func() (bool, error) {
		ch, err := d.look(c)
		if err != nil {
			return false, err
		}
		if looks++; looks == 1 {
			first = ch
			if ch.Present {
				c.Logf(heal.LevelWarn, "security challenge at %s (%s); waiting up to %d ms for a human",
					ch.URL, strings.Join(append(ch.Markers, ch.Selectors...), ", "), cfg.TimeoutMS)
			}
		}
		last = ch
		return !ch.Present, nil
	}
	ok, st, err := poll(c, cfg.PollMS.D(), cfg.TimeoutMS.D(), check)
	details := map[string]any{"first": first, "last": last, "poll": st}
	if len(d.broken) > 0 {
		details["skipped_selectors"] = d.broken
	}
	switch {
	case err != nil:
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("cannot watch the page: %v", err)), details)
	case !ok:
		return heal.WithDetails(heal.Abort(fmt.Sprintf("the security challenge is still there after %d ms; it needs a human", st.WaitedMS)), details)
	case !first.Present:
		return heal.WithDetails(heal.Retry("no challenge on the page any more"), details)
	}
	details["idle"] = settle(c, 500*time.Millisecond, cfg.SettleMS.D())
	c.Logf(heal.LevelInfo, "security challenge cleared after %d ms", st.WaitedMS)
	return heal.WithDetails(heal.Retry(fmt.Sprintf("the challenge cleared after %d ms", st.WaitedMS)), details)
}

// approachConfig is the parameters of use_different_approach.
type approachConfig struct {
	challengeConfig
	// EntryURL is where the fresh context starts when Alternatives has
	// nothing for the page's host.
	EntryURL string `json:"entry_url"`
	// Alternatives maps a host name to the URL to start from instead.
	Alternatives map[string]string `json:"alternatives"`
	// TimeoutMS is the longest wait for the fresh context's page.
	TimeoutMS Millis `json:"timeout_ms"`
	// CheckChallenge looks at the fresh page and gives up when the
	// challenge is there too.
	CheckChallenge bool `json:"check_challenge"`
}

func (p *approachConfig) validate() error {
	if p.EntryURL != "" && !loadableURL(p.EntryURL) {
		return fmt.Errorf("%w entry_url: %q is not an http, https or file URL", errConfig, p.EntryURL)
	}
	for host, u := range p.Alternatives {
		if !loadableURL(u) {
			return fmt.Errorf("%w alternatives.%s: %q is not an http, https or file URL", errConfig, host, u)
		}
	}
	return firstErr(p.challengeConfig.validate(), atLeast("timeout_ms", p.TimeoutMS, 1))
}

func defaultApproach() approachConfig {
	return approachConfig{challengeConfig: defaultChallenge(), TimeoutMS: 20000, CheckChallenge: true}
}

// useDifferentApproach opens a fresh browser context (no cookies, no cache)
// at an alternative entry URL, or the page's own URL, and retries there.
func useDifferentApproach(c *heal.Call) abi.Result {
	cfg := defaultApproach()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	cur, _ := pageURL(c)
	dest, via := cur, "current"
	if alt, ok := alternativeFor(cur, cfg.Alternatives); ok {
		dest, via = alt, "alternatives"
	} else if cfg.EntryURL != "" {
		dest, via = cfg.EntryURL, "entry_url"
	}
	details := map[string]any{"from": cur, "url": dest, "via": via}
	wait := budget(c, cfg.TimeoutMS.D())
	if wait <= 0 {
		return heal.WithDetails(heal.GiveUp("no time left to open a fresh context"), details)
	}
	// An empty URL makes the host reuse the current one.
	res, err := c.NewContext(abi.Navigation{URL: dest, TimeoutMS: wait.Milliseconds()})
	if err := actErr(res, err); err != nil {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("opening a fresh context at %q: %v", dest, err)), details)
	}
	details["landed"] = res.URL
	c.Logf(heal.LevelInfo, "fresh browser context at %s (via %s)", res.URL, via)
	if cfg.CheckChallenge {
		ch, err := newChallengeDetector(cfg.challengeConfig).look(c)
		details["challenge"] = ch
		switch {
		case err != nil:
			details["challenge_error"] = err.Error()
		case ch.Present:
			return heal.WithDetails(heal.GiveUp(fmt.Sprintf("the fresh context at %s meets the challenge too", res.URL)), details)
		}
	}
	if isNavigation(c) && sameURL(dest, c.Request.Action.URL) {
		return heal.WithDetails(done(fmt.Sprintf("loaded %s in a fresh browser context", dest)), details)
	}
	return heal.WithDetails(heal.Retry(fmt.Sprintf("opened a fresh browser context at %s", res.URL)), details)
}

// alternativeFor returns the configured alternative for u's host, trying
// the host as is and without a leading "www.".
func alternativeFor(u string, alts map[string]string) (string, bool) {
	if len(alts) == 0 || u == "" {
		return "", false
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", false
	}
	host := strings.ToLower(p.Hostname())
	for _, h := range []string{host, strings.TrimPrefix(host, "www.")} {
		if alt, ok := alts[h]; ok {
			return alt, true
		}
	}
	return "", false
}

// sameURL compares two URLs ignoring a trailing slash and the fragment.
func sameURL(a, b string) bool {
	norm := func(s string) string {
		s, _, _ = strings.Cut(s, "#")
		return strings.TrimSuffix(s, "/")
	}
	return norm(a) == norm(b)
}
