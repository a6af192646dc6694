package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/internal/browser"
	"github.com/selfheal/engine/internal/executor"
	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/resolver"
)

// SessionOptions configure a browser session.
type SessionOptions struct {
	// Name is stored with the session in the history.
	Name string
	// Width and Height set the viewport; 0 means 1280x800.
	Width, Height int
	// Mirrors maps URLs (or prefixes ending in "/") to mirror URLs for the
	// use_cached_version strategy.
	Mirrors map[string]string
	// UserAgent replaces the browser's user agent in this session.
	UserAgent string
	// Visible runs this session in its own windowed browser (it needs a
	// display) instead of the engine's shared headless one.
	Visible bool
}

// Session is a browser tab with healing. A session runs one action at a
// time.
type Session struct {
	ID  string
	e   *Engine
	tab *browser.Session
	ex  *executor.Executor
	act *pageActor
	own *browser.Browser // a visible session's own browser, else nil
}

// OpenSession starts Chromium if needed and opens a tab.
func (e *Engine) OpenSession(ctx context.Context, opts SessionOptions) (*Session, error) {
	var (
		b   *browser.Browser
		own *browser.Browser
		err error
	)
	if opts.Visible {
		own, err = browser.Launch(ctx, browser.Options{ExecPath: e.cfg.ChromiumPath, Visible: true})
		if err != nil {
			return nil, fmt.Errorf("engine: starting a visible chromium: %w", err)
		}
		b = own
	} else if b, err = e.sharedBrowser(ctx); err != nil {
		return nil, err
	}
	closeOwn := func() {
		if own != nil {
			own.Close()
		}
	}
	hs, err := e.store.CreateSession(ctx, history.Session{Name: opts.Name})
	if err != nil {
		closeOwn()
		return nil, fmt.Errorf("engine: recording the session in %s: %w", e.storeDesc, err)
	}
	tab, err := b.NewSession(ctx, browser.SessionOptions{
		Width: opts.Width, Height: opts.Height, Cache: pageCache{e.store}, Saver: pageCache{e.store}, Mirrors: opts.Mirrors,
		UserAgent: opts.UserAgent,
	})
	if err != nil {
		closeOwn()
		return nil, fmt.Errorf("engine: opening a tab: %w", err)
	}
	r := resolver.Default
	act := &pageActor{s: tab, resolver: r}
	cfg := executor.DefaultConfig()
	if e.cfg.MaxRetries > 0 {
		cfg.MaxRetries = e.cfg.MaxRetries
	}
	if e.cfg.Backoff > 0 {
		cfg.Backoff = e.cfg.Backoff
	}
	if e.cfg.Jitter > 0 {
		cfg.Jitter = e.cfg.Jitter
	}
	cfg.Profile = resolver.Profile
	ex := executor.New(cfg, act, classifierFunc(e.classifyForExecutor), e.selector,
		sessionHealer{registry: e.registry, env: e.envFor(tab, r)},
		attemptRecorder{rec: e.recorder, sessionID: hs.ID}, executor.WithLogger(e.log.Named("executor")),
		executor.WithParams(e.strategyParams))
	return &Session{ID: hs.ID, e: e, tab: tab, ex: ex, act: act, own: own}, nil
}

// Close closes the tab, and the session's own browser if it has one.
func (s *Session) Close() error {
	err := s.tab.Close()
	if s.own != nil {
		err = errors.Join(err, s.own.Close())
	}
	return err
}

// Snapshot returns the page's element snapshot.
func (s *Session) Snapshot(ctx context.Context) (abi.Snapshot, error) { return s.tab.Snapshot(ctx) }

// SetOffline emulates a lost network connection (tests and demos).
func (s *Session) SetOffline(ctx context.Context, offline bool) error {
	return s.tab.SetOffline(ctx, offline)
}

// Step is one action to run with healing.
type Step struct {
	Action abi.Action
	// Key identifies the action across runs (workflow/step): its element
	// fingerprint is stored under it and failed strategies are not repeated.
	Key string
	// Retries overrides the engine's retry count when > 0; a negative
	// value disables healing for this step.
	Retries int
	// Strategies fixes the strategy order instead of learned selection.
	Strategies []string
	// URLPattern is assert_url's regular expression.
	URLPattern *regexp.Regexp
}

// StepReport is the outcome of one step.
type StepReport struct {
	Key        string            `json:"key,omitempty"`
	Action     string            `json:"action"`
	Status     string            `json:"status"` // "passed" or "failed"
	Error      string            `json:"error,omitempty"`
	ErrorType  string            `json:"error_type,omitempty"`
	Healed     bool              `json:"healed"`
	Attempts   []AttemptReport   `json:"attempts,omitempty"`
	Element    *ElementReport    `json:"element,omitempty"`
	DurationMS float64           `json:"duration_ms"`
	Levels     []int             `json:"levels,omitempty"`
	Details    map[string]string `json:"details,omitempty"`
}

// AttemptReport is one healing attempt in a report.
type AttemptReport struct {
	ErrorType    string  `json:"error_type"`
	Strategy     string  `json:"strategy,omitempty"`
	HealingLevel int     `json:"healing_level"`
	Outcome      string  `json:"outcome"`
	Success      bool    `json:"success"`
	DurationMS   float64 `json:"duration_ms"`
	Message      string  `json:"message,omitempty"`
	// Explain says why the strategy was chosen (policy and evidence).
	Explain string `json:"explain,omitempty"`
}

// ElementReport is the element an action finally acted on.
type ElementReport struct {
	XPath  string       `json:"xpath"`
	Record *abi.Element `json:"record"`
}

// Do runs one action with healing: the normal attempt, then classified,
// learned recovery strategies with progressive relaxation. The element
// acted on is stored as the step's fingerprint for the next run.
func (s *Session) Do(ctx context.Context, st Step) StepReport {
	act := st.Action
	if act.Target != nil && st.Key != "" && act.Target.Fingerprint == nil {
		if fp, err := s.e.store.Fingerprint(ctx, st.Key); err == nil {
			t := *act.Target
			t.Fingerprint = &fp
			act.Target = &t
		} else if !errors.Is(err, history.ErrNotFound) {
			s.e.log.Warn("reading fingerprint", "key", st.Key, "error", err)
		}
	}
	s.act.urlPattern = st.URLPattern
	host := ""
	if u, err := url.Parse(s.act.PageURL(ctx)); err == nil {
		host = u.Host
	}
	if act.Kind == abi.ActionNavigate {
		if u, err := url.Parse(act.URL); err == nil {
			host = u.Host
		}
	}
	rep := s.ex.Execute(ctx, executor.Step{Action: act, SessionID: s.ID, ActionKey: st.Key, Host: host,
		MaxRetries: st.Retries, Strategies: st.Strategies})
	out := StepReport{Key: st.Key, Action: act.Kind, Status: "passed", DurationMS: ms(rep.Duration), Levels: rep.Levels,
		Healed: rep.OK && len(rep.Attempts) > 0}
	for _, a := range rep.Attempts {
		ar := AttemptReport{ErrorType: a.ErrorType, Strategy: a.Strategy, HealingLevel: a.Metrics.AttemptLevel,
			Outcome: a.Outcome, Success: a.Success, DurationMS: a.Metrics.DurationMS, Explain: a.Explain}
		if a.Result != nil {
			ar.Message = a.Result.Message
		}
		if a.StrategyErr != "" {
			ar.Message = a.StrategyErr
		}
		out.Attempts = append(out.Attempts, ar)
		out.ErrorType = a.ErrorType
	}
	if !rep.OK {
		out.Status = "failed"
		if rep.Err != nil {
			out.Error = rep.Err.Error()
		}
		return out
	}
	if rep.Element != nil {
		out.Element = &ElementReport{XPath: rep.Element.XPath, Record: rep.Element}
		if st.Key != "" {
			if err := s.e.store.SaveFingerprint(context.WithoutCancel(ctx), st.Key, *rep.Element); err != nil {
				s.e.log.Warn("saving fingerprint", "key", st.Key, "error", err)
			}
		}
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// pageCache adapts the history store to the browser's page cache hooks.
type pageCache struct{ store history.Store }

func (c pageCache) CachedPage(ctx context.Context, u string) (string, bool, error) {
	p, err := c.store.CachedPage(ctx, u)
	if errors.Is(err, history.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return p.HTML, true, nil
}

func (c pageCache) SavePage(ctx context.Context, u, html string) error {
	return c.store.SavePage(ctx, u, html)
}
