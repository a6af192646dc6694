package pluginwatch_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
	"github.com/selfheal/engine/host/hosttest"
	"github.com/selfheal/engine/internal/pluginwatch"
)

// The Go guest of the benchmarks: the go-wait-visible example, built by
// make wasm. Its resolve_by_text gives up at once for a target without
// text, so a call needs no browser.
var goGuest = filepath.Join("..", "..", "build", "plugins", "go-wait-visible")

var goRequest = abi.Request{Strategy: "resolve_by_text",
	Action: abi.Action{Kind: abi.ActionClick, Target: &abi.Target{CSS: "#x"}}}

func needGoGuest(b *testing.B) (manifest string, module []byte) {
	b.Helper()
	m, err := host.LoadManifest(filepath.Join(goGuest, "manifest.toml"))
	if err != nil {
		b.Fatalf("the Go example is not built (%v): run make wasm", err)
	}
	code, err := os.ReadFile(m.ModulePath())
	if err != nil {
		b.Fatal(err)
	}
	src, err := os.ReadFile(m.Path())
	if err != nil {
		b.Fatal(err)
	}
	return string(src), code
}

// writeGoVersion writes the Go guest into folder as version 1.0.n: the
// module first, then the manifest, as cp does.
func writeGoVersion(b *testing.B, folder, manifest string, module []byte, n int) {
	b.Helper()
	if err := os.MkdirAll(folder, 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "wait_visible.wasm"), module, 0o644); err != nil {
		b.Fatal(err)
	}
	m := strings.Replace(manifest, `version = "1.0.0"`, fmt.Sprintf(`version = "1.0.%d"`, n), 1)
	if err := os.WriteFile(filepath.Join(folder, "manifest.toml"), []byte(m), 0o644); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkHotSwapGo measures a hot swap of the Go guest from the first
// file write to the first call served by the new version, through the
// watcher (its 50 ms quiet period included), with an empty compilation
// cache (cold) and a cache that holds the module (warm).
func BenchmarkHotSwapGo(b *testing.B) {
	manifest, module := needGoGuest(b)
	for _, mode := range []string{"cold", "warm"} {
		b.Run(mode, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cache := b.TempDir()
			var total, loads time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if mode == "cold" {
					cache = b.TempDir()
				}
				rt, err := host.NewRuntime(ctx, host.NewConfig().WithCacheDir(cache))
				if err != nil {
					b.Fatal(err)
				}
				reg := host.NewRegistry()
				dir := b.TempDir()
				folder := filepath.Join(dir, "go")
				if mode == "warm" {
					// Fill the cache and install a first version.
					writeGoVersion(b, folder, manifest, module, 0)
				}
				results := make(chan pluginwatch.Result, 1)
				l := pluginwatch.New(rt, reg, pluginwatch.Options{Dirs: []string{dir}, Quiet: 50 * time.Millisecond,
					OnResult: func(_ context.Context, r pluginwatch.Result) { results <- r }})
				if err := l.LoadAll(ctx); err != nil {
					b.Fatal(err)
				}
				w, err := l.Watch()
				if err != nil {
					b.Fatal(err)
				}
				wctx, stop := context.WithCancel(ctx)
				done := make(chan error, 1)
				go func() { done <- w.Run(wctx) }()
				b.StartTimer()

				start := time.Now()
				writeGoVersion(b, folder, manifest, module, i+1)
				r := <-results
				if r.Outcome != pluginwatch.Swapped {
					b.Fatalf("%s: %s", r.Outcome, r.Reason)
				}
				swapped := time.Now()
				if _, err := reg.Call(ctx, host.Env{}, goRequest); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				loads += swapped.Sub(r.At)

				b.StopTimer()
				stop()
				<-done
				_ = reg.Close(ctx)
				_ = rt.Close(ctx)
				b.StartTimer()
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/write-to-serving")
		})
	}
}

// BenchmarkCalls8 measures calls per second through one plugin with 8
// concurrent callers (GOMAXPROCS x parallelism).
func BenchmarkCalls8(b *testing.B) {
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, host.NewConfig().WithCacheDir(filepath.Join("..", "..", "build", "cache")))
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(ctx)
	wat := b.TempDir()
	writeVersion(b, wat, "fx", 1, good)
	for _, g := range []struct {
		name, manifest string
		req            abi.Request
	}{
		{"wat", filepath.Join(wat, "manifest.toml"), abi.Request{Strategy: "versioned"}},
		{"go", filepath.Join(goGuest, "manifest.toml"), goRequest},
	} {
		b.Run(g.name, func(b *testing.B) {
			p, err := rt.Load(ctx, g.manifest)
			if err != nil {
				b.Fatal(err)
			}
			reg := host.NewRegistry()
			defer reg.Close(ctx)
			if _, err := reg.Swap(p); err != nil {
				b.Fatal(err)
			}
			var failed atomic.Int64
			b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := reg.Call(ctx, host.Env{}, g.req); err != nil {
						failed.Add(1)
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
			if failed.Load() > 0 {
				b.Fatalf("%d calls failed", failed.Load())
			}
		})
	}
}

// BenchmarkInstanceMemory fills a plugin's pool: 16 concurrent calls each
// hold an instance, blocked in a host function, while the heap and the
// resident memory are measured; the growth over the one instance created
// at load, divided by 15, is the memory of one pooled instance.
func BenchmarkInstanceMemory(b *testing.B) {
	ctx := context.Background()
	const pool = 16
	for _, g := range []struct {
		name, folder, block string
		req                 abi.Request
	}{
		{"c", filepath.Join("..", "..", "build", "plugins", "c-scroll"), "ScrollIntoView",
			abi.Request{Strategy: "scroll_then_retry", Action: abi.Action{Kind: abi.ActionClick, Target: &abi.Target{CSS: "#x"}}}},
		{"go", goGuest, "Exists",
			abi.Request{Strategy: "wait_until_visible", Action: abi.Action{Kind: abi.ActionClick, Target: &abi.Target{CSS: "#x"}}}},
	} {
		b.Run(g.name, func(b *testing.B) {
			manifest := poolCopy(b, g.folder, pool)
			rt, err := host.NewRuntime(ctx, host.NewConfig().WithCacheDir(filepath.Join("..", "..", "build", "cache")))
			if err != nil {
				b.Fatal(err)
			}
			defer rt.Close(ctx)
			var heapPer, rssPer float64
			for i := 0; i < b.N; i++ {
				p, err := rt.Load(ctx, manifest)
				if err != nil {
					b.Fatal(err)
				}
				release := make(chan struct{})
				var entered atomic.Int64
				br := hosttest.NewBrowser("http://x/")
				br.Handle(g.block, func(ctx context.Context, _ any) (any, error) {
					entered.Add(1)
					<-release
					if g.block == "Exists" {
						return abi.ExistsResult{Count: 1, Visible: true}, nil
					}
					return abi.ActResult{OK: true}, nil
				})
				h0, r0 := heap(), rss()
				errs := make(chan error, pool)
				for range pool {
					go func() {
						_, err := p.Call(ctx, host.Env{Browser: br}, g.req)
						errs <- err
					}()
				}
				for entered.Load() < pool {
					time.Sleep(time.Millisecond)
				}
				if n := p.Stats().Instances; n != pool {
					b.Fatalf("%d live instances, want %d", n, pool)
				}
				h1, r1 := heap(), rss()
				close(release)
				for range pool {
					if err := <-errs; err != nil {
						b.Fatal(err)
					}
				}
				heapPer += float64(int64(h1)-int64(h0)) / (pool - 1)
				rssPer += float64(int64(r1)-int64(r0)) / (pool - 1)
				_ = p.Close(ctx)
			}
			b.ReportMetric(heapPer/float64(b.N)/1024, "heap-KiB/instance")
			b.ReportMetric(rssPer/float64(b.N)/1024, "rss-KiB/instance")
		})
	}
}

// poolCopy copies a built plugin folder with pool_size set to n.
func poolCopy(b *testing.B, folder string, n int) string {
	b.Helper()
	m, err := host.LoadManifest(filepath.Join(folder, "manifest.toml"))
	if err != nil {
		b.Fatalf("%s is not built (%v): run make wasm", folder, err)
	}
	dst := b.TempDir()
	code, err := os.ReadFile(m.ModulePath())
	if err != nil {
		b.Fatal(err)
	}
	src, err := os.ReadFile(m.Path())
	if err != nil {
		b.Fatal(err)
	}
	text := regexp.MustCompile(`(?m)^pool_size = \d+$`).ReplaceAllString(string(src), fmt.Sprintf("pool_size = %d", n))
	if !strings.Contains(text, fmt.Sprintf("pool_size = %d", n)) {
		b.Fatalf("%s has no pool_size line", m.Path())
	}
	if err := os.WriteFile(filepath.Join(dst, m.Module()), code, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "manifest.toml"), []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	return filepath.Join(dst, "manifest.toml")
}
