package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// These tests check the module as the engine loads it: built for wasip1,
// its exports, its imports against the manifest's grants, heal_describe
// against the manifest, and one strategy call through heal_run.

// builtModule builds the module once per test binary, with the same flags
// as the Makefile's GO_WASM.
func builtModule(tb testing.TB) []byte { return buildWasm(tb, ".") }

var builds sync.Map // package path -> *wasmBuild

type wasmBuild struct {
	once sync.Once
	bin  []byte
	err  error
}

// buildWasm builds the Go package pkg for wasip1 as a reactor once per test
// binary, with the Makefile's GO_WASM flags, and returns the module.
func buildWasm(tb testing.TB, pkg string) []byte {
	tb.Helper()
	v, _ := builds.LoadOrStore(pkg, new(wasmBuild))
	b := v.(*wasmBuild)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "strategies-wasm")
		if err != nil {
			b.err = err
			return
		}
		defer os.RemoveAll(dir)
		out := filepath.Join(dir, "module.wasm")
		cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-ldflags=-s", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = &buildError{err, string(msg)}
			return
		}
		b.bin, b.err = os.ReadFile(out)
	})
	if b.err != nil {
		tb.Fatalf("building %s for wasip1: %v", pkg, b.err)
	}
	return b.bin
}

type buildError struct {
	err    error
	output string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.output }

// fakeHost answers the module's host imports: lookup_host resolves every
// name to 127.0.0.1, the clock is real, everything else is unavailable.
type fakeHost struct {
	lookups []string
	logs    []string
	// page makes page_info and network_state answer for an idle, online
	// page instead of being unavailable.
	page bool
}

func (f *fakeHost) instantiate(ctx context.Context, t testing.TB, r wazero.Runtime, compiled wazero.CompiledModule) {
	t.Helper()
	builders := map[string]wazero.HostModuleBuilder{}
	for _, imp := range compiled.ImportedFunctions() {
		mod, name, _ := imp.Import()
		if !strings.HasPrefix(mod, abi.ModulePrefix) {
			continue
		}
		b, ok := builders[mod]
		if !ok {
			b = r.NewHostModuleBuilder(mod)
			builders[mod] = b
		}
		b.NewFunctionBuilder().WithGoModuleFunction(f.fn(mod+"."+name), imp.ParamTypes(), imp.ResultTypes()).Export(name)
	}
	for mod, b := range builders {
		if _, err := b.Instantiate(ctx); err != nil {
			t.Fatalf("host module %s: %v", mod, err)
		}
	}
}

func (f *fakeHost) fn(name string) api.GoModuleFunc {
	return func(ctx context.Context, m api.Module, stack []uint64) {
		switch name {
		case "heal_time.now_ms":
			stack[0] = uint64(time.Now().UnixMilli())
		case "heal_time.remaining_ms":
			stack[0] = 10_000
		case "heal_time.sleep_ms", "heal_host.last_error":
			stack[0] = 0
		case "heal_log.write":
			msg, _ := m.Memory().Read(uint32(stack[1]), uint32(stack[2]))
			f.logs = append(f.logs, string(msg))
		case "heal_net.lookup_host":
			in, _ := m.Memory().Read(uint32(stack[0]), uint32(stack[1]))
			var req abi.LookupRequest
			_ = json.Unmarshal(in, &req)
			f.lookups = append(f.lookups, req.Host)
			out, _ := json.Marshal(abi.LookupResult{Host: req.Host, Addrs: []string{"127.0.0.1"}})
			if len(out) <= int(uint32(stack[3])) {
				m.Memory().Write(uint32(stack[2]), out)
			}
			stack[0] = uint64(len(out))
		case "heal_browser.page_info", "heal_browser.network_state":
			if !f.page {
				stack[0] = api.EncodeI32(abi.StatusUnavailable)
				return
			}
			out := []byte(`{"url":"https://shop.test/cart","title":"Cart","ready_state":"complete"}`)
			if name == "heal_browser.network_state" {
				out = []byte(`{"online":true,"inflight":0,"idle_ms":1000}`)
			}
			if len(out) <= int(uint32(stack[3])) {
				m.Memory().Write(uint32(stack[2]), out)
			}
			stack[0] = uint64(len(out))
		case "heal_host.take":
			stack[0] = api.EncodeI32(abi.StatusNoPending)
		default:
			stack[0] = api.EncodeI32(abi.StatusUnavailable)
		}
	}
}

// loaded is an instance of the module.
type loaded struct {
	mod      api.Module
	compiled wazero.CompiledModule
	host     *fakeHost
}

// load instantiates the module in a runtime of cfg. Tests use the
// interpreter, which compiles several times faster than the compiler under
// the race detector; the benchmarks use the compiler, as the engine does.
func load(t testing.TB, cfg wazero.RuntimeConfig) *loaded {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, cfg)
	t.Cleanup(func() { r.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	compiled, err := r.CompileModule(ctx, builtModule(t))
	if err != nil {
		t.Fatalf("compiling: %v", err)
	}
	host := &fakeHost{}
	host.instantiate(ctx, t, r, compiled)
	mod, err := r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName("builtin").WithStartFunctions("_initialize"))
	if err != nil {
		t.Fatalf("instantiating: %v", err)
	}
	return &loaded{mod: mod, compiled: compiled, host: host}
}

// read returns the bytes a packed pointer/length names.
func (l *loaded) read(t testing.TB, packed uint64) []byte {
	ptr, n := abi.UnpackPtrLen(packed)
	b, ok := l.mod.Memory().Read(ptr, n)
	if !ok {
		t.Fatalf("result %d bytes at %#x lies outside memory", n, ptr)
	}
	return slices.Clone(b)
}

func (l *loaded) call(t testing.TB, name string, args ...uint64) uint64 {
	t.Helper()
	out, err := l.mod.ExportedFunction(name).Call(context.Background(), args...)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out[0]
}

// run calls heal_run with req.
func (l *loaded) run(t testing.TB, req abi.Request) abi.Result {
	in, _ := json.Marshal(req)
	ptr := l.call(t, abi.ExportAlloc, uint64(len(in)))
	if !l.mod.Memory().Write(uint32(ptr), in) {
		t.Fatal("heal_alloc returned memory that cannot hold the request")
	}
	var res abi.Result
	if err := json.Unmarshal(l.read(t, l.call(t, abi.ExportRun, ptr, uint64(len(in)))), &res); err != nil {
		t.Fatalf("heal_run result: %v", err)
	}
	return res
}

func TestModule(t *testing.T) {
	m := readManifest(t)
	l := load(t, wazero.NewRuntimeConfigInterpreter())

	if v := abi.Version(l.call(t, abi.ExportABIVersion)); v != abi.Current {
		t.Errorf("heal_abi_version = %s, want %s", v, abi.Current)
	}
	var desc abi.Description
	if err := json.Unmarshal(l.read(t, l.call(t, abi.ExportDescribe)), &desc); err != nil {
		t.Fatalf("heal_describe: %v", err)
	}
	if got, want := desc.Strategies, slices.Sorted(slices.Values(m.Strategies)); !slices.Equal(got, want) {
		t.Errorf("heal_describe lists %v\nthe manifest         %v", got, want)
	}

	// The grants are exactly the capabilities the module imports.
	var caps []string
	for _, imp := range l.compiled.ImportedFunctions() {
		mod, _, _ := imp.Import()
		c, ok := abi.CapabilityOfModule(mod)
		if ok && c != abi.CapHost && !slices.Contains(caps, string(c)) {
			caps = append(caps, string(c))
		}
	}
	slices.Sort(caps)
	if grants := slices.Sorted(slices.Values(m.Grants)); !slices.Equal(caps, grants) {
		t.Errorf("the module imports capabilities %v; the manifest grants %v", caps, grants)
	}

	// One strategy end to end through the host imports.
	req := navigateCall("http://shop.test:8080/").Request
	req.Strategy, req.DeadlineMS = "check_dns", 10_000
	res := l.run(t, req)
	if res.Outcome != abi.OutcomeRetry || !strings.Contains(res.Message, "shop.test resolves") || !slices.Equal(l.host.lookups, []string{"shop.test"}) {
		t.Fatalf("check_dns in wasm = %+v, lookups %v, logs %v", res, l.host.lookups, l.host.logs)
	}
	// A strategy whose services are missing says so instead of failing.
	req.Strategy = "check_network_idle"
	if res := l.run(t, req); res.Outcome != abi.OutcomeGiveUp || !strings.Contains(res.Message, "unavailable") {
		t.Fatalf("check_network_idle without a browser = %+v", res)
	}
}

// BenchmarkCompile measures compiling the module without a cache, as the
// engine does at first load.
func BenchmarkCompile(b *testing.B) {
	bin := builtModule(b)
	b.SetBytes(int64(len(bin)))
	ctx := context.Background()
	for b.Loop() {
		r := wazero.NewRuntime(ctx)
		if _, err := r.CompileModule(ctx, bin); err != nil {
			b.Fatal(err)
		}
		r.Close(ctx)
	}
}

// BenchmarkRun measures one warm strategy call (check_dns, with one host
// call and one log line) through heal_alloc and heal_run.
func BenchmarkRun(b *testing.B) {
	l := load(b, wazero.NewRuntimeConfig())
	req := navigateCall("http://shop.test/").Request
	req.Strategy, req.DeadlineMS = "check_dns", 10_000
	for b.Loop() {
		l.host.lookups, l.host.logs = l.host.lookups[:0], l.host.logs[:0]
		if res := l.run(b, req); res.Outcome != abi.OutcomeRetry {
			b.Fatal(res)
		}
	}
}
