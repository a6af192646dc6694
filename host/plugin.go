package host

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/host/internal/guestio"
	"github.com/selfheal/engine/host/internal/memlimit"
	"github.com/selfheal/engine/host/internal/stats"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/sys"
)

// stderrTail is how much of an instance's stderr a failed call reports.
const stderrTail = 4 << 10

// Plugin is a loaded plugin: a compiled module and a pool of instances. It
// is safe for concurrent use; each instance serves one call at a time.
type Plugin struct {
	rt       *Runtime
	m        *Manifest
	limits   Limits
	compiled wazero.CompiledModule
	logger   hclog.Logger
	hasInit  bool
	config   map[string]json.RawMessage // per strategy, from the manifest

	slots chan struct{}  // one token per instance that may be created
	idle  chan *instance // instances ready for a call

	mu      sync.Mutex
	closed  bool
	active  int           // calls in flight
	drained chan struct{} // closed when closed && active == 0
	bg      sync.WaitGroup
	cleanup sync.Once
	cleaned error

	calls    atomic.Uint64
	failures []atomic.Uint64 // indexed like failureKindNames
	live     atomic.Int64
	latency  stats.Histogram
}

var failureKindNames = func() []string {
	var n []string
	for _, k := range failureKinds {
		n = append(n, k.Error())
	}
	return append(n, "other")
}()

func newPlugin(ctx context.Context, r *Runtime, m *Manifest, compiled wazero.CompiledModule) (*Plugin, error) {
	lim := m.Limits()
	p := &Plugin{
		rt:       r,
		m:        m,
		limits:   lim,
		compiled: compiled,
		logger:   r.logger.Named(m.ID()),
		config:   map[string]json.RawMessage{},
		slots:    make(chan struct{}, lim.PoolSize),
		idle:     make(chan *instance, lim.PoolSize),
		drained:  make(chan struct{}),
		failures: make([]atomic.Uint64, len(failureKindNames)),
	}
	_, p.hasInit = compiled.ExportedFunctions()[abi.ExportInitialize]
	for _, s := range m.Strategies() {
		p.config[s] = m.Config(s)
	}
	for range lim.PoolSize {
		p.slots <- struct{}{}
	}
	// The first instance is created now so that a broken plugin fails at
	// load, and it answers the version and description checks.
	<-p.slots
	inst, err := p.newInstance(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.checkInstance(ctx, inst); err != nil {
		inst.close(context.WithoutCancel(ctx))
		p.live.Add(-1)
		return nil, err
	}
	p.idle <- inst
	return p, nil
}

// Manifest returns the plugin's manifest.
func (p *Plugin) Manifest() *Manifest { return p.m }

// ID is the plugin's id.
func (p *Plugin) ID() string { return p.m.ID() }

// Stats is a snapshot of a plugin's counters.
type Stats struct {
	Calls    uint64
	Failures map[string]uint64 // by kind: the sentinel's text, or "other"
	Mean     time.Duration
	P50      time.Duration // percentiles are bucket upper bounds (within 2x)
	P90      time.Duration
	P99      time.Duration
	// Instances is the number of live instances (idle or busy).
	Instances int
}

// Stats returns the plugin's counters.
func (p *Plugin) Stats() Stats {
	s := Stats{
		Calls:     p.calls.Load(),
		Failures:  map[string]uint64{},
		Mean:      p.latency.Mean(),
		P50:       p.latency.Quantile(0.5),
		P90:       p.latency.Quantile(0.9),
		P99:       p.latency.Quantile(0.99),
		Instances: int(p.live.Load()),
	}
	for i := range p.failures {
		if n := p.failures[i].Load(); n > 0 {
			s.Failures[failureKindNames[i]] = n
		}
	}
	return s
}

func (p *Plugin) recordFailure(err error) {
	kind := kindOf(err)
	for i, name := range failureKindNames {
		if name == kind {
			p.failures[i].Add(1)
			return
		}
	}
}

// enter registers a call; it fails once Close has begun.
func (p *Plugin) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.active++
	return true
}

func (p *Plugin) exit() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.active--
	if p.closed && p.active == 0 {
		close(p.drained)
	}
}

// Call runs one strategy. The call's timeout is the smaller of the
// manifest's call_timeout and ctx's deadline; req.DeadlineMS is set from it
// and req.Config defaults to the manifest's configuration of the strategy
// (keys of req.Config override it). A failed call returns a *CallError; the
// instance involved is discarded and the plugin keeps serving.
func (p *Plugin) Call(ctx context.Context, env Env, req abi.Request) (abi.Result, error) {
	if !p.enter() {
		return abi.Result{}, p.callErr(req.Strategy, fmt.Errorf("plugin %w", ErrClosed), "")
	}
	defer p.exit()
	return p.call(ctx, env, req)
}

func (p *Plugin) callErr(strategy string, err error, stderr string) error {
	p.recordFailure(err)
	return &CallError{Plugin: p.m.ID(), Strategy: strategy, Err: err, Stderr: stderr}
}

func (p *Plugin) call(ctx context.Context, env Env, req abi.Request) (abi.Result, error) {
	p.calls.Add(1)
	start := time.Now()
	defer func() { p.latency.Observe(time.Since(start)) }()

	base, ok := p.config[req.Strategy]
	if !ok {
		return abi.Result{}, p.callErr(req.Strategy, fmt.Errorf("%w: %q is not declared in %s (declared: %v)",
			ErrUnknownStrategy, req.Strategy, p.m.Path(), p.m.Strategies()), "")
	}
	timeout := p.limits.CallTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if timeout <= 0 || ctx.Err() != nil {
		return abi.Result{}, p.callErr(req.Strategy, fmt.Errorf("%w before the call started", ErrDeadline), "")
	}
	cfg, err := mergeConfig(base, req.Config)
	if err != nil {
		return abi.Result{}, p.callErr(req.Strategy, err, "")
	}
	req.Config = cfg
	req.DeadlineMS = timeout.Milliseconds()
	payload, err := json.Marshal(req)
	if err != nil {
		return abi.Result{}, p.callErr(req.Strategy, fmt.Errorf("encoding the request: %w", err), "")
	}

	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	inst, err := p.acquire(callCtx)
	if err != nil {
		return abi.Result{}, p.callErr(req.Strategy, err, "")
	}
	deadline, _ := callCtx.Deadline()
	res, err := inst.invoke(callCtx, &env, deadline, timeout, payload)
	if err != nil {
		stderr := inst.tail.String()
		p.discard(inst)
		return abi.Result{}, p.callErr(req.Strategy, err, stderr)
	}
	p.idle <- inst
	return res, nil
}

// mergeConfig lays the request's configuration over the manifest's.
func mergeConfig(base, over json.RawMessage) (json.RawMessage, error) {
	if len(over) == 0 || string(over) == "null" {
		return base, nil
	}
	var b, o map[string]json.RawMessage
	if err := json.Unmarshal(over, &o); err != nil {
		return nil, fmt.Errorf("request config must be a JSON object: %w", err)
	}
	if err := json.Unmarshal(base, &b); err != nil || len(b) == 0 {
		return over, nil
	}
	for k, v := range o {
		b[k] = v
	}
	return json.Marshal(b)
}

// acquire returns an idle instance, or creates one when the pool has room,
// waiting at most until ctx is done.
func (p *Plugin) acquire(ctx context.Context) (*instance, error) {
	select {
	case inst := <-p.idle:
		return inst, nil
	default:
	}
	select {
	case inst := <-p.idle:
		return inst, nil
	case <-p.slots:
		inst, err := p.newInstance(ctx)
		if err != nil {
			p.slots <- struct{}{}
			return nil, err
		}
		return inst, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w waiting for a free instance: %w", ErrDeadline, ctx.Err())
	}
}

// discard closes a failed instance and prepares a replacement in the
// background, so the next call finds a warm instance.
func (p *Plugin) discard(inst *instance) {
	inst.close(context.Background())
	p.live.Add(-1)
	p.slots <- struct{}{}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.bg.Add(1)
	go func() {
		defer p.bg.Done()
		select {
		case <-p.slots:
		default:
			return // a caller already took the slot
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.limits.CallTimeout)
		defer cancel()
		inst, err := p.newInstance(ctx)
		if err != nil {
			p.logger.Warn("replacing a failed instance", "error", err)
			p.slots <- struct{}{}
			return
		}
		p.idle <- inst
	}()
}

// Close stops accepting calls, waits for the calls in flight (or for ctx),
// then closes the instances and the compiled module.
func (p *Plugin) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		if p.active == 0 {
			close(p.drained)
		}
	}
	p.mu.Unlock()
	p.rt.forget(p)
	select {
	case <-p.drained:
	case <-ctx.Done():
		return fmt.Errorf("plugin %q: closing with calls in flight: %w", p.m.ID(), ctx.Err())
	}
	p.cleanup.Do(func() {
		p.bg.Wait()
		closeCtx := context.WithoutCancel(ctx)
		for len(p.idle) > 0 {
			(<-p.idle).close(closeCtx)
			p.live.Add(-1)
		}
		p.cleaned = p.compiled.Close(closeCtx)
	})
	return p.cleaned
}

// instance is one instantiated module with its per-call scratch state.
type instance struct {
	mod      api.Module
	mem      api.Memory
	abiVer   api.Function
	describe api.Function
	alloc    api.Function
	run      api.Function
	stack    [2]uint64
	limiter  *memlimit.Allocator
	stdout   guestio.LineWriter
	stderr   guestio.LineWriter
	tail     guestio.Tail
	deadline atomic.Int64 // Unix nanoseconds; bounds WASI sleeps
	state    callState
	maxRes   int
}

func (p *Plugin) newInstance(ctx context.Context) (*instance, error) {
	inst := &instance{limiter: memlimit.New(p.limits.MemoryPages), maxRes: p.limits.MaxResultBytes}
	inst.tail.Size = stderrTail
	inst.stdout.Emit = func(line string) { inst.logger().Info(line, "stream", "stdout") }
	inst.stderr.Emit = func(line string) { inst.logger().Warn(line, "stream", "stderr") }
	inst.stderr.Tail = &inst.tail
	inst.state = callState{pluginID: p.m.ID(), logger: p.logger, timeout: p.limits.CallTimeout,
		budget: p.limits.HostCalls, limit: p.limits.HostCalls}
	deadline := time.Now().Add(p.limits.CallTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	inst.state.deadline = deadline
	inst.deadline.Store(deadline.UnixNano())
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStdout(&inst.stdout).
		WithStderr(&inst.stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(inst.nanosleep).
		WithRandSource(rand.Reader).
		WithStartFunctions()
	if p.hasInit {
		cfg = cfg.WithStartFunctions(abi.ExportInitialize)
	}
	ictx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	ictx = experimental.WithMemoryAllocator(withState(ictx, &inst.state), inst.limiter)
	mod, err := p.rt.rt.InstantiateModule(ictx, p.compiled, cfg)
	inst.stdout.Flush()
	inst.stderr.Flush()
	if err != nil {
		err = inst.classify(ictx, err)
		if t := inst.tail.String(); t != "" {
			err = fmt.Errorf("%w\nguest stderr:\n%s", err, t)
		}
		return nil, fmt.Errorf("instantiating: %w", err)
	}
	inst.mod = mod
	inst.mem = mod.Memory()
	inst.abiVer = mod.ExportedFunction(abi.ExportABIVersion)
	inst.describe = mod.ExportedFunction(abi.ExportDescribe)
	inst.alloc = mod.ExportedFunction(abi.ExportAlloc)
	inst.run = mod.ExportedFunction(abi.ExportRun)
	p.live.Add(1)
	return inst, nil
}

// checkInstance asks a fresh instance for its ABI version and description.
func (p *Plugin) checkInstance(ctx context.Context, inst *instance) error {
	ctx, cancel := context.WithTimeout(ctx, p.limits.CallTimeout)
	defer cancel()
	dl, _ := ctx.Deadline()
	inst.begin(nil, dl, p.limits.CallTimeout)
	sctx := withState(ctx, &inst.state)
	if err := inst.abiVer.CallWithStack(sctx, inst.stack[:]); err != nil {
		return fmt.Errorf("calling %s: %w", abi.ExportABIVersion, inst.classify(ctx, err))
	}
	v := abi.Version(uint32(inst.stack[0]))
	if !abi.Compatible(abi.Current, v) {
		return fmt.Errorf("%w: the module speaks ABI %s, this host %s", ErrABIVersion, v, abi.Current)
	}
	if v != p.m.ABI() {
		return fmt.Errorf("%w: the module speaks ABI %s, its manifest says abi = %q", ErrABIVersion, v, p.m.ABI())
	}
	if inst.describe == nil {
		return nil
	}
	if err := inst.describe.CallWithStack(sctx, inst.stack[:]); err != nil {
		return fmt.Errorf("calling %s: %w", abi.ExportDescribe, inst.classify(ctx, err))
	}
	ptr, n := abi.UnpackPtrLen(inst.stack[0])
	raw, ok := inst.mem.Read(ptr, n)
	if !ok || n == 0 || int(n) > p.limits.MaxResultBytes {
		return fmt.Errorf("%w: %s returned %d bytes at %d, outside memory or empty", ErrBadResult, abi.ExportDescribe, n, ptr)
	}
	return checkDescription(p.m, raw)
}

func (inst *instance) logger() hclog.Logger { return inst.state.guestLogger() }

// nanosleep serves WASI sleeps (poll_oneoff) without sleeping past the
// call's deadline, so a sleeping guest is stopped on time.
func (inst *instance) nanosleep(ns int64) {
	d := min(time.Duration(ns), time.Until(time.Unix(0, inst.deadline.Load())))
	if d > 0 {
		time.Sleep(d)
	}
}

// begin resets the per-call state.
func (inst *instance) begin(env *Env, deadline time.Time, timeout time.Duration) {
	st := &inst.state
	st.env = env
	st.deadline = deadline
	st.timeout = timeout
	st.budget = st.limit
	st.pending, st.hasPend, st.lastErr = nil, false, ""
	inst.deadline.Store(deadline.UnixNano())
	inst.tail.Reset()
	inst.limiter.Reset()
}

// invoke runs heal_alloc, writes the request, runs heal_run and decodes the
// result.
func (inst *instance) invoke(ctx context.Context, env *Env, deadline time.Time, timeout time.Duration, payload []byte) (res abi.Result, err error) {
	inst.begin(env, deadline, timeout)
	defer func() {
		inst.stdout.Flush()
		inst.stderr.Flush()
		inst.state.env = nil
	}()
	sctx := withState(ctx, &inst.state)
	stack := inst.stack[:]
	stack[0] = uint64(len(payload))
	if err := inst.alloc.CallWithStack(sctx, stack); err != nil {
		return res, inst.classify(ctx, err)
	}
	ptr := uint32(stack[0])
	if ptr == 0 {
		if inst.limiter.Refused() {
			return res, fmt.Errorf("%w: heal_alloc(%d) returned 0", ErrMemoryLimit, len(payload))
		}
		return res, fmt.Errorf("%w: heal_alloc(%d) returned 0 (out of memory)", ErrBadResult, len(payload))
	}
	if !inst.mem.Write(ptr, payload) {
		return res, fmt.Errorf("%w: heal_alloc(%d) returned %d, outside memory of %d bytes", ErrBadResult, len(payload), ptr, inst.mem.Size())
	}
	stack[0], stack[1] = uint64(ptr), uint64(len(payload))
	if err := inst.run.CallWithStack(sctx, stack); err != nil {
		return res, inst.classify(ctx, err)
	}
	rp, rn := abi.UnpackPtrLen(stack[0])
	switch {
	case rn == 0:
		return res, fmt.Errorf("%w: heal_run returned an empty result", ErrBadResult)
	case int(rn) > inst.maxRes:
		return res, fmt.Errorf("%w: %d bytes, the manifest allows max_result_bytes = %d", ErrResultTooLarge, rn, inst.maxRes)
	}
	raw, ok := inst.mem.Read(rp, rn)
	if !ok {
		return res, fmt.Errorf("%w: result [%d, %d+%d) lies outside memory of %d bytes", ErrBadResult, rp, rp, rn, inst.mem.Size())
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return abi.Result{}, fmt.Errorf("%w: %v", ErrBadResult, err)
	}
	if err := validateResult(&res); err != nil {
		return abi.Result{}, err
	}
	return res, nil
}

func validateResult(r *abi.Result) error {
	if !r.Outcome.Valid() {
		return fmt.Errorf("%w: outcome %q is not one of retry, use_element, give_up, abort", ErrBadResult, r.Outcome)
	}
	if r.Outcome == abi.OutcomeUseElement && r.Element == nil && r.Point == nil {
		return fmt.Errorf("%w: outcome use_element needs an element or a point", ErrBadResult)
	}
	return nil
}

// classify maps an error from a guest call to the package's sentinels.
func (inst *instance) classify(ctx context.Context, err error) error {
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case sys.ExitCodeDeadlineExceeded:
			return fmt.Errorf("%w: the guest was stopped after %s", ErrDeadline, inst.state.timeout)
		case sys.ExitCodeContextCanceled:
			return fmt.Errorf("%w: the call was cancelled: %w", ErrDeadline, context.Canceled)
		}
		if inst.limiter.Refused() {
			return fmt.Errorf("%w: guest exited with code %d after a refused memory growth", ErrMemoryLimit, exit.ExitCode())
		}
		return fmt.Errorf("%w: guest exited with code %d", ErrTrap, exit.ExitCode())
	}
	if isFault(err) {
		return err
	}
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %v", ErrDeadline, err)
	}
	if inst.limiter.Refused() {
		return fmt.Errorf("%w: the guest trapped after a refused memory growth: %v", ErrMemoryLimit, err)
	}
	return fmt.Errorf("%w: %v", ErrTrap, err)
}

func (inst *instance) close(ctx context.Context) {
	if inst.mod != nil {
		_ = inst.mod.Close(ctx)
	}
}
