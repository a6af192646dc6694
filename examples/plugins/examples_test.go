// Tests of the example plugins as the engine runs them: each built module
// (make wasm writes them to build/plugins/) is loaded through package host
// and its strategies run against the hosttest fakes, checking that the host
// functions were really called. A second test checks that every module
// imports exactly the host functions its manifest's grants allow.
package plugins_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/tetratelabs/wazero"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/host/hosttest"
)

// builtDir is where make wasm puts the sealed examples.
var builtDir = filepath.Join("..", "..", "build", "plugins")

// examples lists each example with the exact heal_* imports its module must
// have: the least privilege the SDK and the sources promise.
var examples = []struct {
	id      string
	imports []string
}{
	{"go-wait-visible", []string{
		"heal_browser.exists", "heal_host.last_error", "heal_host.take", "heal_log.write",
		"heal_resolver.resolve", "heal_time.remaining_ms", "heal_time.sleep_ms",
	}},
	{"c-scroll", []string{
		"heal_browser_act.scroll_into_view", "heal_host.last_error", "heal_host.take", "heal_log.write",
	}},
	{"wat-pause", []string{"heal_log.write", "heal_time.sleep_ms"}},
}

func manifestPath(t testing.TB, id string) string {
	t.Helper()
	p := filepath.Join(builtDir, id, "manifest.toml")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("example %s is not built (%v): run `make wasm` at the repository root first", id, err)
	}
	return p
}

var (
	mu         sync.Mutex
	sharedRT   *host.Runtime
	loaded     = map[string]*host.Plugin{}
	runtimeErr error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedRT != nil {
		_ = sharedRT.Close(context.Background())
	}
	os.Exit(code)
}

// load returns the example plugin id, loaded once per test binary through
// one host runtime: compiling the Go guest dominates the test's time, and
// the on-disk cache under build/ makes later runs cheaper still.
func load(t testing.TB, id string) *host.Plugin {
	t.Helper()
	path := manifestPath(t, id)
	mu.Lock()
	defer mu.Unlock()
	if sharedRT == nil && runtimeErr == nil {
		cfg := host.NewConfig().WithCacheDir(filepath.Join(builtDir, "..", "cache", "examples"))
		sharedRT, runtimeErr = host.NewRuntime(context.Background(), cfg)
	}
	if runtimeErr != nil {
		t.Fatal(runtimeErr)
	}
	if p, ok := loaded[id]; ok {
		return p
	}
	p, err := sharedRT.Load(context.Background(), path)
	if err != nil {
		t.Fatalf("loading %s: %v", id, err)
	}
	loaded[id] = p
	return p
}

func TestImportsMatchGrants(t *testing.T) {
	ctx := context.Background()
	// The interpreter only decodes the module, which is all this test needs.
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	for _, ex := range examples {
		t.Run(ex.id, func(t *testing.T) {
			path := manifestPath(t, ex.id)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := host.ParseManifest(data, path)
			if err != nil {
				t.Fatal(err)
			}
			wasm, err := os.ReadFile(m.ModulePath())
			if err != nil {
				t.Fatal(err)
			}
			compiled, err := rt.CompileModule(ctx, wasm)
			if err != nil {
				t.Fatal(err)
			}
			var heal []string
			used := map[abi.Capability]bool{}
			for _, f := range compiled.ImportedFunctions() {
				mod, name, _ := f.Import()
				if mod == "wasi_snapshot_preview1" {
					continue
				}
				c, ok := abi.CapabilityOfModule(mod)
				if !ok {
					t.Errorf("imports %s.%s from a module that is not part of the ABI", mod, name)
					continue
				}
				heal = append(heal, mod+"."+name)
				if c != abi.CapHost {
					used[c] = true
				}
			}
			slices.Sort(heal)
			heal = slices.Compact(heal)
			if !slices.Equal(heal, ex.imports) {
				t.Errorf("heal imports\n got %v\nwant %v", heal, ex.imports)
			}
			grants := m.Grants()
			for _, g := range grants {
				if !used[g] {
					t.Errorf("manifest grants %q but the module imports nothing from %s", g, g.Module())
				}
			}
			for c := range used {
				if !slices.Contains(grants, c) {
					t.Errorf("module imports from %s but the manifest does not grant %q", c.Module(), c)
				}
			}
		})
	}
}

var buy = abi.Element{
	Tag: "button", Attrs: map[string]string{"id": "buy"}, Text: "Buy now", VisibleText: "Buy now", Name: "Buy now",
	XPath: "/html[1]/body[1]/main[1]/button[1]", Visible: true, Enabled: true,
	Rect: abi.Rect{X: 100, Y: 900, Width: 80, Height: 32},
}

func request(strategy string, target abi.Target, config string) abi.Request {
	req := abi.Request{
		Strategy: strategy,
		Error:    abi.ErrorInfo{Type: "element_not_found", Message: "waiting for " + target.CSS},
		Action:   abi.Action{Kind: abi.ActionClick, Target: &target, TimeoutMS: 5000},
		Attempt:  1,
		Healing:  abi.HealingProfile{Level: 1, MinRatio: 0.78, PadMul: 1.3, ExpandRoles: true},
	}
	if config != "" {
		req.Config = json.RawMessage(config)
	}
	return req
}

func TestGoWaitVisible(t *testing.T) {
	p := load(t, "go-wait-visible")
	ctx := context.Background()

	t.Run("wait_until_visible polls until visible", func(t *testing.T) {
		hidden := buy
		hidden.Visible = false
		f := hosttest.New("http://shop.test/", hidden)
		// The element becomes visible on the third check.
		f.Browser.Handle("Exists", func(ctx context.Context, arg any) (any, error) {
			n := len(f.Browser.CallsTo("Exists"))
			return abi.ExistsResult{Count: 1, Visible: n >= 3}, nil
		})
		start := time.Now()
		res, err := p.Call(ctx, f.Env(), request("wait_until_visible", abi.Target{CSS: "#buy"}, `{"poll_ms": 20}`))
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != abi.OutcomeRetry || len(f.Browser.CallsTo("Exists")) != 3 {
			t.Errorf("got %+v after %d checks", res, len(f.Browser.CallsTo("Exists")))
		}
		if q := f.Browser.CallsTo("Exists")[0].Arg.(abi.Query); q.CSS != "#buy" {
			t.Errorf("exists asked %+v", q)
		}
		if elapsed := time.Since(start); elapsed < 40*time.Millisecond {
			t.Errorf("two 20 ms sleeps took only %v", elapsed)
		}
	})

	t.Run("wait_until_visible gives up at max_wait", func(t *testing.T) {
		hidden := buy
		hidden.Visible = false
		f := hosttest.New("http://shop.test/", hidden)
		res, err := p.Call(ctx, f.Env(), request("wait_until_visible", abi.Target{XPath: buy.XPath}, `{"poll_ms": 10, "max_wait_ms": 30}`))
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != abi.OutcomeGiveUp || !strings.Contains(res.Message, "not visible after 30 ms") {
			t.Errorf("got %+v", res)
		}
	})

	t.Run("resolve_by_text uses the resolver", func(t *testing.T) {
		f := hosttest.New("http://shop.test/", buy)
		res, err := p.Call(ctx, f.Env(), request("resolve_by_text", abi.Target{CSS: "#old-buy", Text: "Buy now"}, ""))
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != abi.OutcomeUseElement || res.Element == nil || res.Element.XPath != buy.XPath {
			t.Fatalf("got %+v", res)
		}
		calls := f.Resolver.CallsTo("Resolve")
		if len(calls) != 1 {
			t.Fatalf("resolver called %d times", len(calls))
		}
		if q := calls[0].Arg.(abi.ResolveRequest); q.Target.CSS != "" || q.Target.Text != "Buy now" || q.Level != 1 {
			t.Errorf("resolver asked %+v", q)
		}
	})

	t.Run("resolve_by_text without a resolver", func(t *testing.T) {
		f := hosttest.New("http://shop.test/", buy)
		env := f.Env()
		env.Resolver = nil
		res, err := p.Call(ctx, env, request("resolve_by_text", abi.Target{Text: "Buy now"}, ""))
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != abi.OutcomeGiveUp || !strings.Contains(res.Message, "heal_resolver.resolve: unavailable") {
			t.Errorf("got %+v", res)
		}
	})
}

func TestCScroll(t *testing.T) {
	p := load(t, "c-scroll")
	ctx := context.Background()
	longURL := "http://shop.test/" + strings.Repeat("path/", 60)
	longErr := strings.Repeat("no such element; ", 20)
	tests := []struct {
		name    string
		target  abi.Target
		config  string
		env     func(f *hosttest.Fakes) host.Env
		outcome abi.Outcome
		message string
		locator *abi.Locator // what the browser must have been asked
		delay   int64
	}{
		{name: "scrolls by css", target: abi.Target{CSS: "#buy"},
			outcome: abi.OutcomeRetry, message: "scrolled the target into view", locator: &abi.Locator{CSS: "#buy"}, delay: 100},
		{name: "scrolls by xpath with config", target: abi.Target{XPath: buy.XPath}, config: `{"timeout_ms": 1500, "settle_ms": 0}`,
			outcome: abi.OutcomeRetry, locator: &abi.Locator{XPath: buy.XPath, TimeoutMS: 1500}},
		{name: "escapes the selector", target: abi.Target{CSS: `[data-label="Kaufen \"jetzt\" — ✓\\ 𝄞"]`},
			env: func(f *hosttest.Fakes) host.Env {
				f.Browser.Handle("ScrollIntoView", func(context.Context, any) (any, error) { return abi.ActResult{OK: true}, nil })
				return f.Env()
			},
			outcome: abi.OutcomeRetry, locator: &abi.Locator{CSS: `[data-label="Kaufen \"jetzt\" — ✓\\ 𝄞"]`}, delay: 100},
		{name: "large response takes the pending path", target: abi.Target{CSS: "#buy"},
			env:     func(f *hosttest.Fakes) host.Env { f.Browser.Page.URL = longURL; return f.Env() },
			outcome: abi.OutcomeRetry, locator: &abi.Locator{CSS: "#buy"}, delay: 100},
		{name: "not on the page", target: abi.Target{CSS: "#gone"},
			outcome: abi.OutcomeGiveUp, message: `target not on the page: scroll_into_view: ScrollIntoView: no element matches css "#gone"`, locator: &abi.Locator{CSS: "#gone"}},
		{name: "long error message", target: abi.Target{CSS: "#buy"},
			env: func(f *hosttest.Fakes) host.Env {
				f.Browser.SetError("ScrollIntoView", errors.New(longErr))
				return f.Env()
			},
			outcome: abi.OutcomeGiveUp, message: "scroll failed: scroll_into_view: " + longErr, locator: &abi.Locator{CSS: "#buy"}},
		{name: "no browser", target: abi.Target{CSS: "#buy"},
			env:     func(f *hosttest.Fakes) host.Env { return host.Env{} },
			outcome: abi.OutcomeGiveUp, message: "no browser: "},
		{name: "no selector", target: abi.Target{Text: "Buy now"},
			outcome: abi.OutcomeGiveUp, message: "neither css nor xpath"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := hosttest.New("http://shop.test/", buy)
			env := f.Env()
			if tt.env != nil {
				env = tt.env(f)
			}
			res, err := p.Call(ctx, env, request("scroll_then_retry", tt.target, tt.config))
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.outcome || !strings.Contains(res.Message, tt.message) {
				t.Errorf("got %s %q, want %s containing %q", res.Outcome, res.Message, tt.outcome, tt.message)
			}
			if res.Outcome == abi.OutcomeRetry && (res.Retry == nil || res.Retry.DelayMS != tt.delay) {
				t.Errorf("retry options %+v, want delay %d", res.Retry, tt.delay)
			}
			calls := f.Browser.CallsTo("ScrollIntoView")
			switch {
			case tt.locator == nil && len(calls) != 0:
				t.Errorf("scrolled %d times, want none", len(calls))
			case tt.locator != nil && len(calls) != 1:
				t.Errorf("scrolled %d times, want once", len(calls))
			case tt.locator != nil:
				if got := calls[0].Arg.(abi.Locator); !equalLocator(got, *tt.locator) {
					t.Errorf("browser asked %+v, want %+v", got, *tt.locator)
				}
			}
		})
	}
}

func equalLocator(a, b abi.Locator) bool {
	return a.CSS == b.CSS && a.XPath == b.XPath && a.TimeoutMS == b.TimeoutMS && a.Point == nil && b.Point == nil
}

func TestWatPause(t *testing.T) {
	p := load(t, "wat-pause")

	var logs bytes.Buffer
	var mu sync.Mutex
	logger := hclog.New(&hclog.LoggerOptions{Output: &lockedWriter{w: &logs, mu: &mu}, Level: hclog.Trace})
	start := time.Now()
	res, err := p.Call(context.Background(), host.Env{Logger: logger}, request("pause_and_retry", abi.Target{CSS: "#buy"}, `{"delay_ms": 30}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != abi.OutcomeRetry || res.Message != "paused before retrying" {
		t.Errorf("got %+v", res)
	}
	if elapsed := time.Since(start); elapsed < 30*time.Millisecond {
		t.Errorf("a 30 ms pause took %v", elapsed)
	}
	mu.Lock()
	if !strings.Contains(logs.String(), "pause_and_retry: pausing 30 ms") {
		t.Errorf("log lacks the pause line:\n%s", logs.String())
	}
	mu.Unlock()

	// A pause longer than the call's deadline is cut short and reported.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res, err = p.Call(ctx, host.Env{}, request("pause_and_retry", abi.Target{}, `{"delay_ms": 60000}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != abi.OutcomeGiveUp || !strings.Contains(res.Message, "deadline") {
		t.Errorf("got %+v", res)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// Every declared strategy of every example returns a valid verdict on an
// empty page, through the real host.
func TestEveryStrategyAnswers(t *testing.T) {
	for _, ex := range examples {
		p := load(t, ex.id)
		for _, s := range p.Manifest().Strategies() {
			t.Run(fmt.Sprintf("%s/%s", ex.id, s), func(t *testing.T) {
				f := hosttest.New("http://shop.test/")
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				res, err := p.Call(ctx, f.Env(), request(s, abi.Target{CSS: "#missing", Text: "Missing"}, `{"delay_ms": 1, "poll_ms": 10, "max_wait_ms": 20}`))
				if err != nil {
					t.Fatal(err)
				}
				if !res.Outcome.Valid() {
					t.Errorf("outcome %q", res.Outcome)
				}
			})
		}
	}
}

// BenchmarkWarmCall measures a warm strategy call of each example through
// the host: a ~1 KB request, two host calls (the strategy's one browser or
// time call plus one log line), the result decoded and checked.
func BenchmarkWarmCall(b *testing.B) {
	cases := []struct {
		id, strategy, config string
	}{
		{"go-wait-visible", "wait_until_visible", `{"poll_ms": 10}`},
		{"c-scroll", "scroll_then_retry", ""},
		{"wat-pause", "pause_and_retry", `{"delay_ms": 0}`},
	}
	for _, bc := range cases {
		b.Run(bc.id, func(b *testing.B) {
			p := load(b, bc.id)
			f := hosttest.New("http://shop.test/", buy)
			req := request(bc.strategy, abi.Target{CSS: "#buy", Text: "Buy now", Fingerprint: &buy}, bc.config)
			req.Error.Message = strings.Repeat("waiting for selector #buy to be visible: ", 16)
			if n, _ := json.Marshal(req); len(n) < 900 || len(n) > 1300 {
				b.Fatalf("request is %d bytes, want about 1 KB", len(n))
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := p.Call(ctx, f.Env(), req)
				if err != nil || res.Outcome != abi.OutcomeRetry {
					b.Fatalf("%+v %v", res, err)
				}
				if i%1024 == 0 {
					f.Browser.Reset()
				}
			}
		})
	}
}
