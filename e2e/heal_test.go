package e2e

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	engine "github.com/selfheal/engine"
	"github.com/selfheal/engine/abi"
)

// attempt is an expected healing attempt, in order.
type attempt struct {
	strategy string // "" for the final "no strategy left" row
	success  bool
}

// scenario is one error pattern produced by the site and healed by the
// engine.
type scenario struct {
	name string
	// prepare loads the page and arranges the failure; it returns the step
	// that fails at first.
	prepare func(t *testing.T, ctx context.Context, s *engine.Session, site string) engine.Step
	// errorType and attempts are what the report and the history must show.
	errorType string
	attempts  []attempt
	// title, when set, is the page title the healed action must produce.
	title string
	check func(t *testing.T, rep engine.StepReport)
}

func TestHealing(t *testing.T) {
	site := newSite(t).URL
	for _, sc := range []scenario{
		{
			name: "element appearing late/wait_longer",
			prepare: func(t *testing.T, ctx context.Context, s *engine.Session, site string) engine.Step {
				navigate(t, ctx, s, site+"/late")
				return click("e2e/late", &abi.Target{CSS: "#late-btn"})
			},
			errorType: "element_not_found",
			attempts:  []attempt{{"wait_longer", true}},
			title:     "done: late",
		},
		{
			name: "element rendered on scroll/scroll_into_view",
			prepare: func(t *testing.T, ctx context.Context, s *engine.Session, site string) engine.Step {
				navigate(t, ctx, s, site+"/lazy")
				return click("e2e/lazy", &abi.Target{CSS: "#lazy-btn"})
			},
			errorType: "element_not_found",
			// wait_longer cannot help: nothing renders until the page scrolls.
			attempts: []attempt{{"wait_longer", false}, {"scroll_into_view", true}},
			title:    "done: lazy",
		},
		{
			name: "id renamed between loads/fingerprint",
			prepare: func(t *testing.T, ctx context.Context, s *engine.Session, site string) engine.Step {
				navigate(t, ctx, s, site+"/renamed?v=1")
				first := s.Do(ctx, click("e2e/renamed", &abi.Target{CSS: "#buy-now"}))
				if first.Status != "passed" || len(first.Attempts) != 0 || first.Element == nil {
					t.Fatalf("first load: want a plain pass that records the element, got %+v", first)
				}
				navigate(t, ctx, s, site+"/renamed?v=2")
				return click("e2e/renamed", &abi.Target{CSS: "#buy-now"})
			},
			errorType: "element_not_found",
			attempts:  []attempt{{"wait_longer", false}, {"scroll_into_view", true}},
			title:     "done: renamed",
			check: func(t *testing.T, rep engine.StepReport) {
				if rep.Element == nil || rep.Element.Record == nil || rep.Element.Record.Attrs["id"] != "purchase-cta-7f3a" {
					t.Errorf("healed element: want the renamed button #purchase-cta-7f3a, got %+v", rep.Element)
				}
				if last := rep.Attempts[len(rep.Attempts)-1]; last.HealingLevel < 1 {
					t.Errorf("the fingerprint healed at level %d, want a relaxed level", last.HealingLevel)
				}
			},
		},
		{
			name: "option added late/wait_and_retry",
			prepare: func(t *testing.T, ctx context.Context, s *engine.Session, site string) engine.Step {
				navigate(t, ctx, s, site+"/shipping")
				return engine.Step{Key: "e2e/shipping", Action: abi.Action{Kind: abi.ActionSelect,
					Target: &abi.Target{CSS: "#shipping"}, Value: "Express", TimeoutMS: 300}}
			},
			errorType: "action_execution_failure",
			attempts:  []attempt{{"wait_and_retry", true}},
			title:     "done: express",
		},
		{
			// The seed's action_execution_failure lists no strategy for an
			// intercepted click; the defaults' click_intercepted pattern,
			// matched first, tries dismiss_overlay first.
			name: "overlay intercepting the click/dismiss_overlay",
			prepare: func(t *testing.T, ctx context.Context, s *engine.Session, site string) engine.Step {
				navigate(t, ctx, s, site+"/overlay")
				return click("e2e/overlay", &abi.Target{CSS: "#checkout"})
			},
			errorType: "click_intercepted",
			attempts:  []attempt{{"dismiss_overlay", true}},
			title:     "done: overlay",
		},
		{
			// A step's own strategy list replaces learned selection.
			name: "overlay intercepting the click/step strategies",
			prepare: func(t *testing.T, ctx context.Context, s *engine.Session, site string) engine.Step {
				navigate(t, ctx, s, site+"/overlay")
				st := click("e2e/overlay-fixed", &abi.Target{CSS: "#checkout"})
				st.Strategies = []string{"wait_and_retry", "dismiss_overlay"}
				return st
			},
			errorType: "click_intercepted",
			attempts:  []attempt{{"wait_and_retry", false}, {"dismiss_overlay", true}},
			title:     "done: overlay",
		},
		{
			name: "server refusing connections/retry_navigation",
			prepare: func(t *testing.T, ctx context.Context, s *engine.Session, site string) engine.Step {
				addr := refusedAddr(t)
				reopen := time.AfterFunc(time.Second, func() {
					srv, err := serveOn(addr)
					if err != nil {
						t.Errorf("reopening %s: %v", addr, err)
						return
					}
					t.Cleanup(func() { srv.Close() })
				})
				t.Cleanup(func() { reopen.Stop() })
				return engine.Step{Key: "e2e/refused", Action: abi.Action{Kind: abi.ActionNavigate,
					URL: "http://" + addr + "/checkout", TimeoutMS: 3000}}
			},
			errorType: "page_load_failure",
			attempts:  []attempt{{"retry_navigation", true}},
			title:     "Recovered",
		},
		{
			name: "network offline then online/wait_for_reconnection",
			prepare: func(t *testing.T, ctx context.Context, s *engine.Session, site string) engine.Step {
				navigate(t, ctx, s, site+"/online?n=1")
				if err := s.SetOffline(ctx, true); err != nil {
					t.Fatal(err)
				}
				back := time.AfterFunc(1500*time.Millisecond, func() {
					if err := s.SetOffline(context.Background(), false); err != nil {
						t.Errorf("going back online: %v", err)
					}
				})
				t.Cleanup(func() { back.Stop() })
				return engine.Step{Key: "e2e/offline", Action: abi.Action{Kind: abi.ActionNavigate,
					URL: site + "/online?n=2", TimeoutMS: 3000}}
			},
			errorType: "network_error",
			attempts:  []attempt{{"wait_for_reconnection", true}},
			title:     "Online 2",
		},
		{
			name: "challenge page that clears/wait_for_manual_intervention",
			prepare: func(t *testing.T, ctx context.Context, s *engine.Session, site string) engine.Step {
				navigate(t, ctx, s, site+"/challenge/account")
				return click("e2e/challenge", &abi.Target{CSS: "#orders"})
			},
			errorType: "security_challenge",
			attempts:  []attempt{{"wait_for_manual_intervention", true}},
			title:     "done: challenge",
		},
		{
			name: "page that stalls/retry_with_longer_timeout",
			prepare: func(t *testing.T, ctx context.Context, s *engine.Session, site string) engine.Step {
				navigate(t, ctx, s, site+"/plain")
				return engine.Step{Key: "e2e/stall", Action: abi.Action{Kind: abi.ActionNavigate,
					URL: site + "/stall", TimeoutMS: stallFor.Milliseconds() * 2 / 3}}
			},
			errorType: "timeout",
			attempts:  []attempt{{"retry_with_longer_timeout", true}},
			title:     "Report",
		},
	} {
		t.Run(sc.name, func(t *testing.T) {
			runScenario(t, sc, site)
		})
	}
}

// TestUnhealable checks that a step no strategy can heal fails with every
// attempt logged, the last one saying that no strategy was left.
func TestUnhealable(t *testing.T) {
	site := newSite(t).URL
	runScenario(t, scenario{
		prepare: func(t *testing.T, ctx context.Context, s *engine.Session, site string) engine.Step {
			navigate(t, ctx, s, site+"/plain")
			st := click("e2e/unhealable", &abi.Target{CSS: "#nowhere", Text: "Nowhere to be found"})
			// One retry more than the pattern has strategies, so that
			// selection runs dry.
			st.Retries = 4
			return st
		},
		errorType: "element_not_found",
		attempts: []attempt{{"wait_longer", false}, {"scroll_into_view", false},
			{"use_vision_fallback", false}, {"", false}},
		check: func(t *testing.T, rep engine.StepReport) {
			if rep.Status != "failed" || !strings.Contains(rep.Error, "recovery strategies exhausted") {
				t.Errorf("want a failed step whose error says the strategies ran out, got %q: %s", rep.Status, rep.Error)
			}
			if last := rep.Attempts[len(rep.Attempts)-1]; last.Outcome != "none_left" {
				t.Errorf("last attempt outcome %q, want none_left", last.Outcome)
			}
		},
	}, site)
}

func runScenario(t *testing.T, sc scenario, site string) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s, err := eng.OpenSession(ctx, engine.SessionOptions{Name: t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := stats(t, ctx)

	step := sc.prepare(t, ctx, s, site)
	rep := s.Do(ctx, step)
	t.Logf("%s: %s in %.0f ms, attempts:", rep.Action, rep.Status, rep.DurationMS)
	for _, a := range rep.Attempts {
		t.Logf("  %s/%s level %d: %s (%v) %.0f ms: %s", a.ErrorType, a.Strategy, a.HealingLevel, a.Outcome, a.Success, a.DurationMS, a.Message)
	}

	healed := len(sc.attempts) > 0 && sc.attempts[len(sc.attempts)-1].success
	if healed && (rep.Status != "passed" || !rep.Healed) {
		t.Fatalf("step %s (healed %v), want passed and healed: %s", rep.Status, rep.Healed, rep.Error)
	}
	if rep.ErrorType != sc.errorType {
		t.Errorf("report error type %q, want %q", rep.ErrorType, sc.errorType)
	}
	if len(rep.Attempts) != len(sc.attempts) {
		t.Fatalf("report has %d attempts, want %d (%v)", len(rep.Attempts), len(sc.attempts), sc.attempts)
	}
	for i, want := range sc.attempts {
		got := rep.Attempts[i]
		if got.ErrorType != sc.errorType || got.Strategy != want.strategy || got.Success != want.success {
			t.Errorf("report attempt %d: %s/%s success %v, want %s/%s success %v",
				i, got.ErrorType, got.Strategy, got.Success, sc.errorType, want.strategy, want.success)
		}
	}
	if sc.title != "" {
		if got := title(t, ctx, s); got != sc.title {
			t.Errorf("page title %q after healing, want %q: the action did not really happen", got, sc.title)
		}
	}
	if sc.check != nil {
		sc.check(t, rep)
	}

	if err := eng.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	checkHistory(t, ctx, s.ID, sc)
	checkStats(t, before, stats(t, ctx), sc)
}

// checkHistory compares the session's stored attempts with the scenario's.
func checkHistory(t *testing.T, ctx context.Context, sessionID string, sc scenario) {
	t.Helper()
	rows, err := eng.History(ctx, sessionID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(sc.attempts) {
		t.Fatalf("history holds %d attempts for the session, want %d", len(rows), len(sc.attempts))
	}
	for i, want := range sc.attempts {
		r := rows[i]
		if r.ErrorType != sc.errorType || r.Strategy != want.strategy || r.Success != want.success || r.RetryCount != i {
			t.Errorf("history row %d: %s/%s success %v retry %d, want %s/%s success %v retry %d",
				i, r.ErrorType, r.Strategy, r.Success, r.RetryCount, sc.errorType, want.strategy, want.success, i)
		}
		if r.ErrorMessage == "" {
			t.Errorf("history row %d has no error message", i)
		}
		var c struct {
			Outcome string `json:"outcome"`
			Metrics struct {
				AttemptLevel int     `json:"attempt_level"`
				Success      bool    `json:"success"`
				StrategyUsed string  `json:"strategy_used"`
				DurationMS   float64 `json:"duration_ms"`
				Relaxed      *struct {
					MinRatio float64 `json:"min_ratio"`
				} `json:"relaxed_criteria"`
			} `json:"metrics"`
		}
		if err := json.Unmarshal(r.Context, &c); err != nil {
			t.Errorf("history row %d context %s: %v", i, r.Context, err)
			continue
		}
		m := c.Metrics
		if m.AttemptLevel != i+1 {
			t.Errorf("history row %d: metrics attempt level %d, want %d", i, m.AttemptLevel, i+1)
		}
		if want.strategy == "" {
			if c.Outcome != "none_left" {
				t.Errorf("history row %d: outcome %q, want none_left", i, c.Outcome)
			}
			continue
		}
		if m.Success != want.success || m.StrategyUsed != want.strategy || m.Relaxed == nil || m.Relaxed.MinRatio <= 0 || m.DurationMS <= 0 {
			t.Errorf("history row %d: metrics %s, want the strategy, success, a relaxed profile and a duration", i, r.Context)
		}
	}
}

type statKey struct{ errorType, strategy string }

type statVal struct {
	total     int64
	successes int64
}

func stats(t *testing.T, ctx context.Context) map[statKey]statVal {
	t.Helper()
	rows, err := eng.Stats(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[statKey]statVal{}
	for _, r := range rows {
		succ := r.SuccessRate * float64(r.TotalAttempts) / 100
		if math.Abs(succ-math.Round(succ)) > 1e-6 {
			t.Fatalf("stats %s/%s: rate %v of %d attempts is no whole number of successes", r.ErrorType, r.Strategy, r.SuccessRate, r.TotalAttempts)
		}
		out[statKey{r.ErrorType, r.Strategy}] = statVal{total: r.TotalAttempts, successes: int64(math.Round(succ))}
	}
	return out
}

// checkStats checks that the success rates moved by exactly the scenario's
// attempts and nothing else (tests run one at a time).
func checkStats(t *testing.T, before, after map[statKey]statVal, sc scenario) {
	t.Helper()
	want := map[statKey]statVal{}
	for _, a := range sc.attempts {
		k := statKey{sc.errorType, a.strategy}
		v := want[k]
		v.total++
		if a.success {
			v.successes++
		}
		want[k] = v
	}
	keys := map[statKey]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	for k := range keys {
		d := statVal{total: after[k].total - before[k].total, successes: after[k].successes - before[k].successes}
		if d != want[k] {
			t.Errorf("stats %s/%q moved by %d attempts, %d successes; want %d, %d",
				k.errorType, k.strategy, d.total, d.successes, want[k].total, want[k].successes)
		}
	}
}

func click(key string, target *abi.Target) engine.Step {
	return engine.Step{Key: key, Action: abi.Action{Kind: abi.ActionClick, Target: target, TimeoutMS: 300}}
}

// navigate loads a page; it must not need healing.
func navigate(t *testing.T, ctx context.Context, s *engine.Session, url string) {
	t.Helper()
	rep := s.Do(ctx, engine.Step{Action: abi.Action{Kind: abi.ActionNavigate, URL: url, TimeoutMS: 10000}})
	if rep.Status != "passed" || len(rep.Attempts) != 0 {
		t.Fatalf("loading %s: %s with %d attempts: %s", url, rep.Status, len(rep.Attempts), rep.Error)
	}
}

func title(t *testing.T, ctx context.Context, s *engine.Session) string {
	t.Helper()
	snap, err := s.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return snap.Title
}

// refusedAddr returns a local address nothing listens on.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
