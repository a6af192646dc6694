package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/internal/browser"
	"github.com/selfheal/engine/internal/classify"
	"github.com/selfheal/engine/internal/executor"
	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/internal/selection"
	"github.com/selfheal/engine/internal/vision"
	"github.com/selfheal/engine/resolver"
)

// learner is strategy selection with its in-memory success counters, kept
// current as attempts are logged.
type learner struct {
	sel    *selection.Selector
	counts *selection.Counters
}

func newSelector(c *classify.Classifier, rows []history.StrategyCount, cfg Config) *learner {
	counts := selection.NewCounters()
	for _, r := range rows {
		counts.Add(r.ErrorType, r.Strategy, r.Host, r.ActionKind,
			selection.Counts{Successes: uint64(r.Successes), Total: uint64(r.Total)})
	}
	opts := selection.Options{Policy: selection.Thompson, Seed: uint64(cfg.Seed)}
	if cfg.Ordered {
		opts.Policy = selection.Ordered
	}
	return &learner{sel: selection.New(c, counts, opts), counts: counts}
}

// Observe counts a logged attempt (history.RecorderOptions.OnLogged).
func (l *learner) Observe(a history.Attempt) {
	l.counts.Record(a.ErrorType, a.Strategy, a.Host, a.ActionKind, a.Success)
}

// Next implements executor.Selector.
func (l *learner) Next(ctx context.Context, q executor.SelectQuery) (executor.Choice, bool) {
	c, ok := l.sel.Next(ctx, selection.Query{
		ErrorType: q.ErrorType, RetryCount: q.RetryCount, SessionID: q.SessionID, ActionKey: q.ActionKey,
		Host: q.Host, ActionKind: q.ActionKind, Tried: q.Tried,
	})
	if !ok {
		return executor.Choice{}, false
	}
	return executor.Choice{Strategy: c.Strategy, Params: c.Params, Explain: c.Explain.String()}, true
}

// strategyParams returns the parameters the classified pattern gives a
// strategy, else those of the first pattern that lists it; a step that
// fixes its strategies still gets the configured values.
func (e *Engine) strategyParams(errorType, strategy string) json.RawMessage {
	if p, ok := e.classifier.Pattern(errorType); ok {
		if params, ok := paramsIn(p, strategy); ok {
			return params
		}
	}
	for _, p := range e.classifier.Patterns() {
		if params, ok := paramsIn(p, strategy); ok {
			return params
		}
	}
	return nil
}

// paramsIn returns the parameters pattern p gives strategy, if it lists it.
func paramsIn(p *classify.Pattern, strategy string) (json.RawMessage, bool) {
	for _, s := range p.Strategies() {
		if s.Name() == strategy {
			return s.ParamsJSON(), true
		}
	}
	return nil, false
}

func patternRecords(c *classify.Classifier) []history.PatternRecord {
	var out []history.PatternRecord
	for _, p := range c.Patterns() {
		out = append(out, history.PatternRecord{Name: p.Name(), Signature: p.Signature(),
			Description: p.Description(), Strategies: p.StrategiesJSON(), ExpectedRate: p.ExpectedRate()})
	}
	return out
}

// classifierFunc adapts the classifier to the executor.
type classifierFunc func(err error) executor.Classification

func (f classifierFunc) Classify(err error) executor.Classification { return f(err) }

func (e *Engine) classifyForExecutor(err error) executor.Classification {
	c := e.classifier.Classify(err, "")
	return executor.Classification{Type: c.Type, Signal: c.Signal}
}

// sessionHealer runs strategies through the plugin registry with the
// services of one browser session.
type sessionHealer struct {
	registry *host.Registry
	env      host.Env
}

func (h sessionHealer) Heal(ctx context.Context, strategy string, req abi.Request) (abi.Result, error) {
	return h.registry.Call(ctx, h.env, req)
}

// envFor returns the host services of a browser session.
func (e *Engine) envFor(s *browser.Session, r *resolver.Resolver) host.Env {
	return host.Env{
		Browser:  s,
		Resolver: resolver.NewService(s.Snapshot, r),
		Vision:   vision.New(s, vision.Options{}),
		Net:      host.SystemNet(),
		Logger:   e.log.Named("plugin"),
	}
}

// attemptRecorder turns executor attempts into history rows. It never
// blocks: the recorder queues, spools when the database is away.
type attemptRecorder struct {
	rec       *history.Recorder
	sessionID string
}

func (r attemptRecorder) Record(_ context.Context, a executor.Attempt) error {
	ctxJSON, err := json.Marshal(attemptContext{
		ActionKey: a.ActionKey, Outcome: a.Outcome, Metrics: a.Metrics, Result: a.Result, StrategyError: a.StrategyErr,
		Explain: a.Explain,
	})
	if err != nil {
		return fmt.Errorf("engine: encoding attempt context: %w", err)
	}
	_, err = r.rec.Log(history.Attempt{
		ID: history.NewID(), SessionID: r.sessionID, ErrorType: a.ErrorType, ErrorMessage: a.ErrorMessage,
		Strategy: a.Strategy, Success: a.Success, RetryCount: a.RetryCount, Context: ctxJSON,
		Host: a.Host, ActionKind: a.ActionKind, CreatedAt: a.At,
	})
	return err
}

// attemptContext is what an attempt's context column holds: the seed's
// HealingAttemptMetrics and the strategy's result.
type attemptContext struct {
	ActionKey     string           `json:"action_key,omitempty"`
	Outcome       string           `json:"outcome"`
	Metrics       executor.Metrics `json:"metrics"`
	Result        *abi.Result      `json:"result,omitempty"`
	StrategyError string           `json:"strategy_error,omitempty"`
	Explain       string           `json:"explain,omitempty"`
}

// Classification is a classified error.
type Classification struct {
	ErrorType  string   `json:"error_type"`
	Signal     string   `json:"signal,omitempty"`
	Strategies []string `json:"strategies"`
}

// Classify classifies an error message, as the seed's detect_error_type.
func (e *Engine) Classify(msg string) Classification {
	c := e.classifier.ClassifyMessage(msg)
	out := Classification{ErrorType: c.Type, Signal: c.Signal}
	if c.Pattern != nil {
		for _, s := range c.Pattern.Strategies() {
			out.Strategies = append(out.Strategies, s.Name())
		}
	}
	return out
}

// StrategyQuery asks for the next strategy, as the seed's
// get_recovery_strategy.
type StrategyQuery struct {
	ErrorType  string   `json:"error_type"`
	RetryCount int      `json:"retry_count"`
	SessionID  string   `json:"session_id,omitempty"`
	ActionKey  string   `json:"action_key,omitempty"`
	Host       string   `json:"host,omitempty"`
	ActionKind string   `json:"action_kind,omitempty"`
	Tried      []string `json:"tried,omitempty"`
}

// StrategyChoice is a chosen strategy; Strategy is empty when none is left.
type StrategyChoice struct {
	Strategy string          `json:"strategy"`
	Params   json.RawMessage `json:"params,omitempty"`
	Explain  string          `json:"explain,omitempty"`
}

// NextStrategy returns the next strategy for a failure; ok is false when
// none is left.
func (e *Engine) NextStrategy(ctx context.Context, q StrategyQuery) (StrategyChoice, bool) {
	c, ok := e.selector.Next(ctx, executor.SelectQuery(q))
	if !ok {
		return StrategyChoice{}, false
	}
	return StrategyChoice{Strategy: c.Strategy, Params: c.Params, Explain: c.Explain}, true
}

// Attempt is a recovery attempt as agents report it (the seed's
// log_recovery_attempt).
type Attempt struct {
	ID           string          `json:"id,omitempty"`
	SessionID    string          `json:"session_id,omitempty"`
	ErrorType    string          `json:"error_type"`
	ErrorMessage string          `json:"error_message,omitempty"`
	Strategy     string          `json:"strategy_used,omitempty"`
	Success      bool            `json:"success"`
	RetryCount   int             `json:"retry_count"`
	Host         string          `json:"host,omitempty"`
	ActionKind   string          `json:"action_kind,omitempty"`
	Context      json.RawMessage `json:"context,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
}

// ErrBadAttempt is wrapped by LogAttempt's errors for invalid attempts.
var ErrBadAttempt = errors.New("engine: bad attempt")

// LogAttempt queues an attempt for the history store; it returns as soon
// as the attempt is queued (or spooled).
func (e *Engine) LogAttempt(ctx context.Context, a Attempt) (Attempt, error) {
	if a.ID == "" {
		a.ID = history.NewID()
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	h := history.Attempt{ID: a.ID, SessionID: a.SessionID, ErrorType: a.ErrorType, ErrorMessage: a.ErrorMessage,
		Strategy: a.Strategy, Success: a.Success, RetryCount: a.RetryCount, Context: a.Context,
		Host: a.Host, ActionKind: a.ActionKind, CreatedAt: a.CreatedAt}
	if err := h.Validate(); err != nil {
		return a, fmt.Errorf("%w: %w", ErrBadAttempt, err)
	}
	if _, err := e.recorder.Log(h); err != nil {
		return a, err
	}
	return a, nil
}

// SuccessRate is a row of the recovery_success_rates table.
type SuccessRate struct {
	ErrorType     string  `json:"error_type"`
	Strategy      string  `json:"strategy_used"`
	SuccessRate   float64 `json:"success_rate"`
	TotalAttempts int64   `json:"total_attempts"`
}

// Stats returns the learned success rates, best first; errorType filters
// when not empty.
func (e *Engine) Stats(ctx context.Context, errorType string) ([]SuccessRate, error) {
	rows, err := e.store.SuccessRates(ctx, history.RateFilter{ErrorType: errorType})
	if err != nil {
		return nil, err
	}
	out := make([]SuccessRate, 0, len(rows))
	for _, r := range rows {
		out = append(out, SuccessRate(r))
	}
	return out, nil
}

// History returns a session's attempts, oldest first.
func (e *Engine) History(ctx context.Context, sessionID string) ([]Attempt, error) {
	rows, err := e.store.SessionHistory(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	out := make([]Attempt, 0, len(rows))
	for _, r := range rows {
		out = append(out, Attempt{ID: r.ID, SessionID: r.SessionID, ErrorType: r.ErrorType, ErrorMessage: r.ErrorMessage,
			Strategy: r.Strategy, Success: r.Success, RetryCount: r.RetryCount, Host: r.Host, ActionKind: r.ActionKind,
			Context: r.Context, CreatedAt: r.CreatedAt})
	}
	return out, nil
}
