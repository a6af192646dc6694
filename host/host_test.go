package host_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/host/hosttest"
)

// goodCall checks that p (a good.wasm plugin) serves a normal call.
func goodCall(t *testing.T, p *host.Plugin) {
	t.Helper()
	f := hosttest.New("http://shop.test/cart")
	res, err := p.Call(context.Background(), f.Env(), abi.Request{Strategy: "page_info"})
	if err != nil {
		t.Fatalf("good call after a failure: %v", err)
	}
	if res.Outcome != abi.OutcomeRetry || !strings.Contains(string(res.Details), "shop.test/cart") {
		t.Fatalf("good call: got %+v details %s", res, res.Details)
	}
}

func TestLoadRefusesBrokenModules(t *testing.T) {
	good := load(t, sharedRuntime, goodFixture)
	zeros := strings.Repeat("0", 64)
	tests := []struct {
		name    string
		fix     fixture
		want    error
		mention []string // substrings the error must contain
	}{
		{"missing export", fixture{wasm: "error/noexport.wasm"}, host.ErrMissingExport, []string{"heal_run"}},
		{"export signature", fixture{wasm: "error/badsig.wasm"}, host.ErrExportSignature, []string{"heal_run", "(i32, i32) -> (i64)", "(i32) -> (i32)"}},
		{"wrong ABI version", fixture{wasm: "error/abi2.wasm"}, host.ErrABIVersion, []string{"2.0"}},
		{"ungranted import", fixture{wasm: "error/ungranted.wasm", id: "sneaky", grants: []string{"log"}}, host.ErrUngrantedImport,
			[]string{`"sneaky"`, "module.wasm", "heal_browser_act.click", `"browser_act"`}},
		{"sha256 mismatch", fixture{wasm: "good.wasm", sha: zeros}, host.ErrChecksum, []string{zeros}},
		{"truncated file", fixture{wasm: "error/truncated.wasm"}, host.ErrNotWasm, nil},
		{"non-wasm file", fixture{wasm: "error/notwasm.wasm"}, host.ErrNotWasm, []string{"header"}},
		{"module that panics the validator", fixture{wasm: "error/validator_panic.wasm"}, host.ErrNotWasm, []string{"fails validation"}},
		{"memory above limit", fixture{wasm: "error/big.wasm", extra: "[limits]\nmemory_pages = 16"}, host.ErrMemoryLimit, []string{"40 pages"}},
		{"describe disagrees", fixture{wasm: "good.wasm", strategies: []string{"page_info"}, grants: goodFixture.grants}, host.ErrManifest, []string{"take_page"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.fix.write(t)
			p, err := sharedRuntime.Load(context.Background(), path)
			if err == nil {
				_ = p.Close(context.Background())
				t.Fatal("Load succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v does not match %v", err, tt.want)
			}
			var le *host.LoadError
			if !errors.As(err, &le) || le.File == "" {
				t.Fatalf("error %T is not a *LoadError naming a file: %v", err, err)
			}
			for _, s := range tt.mention {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			goodCall(t, good)
		})
	}
}

func TestLoadRefusesBadManifest(t *testing.T) {
	path := fixture{wasm: "good.wasm", extra: "colour = \"blue\""}.write(t)
	_, err := sharedRuntime.Load(context.Background(), path)
	if !errors.Is(err, host.ErrManifest) || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("got %v, want ErrManifest naming the key", err)
	}
}

// TestCallFailuresAreContained runs each hostile guest: the call fails with
// its typed error, the instance is replaced, and both the failing plugin
// and a good one keep serving.
func TestCallFailuresAreContained(t *testing.T) {
	good := load(t, sharedRuntime, goodFixture)
	tests := []struct {
		name string
		fix  fixture
		want error
	}{
		{"infinite loop", fixture{wasm: "error/loop.wasm", extra: "[limits]\ncall_timeout = \"100ms\""}, host.ErrDeadline},
		{"unbounded memory growth", fixture{wasm: "error/grow.wasm", extra: "[limits]\nmemory_pages = 32"}, host.ErrMemoryLimit},
		{"out-of-bounds pointer", fixture{wasm: "error/oob.wasm", grants: []string{"browser"}}, host.ErrMemoryAccess},
		{"result larger than the cap", fixture{wasm: "error/big.wasm"}, host.ErrResultTooLarge},
		{"host-call flood", fixture{wasm: "error/flood.wasm", grants: []string{"time"}, extra: "[limits]\nhost_calls = 100"}, host.ErrHostCallBudget},
		{"trap", fixture{wasm: "error/trap.wasm"}, host.ErrTrap},
		{"invalid outcome", fixture{wasm: "error/badresult.wasm"}, host.ErrBadResult},
		{"use_element without element", fixture{wasm: "error/noelement.wasm"}, host.ErrBadResult},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t, sharedRuntime, tt.fix)
			f := hosttest.New("http://shop.test/")
			for i := range 2 { // the second call runs on a replacement instance
				start := time.Now()
				_, err := p.Call(context.Background(), f.Env(), abi.Request{Strategy: "run"})
				elapsed := time.Since(start)
				if !errors.Is(err, tt.want) {
					t.Fatalf("call %d: error %v does not match %v", i, err, tt.want)
				}
				var ce *host.CallError
				if !errors.As(err, &ce) || ce.Plugin != "fixture" || ce.Strategy != "run" {
					t.Fatalf("call %d: error is not a *CallError naming plugin and strategy: %#v", i, err)
				}
				if errors.Is(tt.want, host.ErrDeadline) {
					if over := elapsed - 100*time.Millisecond; over > 50*time.Millisecond {
						t.Errorf("call %d: stopped %s after its deadline, want <= 50ms", i, over)
					}
				}
			}
			st := p.Stats()
			if st.Calls != 2 || st.Failures[tt.want.Error()] != 2 {
				t.Errorf("stats: %+v", st)
			}
			if st.Instances > p.Manifest().Limits().PoolSize {
				t.Errorf("stats: %d instances live, pool size %d", st.Instances, p.Manifest().Limits().PoolSize)
			}
			goodCall(t, good)
		})
	}
}

func TestContextDeadlineShorterThanManifest(t *testing.T) {
	p := load(t, sharedRuntime, fixture{wasm: "error/loop.wasm"}) // call_timeout 10s
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Call(ctx, host.Env{}, abi.Request{Strategy: "run"})
	if !errors.Is(err, host.ErrDeadline) {
		t.Fatalf("got %v, want ErrDeadline", err)
	}
	if over := time.Since(start) - 80*time.Millisecond; over > 50*time.Millisecond {
		t.Errorf("stopped %s after the context's deadline", over)
	}
}

func TestUnknownStrategy(t *testing.T) {
	p := load(t, sharedRuntime, goodFixture)
	_, err := p.Call(context.Background(), host.Env{}, abi.Request{Strategy: "fly"})
	if !errors.Is(err, host.ErrUnknownStrategy) || !strings.Contains(err.Error(), `"fly"`) {
		t.Fatalf("got %v", err)
	}
}

func TestHostFunctions(t *testing.T) {
	p := load(t, sharedRuntime, goodFixture)
	tests := []struct {
		strategy string
		env      func(*hosttest.Fakes) host.Env
		outcome  abi.Outcome
		message  string
		details  string
	}{
		{"page_info", (*hosttest.Fakes).Env, abi.OutcomeRetry, "page", `"url":"http://shop.test/"`},
		{"take_page", (*hosttest.Fakes).Env, abi.OutcomeRetry, "page", `"ready_state":"complete"`},
		{"bad_query", (*hosttest.Fakes).Env, abi.OutcomeGiveUp, "bad_request", ""},
		// No browser attached: page_info returns unavailable (-4).
		{"page_info", func(*hosttest.Fakes) host.Env { return host.Env{} }, abi.OutcomeGiveUp, "host call failed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.strategy, func(t *testing.T) {
			f := hosttest.New("http://shop.test/")
			res, err := p.Call(context.Background(), tt.env(f), abi.Request{Strategy: tt.strategy})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.outcome || res.Message != tt.message || !strings.Contains(string(res.Details), tt.details) {
				t.Fatalf("got %+v details %s", res, res.Details)
			}
		})
	}
}

func TestSleepStopsBeforeDeadline(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	logger := hclog.New(&hclog.LoggerOptions{Output: lockedWriter{&mu, &logs}, Level: hclog.Trace})
	rt := newRuntime(t, logger)
	fix := goodFixture
	fix.extra = "[limits]\ncall_timeout = \"300ms\""
	p := load(t, rt, fix)
	res, err := p.Call(context.Background(), host.Env{}, abi.Request{Strategy: "sleep_long"})
	if err != nil {
		t.Fatalf("the sleep must end before the deadline, leaving time to return: %v", err)
	}
	if res.Message != "cut" {
		t.Fatalf("sleep_ms must report -3 when cut short: %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "good: sleeping") {
		t.Errorf("heal_log.write did not reach the plugin's named logger:\n%s", logs.String())
	}
}

func TestHostPanicIsContained(t *testing.T) {
	p := load(t, sharedRuntime, goodFixture)
	f := hosttest.New("http://shop.test/")
	f.Browser.Handle("PageInfo", func(context.Context, any) (any, error) { panic("driver bug") })
	_, err := p.Call(context.Background(), f.Env(), abi.Request{Strategy: "page_info"})
	if !errors.Is(err, host.ErrHostPanic) || !strings.Contains(err.Error(), "driver bug") {
		t.Fatalf("got %v, want ErrHostPanic", err)
	}
	goodCall(t, p)
}

func TestServiceErrorsBecomeStatus(t *testing.T) {
	p := load(t, sharedRuntime, goodFixture)
	f := hosttest.New("http://shop.test/")
	f.Browser.SetError("PageInfo", errors.New("tab crashed"))
	res, err := p.Call(context.Background(), f.Env(), abi.Request{Strategy: "page_info"})
	if err != nil || res.Message != "host call failed" {
		t.Fatalf("a failing service must give the guest a status, not fail the call: %+v, %v", res, err)
	}
}

func TestGuestStderrReachesLogAndError(t *testing.T) {
	var logs strings.Builder
	var mu sync.Mutex
	logger := hclog.New(&hclog.LoggerOptions{Output: lockedWriter{&mu, &logs}, Level: hclog.Trace})
	rt := newRuntime(t, logger)
	p := load(t, rt, fixture{wasm: "error/stderr.wasm", id: "noisy"})
	_, err := p.Call(context.Background(), host.Env{}, abi.Request{Strategy: "run"})
	var ce *host.CallError
	if !errors.As(err, &ce) || !errors.Is(err, host.ErrTrap) {
		t.Fatalf("got %v", err)
	}
	if ce.Stderr != "boom: the guest died" {
		t.Errorf("CallError.Stderr = %q", ce.Stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "noisy: boom: the guest died") {
		t.Errorf("stderr line missing from the plugin's log:\n%s", logs.String())
	}
}

func TestConcurrentCalls(t *testing.T) {
	p := load(t, sharedRuntime, goodFixture)
	f := hosttest.New("http://shop.test/")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			for i := range 40 {
				strategy := []string{"page_info", "take_page", "bad_query"}[i%3]
				if _, err := p.Call(context.Background(), f.Env(), abi.Request{Strategy: strategy}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if st := p.Stats(); st.Calls != 16*40 || len(st.Failures) != 0 || st.Instances > 2 {
		t.Errorf("stats: %+v", st)
	}
}

func TestCloseDrainsAndRefuses(t *testing.T) {
	fix := goodFixture
	fix.extra = "[limits]\ncall_timeout = \"200ms\""
	p, err := sharedRuntime.Load(context.Background(), fix.write(t))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	// sleep_long logs before it sleeps: the first log line says the call
	// is in flight (a fixed pause would race on a loaded machine).
	started := &signalWriter{c: make(chan struct{})}
	env := host.Env{Logger: hclog.New(&hclog.LoggerOptions{Output: started, Level: hclog.Trace})}
	go func() {
		_, err := p.Call(context.Background(), env, abi.Request{Strategy: "sleep_long"})
		done <- err
	}()
	select {
	case <-started.c:
	case err := <-done:
		t.Fatalf("the call ended before it logged: %v", err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the call in flight must finish normally: %v", err)
		}
	default:
		t.Fatal("Close returned before the call in flight finished")
	}
	if _, err := p.Call(context.Background(), host.Env{}, abi.Request{Strategy: "page_info"}); !errors.Is(err, host.ErrClosed) {
		t.Fatalf("call after Close: %v", err)
	}
	if n := p.Stats().Instances; n != 0 {
		t.Errorf("%d instances live after Close", n)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// signalWriter closes c at its first write.
type signalWriter struct {
	once sync.Once
	c    chan struct{}
}

func (w *signalWriter) Write(b []byte) (int, error) {
	w.once.Do(func() { close(w.c) })
	return len(b), nil
}
