package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"pgregory.net/rapid"
)

// fakeClock advances virtual time on Sleep and records every delay.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

// scriptedActor fails or succeeds per call, in order.
type scriptedActor struct {
	results []error // nil = success; beyond the end: last value repeats
	calls   []abi.Action
	levels  []int
}

func (a *scriptedActor) Perform(ctx context.Context, act abi.Action, level int) (Performed, error) {
	a.calls = append(a.calls, act)
	a.levels = append(a.levels, level)
	if err := ctx.Err(); err != nil {
		return Performed{}, err
	}
	i := len(a.calls) - 1
	if i >= len(a.results) {
		i = len(a.results) - 1
	}
	if a.results[i] != nil {
		return Performed{}, a.results[i]
	}
	return Performed{Element: &abi.Element{Tag: "button", XPath: "/html[1]/body[1]/button[1]"}}, nil
}
func (a *scriptedActor) PageURL(context.Context) string { return "http://127.0.0.1/page" }

type typeClassifier string

func (c typeClassifier) Classify(error) Classification { return Classification{Type: string(c)} }

// listSelector walks a fixed list, skipping tried strategies.
type listSelector []string

func (s listSelector) Next(_ context.Context, q SelectQuery) (Choice, bool) {
	for _, name := range s {
		done := false
		for _, t := range q.Tried {
			done = done || t == name
		}
		if !done {
			return Choice{Strategy: name}, true
		}
	}
	return Choice{}, false
}

// outcomeHealer returns a fixed outcome per strategy.
type outcomeHealer struct {
	out  map[string]abi.Result
	errs map[string]error
	reqs []abi.Request
}

func (h *outcomeHealer) Heal(_ context.Context, s string, req abi.Request) (abi.Result, error) {
	h.reqs = append(h.reqs, req)
	if err := h.errs[s]; err != nil {
		return abi.Result{}, err
	}
	if r, ok := h.out[s]; ok {
		return r, nil
	}
	return abi.Result{Outcome: abi.OutcomeRetry}, nil
}

type memRecorder struct {
	mu       sync.Mutex
	attempts []Attempt
	fail     error
}

func (r *memRecorder) Record(_ context.Context, a Attempt) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, a)
	return r.fail
}

var errMissing = errors.New("waiting for #buy: element not found")

func click() abi.Action {
	return abi.Action{Kind: abi.ActionClick, Target: &abi.Target{CSS: "#buy", Text: "Buy"}}
}

func TestExecute(t *testing.T) {
	tests := []struct {
		name         string
		results      []error
		strategies   listSelector
		out          map[string]abi.Result
		errs         map[string]error
		wantOK       bool
		wantErr      error
		wantLevels   []int
		wantOutcomes []string
		wantSuccess  []bool
	}{
		{
			name: "first try", results: []error{nil}, strategies: listSelector{"wait_longer"},
			wantOK: true, wantLevels: []int{0},
		},
		{
			name: "healed by second strategy", results: []error{errMissing, errMissing, nil},
			strategies: listSelector{"wait_longer", "scroll_into_view"},
			wantOK:     true, wantLevels: []int{0, 1, 2},
			wantOutcomes: []string{"retry", "retry"}, wantSuccess: []bool{false, true},
		},
		{
			name: "give up skips the retry", results: []error{errMissing, nil},
			strategies: listSelector{"a", "b"},
			out:        map[string]abi.Result{"a": {Outcome: abi.OutcomeGiveUp}},
			wantOK:     true, wantLevels: []int{0, 2},
			wantOutcomes: []string{"give_up", "retry"}, wantSuccess: []bool{false, true},
		},
		{
			name: "none left is logged", results: []error{errMissing},
			strategies: listSelector{"a"},
			wantErr:    ErrExhausted, wantLevels: []int{0, 1},
			wantOutcomes: []string{"retry", "none_left"}, wantSuccess: []bool{false, false},
		},
		{
			name: "abort stops", results: []error{errMissing},
			strategies: listSelector{"a", "b"},
			out:        map[string]abi.Result{"a": {Outcome: abi.OutcomeAbort, Message: "needs a human"}},
			wantErr:    ErrAborted, wantLevels: []int{0},
			wantOutcomes: []string{"abort"}, wantSuccess: []bool{false},
		},
		{
			name: "broken strategy degrades to strict retry", results: []error{errMissing, nil},
			strategies: listSelector{"a"},
			errs:       map[string]error{"a": errors.New("plugin trapped")},
			wantOK:     true, wantLevels: []int{0, 0},
			wantOutcomes: []string{"strategy_error"}, wantSuccess: []bool{true},
		},
		{
			name: "done counts without repeating", results: []error{errMissing},
			strategies: listSelector{"use_cached_version"},
			out:        map[string]abi.Result{"use_cached_version": {Outcome: abi.OutcomeDone}},
			wantOK:     true, wantLevels: []int{0},
			wantOutcomes: []string{"done"}, wantSuccess: []bool{true},
		},
		{
			name: "use element acts on the element at the healing level", results: []error{errMissing, nil},
			strategies: listSelector{"use_alternative_selector"},
			out: map[string]abi.Result{"use_alternative_selector": {Outcome: abi.OutcomeUseElement,
				Element: &abi.Element{Tag: "button", XPath: "/html[1]/body[1]/div[1]/button[1]"}}},
			wantOK: true, wantLevels: []int{0, 1},
			wantOutcomes: []string{"use_element"}, wantSuccess: []bool{true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			actor := &scriptedActor{results: tt.results}
			rec := &memRecorder{}
			cfg := DefaultConfig()
			cfg.Jitter = 0
			ex := New(cfg, actor, typeClassifier("element_not_found"), tt.strategies,
				&outcomeHealer{out: tt.out, errs: tt.errs}, rec, WithClock(newFakeClock()))
			rep := ex.Execute(context.Background(), Step{Action: click(), SessionID: "s1", ActionKey: "flow/1"})
			if rep.OK != tt.wantOK {
				t.Fatalf("OK = %v, want %v (err %v)", rep.OK, tt.wantOK, rep.Err)
			}
			if tt.wantErr != nil && !errors.Is(rep.Err, tt.wantErr) {
				t.Errorf("err = %v, want %v", rep.Err, tt.wantErr)
			}
			if fmt.Sprint(actor.levels) != fmt.Sprint(tt.wantLevels) {
				t.Errorf("levels = %v, want %v", actor.levels, tt.wantLevels)
			}
			var outcomes []string
			var success []bool
			for _, a := range rec.attempts {
				outcomes = append(outcomes, a.Outcome)
				success = append(success, a.Success)
				if a.SessionID != "s1" || a.ActionKey != "flow/1" || a.ErrorType != "element_not_found" {
					t.Errorf("attempt lacks identity: %+v", a)
				}
			}
			if fmt.Sprint(outcomes) != fmt.Sprint(tt.wantOutcomes) || fmt.Sprint(success) != fmt.Sprint(tt.wantSuccess) {
				t.Errorf("recorded %v %v, want %v %v", outcomes, success, tt.wantOutcomes, tt.wantSuccess)
			}
		})
	}
}

func TestUseElementTarget(t *testing.T) {
	actor := &scriptedActor{results: []error{errMissing, nil}}
	el := &abi.Element{Tag: "a", XPath: "/html[1]/body[1]/a[2]"}
	h := &outcomeHealer{out: map[string]abi.Result{"s": {Outcome: abi.OutcomeUseElement, Element: el}}}
	ex := New(DefaultConfig(), actor, typeClassifier("x"), listSelector{"s"}, h, nil, WithClock(newFakeClock()))
	if rep := ex.Execute(context.Background(), Step{Action: click()}); !rep.OK {
		t.Fatal(rep.Err)
	}
	if got := actor.calls[1].Target; got == nil || got.XPath != el.XPath {
		t.Fatalf("retried target = %+v, want xpath %s", got, el.XPath)
	}
	// A point-only result becomes a point target.
	actor = &scriptedActor{results: []error{errMissing, nil}}
	h = &outcomeHealer{out: map[string]abi.Result{"s": {Outcome: abi.OutcomeUseElement, Point: &abi.Point{X: 12, Y: 34}}}}
	ex = New(DefaultConfig(), actor, typeClassifier("x"), listSelector{"s"}, h, nil, WithClock(newFakeClock()))
	ex.Execute(context.Background(), Step{Action: click()})
	if tgt := actor.calls[1].Target; !IsPointTarget(tgt) || tgt.Fingerprint.Rect.X != 12 || tgt.Fingerprint.Rect.Y != 34 {
		t.Fatalf("point target = %+v", tgt)
	}
}

func TestRetryOverrides(t *testing.T) {
	actor := &scriptedActor{results: []error{errMissing, nil}}
	alt := &abi.Target{CSS: ".buy"}
	h := &outcomeHealer{out: map[string]abi.Result{"s": {Outcome: abi.OutcomeRetry,
		Retry: &abi.RetryOptions{TimeoutMS: 10000, DelayMS: 1500, Target: alt}}}}
	clock := newFakeClock()
	cfg := DefaultConfig()
	cfg.Jitter = 0
	ex := New(cfg, actor, typeClassifier("timeout"), listSelector{"s"}, h, nil, WithClock(clock))
	if rep := ex.Execute(context.Background(), Step{Action: click()}); !rep.OK {
		t.Fatal(rep.Err)
	}
	if a := actor.calls[1]; a.TimeoutMS != 10000 || a.Target != alt {
		t.Errorf("retried action = %+v", a)
	}
	if fmt.Sprint(clock.sleeps) != fmt.Sprint([]time.Duration{200 * time.Millisecond, 1500 * time.Millisecond}) {
		t.Errorf("sleeps = %v", clock.sleeps)
	}
}

func TestRequestCarriesContext(t *testing.T) {
	actor := &scriptedActor{results: []error{errMissing, errMissing, nil}}
	h := &outcomeHealer{}
	ex := New(DefaultConfig(), actor, typeClassifier("element_not_found"), listSelector{"a", "b"}, h, nil, WithClock(newFakeClock()))
	ex.Execute(context.Background(), Step{Action: click(), SessionID: "s"})
	if len(h.reqs) != 2 {
		t.Fatalf("%d requests", len(h.reqs))
	}
	r := h.reqs[1]
	if r.Strategy != "b" || r.Attempt != 2 || r.Healing != DefaultProfile(2) || r.Error.Type != "element_not_found" ||
		!strings.Contains(r.Error.Message, "#buy") || fmt.Sprint(r.Tried) != "[a]" || r.PageURL == "" || r.SessionID != "s" {
		t.Errorf("request = %+v", r)
	}
}

func TestRecorderFailureNeverFailsTheAction(t *testing.T) {
	actor := &scriptedActor{results: []error{errMissing, nil}}
	rec := &memRecorder{fail: errors.New("database down")}
	ex := New(DefaultConfig(), actor, typeClassifier("x"), listSelector{"a"}, &outcomeHealer{}, rec, WithClock(newFakeClock()))
	if rep := ex.Execute(context.Background(), Step{Action: click()}); !rep.OK {
		t.Fatalf("action failed because of the recorder: %v", rep.Err)
	}
	if len(rec.attempts) != 1 {
		t.Errorf("recorded %d", len(rec.attempts))
	}
}

func TestCancellationStopsAndLogs(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	actor := &scriptedActor{results: []error{errMissing}}
	rec := &memRecorder{}
	h := cancellingHealer{cancel: cancel}
	ex := New(DefaultConfig(), actor, typeClassifier("x"), listSelector{"a", "b", "c"}, h, rec, WithClock(newFakeClock()))
	rep := ex.Execute(ctx, Step{Action: click()})
	if rep.OK || !errors.Is(rep.Err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", rep.Err)
	}
	if len(rec.attempts) == 0 {
		t.Fatal("cancelled action logged nothing")
	}
	if n := len(actor.levels); n > 2 {
		t.Errorf("kept acting after cancel: %d performs", n)
	}
}

type cancellingHealer struct{ cancel func() }

func (h cancellingHealer) Heal(ctx context.Context, _ string, _ abi.Request) (abi.Result, error) {
	h.cancel()
	return abi.Result{}, ctx.Err()
}

func TestBackoffDelay(t *testing.T) {
	tests := []struct {
		base time.Duration
		i    int
		want time.Duration
	}{
		{100 * time.Millisecond, 0, 100 * time.Millisecond},
		{100 * time.Millisecond, 3, 800 * time.Millisecond},
		{0, 5, 0},
		{time.Second, 100, time.Duration(1<<63 - 1)},
	}
	for _, tt := range tests {
		if got := BackoffDelay(tt.base, tt.i); got != tt.want {
			t.Errorf("BackoffDelay(%v, %d) = %v, want %v", tt.base, tt.i, got, tt.want)
		}
	}
}

// genScenario draws a random healing scenario.
func genScenario(t *rapid.T) (results []error, strategies listSelector, out map[string]abi.Result, retries int) {
	n := rapid.IntRange(1, 8).Draw(t, "performs")
	for i := 0; i < n; i++ {
		if rapid.Bool().Draw(t, fmt.Sprint("ok", i)) {
			results = append(results, nil)
		} else {
			results = append(results, errMissing)
		}
	}
	ns := rapid.IntRange(0, 5).Draw(t, "strategies")
	out = map[string]abi.Result{}
	outcomes := []abi.Outcome{abi.OutcomeRetry, abi.OutcomeGiveUp, abi.OutcomeUseElement, abi.OutcomeRetry}
	for i := 0; i < ns; i++ {
		name := fmt.Sprint("s", i)
		strategies = append(strategies, name)
		o := rapid.SampledFrom(outcomes).Draw(t, "outcome")
		r := abi.Result{Outcome: o}
		if o == abi.OutcomeUseElement {
			r.Element = &abi.Element{XPath: "/html[1]"}
		}
		out[name] = r
	}
	return results, strategies, out, rapid.IntRange(1, 6).Draw(t, "retries")
}

// Seed property 2: after any execution the healing counter is back at 0:
// every Execute starts strictly, and within one execution the level of a
// healed attempt is its retry index + 1, never more.
func TestPropertyCounterReset(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		results, strategies, out, retries := genScenario(t)
		actor := &scriptedActor{results: results}
		cfg := DefaultConfig()
		cfg.MaxRetries = retries
		ex := New(cfg, actor, typeClassifier("x"), strategies, &outcomeHealer{out: out}, nil, WithClock(newFakeClock()))
		for run := 0; run < 3; run++ {
			before := len(actor.levels)
			rep := ex.Execute(context.Background(), Step{Action: click()})
			levels := actor.levels[before:]
			if len(levels) == 0 || levels[0] != 0 {
				t.Fatalf("run %d started at level %v", run, levels)
			}
			for _, l := range levels[1:] {
				if l < 1 || l > retries {
					t.Fatalf("level %d outside 1..%d: %v", l, retries, levels)
				}
			}
			if rep.OK && rep.Final != levels[len(levels)-1] {
				t.Fatalf("final level %d, last perform at %d", rep.Final, levels[len(levels)-1])
			}
		}
	})
}

// Seed property 6: the delay before retry i is backoff * 2^i (jitter only
// shortens it by at most the jitter fraction) whatever the outcomes.
func TestPropertyBackoffTiming(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		results, strategies, out, retries := genScenario(t)
		base := time.Duration(rapid.IntRange(1, 2000).Draw(t, "backoff_ms")) * time.Millisecond
		jitter := rapid.Float64Range(0, 1).Draw(t, "jitter")
		cfg := DefaultConfig()
		cfg.MaxRetries, cfg.Backoff, cfg.Jitter, cfg.Budget = retries, base, jitter, 0
		clock := newFakeClock()
		ex := New(cfg, &scriptedActor{results: results}, typeClassifier("x"), strategies,
			&outcomeHealer{out: out}, nil, WithClock(clock))
		ex.Execute(context.Background(), Step{Action: click()})
		for i, d := range clock.sleeps {
			full := BackoffDelay(base, i)
			low := full - time.Duration(float64(full)*jitter) - 1
			if d > full || d < low {
				t.Fatalf("sleep %d = %v, want within [%v, %v]", i, d, low, full)
			}
		}
	})
}

// Seed property 7: every healing attempt is recorded with its level,
// success, strategy, criteria, duration and timestamp.
func TestPropertyMetricsRecording(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		results, strategies, out, retries := genScenario(t)
		cfg := DefaultConfig()
		cfg.MaxRetries = retries
		rec := &memRecorder{}
		h := &outcomeHealer{out: out}
		ex := New(cfg, &scriptedActor{results: results}, typeClassifier("x"), strategies, h, rec, WithClock(newFakeClock()))
		rep := ex.Execute(context.Background(), Step{Action: click()})
		strategyRecords := 0
		for _, a := range rec.attempts {
			m := a.Metrics
			if m.Timestamp.IsZero() || m.AttemptLevel < 1 || m.DurationMS < 0 {
				t.Fatalf("incomplete metrics %+v", m)
			}
			if a.Outcome == "none_left" {
				continue
			}
			strategyRecords++
			if m.StrategyUsed != a.Strategy || m.Success != a.Success || m.OriginalCriteria == nil || m.RelaxedCriteria == nil ||
				m.RelaxedCriteria.Level != m.AttemptLevel {
				t.Fatalf("metrics disagree with the attempt: %+v / %+v", a, m)
			}
		}
		if strategyRecords != len(h.reqs) {
			t.Fatalf("%d strategy calls, %d recorded", len(h.reqs), strategyRecords)
		}
		if !rep.OK && len(results) > 0 && results[0] != nil && len(rec.attempts) == 0 {
			t.Fatal("a failed action recorded nothing")
		}
	})
}

// recordingSelector records the queries it is asked.
type recordingSelector struct {
	listSelector
	queries []SelectQuery
}

func (s *recordingSelector) Next(ctx context.Context, q SelectQuery) (Choice, bool) {
	s.queries = append(s.queries, q)
	return s.listSelector.Next(ctx, q)
}

// When the error type changes between retries, the new type's escalation
// starts at its first strategy; strategies tried for the old type are not
// repeated.
func TestRetryCountPerErrorType(t *testing.T) {
	errIntercepted := errors.New("Click failed: intercepted")
	actor := &scriptedActor{results: []error{errMissing, errIntercepted, errIntercepted, nil}}
	sel := &recordingSelector{listSelector: listSelector{"a", "b", "c"}}
	byMsg := classifierByMessage{"intercepted": "click_intercepted"}
	ex := New(DefaultConfig(), actor, byMsg, sel, &outcomeHealer{}, nil, WithClock(newFakeClock()))
	if rep := ex.Execute(context.Background(), Step{Action: click()}); !rep.OK {
		t.Fatal(rep.Err)
	}
	var got []string
	for _, q := range sel.queries {
		got = append(got, fmt.Sprintf("%s/%d/%v", q.ErrorType, q.RetryCount, q.Tried))
	}
	want := []string{"element_not_found/0/[]", "click_intercepted/0/[a]", "click_intercepted/1/[a b]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("queries = %v, want %v", got, want)
	}
}

type classifierByMessage map[string]string

func (c classifierByMessage) Classify(err error) Classification {
	for sub, typ := range c {
		if strings.Contains(err.Error(), sub) {
			return Classification{Type: typ}
		}
	}
	return Classification{Type: "element_not_found"}
}

func TestFixedStrategiesGetPatternParams(t *testing.T) {
	actor := &scriptedActor{results: []error{errMissing, nil}}
	h := &outcomeHealer{}
	params := func(errorType, strategy string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"for":%q}`, errorType+"/"+strategy))
	}
	ex := New(DefaultConfig(), actor, typeClassifier("timeout"), listSelector{"ignored"}, h, nil,
		WithClock(newFakeClock()), WithParams(params))
	if rep := ex.Execute(context.Background(), Step{Action: click(), Strategies: []string{"reload_page"}}); !rep.OK {
		t.Fatal(rep.Err)
	}
	if len(h.reqs) != 1 || h.reqs[0].Strategy != "reload_page" || string(h.reqs[0].Config) != `{"for":"timeout/reload_page"}` {
		t.Fatalf("requests = %+v", h.reqs)
	}
}

func TestUnrecoverableStopsHealing(t *testing.T) {
	crash := fmt.Errorf("%w: chromium is not running", ErrUnrecoverable)
	actor := &scriptedActor{results: []error{crash}}
	h := &outcomeHealer{}
	ex := New(DefaultConfig(), actor, typeClassifier("x"), listSelector{"a", "b"}, h, nil, WithClock(newFakeClock()))
	rep := ex.Execute(context.Background(), Step{Action: click()})
	if rep.OK || !errors.Is(rep.Err, ErrUnrecoverable) || len(h.reqs) != 0 || len(actor.levels) != 1 {
		t.Fatalf("report %+v after %d strategy calls and %d performs", rep, len(h.reqs), len(actor.levels))
	}
}

func TestNegativeMaxRetriesDisablesHealing(t *testing.T) {
	actor := &scriptedActor{results: []error{errMissing, nil}}
	h := &outcomeHealer{}
	ex := New(DefaultConfig(), actor, typeClassifier("x"), listSelector{"a"}, h, nil, WithClock(newFakeClock()))
	rep := ex.Execute(context.Background(), Step{Action: click(), MaxRetries: -1})
	if rep.OK || len(h.reqs) != 0 || len(actor.levels) != 1 || !errors.Is(rep.Err, ErrExhausted) {
		t.Fatalf("report %+v, %d strategy calls, %d performs", rep, len(h.reqs), len(actor.levels))
	}
}
