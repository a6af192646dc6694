package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
)

// Millis is a duration parameter in milliseconds. It accepts a JSON number
// (5000 or 5000.0, as TOML and hand-written pattern parameters produce) or a
// Go duration string ("5s").
type Millis int64

// UnmarshalJSON reads a number of milliseconds or a duration string.
func (m *Millis) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is neither milliseconds nor a duration such as \"5s\"", s)
		}
		*m = Millis(d.Milliseconds())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("%s is neither milliseconds nor a duration such as \"5s\"", b)
	}
	*m = Millis(f)
	return nil
}

// D returns m as a time.Duration.
func (m Millis) D() time.Duration { return time.Duration(m) * time.Millisecond }

// errConfig marks a parameter that fails validation.
var errConfig = errors.New("bad parameter")

// validator is implemented by every strategy's parameter struct.
type validator interface{ validate() error }

// configure decodes the call's parameters over the defaults already in cfg
// and validates them. A bad parameter aborts healing with a message naming
// the strategy and the parameter: a misconfiguration should be seen and
// fixed, not quietly skipped.
func configure(c *heal.Call, cfg validator) (abi.Result, bool) {
	if err := c.Config(cfg); err != nil {
		return heal.Abort(err.Error()), false
	}
	if err := cfg.validate(); err != nil {
		return heal.Abort(fmt.Sprintf("%s: %v", c.Request.Strategy, err)), false
	}
	return abi.Result{}, true
}

// atLeast checks a parameter's lower bound.
func atLeast[T int | int64 | float64 | Millis](name string, v, lo T) error {
	if v < lo {
		return fmt.Errorf("%w %s: must be at least %v, not %v", errConfig, name, lo, v)
	}
	return nil
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Polls are at least minPoll apart and make at most about maxChecks checks,
// which bounds the host calls a poll spends: the manifest's host_calls
// budget (20,000) covers maxChecks checks of up to 30 host calls each.
const (
	minPoll   Millis = 50
	maxChecks        = 600
)

// actTimeout bounds one click, press or scroll made by a strategy, since the
// browser waits for an element to be visible before acting on it.
const actTimeout = 2 * time.Second

// reserve is the time kept free before the call's deadline to return a
// verdict: a tenth of what is left, at most 100 ms.
func reserve(left time.Duration) time.Duration { return min(100*time.Millisecond, left/10) }

// budget returns how long an operation may take: want, capped by the time
// left before the call's deadline less the reserve. It is never negative.
func budget(c *heal.Call, want time.Duration) time.Duration {
	left := c.Remaining()
	return max(0, min(want, left-reserve(left)))
}

// pollStats says how a poll went; it is part of the strategies' details.
type pollStats struct {
	Checks    int    `json:"checks"`
	WaitedMS  int64  `json:"waited_ms"`
	Errors    int    `json:"errors,omitempty"`
	LastError string `json:"last_error,omitempty"`
}

// poll runs check at once and then every interval until it reports true,
// limit has passed or the call's deadline is near; the last check falls on
// the limit. Errors saying a service is missing or the request is wrong end
// the poll and are returned; others are counted and polling goes on, since
// a page answers reads badly while it navigates.
func poll(c *heal.Call, interval, limit time.Duration, check func() (bool, error)) (bool, pollStats, error) {
	var st pollStats
	// Long waits poll less often, so that no wait can exhaust the
	// manifest's host-call budget.
	interval = max(interval, limit/maxChecks)
	start := c.Now()
	for {
		st.Checks++
		done, err := check()
		switch {
		case err != nil && fatal(err):
			st.WaitedMS = c.Now().Sub(start).Milliseconds()
			return false, st, err
		case err != nil:
			st.Errors++
			st.LastError = err.Error()
		case done:
			st.WaitedMS = c.Now().Sub(start).Milliseconds()
			return true, st, nil
		}
		wait := min(interval, limit-c.Now().Sub(start), budget(c, interval))
		if wait <= 0 || !c.Sleep(wait) {
			st.WaitedMS = c.Now().Sub(start).Milliseconds()
			return false, st, nil
		}
	}
}

// fatal reports whether a host error will not go away by asking again.
func fatal(err error) bool {
	return heal.IsUnavailable(err) || errors.Is(err, heal.ErrBadRequest) || errors.Is(err, heal.ErrTooLarge)
}

// hasSelector reports whether t has a CSS selector or XPath.
func hasSelector(t *abi.Target) bool { return t != nil && (t.CSS != "" || t.XPath != "") }

// hasSemantics reports whether t says what the element is beyond its
// selectors: text, role, label, placeholder, an anchor or a fingerprint.
func hasSemantics(t *abi.Target) bool {
	return t != nil && (t.Text != "" || t.Role != "" || t.Label != "" || t.Placeholder != "" ||
		t.Near != "" || t.Fingerprint != nil)
}

// withoutSelectors returns t without its CSS selector and XPath, so that
// the resolver matches on what the user sees rather than on the selector
// that just failed. A target with nothing else is returned unchanged.
func withoutSelectors(t abi.Target) abi.Target {
	if hasSemantics(&t) {
		t.CSS, t.XPath = "", ""
	}
	return t
}

// describeTarget renders a target briefly for messages.
func describeTarget(t *abi.Target) string {
	if t == nil {
		return "(no target)"
	}
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+strconv.Quote(v))
		}
	}
	add("css", t.CSS)
	add("xpath", t.XPath)
	add("text", t.Text)
	add("role", t.Role)
	add("label", t.Label)
	add("placeholder", t.Placeholder)
	add("near", t.Near)
	if t.Fingerprint != nil {
		parts = append(parts, "fingerprint="+t.Fingerprint.Tag)
	}
	if len(parts) == 0 {
		return "(empty target)"
	}
	return strings.Join(parts, " ")
}

// elementBrief is an element as reported in details.
type elementBrief struct {
	XPath   string   `json:"xpath"`
	Tag     string   `json:"tag,omitempty"`
	Text    string   `json:"text,omitempty"`
	Score   *float64 `json:"score,omitempty"`
	Visible bool     `json:"visible"`
	Reasons []string `json:"reasons,omitempty"`
}

func brief(el abi.Element) elementBrief {
	return elementBrief{XPath: el.XPath, Tag: el.Tag, Text: clip(firstNonEmpty(el.VisibleText, el.Text, el.Name), 60), Visible: el.Visible}
}

func briefCandidates(cs []abi.Candidate, n int) []elementBrief {
	out := make([]elementBrief, 0, min(n, len(cs)))
	for _, cand := range cs[:min(n, len(cs))] {
		b := brief(cand.Element)
		score := cand.Score
		b.Score, b.Reasons = &score, cand.Reasons
		out = append(out, b)
	}
	return out
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// loadableURL reports whether u can be loaded again: http, https or file.
// Error pages (chrome-error://) and about:blank cannot.
func loadableURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https" || p.Scheme == "file")
}

// pageURL finds the URL the failed action was about: the navigation's URL,
// else the page's URL at the failure, else the page's URL now. from says
// which; both are empty when none can be loaded again.
func pageURL(c *heal.Call) (u, from string) {
	a := c.Request.Action
	if a.Kind == abi.ActionNavigate && a.URL != "" {
		return a.URL, "action"
	}
	if loadableURL(c.Request.PageURL) {
		return c.Request.PageURL, "page_url"
	}
	if info, err := c.PageInfo(); err == nil && loadableURL(info.URL) {
		return info.URL, "page_info"
	}
	return "", ""
}

// isNavigation reports whether the failed action is a navigation to u, so
// that loading u achieves the action's effect.
func isNavigation(c *heal.Call) bool {
	return c.Request.Action.Kind == abi.ActionNavigate && c.Request.Action.URL != ""
}

// done reports that the strategy achieved the action's effect itself.
func done(msg string) abi.Result { return abi.Result{Outcome: abi.OutcomeDone, Message: msg} }

// actErr turns an ActResult that is not ok into an error.
func actErr(res abi.ActResult, err error) error {
	switch {
	case err != nil:
		return err
	case !res.OK && res.Message != "":
		return errors.New(res.Message)
	case !res.OK:
		return errors.New("the browser reported failure")
	case strings.HasPrefix(res.URL, "chrome-error:"):
		return fmt.Errorf("the browser shows an error page (%s)", res.URL)
	}
	return nil
}
