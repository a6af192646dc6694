package engine

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/internal/browser"
	"github.com/selfheal/engine/internal/executor"
	"github.com/selfheal/engine/resolver"
)

// Errors of actions, worded so that the classifier's default patterns
// recognise them (the seed's signatures: "Element ... not found", "Click
// failed", "Action ... failed", "Timeout ... exceeded").
var (
	// ErrElementNotFound: the target matched nothing in time.
	ErrElementNotFound = errors.New("element not found")
	// ErrAssertion: an assert_text or assert_url step did not hold.
	ErrAssertion = errors.New("assertion failed")
	// ErrChallenge: the action failed on a bot-check page.
	ErrChallenge = errors.New("security challenge")
)

// challengeMarkers are phrases of a bot-check page's title or URL
// (lower case).
var challengeMarkers = []string{"security check", "captcha", "cloudflare", "verify you are human",
	"just a moment", "attention required", "checking your browser", "are you a robot"}

// ActionError is a failed browser action; it names the action and target.
type ActionError struct {
	Kind   string
	Target string
	Err    error
}

func (e *ActionError) Error() string {
	switch {
	case errors.Is(e.Err, ErrChallenge):
		// Worded for the security_challenge pattern, and without the
		// underlying failure's text, which other patterns would match.
		return fmt.Sprintf("Security check: %s on %s could not run: %v", e.Kind, e.Target, e.Err)
	case errors.Is(e.Err, ErrElementNotFound):
		return fmt.Sprintf("Element %s not found: %v", e.Target, e.Err)
	case errors.Is(e.Err, browser.ErrIntercepted):
		return fmt.Sprintf("Click failed on %s: %v", e.Target, e.Err)
	case e.Kind == abi.ActionNavigate:
		return fmt.Sprintf("navigation to %s failed: %v", e.Target, e.Err)
	case errors.Is(e.Err, ErrAssertion):
		return fmt.Sprintf("Action %s failed: %v", e.Kind, e.Err)
	}
	return fmt.Sprintf("Action %s on %s failed: %v", e.Kind, e.Target, e.Err)
}

func (e *ActionError) Unwrap() error { return e.Err }

// pageActor performs workflow actions in one browser session. At level 0
// it uses the target's selectors as written; at higher levels it resolves
// the target, fingerprint included, with the level's healing profile.
type pageActor struct {
	s        *browser.Session
	resolver *resolver.Resolver
	// urlPattern is assert_url's regular expression, when the step has one.
	urlPattern *regexp.Regexp
}

var _ executor.Actor = (*pageActor)(nil)

func (a *pageActor) PageURL(ctx context.Context) string {
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	pi, err := a.s.PageInfo(c)
	if err != nil {
		return ""
	}
	return pi.URL
}

func timeoutOf(act abi.Action) time.Duration {
	if act.TimeoutMS > 0 {
		return time.Duration(act.TimeoutMS) * time.Millisecond
	}
	return 5 * time.Second
}

func (a *pageActor) Perform(ctx context.Context, act abi.Action, level int) (executor.Performed, error) {
	perf, err := a.perform(ctx, act, level)
	if err != nil && errors.Is(err, browser.ErrCrashed) {
		// No strategy can heal a dead browser: stop healing at once.
		err = fmt.Errorf("%w: %w", executor.ErrUnrecoverable, err)
	}
	return perf, err
}

func (a *pageActor) perform(ctx context.Context, act abi.Action, level int) (executor.Performed, error) {
	switch act.Kind {
	case abi.ActionNavigate:
		_, err := a.s.Navigate(ctx, abi.Navigation{URL: act.URL, TimeoutMS: act.TimeoutMS})
		if err != nil {
			return executor.Performed{}, &ActionError{Kind: act.Kind, Target: act.URL, Err: err}
		}
		return executor.Performed{}, nil
	case abi.ActionAssertURL:
		return executor.Performed{}, a.assertURL(ctx, act)
	case abi.ActionAssertText:
		if act.Target == nil {
			return executor.Performed{}, a.assertPageText(ctx, act)
		}
	case abi.ActionPress:
		if act.Target == nil {
			_, err := a.s.Press(ctx, abi.Locator{Key: act.Value, TimeoutMS: act.TimeoutMS})
			if err != nil {
				return executor.Performed{}, &ActionError{Kind: act.Kind, Target: "page", Err: err}
			}
			return executor.Performed{}, nil
		}
	}

	loc, perf, err := a.locate(ctx, act, level)
	if err != nil {
		return executor.Performed{}, a.challengeOr(ctx, act, err)
	}
	loc.TimeoutMS = act.TimeoutMS
	desc := describeTarget(act.Target)
	var opErr error
	switch act.Kind {
	case abi.ActionClick:
		_, opErr = a.s.Click(ctx, loc)
	case abi.ActionType:
		if loc.Point != nil {
			// A point from vision: focus it by clicking, then type key by key.
			if _, opErr = a.s.Click(ctx, loc); opErr == nil {
				for _, r := range act.Value {
					if _, opErr = a.s.Press(ctx, abi.Locator{Key: string(r), TimeoutMS: act.TimeoutMS}); opErr != nil {
						break
					}
				}
			}
			break
		}
		loc.Text = act.Value
		_, opErr = a.s.Type(ctx, loc)
	case abi.ActionPress:
		loc.Key = act.Value
		_, opErr = a.s.Press(ctx, loc)
	case abi.ActionHover:
		_, opErr = a.s.Hover(ctx, loc)
	case abi.ActionSelect:
		loc.Text = act.Value
		_, opErr = a.s.Select(ctx, loc)
	case abi.ActionWaitFor:
		// Locating it was the point.
	case abi.ActionAssertText:
		if perf.Element == nil || !strings.Contains(resolver.Normalize(perf.Element.Text), resolver.Normalize(act.Value)) {
			got := ""
			if perf.Element != nil {
				got = perf.Element.Text
			}
			opErr = fmt.Errorf("%w: %s has text %q, want it to contain %q", ErrAssertion, desc, got, act.Value)
		}
	default:
		opErr = fmt.Errorf("unsupported action %q", act.Kind)
	}
	if opErr != nil {
		return executor.Performed{}, a.challengeOr(ctx, act, &ActionError{Kind: act.Kind, Target: desc, Err: opErr})
	}
	return perf, nil
}

// challengeOr returns err, or a challenge error when the page is a bot
// check: the element is missing because the page is not the site's, and
// the error must say so for the classifier to pick security_challenge.
func (a *pageActor) challengeOr(ctx context.Context, act abi.Action, err error) error {
	c, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	pi, perr := a.s.PageInfo(c)
	if perr != nil {
		return err
	}
	for _, where := range []string{pi.Title, pi.URL} {
		low := strings.ToLower(where)
		for _, m := range challengeMarkers {
			if strings.Contains(low, m) {
				// The cause is left out: its text and wrapped errors
				// ("Element ... not found", a deadline) would make the
				// classifier see element_not_found or timeout instead.
				return &ActionError{Kind: act.Kind, Target: describeTarget(act.Target),
					Err: fmt.Errorf("%w: the page %q (%s) shows %q", ErrChallenge, pi.Title, pi.URL, m)}
			}
		}
	}
	return err
}

// locate finds the element to act on and its record (for the fingerprint).
func (a *pageActor) locate(ctx context.Context, act abi.Action, level int) (abi.Locator, executor.Performed, error) {
	t := act.Target
	desc := describeTarget(t)
	if t == nil {
		return abi.Locator{}, executor.Performed{}, &ActionError{Kind: act.Kind, Target: desc, Err: fmt.Errorf("%w: no target", ErrElementNotFound)}
	}
	if executor.IsPointTarget(t) {
		p := abi.Point{X: t.Fingerprint.Rect.X, Y: t.Fingerprint.Rect.Y}
		return abi.Locator{Point: &p}, executor.Performed{}, nil
	}
	if level == 0 && (t.CSS != "" || t.XPath != "") {
		// Strict: the selector as written, waiting up to the timeout.
		l := abi.Locator{CSS: t.CSS, XPath: t.XPath, Visible: true, TimeoutMS: act.TimeoutMS}
		if t.CSS != "" && t.XPath != "" {
			l.XPath = ""
		}
		if _, err := a.s.WaitForSelector(ctx, l); err != nil {
			if errors.Is(err, browser.ErrCrashed) || errors.Is(err, abi.ErrBadRequest) {
				// Not a missing element: a dead browser or a selector
				// Chromium cannot parse.
				return l, executor.Performed{}, &ActionError{Kind: act.Kind, Target: desc, Err: err}
			}
			return l, executor.Performed{}, &ActionError{Kind: act.Kind, Target: desc,
				Err: fmt.Errorf("%w within %v (%v)", ErrElementNotFound, timeoutOf(act), err)}
		}
		perf := executor.Performed{}
		qc, cancel := context.WithTimeout(ctx, 2*time.Second)
		els, err := a.s.Query(qc, abi.Query{CSS: l.CSS, XPath: l.XPath, Limit: 1})
		cancel()
		if err == nil && len(els) > 0 {
			perf.Element = &els[0]
		}
		return abi.Locator{CSS: l.CSS, XPath: l.XPath}, perf, nil
	}

	// Resolve on a snapshot, polling until the timeout: the page may still
	// be rendering.
	deadline := time.Now().Add(timeoutOf(act))
	var lastErr error
	for {
		snap, err := a.s.Snapshot(ctx)
		if err != nil {
			return abi.Locator{}, executor.Performed{}, &ActionError{Kind: act.Kind, Target: desc, Err: err}
		}
		res, err := a.resolver.Resolve(snap, *t, level)
		if err == nil && res.Element != nil {
			details := res.Details
			return browser.LocatorFor(*res.Element), executor.Performed{Element: res.Element, Resolution: &details}, nil
		}
		lastErr = err
		if lastErr == nil {
			lastErr = errors.New("no element chosen")
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(150 * time.Millisecond):
		}
	}
	return abi.Locator{}, executor.Performed{}, &ActionError{Kind: act.Kind, Target: desc,
		Err: fmt.Errorf("%w at healing level %d (%v)", ErrElementNotFound, level, lastErr)}
}

func (a *pageActor) assertURL(ctx context.Context, act abi.Action) error {
	deadline := time.Now().Add(timeoutOf(act))
	want := act.URL
	for {
		url := a.PageURL(ctx)
		ok := (want != "" && strings.Contains(url, want)) || (a.urlPattern != nil && a.urlPattern.MatchString(url))
		if ok {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			what := fmt.Sprintf("contain %q", want)
			if a.urlPattern != nil {
				what = fmt.Sprintf("match %q", a.urlPattern)
			}
			return &ActionError{Kind: act.Kind, Target: "page URL",
				Err: fmt.Errorf("%w: URL %q does not %s (Timeout of %v exceeded)", ErrAssertion, url, what, timeoutOf(act))}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (a *pageActor) assertPageText(ctx context.Context, act abi.Action) error {
	deadline := time.Now().Add(timeoutOf(act))
	want := resolver.Normalize(act.Value)
	for {
		snap, err := a.s.Snapshot(ctx)
		if err == nil {
			for _, el := range snap.Elements {
				if strings.Contains(resolver.Normalize(el.Text), want) {
					return nil
				}
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return &ActionError{Kind: act.Kind, Target: "page",
				Err: fmt.Errorf("%w: no text containing %q on %s (Timeout of %v exceeded)", ErrAssertion, act.Value, snap.URL, timeoutOf(act))}
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// describeTarget names a target for messages: its selectors and texts, or
// its fingerprint when it has nothing else.
func describeTarget(t *abi.Target) string {
	if t == nil {
		return t.String()
	}
	if t.Fingerprint != nil && t.CSS == "" && t.XPath == "" && t.Text == "" && t.Role == "" &&
		t.Label == "" && t.Placeholder == "" && t.Near == "" {
		return resolver.Describe(t.Fingerprint)
	}
	u := *t
	u.Fingerprint = nil
	return u.String()
}
