package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/selfheal/engine/abi"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Config configures a Runtime. It is immutable: every With method returns a
// copy, so one base Config can be shared and refined.
type Config struct {
	cacheDir string
	logger   hclog.Logger
}

// NewConfig returns the default configuration: an in-memory compilation
// cache and a logger that discards everything.
func NewConfig() Config { return Config{} }

// WithCacheDir keeps compiled machine code in dir, so that later runs (and
// reloads of the same module) skip compilation. dir is created if missing.
func (c Config) WithCacheDir(dir string) Config { c.cacheDir = dir; return c }

// WithLogger sets the logger; each plugin logs through
// logger.Named(pluginID).
func (c Config) WithLogger(l hclog.Logger) Config { c.logger = l; return c }

// Runtime compiles and runs plugins. All plugins share one wazero runtime,
// its host modules and its compilation cache; each plugin's memory limit is
// enforced per instance (see RATIONALE.md).
type Runtime struct {
	rt     wazero.Runtime
	cache  wazero.CompilationCache
	logger hclog.Logger
	wasi   map[string]api.FunctionDefinition

	mu      sync.Mutex
	closed  bool
	plugins map[*Plugin]struct{}
}

// NewRuntime creates a runtime: a wazero compiler runtime with contexts that
// stop guests, WASI without files, environment, arguments or sockets, and
// the host modules of every capability of abi.HostFuncs.
func NewRuntime(ctx context.Context, cfg Config) (*Runtime, error) {
	var cache wazero.CompilationCache
	if cfg.cacheDir != "" {
		var err error
		if cache, err = wazero.NewCompilationCacheWithDir(cfg.cacheDir); err != nil {
			return nil, fmt.Errorf("host: compilation cache %s: %w", cfg.cacheDir, err)
		}
	} else {
		cache = wazero.NewCompilationCache()
	}
	logger := cfg.logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	rc := wazero.NewRuntimeConfigCompiler().
		WithCompilationCache(cache).
		WithCloseOnContextDone(true).
		// The hard ceiling; each plugin's own limit is enforced per
		// instance by the memory allocator.
		WithMemoryLimitPages(MaxMemoryPages)
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	r := &Runtime{rt: rt, cache: cache, logger: logger, plugins: map[*Plugin]struct{}{}}
	fail := func(err error) (*Runtime, error) {
		_ = rt.Close(ctx)
		_ = cache.Close(ctx)
		return nil, err
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fail(fmt.Errorf("host: instantiating WASI: %w", err))
	}
	r.wasi = rt.Module(wasi_snapshot_preview1.ModuleName).ExportedFunctionDefinitions()
	if err := hostModules(ctx, rt); err != nil {
		return fail(err)
	}
	return r, nil
}

// Close closes every plugin loaded by r (draining their calls, bounded by
// ctx) and then the runtime.
func (r *Runtime) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	plugins := make([]*Plugin, 0, len(r.plugins))
	for p := range r.plugins {
		plugins = append(plugins, p)
	}
	r.mu.Unlock()
	var errs []error
	for _, p := range plugins {
		errs = append(errs, p.Close(ctx))
	}
	errs = append(errs, r.rt.Close(ctx), r.cache.Close(ctx))
	return errors.Join(errs...)
}

func (r *Runtime) forget(p *Plugin) {
	r.mu.Lock()
	delete(r.plugins, p)
	r.mu.Unlock()
}

// wasmMagic starts every binary module: "\0asm" and version 1.
var wasmMagic = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// Load reads the manifest at manifestPath and its module, verifies and
// compiles the module, checks its exports and imports against the ABI and
// the manifest's grants, and creates its first instance. Errors are
// *LoadError values matching one of the package's sentinels.
func (r *Runtime) Load(ctx context.Context, manifestPath string) (*Plugin, error) {
	m, err := LoadManifest(manifestPath)
	if err != nil {
		return nil, &LoadError{File: manifestPath, Err: err}
	}
	modPath := m.ModulePath()
	fail := func(err error) (*Plugin, error) {
		return nil, &LoadError{Plugin: m.ID(), File: modPath, Err: err}
	}
	code, err := os.ReadFile(modPath)
	if err != nil {
		return fail(err)
	}
	if sum := sha256.Sum256(code); sum != m.SHA256() {
		want := m.SHA256()
		return fail(fmt.Errorf("%w: module is %s, manifest %s says %s", ErrChecksum,
			hex.EncodeToString(sum[:]), manifestPath, hex.EncodeToString(want[:])))
	}
	if !bytes.HasPrefix(code, wasmMagic) {
		return fail(fmt.Errorf("%w: the file does not start with the WebAssembly 1.0 header", ErrNotWasm))
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return fail(fmt.Errorf("runtime: %w", ErrClosed))
	}
	compiled, err := r.compile(ctx, code)
	if err != nil {
		return fail(fmt.Errorf("%w: %v", ErrNotWasm, err))
	}
	if err := r.check(m, compiled); err != nil {
		_ = compiled.Close(ctx)
		return fail(err)
	}
	p, err := newPlugin(ctx, r, m, compiled)
	if err != nil {
		_ = compiled.Close(ctx)
		return fail(err)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = p.Close(ctx)
		return fail(fmt.Errorf("runtime: %w", ErrClosed))
	}
	r.plugins[p] = struct{}{}
	r.mu.Unlock()
	return p, nil
}

// requiredExports lists the exported functions ABI.md requires, with their
// types, and the optional ones checked when present.
var (
	requiredExports = []exportSig{
		{abi.ExportABIVersion, "", "i"},
		{abi.ExportAlloc, "i", "i"},
		{abi.ExportRun, "ii", "I"},
	}
	optionalExports = []exportSig{
		{abi.ExportDescribe, "", "I"},
		{abi.ExportInitialize, "", ""},
	}
)

type exportSig struct{ name, params, results string }

func (e exportSig) String() string { return sigString(e.params, e.results) }

func sigString(params, results string) string {
	name := func(s string) string {
		var parts []string
		for _, c := range s {
			switch c {
			case 'i':
				parts = append(parts, "i32")
			case 'I':
				parts = append(parts, "i64")
			case 'f':
				parts = append(parts, "f32")
			case 'F':
				parts = append(parts, "f64")
			default:
				parts = append(parts, "v128")
			}
		}
		return strings.Join(parts, ", ")
	}
	return "(" + name(params) + ") -> (" + name(results) + ")"
}

func sigLetters(ts []api.ValueType) string {
	var b strings.Builder
	for _, t := range ts {
		switch t {
		case api.ValueTypeI32:
			b.WriteByte('i')
		case api.ValueTypeI64:
			b.WriteByte('I')
		case api.ValueTypeF32:
			b.WriteByte('f')
		case api.ValueTypeF64:
			b.WriteByte('F')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// check verifies exports and imports before any guest code runs.
func (r *Runtime) check(m *Manifest, c wazero.CompiledModule) error {
	mem, ok := c.ExportedMemories()[abi.ExportMemory]
	if !ok {
		return fmt.Errorf("%w: memory %q", ErrMissingExport, abi.ExportMemory)
	}
	if limit := m.Limits().MemoryPages; mem.Min() > limit {
		return fmt.Errorf("%w: the module's memory starts at %d pages, above the manifest's memory_pages = %d",
			ErrMemoryLimit, mem.Min(), limit)
	}
	exports := c.ExportedFunctions()
	checkSig := func(e exportSig, required bool) error {
		def, ok := exports[e.name]
		if !ok {
			if required {
				return fmt.Errorf("%w: function %q %s", ErrMissingExport, e.name, e)
			}
			return nil
		}
		params, results := sigLetters(def.ParamTypes()), sigLetters(def.ResultTypes())
		if params != e.params || results != e.results {
			return fmt.Errorf("%w: %q must be %s, found %s", ErrExportSignature, e.name, e, sigString(params, results))
		}
		return nil
	}
	for _, e := range requiredExports {
		if err := checkSig(e, true); err != nil {
			return err
		}
	}
	for _, e := range optionalExports {
		if err := checkSig(e, false); err != nil {
			return err
		}
	}
	if mems := c.ImportedMemories(); len(mems) > 0 {
		mod, name, _ := mems[0].Import()
		return fmt.Errorf("%w: memory %s.%s (a plugin must define its own memory)", ErrUnknownImport, mod, name)
	}
	for _, def := range c.ImportedFunctions() {
		if err := r.checkImport(m, def); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runtime) checkImport(m *Manifest, def api.FunctionDefinition) error {
	module, name, _ := def.Import()
	params, results := sigLetters(def.ParamTypes()), sigLetters(def.ResultTypes())
	var want string
	if module == wasi_snapshot_preview1.ModuleName {
		w, ok := r.wasi[name]
		if !ok {
			return fmt.Errorf("%w: %s.%s is not a WASI preview 1 function this host provides", ErrUnknownImport, module, name)
		}
		want = sigString(sigLetters(w.ParamTypes()), sigLetters(w.ResultTypes()))
	} else {
		capability, ok := abi.CapabilityOfModule(module)
		if !ok {
			return fmt.Errorf("%w: %s.%s: no host module %q (ABI %s)", ErrUnknownImport, module, name, module, abi.Current)
		}
		f, ok := abi.LookupHostFunc(module, name)
		if !ok {
			return fmt.Errorf("%w: %s.%s: module %s has no function %q in ABI %s", ErrUnknownImport, module, name, module, name, abi.Current)
		}
		if !m.Granted(capability) {
			return fmt.Errorf("%w: plugin %q (%s) imports %s.%s but its manifest does not grant %q (add it to grants)",
				ErrUngrantedImport, m.ID(), m.ModulePath(), module, name, capability)
		}
		want = sigString(f.Signature.Params, f.Signature.Results)
	}
	if got := sigString(params, results); got != want {
		return fmt.Errorf("%w: %s.%s is imported as %s, the host provides %s", ErrUnknownImport, module, name, got, want)
	}
	return nil
}

// checkDescription compares heal_describe's answer with the manifest.
func checkDescription(m *Manifest, raw []byte) error {
	var d abi.Description
	if err := json.Unmarshal(raw, &d); err != nil {
		return fmt.Errorf("%w: heal_describe returned invalid JSON: %v", ErrManifest, err)
	}
	got, want := slices.Clone(d.Strategies), m.Strategies()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		return fmt.Errorf("%w: manifest %s lists strategies %v, the module describes %v", ErrManifest, m.Path(), m.Strategies(), d.Strategies)
	}
	return nil
}

// compile compiles a module, turning a panic inside wazero's validator
// into an error: a crafted module (a function whose type index is past the
// type section) panics in wazero 1.12 instead of failing validation, and a
// plugin must never crash the engine.
func (r *Runtime) compile(ctx context.Context, code []byte) (c wazero.CompiledModule, err error) {
	defer func() {
		if p := recover(); p != nil {
			c, err = nil, fmt.Errorf("the module fails validation (the compiler panicked: %v)", p)
		}
	}()
	return r.rt.CompileModule(ctx, code)
}
