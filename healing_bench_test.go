package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/internal/executor"
	"github.com/selfheal/engine/internal/history"
	"github.com/selfheal/engine/resolver"
)

// BenchmarkHealingOverhead measures the engine's own cost of one healing
// attempt: the normal attempt's error is classified, a strategy selected
// (the seed's order), the built-in wasm strategy called with its host calls
// answered by an in-memory page, the action retried, and the attempt
// queued for the history store. The page answers at once and the chosen
// strategies never sleep, so no browser time or deliberate wait is in the
// figures. Besides ns/op and allocs/op it reports the p50 and p99 of the
// iterations, each timed on its own.
//
//	go test -run '^$' -bench HealingOverhead -benchmem -count 5 .
func BenchmarkHealingOverhead(b *testing.B) {
	cases := []struct {
		name string
		// err is the normal attempt's failure, as the browser actor words it.
		err    error
		action abi.Action
		want   string // the strategy that must heal
	}{{
		name: "retry_with_longer_timeout",
		err: &ActionError{Kind: abi.ActionAssertText, Target: "page",
			Err: fmt.Errorf("%w: no text containing %q on https://shop.test/report (Timeout of 5s exceeded)", ErrAssertion, "Report ready")},
		action: abi.Action{Kind: abi.ActionAssertText, Value: "Report ready", TimeoutMS: 5000},
		want:   "retry_with_longer_timeout",
	}, {
		name: "use_alternative_selector",
		err: &ActionError{Kind: abi.ActionClick, Target: `css="#buy-old" text="Buy now"`,
			Err: errors.New("the element is detached from the document")},
		action: abi.Action{Kind: abi.ActionClick, Target: &abi.Target{CSS: "#buy-old", Text: "Buy now", Role: "button"}},
		want:   "use_alternative_selector",
	}}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			e, sessionID := benchEngine(b)
			page := &benchPage{snap: benchSnapshot()}
			actor := &benchActor{err: bc.err}
			ex := executor.New(executor.Config{MaxRetries: 1, Profile: resolver.Profile}, actor,
				classifierFunc(e.classifyForExecutor), e.selector,
				sessionHealer{registry: e.registry, env: host.Env{Browser: page,
					Resolver: resolver.NewService(page.Snapshot, resolver.Default), Logger: e.log.Named("plugin")}},
				attemptRecorder{rec: e.recorder, sessionID: sessionID})
			ctx := context.Background()
			step := executor.Step{Action: bc.action, SessionID: sessionID, ActionKey: "bench/" + bc.name, Host: "shop.test"}

			// One checked run: the strategy heals, so the figures are of a
			// real recovery, not of an early refusal.
			rep := ex.Execute(ctx, step)
			if !rep.OK || len(rep.Attempts) != 1 || rep.Attempts[0].Strategy != bc.want || !rep.Attempts[0].Success {
				b.Fatalf("want one successful %s attempt, got ok=%v err=%v attempts=%+v", bc.want, rep.OK, rep.Err, rep.Attempts)
			}

			samples := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				rep := ex.Execute(ctx, step)
				samples = append(samples, time.Since(start))
				if !rep.OK {
					b.Fatalf("iteration %d: %v", i, rep.Err)
				}
				if i%1000 == 999 {
					// Keep the recorder's queue from filling, which would
					// send attempts to the disk spool; the database writes
					// themselves run concurrently with the timed part.
					b.StopTimer()
					if err := e.Flush(ctx); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			}
			b.StopTimer()
			slices.Sort(samples)
			b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds())/1e3, "p50-us")
			b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds())/1e3, "p99-us")
		})
	}
}

// benchEngine starts an engine over a fresh SQLite file with the built-in
// strategies (and the examples) of build/plugins, in the seed's order, and records a session.
// The action_execution_failure chain is overridden to start with
// use_alternative_selector, since the default first strategy sleeps a
// second by design.
func benchEngine(b *testing.B) (*Engine, string) {
	b.Helper()
	ctx := context.Background()
	plugins, err := filepath.Abs(filepath.Join("build", "plugins"))
	if err == nil {
		_, err = os.Stat(filepath.Join(plugins, "selfheal.builtin", "manifest.toml"))
	}
	if err != nil {
		b.Fatalf("the built-in strategies are not built (%v); run `make wasm` first", err)
	}
	dir := b.TempDir()
	patterns := filepath.Join(dir, "patterns.toml")
	if err := os.WriteFile(patterns, []byte(`
[[pattern]]
name = "action_execution_failure"
[[pattern.strategy]]
name = "use_alternative_selector"
`), 0o644); err != nil {
		b.Fatal(err)
	}
	// The compilation cache outlives the run: compiling the Go guest takes
	// seconds without it.
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	shared := filepath.Join(base, "selfheal-bench", "wazero")
	cacheDir := filepath.Join(dir, "cache")
	if err := os.MkdirAll(shared, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.Symlink(shared, filepath.Join(cacheDir, "wazero")); err != nil {
		b.Fatal(err)
	}
	e, err := New(ctx, Config{DB: filepath.Join(dir, "history.db"), PluginDirs: []string{plugins}, PatternsFile: patterns,
		CacheDir: cacheDir, Ordered: true, Logger: hclog.NewNullLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			b.Error(err)
		}
	})
	s, err := e.store.CreateSession(ctx, history.Session{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return e, s.ID
}

// benchActor fails the normal attempt with err and succeeds at every
// healing level, at no cost.
type benchActor struct{ err error }

func (a *benchActor) Perform(_ context.Context, _ abi.Action, level int) (executor.Performed, error) {
	if level == 0 {
		return executor.Performed{}, a.err
	}
	return executor.Performed{}, nil
}

func (a *benchActor) PageURL(context.Context) string { return "https://shop.test/cart" }

// benchSnapshot is a small product page: 24 elements, one of them the
// "Buy now" button whose id changed.
func benchSnapshot() abi.Snapshot {
	snap := abi.Snapshot{URL: "https://shop.test/cart", Title: "Cart", Viewport: abi.Viewport{Width: 1280, Height: 800}}
	add := func(tag, role, text string, attrs map[string]string) {
		i := len(snap.Elements)
		snap.Elements = append(snap.Elements, abi.Element{Index: i, Tag: tag, Role: role, Name: text, Text: text,
			VisibleText: text, Attrs: attrs, XPath: fmt.Sprintf("/html[1]/body[1]/div[%d]/%s[1]", i+1, tag),
			Rect: abi.Rect{X: 40, Y: float64(30 + 32*i), Width: 160, Height: 28}, Visible: true, Enabled: true})
	}
	for i := range 10 {
		add("a", "link", fmt.Sprintf("Category %d", i), map[string]string{"href": fmt.Sprintf("/c/%d", i)})
	}
	for i := range 6 {
		add("p", "", fmt.Sprintf("Item %d, 1 x %d.00 EUR", i, 10+i), nil)
	}
	add("input", "textbox", "", map[string]string{"id": "coupon", "placeholder": "Coupon code"})
	add("button", "button", "Apply", map[string]string{"id": "apply"})
	add("button", "button", "Buy now", map[string]string{"id": "buy-7f3a", "class": "c-btn c-btn--main"})
	add("button", "button", "Continue shopping", map[string]string{"id": "continue"})
	add("a", "link", "Terms", map[string]string{"href": "/terms"})
	add("a", "link", "Privacy", map[string]string{"href": "/privacy"})
	add("label", "", "Gift wrap", map[string]string{"for": "gift"})
	add("input", "checkbox", "", map[string]string{"id": "gift", "type": "checkbox"})
	return snap
}

// benchPage is a page that answers every read and action at once: the
// benchmark counts the host's work, not a browser's.
type benchPage struct{ snap abi.Snapshot }

func (p *benchPage) PageInfo(context.Context) (abi.PageInfo, error) {
	return abi.PageInfo{URL: p.snap.URL, Title: p.snap.Title, ReadyState: "complete"}, nil
}
func (p *benchPage) Query(context.Context, abi.Query) ([]abi.Element, error) { return nil, nil }
func (p *benchPage) Exists(context.Context, abi.Query) (abi.ExistsResult, error) {
	return abi.ExistsResult{}, nil
}
func (p *benchPage) Snapshot(context.Context) (abi.Snapshot, error) { return p.snap, nil }
func (p *benchPage) NetworkState(context.Context) (abi.NetworkState, error) {
	return abi.NetworkState{Online: true, IdleMS: 1000}, nil
}
func (p *benchPage) Screenshot(context.Context, abi.ScreenshotRequest) (abi.Screenshot, error) {
	return abi.Screenshot{}, fmt.Errorf("%w: no screen", abi.ErrUnavailable)
}
func (p *benchPage) Click(context.Context, abi.Locator) (abi.ActResult, error) { return ok(), nil }
func (p *benchPage) Type(context.Context, abi.Locator) (abi.ActResult, error)  { return ok(), nil }
func (p *benchPage) Press(context.Context, abi.Locator) (abi.ActResult, error) { return ok(), nil }
func (p *benchPage) Hover(context.Context, abi.Locator) (abi.ActResult, error) { return ok(), nil }
func (p *benchPage) ScrollIntoView(context.Context, abi.Locator) (abi.ActResult, error) {
	return ok(), nil
}
func (p *benchPage) WaitForSelector(context.Context, abi.Locator) (abi.ActResult, error) {
	return ok(), nil
}
func (p *benchPage) Navigate(context.Context, abi.Navigation) (abi.ActResult, error) {
	return ok(), nil
}
func (p *benchPage) Reload(context.Context, abi.Navigation) (abi.ActResult, error) { return ok(), nil }
func (p *benchPage) Back(context.Context, abi.Navigation) (abi.ActResult, error)   { return ok(), nil }
func (p *benchPage) NewContext(context.Context, abi.Navigation) (abi.ActResult, error) {
	return ok(), nil
}
func (p *benchPage) LoadCached(context.Context, abi.Navigation) (abi.ActResult, error) {
	return ok(), nil
}
func (p *benchPage) WaitNetworkIdle(context.Context, abi.IdleRequest) (abi.ActResult, error) {
	return ok(), nil
}

func ok() abi.ActResult { return abi.ActResult{OK: true} }

var (
	_ host.Browser   = (*benchPage)(nil)
	_ executor.Actor = (*benchActor)(nil)
)

// BenchmarkHealingParts splits one healing attempt's overhead into its
// parts, to show where the time of BenchmarkHealingOverhead goes.
func BenchmarkHealingParts(b *testing.B) {
	e, sessionID := benchEngine(b)
	ctx := context.Background()
	page := &benchPage{snap: benchSnapshot()}
	env := host.Env{Browser: page, Resolver: resolver.NewService(page.Snapshot, resolver.Default), Logger: e.log.Named("plugin")}
	timeoutErr := &ActionError{Kind: abi.ActionAssertText, Target: "page",
		Err: fmt.Errorf("%w: no text containing %q on https://shop.test/report (Timeout of 5s exceeded)", ErrAssertion, "Report ready")}

	b.Run("classify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if c := e.classifyForExecutor(timeoutErr); c.Type != "timeout" {
				b.Fatal(c)
			}
		}
	})
	b.Run("select", func(b *testing.B) {
		q := executor.SelectQuery{ErrorType: "timeout", SessionID: sessionID, ActionKey: "bench/select", Host: "shop.test", ActionKind: abi.ActionAssertText}
		b.ReportAllocs()
		for b.Loop() {
			if c, ok := e.selector.Next(ctx, q); !ok || c.Strategy != "retry_with_longer_timeout" {
				b.Fatal(c, ok)
			}
		}
	})
	for _, strategy := range []string{"retry_with_longer_timeout", "use_alternative_selector"} {
		b.Run("wasm_call/"+strategy, func(b *testing.B) {
			req := abi.Request{Strategy: strategy, Error: abi.ErrorInfo{Type: "timeout", Message: timeoutErr.Error()},
				Action:  abi.Action{Kind: abi.ActionClick, Target: &abi.Target{CSS: "#buy-old", Text: "Buy now", Role: "button"}, TimeoutMS: 5000},
				Attempt: 1, Healing: resolver.Profile(1), SessionID: sessionID, PageURL: "https://shop.test/cart"}
			b.ReportAllocs()
			for b.Loop() {
				res, err := e.registry.Call(ctx, env, req)
				if err != nil || res.Outcome == abi.OutcomeGiveUp || res.Outcome == abi.OutcomeAbort {
					b.Fatal(res, err)
				}
			}
		})
	}
	b.Run("record", func(b *testing.B) {
		rec := attemptRecorder{rec: e.recorder, sessionID: sessionID}
		a := executor.Attempt{ErrorType: "timeout", ErrorMessage: timeoutErr.Error(), Strategy: "retry_with_longer_timeout",
			Success: true, Outcome: "retry", Metrics: executor.Metrics{AttemptLevel: 1, Success: true, StrategyUsed: "retry_with_longer_timeout",
				DurationMS: 0.2, Timestamp: time.Now()}, At: time.Now()}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := rec.Record(ctx, a); err != nil {
				b.Fatal(err)
			}
			if i++; i%1000 == 0 {
				b.StopTimer()
				if err := e.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		}
	})
}
