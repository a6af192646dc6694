// Package executor runs one browser action with self-healing: a normal
// attempt, then on failure classify the error, pick a recovery strategy,
// run it, and retry the action with a progressively relaxed healing level,
// recording every attempt.
//
// It implements the action executor of the healing design: exponential
// backoff of backoff_ms * 2^i between retries, the healing counter passed to
// the resolver as i+1 on retry i and back to 0 in every outcome, and one
// metrics record per attempt. The executor depends only on the small
// interfaces below; the engine wires them to the classifier, the selection
// policy, the plugin registry, the browser and the history store.
package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/selfheal/engine/abi"
)

// Actor performs actions in the browser.
type Actor interface {
	// Perform runs the action. At level 0 the target's selectors are used as
	// written (strict); at a higher level the target is resolved with that
	// level's healing profile. The element acted on is returned when known.
	Perform(ctx context.Context, a abi.Action, level int) (Performed, error)
	// PageURL returns the current page's URL for the strategy request; it
	// may return "" when unknown.
	PageURL(ctx context.Context) string
}

// Performed describes an action that succeeded.
type Performed struct {
	Element    *abi.Element
	Resolution *abi.ResolutionDetails
}

// Classification is a classified error.
type Classification struct {
	Type   string // error pattern name
	Signal string // structured signal, if any
}

// Classifier maps an error to an error pattern.
type Classifier interface {
	Classify(err error) Classification
}

// Choice is a selected strategy.
type Choice struct {
	Strategy string
	Params   json.RawMessage
	Explain  string
}

// SelectQuery asks for the next strategy.
type SelectQuery struct {
	ErrorType string
	// RetryCount is the number of strategies already tried for this error
	// type in this action (the seed's retry_count).
	RetryCount int
	SessionID  string
	ActionKey  string
	Host       string
	ActionKind string
	Tried      []string // strategies already tried for this action
}

// Selector picks the next strategy; ok is false when none is left.
type Selector interface {
	Next(ctx context.Context, q SelectQuery) (c Choice, ok bool)
}

// Healer runs a recovery strategy.
type Healer interface {
	Heal(ctx context.Context, strategy string, req abi.Request) (abi.Result, error)
}

// Recorder stores attempts. It must not block; an error is logged and
// never fails the action.
type Recorder interface {
	Record(ctx context.Context, a Attempt) error
}

// Attempt is one recovery attempt, in the shape of the seed's
// log_recovery_attempt plus the healing metrics.
type Attempt struct {
	SessionID    string
	ActionKey    string
	ActionKind   string
	Host         string
	ErrorType    string
	ErrorMessage string
	// Strategy is empty when no strategy was left.
	Strategy    string
	Success     bool
	RetryCount  int
	Outcome     string // strategy outcome, or "none_left", "cancelled", "strategy_error", "budget"
	Metrics     Metrics
	Result      *abi.Result // the strategy's result, when it returned one
	StrategyErr string
	// Explain says why the selector chose the strategy.
	Explain string
	At      time.Time
}

// Metrics is the seed's HealingAttemptMetrics.
type Metrics struct {
	AttemptLevel     int                    `json:"attempt_level"`
	Success          bool                   `json:"success"`
	StrategyUsed     string                 `json:"strategy_used"`
	OriginalCriteria *abi.Target            `json:"original_criteria,omitempty"`
	RelaxedCriteria  *abi.HealingProfile    `json:"relaxed_criteria,omitempty"`
	RetriedTarget    *abi.Target            `json:"retried_target,omitempty"`
	Resolution       *abi.ResolutionDetails `json:"resolution,omitempty"`
	DurationMS       float64                `json:"duration_ms"`
	Timestamp        time.Time              `json:"timestamp"`
	// ProfilesTried lists every healing profile tried for the action; set
	// on the final record when attempts run out.
	ProfilesTried []abi.HealingProfile `json:"profiles_tried,omitempty"`
}

// Clock abstracts time so that tests can check backoff without sleeping.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, returning ctx.Err() then.
	Sleep(ctx context.Context, d time.Duration) error
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Logger receives the executor's warnings (recorder failures, degraded
// healing). It matches hclog.Logger's Warn.
type Logger interface {
	Warn(msg string, args ...any)
}

type nopLogger struct{}

func (nopLogger) Warn(string, ...any) {}

// Config holds the executor's tunables. The zero value is not useful; start
// from DefaultConfig.
type Config struct {
	// MaxRetries is the number of healing retries after the normal attempt.
	MaxRetries int
	// Backoff is the base delay: retry i waits Backoff * 2^i.
	Backoff time.Duration
	// Jitter in [0,1] spreads each delay uniformly over [d*(1-j), d].
	Jitter float64
	// Budget bounds the whole action including retries; 0 means none.
	Budget time.Duration
	// StrategyTimeout caps one strategy call; 0 leaves it to the plugin.
	StrategyTimeout time.Duration
	// Profile maps a healing level to its profile.
	Profile func(level int) abi.HealingProfile
}

// DefaultConfig returns three retries, 200 ms base backoff, 20 % jitter,
// a 2-minute budget and the seed's healing profiles.
func DefaultConfig() Config {
	return Config{
		MaxRetries: 3,
		Backoff:    200 * time.Millisecond,
		Jitter:     0.2,
		Budget:     2 * time.Minute,
		Profile:    DefaultProfile,
	}
}

// DefaultProfile returns the seed's healing profiles.
func DefaultProfile(level int) abi.HealingProfile {
	switch {
	case level <= 0:
		return abi.HealingProfile{Level: 0, MinRatio: 0.82, PadMul: 1.0}
	case level == 1:
		return abi.HealingProfile{Level: 1, MinRatio: 0.78, PadMul: 1.3, ExpandRoles: true}
	}
	return abi.HealingProfile{Level: level, MinRatio: 0.72, PadMul: 1.7, ExpandRoles: true}
}

// BackoffDelay is the delay before retry i (0-based) without jitter:
// base * 2^i, saturating instead of overflowing.
func BackoffDelay(base time.Duration, i int) time.Duration {
	if base <= 0 || i < 0 {
		return 0
	}
	if i >= 62 {
		return time.Duration(math.MaxInt64)
	}
	f := float64(base) * math.Pow(2, float64(i))
	if f >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(f)
}

// Executor heals actions. It is safe for concurrent use when its
// dependencies are.
type Executor struct {
	cfg      Config
	actor    Actor
	classify Classifier
	selector Selector
	healer   Healer
	recorder Recorder
	clock    Clock
	log      Logger
	rand     func() float64
	params   func(errorType, strategy string) json.RawMessage
}

// Option customises an Executor.
type Option func(*Executor)

// WithClock replaces the wall clock (tests).
func WithClock(c Clock) Option { return func(e *Executor) { e.clock = c } }

// WithLogger sets the logger for warnings.
func WithLogger(l Logger) Option { return func(e *Executor) { e.log = l } }

// WithRand sets the jitter source, returning values in [0,1).
func WithRand(f func() float64) Option { return func(e *Executor) { e.rand = f } }

// WithParams sets where a step's fixed strategies (Step.Strategies) get
// their parameters from: normally the classified error pattern's entry
// for that strategy.
func WithParams(f func(errorType, strategy string) json.RawMessage) Option {
	return func(e *Executor) { e.params = f }
}

// New returns an executor. recorder may be nil.
func New(cfg Config, actor Actor, c Classifier, s Selector, h Healer, r Recorder, opts ...Option) *Executor {
	if cfg.Profile == nil {
		cfg.Profile = DefaultProfile
	}
	if cfg.Jitter < 0 {
		cfg.Jitter = 0
	}
	if cfg.Jitter > 1 {
		cfg.Jitter = 1
	}
	e := &Executor{cfg: cfg, actor: actor, classify: c, selector: s, healer: h, recorder: r,
		clock: realClock{}, log: nopLogger{}, rand: rand.Float64}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Step is one action to execute with its identity for learning.
type Step struct {
	Action    abi.Action
	SessionID string
	// ActionKey identifies the action across runs (workflow and step), so
	// that strategies that failed for it are not repeated.
	ActionKey string
	Host      string
	// MaxRetries overrides the configured retries when > 0; a negative
	// value disables healing for the step (the normal attempt only).
	MaxRetries int
	// Strategies, when set, replaces selection with this fixed order.
	Strategies []string
}

// Report is the outcome of one step.
type Report struct {
	OK       bool
	Err      error // the last error when !OK
	Element  *abi.Element
	Attempts []Attempt
	Levels   []int // healing level of every Perform call, in order
	Duration time.Duration
	// Final is the healing level the action finally succeeded at.
	Final int
}

// ErrUnrecoverable marks action errors no strategy can heal, such as a
// crashed browser; the executor stops at once and reports them.
var ErrUnrecoverable = errors.New("unrecoverable")

// ErrExhausted is returned when every retry or strategy was used up.
var ErrExhausted = errors.New("recovery strategies exhausted")

// ErrAborted is returned when a strategy aborted healing.
var ErrAborted = errors.New("healing aborted by strategy")

// ErrBudget is returned when the action's time budget ran out.
var ErrBudget = errors.New("action time budget exhausted")

// Execute runs the step: a normal attempt, then healing retries.
func (e *Executor) Execute(ctx context.Context, st Step) Report {
	start := e.clock.Now()
	rep := Report{}
	if e.cfg.Budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.cfg.Budget)
		defer cancel()
	}
	done := func(r Report) Report {
		r.Duration = e.clock.Now().Sub(start)
		return r
	}

	perf, err := e.perform(ctx, &rep, st.Action, 0)
	if err == nil {
		rep.OK, rep.Element = true, perf.Element
		return done(rep)
	}
	if errors.Is(err, ErrUnrecoverable) {
		rep.Err = err
		return done(rep)
	}

	retries := e.cfg.MaxRetries
	switch {
	case st.MaxRetries > 0:
		retries = st.MaxRetries
	case st.MaxRetries < 0:
		retries = 0
	}
	var (
		tried    []string
		profiles []abi.HealingProfile
		fixed    = append([]string(nil), st.Strategies...)
		// perType counts the strategies tried for each error type: the
		// error of an action can change between retries (a missing element
		// found, then its click intercepted), and a new error type starts
		// its escalation at its own first strategy.
		perType = map[string]int{}
	)
	for i := 0; i < retries; i++ {
		class := e.classify.Classify(err)
		if cerr := ctx.Err(); cerr != nil {
			e.record(ctx, Attempt{ErrorType: class.Type, ErrorMessage: err.Error(), RetryCount: i,
				Outcome: outcomeForCtx(cerr), Metrics: Metrics{AttemptLevel: i + 1, ProfilesTried: profiles}}, st)
			rep.Err = fmt.Errorf("%w: %v", contextErr(cerr), err)
			return done(rep)
		}
		choice, ok := e.next(ctx, st, class, perType[class.Type], tried, &fixed)
		if !ok {
			e.record(ctx, Attempt{ErrorType: class.Type, ErrorMessage: err.Error(), RetryCount: i,
				Outcome: "none_left", Metrics: Metrics{AttemptLevel: i + 1, OriginalCriteria: st.Action.Target,
					ProfilesTried: profiles, Timestamp: e.clock.Now()}}, st)
			rep.Err = fmt.Errorf("%w after %d retries (%s): %v", ErrExhausted, i, class.Type, err)
			rep.Attempts = append(rep.Attempts, Attempt{ErrorType: class.Type, Outcome: "none_left", RetryCount: i})
			return done(rep)
		}

		// Seed property 6: wait backoff_ms * 2^i before retry i whatever
		// happened before.
		if serr := e.clock.Sleep(ctx, e.delay(i)); serr != nil {
			e.record(ctx, Attempt{ErrorType: class.Type, ErrorMessage: err.Error(), Strategy: choice.Strategy,
				RetryCount: i, Outcome: outcomeForCtx(serr), Metrics: Metrics{AttemptLevel: i + 1, ProfilesTried: profiles}}, st)
			rep.Err = fmt.Errorf("%w: %v", contextErr(serr), err)
			return done(rep)
		}

		level := i + 1
		profile := e.cfg.Profile(level)
		profiles = append(profiles, profile)
		attemptStart := e.clock.Now()
		att := Attempt{
			ErrorType: class.Type, ErrorMessage: err.Error(), Strategy: choice.Strategy, RetryCount: i, Explain: choice.Explain,
			Metrics: Metrics{AttemptLevel: level, StrategyUsed: choice.Strategy, OriginalCriteria: st.Action.Target,
				RelaxedCriteria: &profile, Timestamp: attemptStart},
		}
		req := abi.Request{
			Strategy: choice.Strategy, Error: abi.ErrorInfo{Type: class.Type, Message: err.Error(), Signal: class.Signal},
			Action: st.Action, Attempt: level, Healing: profile, Config: choice.Params,
			SessionID: st.SessionID, PageURL: e.actor.PageURL(ctx), Tried: append([]string(nil), tried...),
		}
		hctx := ctx
		var cancel context.CancelFunc = func() {}
		if e.cfg.StrategyTimeout > 0 {
			hctx, cancel = context.WithTimeout(ctx, e.cfg.StrategyTimeout)
		}
		res, herr := e.healer.Heal(hctx, choice.Strategy, req)
		cancel()
		tried = append(tried, choice.Strategy)
		perType[class.Type]++

		if herr != nil {
			// A failing strategy degrades to a strict retry: the action is
			// tried again as written, so a broken plugin never makes
			// things worse than no healing.
			att.StrategyErr = herr.Error()
			att.Outcome = "strategy_error"
			e.log.Warn("strategy failed; retrying strictly", "strategy", choice.Strategy, "error", herr)
			perf, err = e.perform(ctx, &rep, st.Action, 0)
		} else {
			att.Result = &res
			att.Outcome = string(res.Outcome)
			switch res.Outcome {
			case abi.OutcomeAbort:
				att.Metrics.DurationMS = ms(e.clock.Now().Sub(attemptStart))
				att.Metrics.ProfilesTried = profiles
				e.record(ctx, att, st)
				rep.Attempts = append(rep.Attempts, att)
				rep.Err = fmt.Errorf("%w: %s: %s: %v", ErrAborted, choice.Strategy, res.Message, err)
				return done(rep)
			case abi.OutcomeGiveUp:
				att.Metrics.DurationMS = ms(e.clock.Now().Sub(attemptStart))
				e.record(ctx, att, st)
				rep.Attempts = append(rep.Attempts, att)
				continue
			case abi.OutcomeDone:
				// The strategy did the action's work itself.
				perf, err = Performed{}, nil
			case abi.OutcomeUseElement:
				a := st.Action
				a.Target = elementTarget(res)
				att.Metrics.RetriedTarget = a.Target
				perf, err = e.perform(ctx, &rep, a, level)
			default: // retry
				a := st.Action
				if r := res.Retry; r != nil {
					if r.TimeoutMS > 0 {
						a.TimeoutMS = r.TimeoutMS
					}
					if r.Target != nil {
						a.Target = r.Target
						att.Metrics.RetriedTarget = r.Target
					}
					if r.DelayMS > 0 {
						if serr := e.clock.Sleep(ctx, time.Duration(r.DelayMS)*time.Millisecond); serr != nil {
							err = serr
							break
						}
					}
				}
				perf, err = e.perform(ctx, &rep, a, level)
			}
		}
		att.Success = err == nil
		att.Metrics.Success = att.Success
		att.Metrics.DurationMS = ms(e.clock.Now().Sub(attemptStart))
		att.Metrics.Resolution = perf.Resolution
		if err == nil {
			e.record(ctx, att, st)
			rep.Attempts = append(rep.Attempts, att)
			rep.OK, rep.Element, rep.Final = true, perf.Element, level
			return done(rep)
		}
		if i == retries-1 {
			att.Metrics.ProfilesTried = profiles
		}
		e.record(ctx, att, st)
		rep.Attempts = append(rep.Attempts, att)
		if errors.Is(err, ErrUnrecoverable) {
			rep.Err = err
			return done(rep)
		}
		if cerr := ctx.Err(); cerr != nil {
			rep.Err = fmt.Errorf("%w: %v", contextErr(cerr), err)
			return done(rep)
		}
	}
	rep.Err = fmt.Errorf("%w after %d retries: %v", ErrExhausted, retries, err)
	return done(rep)
}

func (e *Executor) perform(ctx context.Context, rep *Report, a abi.Action, level int) (Performed, error) {
	rep.Levels = append(rep.Levels, level)
	return e.actor.Perform(ctx, a, level)
}

func (e *Executor) next(ctx context.Context, st Step, class Classification, i int, tried []string, fixed *[]string) (Choice, bool) {
	if len(st.Strategies) > 0 {
		if len(*fixed) == 0 {
			return Choice{}, false
		}
		s := (*fixed)[0]
		*fixed = (*fixed)[1:]
		c := Choice{Strategy: s, Explain: "fixed by the step"}
		if e.params != nil {
			c.Params = e.params(class.Type, s)
		}
		return c, true
	}
	return e.selector.Next(ctx, SelectQuery{
		ErrorType: class.Type, RetryCount: i, SessionID: st.SessionID, ActionKey: st.ActionKey,
		Host: st.Host, ActionKind: st.Action.Kind, Tried: tried,
	})
}

func (e *Executor) delay(i int) time.Duration {
	d := BackoffDelay(e.cfg.Backoff, i)
	if e.cfg.Jitter > 0 && d > 0 {
		d -= time.Duration(float64(d) * e.cfg.Jitter * e.rand())
	}
	return d
}

func (e *Executor) record(ctx context.Context, a Attempt, st Step) {
	a.SessionID, a.ActionKey, a.ActionKind, a.Host = st.SessionID, st.ActionKey, st.Action.Kind, st.Host
	if a.At.IsZero() {
		a.At = e.clock.Now()
	}
	if a.Metrics.Timestamp.IsZero() {
		a.Metrics.Timestamp = a.At
	}
	if e.recorder == nil {
		return
	}
	// Metrics resilience: a recorder failure is logged, never returned.
	if err := e.recorder.Record(context.WithoutCancel(ctx), a); err != nil {
		e.log.Warn("recording attempt failed", "error", err, "strategy", a.Strategy)
	}
}

func elementTarget(res abi.Result) *abi.Target {
	t := &abi.Target{}
	if res.Element != nil {
		t.XPath = res.Element.XPath
		el := *res.Element
		t.Fingerprint = &el
	}
	if res.Point != nil && t.XPath == "" {
		// A point-only target: the actor clicks the point.
		t.Fingerprint = &abi.Element{Rect: abi.Rect{X: res.Point.X, Y: res.Point.Y}, Index: -1}
	}
	return t
}

// IsPointTarget reports whether a target produced from a use_element result
// carries only a point (vision fallback); the actor then acts at
// Fingerprint.Rect.X/Y.
func IsPointTarget(t *abi.Target) bool {
	return t != nil && t.XPath == "" && t.CSS == "" && t.Fingerprint != nil && t.Fingerprint.Index == -1
}

func contextErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return ErrBudget
	}
	return err
}

func outcomeForCtx(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "budget"
	}
	return "cancelled"
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
