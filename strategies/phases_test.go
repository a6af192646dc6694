package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// benchGuest builds internal/benchguest once per test binary.
func benchGuest(tb testing.TB) []byte { return buildWasm(tb, "./internal/benchguest") }

// instantiate compiles bin in a fresh runtime of cfg and instantiates it
// with a fake host whose page answers page_info and network_state.
func instantiate(tb testing.TB, cfg wazero.RuntimeConfig, bin []byte) api.Module {
	tb.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, cfg)
	tb.Cleanup(func() { r.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	compiled, err := r.CompileModule(ctx, bin)
	if err != nil {
		tb.Fatal(err)
	}
	(&fakeHost{page: true}).instantiate(ctx, tb, r, compiled)
	mc := wazero.NewModuleConfig().WithStartFunctions("_initialize")
	if v := os.Getenv("PHASES_GOGC"); v != "" {
		mc = mc.WithEnv("GOGC", v)
	}
	mod, err := r.InstantiateModule(ctx, compiled, mc)
	if err != nil {
		tb.Fatal(err)
	}
	return mod
}

// phaseRequest is the request of BenchmarkHealingOverhead's timeout case,
// with the manifest's configuration of retry_with_longer_timeout.
func phaseRequest(strategy string) []byte {
	req := abi.Request{Strategy: strategy,
		Error:   abi.ErrorInfo{Type: "timeout", Message: `assert_text page: assertion failed: no text containing "Report ready" on https://shop.test/report (Timeout of 5s exceeded)`},
		Action:  abi.Action{Kind: abi.ActionClick, Target: &abi.Target{CSS: "#buy-old", Text: "Buy now", Role: "button"}, TimeoutMS: 5000},
		Attempt: 1, Healing: level1, SessionID: "5b3c0e5e-6a43-4d0b-9a4e-0b7f1f0f2c11", PageURL: "https://shop.test/cart",
		Config:     json.RawMessage(`{"default_timeout_ms":5000,"max_timeout_ms":120000,"multiplier":2}`),
		DeadlineMS: 10_000}
	b, _ := json.Marshal(req)
	return b
}

// callRun runs heal_alloc, writes in and runs heal_run, as the engine's
// host does, and returns the result's bytes (not copied).
func callRun(ctx context.Context, tb testing.TB, mod api.Module, stack []uint64, in []byte) []byte {
	stack[0] = uint64(len(in))
	if err := mod.ExportedFunction(abi.ExportAlloc).CallWithStack(ctx, stack); err != nil {
		tb.Fatal(err)
	}
	ptr := uint32(stack[0])
	mod.Memory().Write(ptr, in)
	stack[0], stack[1] = uint64(ptr), uint64(len(in))
	if err := mod.ExportedFunction(abi.ExportRun).CallWithStack(ctx, stack); err != nil {
		tb.Fatal(err)
	}
	out, ok := mod.Memory().Read(abi.UnpackPtrLen(stack[0]))
	if !ok {
		tb.Fatal("result outside memory")
	}
	return out
}

// BenchmarkPhases splits a warm Go guest call into its parts, with and
// without wazero's termination checks (WithCloseOnContextDone, which the
// engine's host uses), calling the exports directly with CallWithStack so
// that only the guest's work and wazero's entry are measured:
//
//   - export: heal_abi_version, the Go runtime's cost to enter and leave a
//     //go:wasmexport function;
//
//   - alloc: heal_alloc of 1 KB;
//
//   - run/S: heal_alloc plus heal_run of a ~600-byte request to a strategy
//     S of internal/benchguest (noop: decode the request, encode a result;
//     the others add one part each);
//
//   - builtin: the same for retry_with_longer_timeout of this module.
//
//     go test -run '^$' -bench Phases -count 5 .
func BenchmarkPhases(b *testing.B) {
	for _, term := range []bool{false, true} {
		name := "plain"
		if term {
			name = "terminating"
		}
		cfg := wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(term)
		guest := instantiate(b, cfg, benchGuest(b))
		builtin := instantiate(b, cfg, builtModule(b))
		// The engine calls with a deadline, which is what makes wazero
		// watch the context.
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		stack := make([]uint64, 2)
		b.Run(name+"/export", func(b *testing.B) {
			fn := guest.ExportedFunction(abi.ExportABIVersion)
			for b.Loop() {
				if err := fn.CallWithStack(ctx, stack); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/alloc", func(b *testing.B) {
			fn := guest.ExportedFunction(abi.ExportAlloc)
			for b.Loop() {
				stack[0] = 1024
				if err := fn.CallWithStack(ctx, stack); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, s := range []string{"noop", "config", "network_state", "page_info", "log", "details"} {
			b.Run(fmt.Sprintf("%s/run/%s", name, s), func(b *testing.B) {
				in := phaseRequest(s)
				for b.Loop() {
					if out := callRun(ctx, b, guest, stack, in); !bytes.Contains(out, []byte(`"outcome"`)) {
						b.Fatalf("%s", out)
					}
				}
			})
		}
		b.Run(name+"/run/noop_tiny", func(b *testing.B) {
			in := []byte(`{"strategy":"noop"}`)
			for b.Loop() {
				if out := callRun(ctx, b, guest, stack, in); !bytes.Contains(out, []byte(`"outcome"`)) {
					b.Fatalf("%s", out)
				}
			}
		})
		b.Run(name+"/builtin/retry_with_longer_timeout", func(b *testing.B) {
			in := phaseRequest("retry_with_longer_timeout")
			for b.Loop() {
				if out := callRun(ctx, b, builtin, stack, in); !bytes.Contains(out, []byte(`"outcome":"retry"`)) {
					b.Fatalf("%s", out)
				}
			}
		})
	}
}
