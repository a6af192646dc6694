package host_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host"
)

// benchGuests are the guests of the benchmarks: one strategy each that
// makes one host-function call on the happy path.
var benchGuests = []struct {
	name, manifest, strategy string
}{
	{"wat", "", "page_info"}, // testdata/good.wasm
	{"c", "c-scroll", "scroll_then_retry"},
	{"go", "go-wait-visible", "wait_until_visible"},
}

func benchPlugin(b *testing.B, rt *host.Runtime, manifest string) *host.Plugin {
	b.Helper()
	path := ""
	if manifest == "" {
		path = goodFixture.write(b)
	} else {
		path = builtManifest(b, manifest)
	}
	p, err := rt.Load(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// BenchmarkWarmCall is one strategy call on a warm instance, with a request
// of about 1 KB, including JSON encoding and decoding on both sides.
func BenchmarkWarmCall(b *testing.B) {
	for _, g := range benchGuests {
		b.Run(g.name, func(b *testing.B) {
			p := benchPlugin(b, sharedRuntime, g.manifest)
			req := buyRequest(g.strategy)
			req.Error.Message = strings.Repeat("waiting for selector #buy: ", 30)[:benchMsgLen]
			ctx := context.Background()
			env := buyPage().Env()
			if res, err := p.Call(ctx, env, req); err != nil || !res.Outcome.Valid() {
				b.Fatalf("%+v %v", res, err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.Call(ctx, env, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInstantiate creates an instance from the compiled module (WASI,
// host imports, _initialize for Go).
func BenchmarkInstantiate(b *testing.B) {
	for _, g := range benchGuests {
		b.Run(g.name, func(b *testing.B) {
			p := benchPlugin(b, sharedRuntime, g.manifest)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := p.InstantiateOnce(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompile compiles the Go guest in a fresh runtime with an empty
// cache (cold) and with a cache directory filled by an earlier runtime
// (warm: what a restart or reload costs).
func BenchmarkCompile(b *testing.B) {
	code, err := os.ReadFile(filepath.Join(builtPlugins, "go-wait-visible", "wait_visible.wasm"))
	if err != nil {
		b.Fatalf("%v: run `make wasm` at the repository root first", err)
	}
	ctx := context.Background()
	newRT := func(dir string) *host.Runtime {
		rt, err := host.NewRuntime(ctx, host.NewConfig().WithCacheDir(dir))
		if err != nil {
			b.Fatal(err)
		}
		return rt
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			rt := newRT(b.TempDir())
			b.StartTimer()
			if err := rt.Compile(ctx, code); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			_ = rt.Close(ctx)
			b.StartTimer()
		}
	})
	b.Run("warm", func(b *testing.B) {
		dir := b.TempDir()
		rt := newRT(dir)
		if err := rt.Compile(ctx, code); err != nil {
			b.Fatal(err)
		}
		_ = rt.Close(ctx)
		for b.Loop() {
			b.StopTimer()
			rt := newRT(dir)
			b.StartTimer()
			if err := rt.Compile(ctx, code); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			_ = rt.Close(ctx)
			b.StartTimer()
		}
	})
}

var _ = abi.Current

// benchMsgLen pads the request's error message so the request is ~1 KB.
var benchMsgLen = func() int {
	if os.Getenv("BENCH_SMALL") != "" {
		return 10
	}
	return 700
}()
