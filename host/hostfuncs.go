package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
	"github.com/selfheal/engine/abi"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// maxResponse caps one host-function response (a screenshot is the largest
// legitimate one); larger responses return abi.StatusTooLarge.
const maxResponse = 16 << 20

// maxLogMessage clips a guest log message.
const maxLogMessage = 16 << 10

func fmtBadRequest(format string, args ...any) error {
	return fmt.Errorf("%w: %s", abi.ErrBadRequest, fmt.Sprintf(format, args...))
}

// callState is the per-call state host functions work on. It travels in the
// context wazero hands to every host function.
type callState struct {
	pluginID string
	env      *Env
	logger   hclog.Logger // the plugin's logger
	deadline time.Time
	timeout  time.Duration
	budget   int // host calls left
	limit    int // host calls per call
	pending  []byte
	hasPend  bool
	lastErr  string
}

type stateKey struct{}

func withState(ctx context.Context, st *callState) context.Context {
	return context.WithValue(ctx, stateKey{}, st)
}

func stateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(stateKey{}).(*callState)
	if st == nil {
		// Every context the host calls a guest with carries a state; this
		// is reached only if a guest is invoked some other way.
		panic(&fault{kind: ErrTrap, msg: "host function called outside a strategy call"})
	}
	return st
}

// fault aborts the guest call from inside a host function. wazero recovers
// the panic and returns it wrapped with %w, so errors.Is finds kind.
type fault struct {
	kind error
	msg  string
}

func (f *fault) Error() string { return f.kind.Error() + ": " + f.msg }
func (f *fault) Unwrap() error { return f.kind }

// spend counts one host call against the budget.
func (st *callState) spend(name string) {
	st.budget--
	if st.budget < 0 {
		panic(&fault{kind: ErrHostCallBudget, msg: "at " + name})
	}
	st.pending, st.hasPend = nil, false
}

// guestLogger is where heal_log.write and the guest's output go this call.
func (st *callState) guestLogger() hclog.Logger {
	if st.env != nil && st.env.Logger != nil {
		return st.env.Logger.Named(st.pluginID)
	}
	return st.logger
}

// read returns the guest bytes [ptr, ptr+n) or aborts the call.
func read(mem api.Memory, fn string, ptr, n uint32) []byte {
	if mem == nil {
		panic(&fault{kind: ErrMemoryAccess, msg: fn + ": guest has no memory"})
	}
	b, ok := mem.Read(ptr, n)
	if !ok {
		panic(&fault{kind: ErrMemoryAccess, msg: fmt.Sprintf("%s: range [%d, %d+%d) outside guest memory of %d bytes", fn, ptr, ptr, n, mem.Size())})
	}
	return b
}

// jsonFunc is one host function of the JSON call convention: it decodes the
// guest's input and asks a service of env.
type jsonFunc struct {
	fn   abi.HostFunc
	call func(ctx context.Context, env *Env, in []byte) (any, error)
}

// errUnavailable is returned for a service that is not attached.
func errUnavailable(what string) error {
	return fmt.Errorf("%w: no %s attached to this call", abi.ErrUnavailable, what)
}

// decode reads a guest JSON message; empty input is the zero value.
func decode[In any](name string, in []byte, v *In) error {
	if len(in) == 0 {
		return nil
	}
	if err := json.Unmarshal(in, v); err != nil {
		return fmtBadRequest("%s: %v", name, err)
	}
	return nil
}

// svc builds a jsonFunc from a service getter and one service method.
func svc[S any, In any](f abi.HostFunc, what string, get func(*Env) S, do func(S, context.Context, In) (any, error)) jsonFunc {
	return jsonFunc{fn: f, call: func(ctx context.Context, env *Env, in []byte) (any, error) {
		var s S
		if env != nil {
			s = get(env)
		}
		if any(s) == nil {
			return nil, errUnavailable(what)
		}
		var req In
		if err := decode(f.Name, in, &req); err != nil {
			return nil, err
		}
		return do(s, ctx, req)
	}}
}

func browserFn[In any](f abi.HostFunc, do func(Browser, context.Context, In) (any, error)) jsonFunc {
	return svc(f, "browser", func(e *Env) Browser { return e.Browser }, do)
}

func actFn[In any](f abi.HostFunc, m func(Browser, context.Context, In) (abi.ActResult, error)) jsonFunc {
	return browserFn(f, func(b Browser, ctx context.Context, in In) (any, error) { return m(b, ctx, in) })
}

// jsonFuncs lists every JSON host function of ABI 1.0.
var jsonFuncs = []jsonFunc{
	browserFn(abi.FnPageInfo, func(b Browser, ctx context.Context, _ abi.Empty) (any, error) { return b.PageInfo(ctx) }),
	browserFn(abi.FnQuery, func(b Browser, ctx context.Context, q abi.Query) (any, error) {
		if q.CSS == "" && q.XPath == "" {
			return nil, fmtBadRequest("query: css or xpath is required")
		}
		els, err := b.Query(ctx, q)
		if els == nil {
			els = []abi.Element{}
		}
		return abi.QueryResult{Elements: els}, err
	}),
	browserFn(abi.FnExists, func(b Browser, ctx context.Context, q abi.Query) (any, error) {
		if q.CSS == "" && q.XPath == "" {
			return nil, fmtBadRequest("exists: css or xpath is required")
		}
		return b.Exists(ctx, q)
	}),
	browserFn(abi.FnSnapshot, func(b Browser, ctx context.Context, _ abi.Empty) (any, error) { return b.Snapshot(ctx) }),
	browserFn(abi.FnNetworkState, func(b Browser, ctx context.Context, _ abi.Empty) (any, error) { return b.NetworkState(ctx) }),
	browserFn(abi.FnScreenshot, func(b Browser, ctx context.Context, r abi.ScreenshotRequest) (any, error) {
		if r.Scale < 0 || r.Scale > 4 {
			return nil, fmtBadRequest("screenshot: scale %g outside 0..4", r.Scale)
		}
		return b.Screenshot(ctx, r)
	}),
	actFn(abi.FnClick, Browser.Click),
	actFn(abi.FnType, Browser.Type),
	actFn(abi.FnPress, Browser.Press),
	actFn(abi.FnHover, Browser.Hover),
	actFn(abi.FnScrollIntoView, Browser.ScrollIntoView),
	actFn(abi.FnReload, Browser.Reload),
	actFn(abi.FnNavigate, Browser.Navigate),
	actFn(abi.FnBack, Browser.Back),
	actFn(abi.FnWaitForSelector, Browser.WaitForSelector),
	actFn(abi.FnWaitNetworkIdle, Browser.WaitNetworkIdle),
	actFn(abi.FnNewContext, Browser.NewContext),
	actFn(abi.FnLoadCached, Browser.LoadCached),
	svc(abi.FnResolve, "resolver", func(e *Env) Resolver { return e.Resolver },
		func(r Resolver, ctx context.Context, q abi.ResolveRequest) (any, error) { return r.Resolve(ctx, q) }),
	svc(abi.FnCandidates, "resolver", func(e *Env) Resolver { return e.Resolver },
		func(r Resolver, ctx context.Context, q abi.ResolveRequest) (any, error) { return r.Candidates(ctx, q) }),
	svc(abi.FnLocateText, "vision", func(e *Env) Vision { return e.Vision },
		func(v Vision, ctx context.Context, q abi.LocateTextRequest) (any, error) {
			if q.Text == "" {
				return nil, fmtBadRequest("locate_text: text is required")
			}
			return v.LocateText(ctx, q)
		}),
	svc(abi.FnLookupHost, "DNS resolver", func(e *Env) Net { return e.Net },
		func(n Net, ctx context.Context, q abi.LookupRequest) (any, error) { return n.LookupHost(ctx, q) }),
}

// dispatch runs one JSON host function: decode, ask the service, encode.
// A negative status comes with st.lastErr set. A panicking service aborts
// the guest call with ErrHostPanic instead of crashing the process.
func (st *callState) dispatch(ctx context.Context, jf jsonFunc, in []byte) (resp []byte, status int32) {
	defer func() {
		if r := recover(); r != nil {
			if f, ok := r.(*fault); ok {
				panic(f)
			}
			panic(&fault{kind: ErrHostPanic, msg: fmt.Sprintf("%s.%s: %v", jf.fn.Module(), jf.fn.Name, r)})
		}
	}()
	out, err := jf.call(ctx, st.env, in)
	if err != nil {
		status = abi.StatusOf(err)
		if ctx.Err() != nil {
			status = abi.StatusTimeout
		}
		st.lastErr = jf.fn.Name + ": " + err.Error()
		// resolve reports "nothing good enough" as not_found with the
		// Resolution (its candidates) as the message, per ABI.md.
		if status == abi.StatusNotFound && jf.fn == abi.FnResolve && out != nil {
			if b, mErr := json.Marshal(out); mErr == nil {
				st.lastErr = string(b)
			}
		}
		return nil, status
	}
	resp, err = json.Marshal(out)
	if err != nil {
		st.lastErr = fmt.Sprintf("%s: encoding the response: %v", jf.fn.Name, err)
		return nil, abi.StatusFailed
	}
	if len(resp) > maxResponse {
		st.lastErr = fmt.Sprintf("%s: response of %d bytes exceeds the host's cap of %d", jf.fn.Name, len(resp), maxResponse)
		return nil, abi.StatusTooLarge
	}
	return resp, int32(len(resp))
}

// hostModules instantiates one host module per capability in r.
func hostModules(ctx context.Context, r wazero.Runtime) error {
	builders := map[abi.Capability]wazero.HostModuleBuilder{}
	byName := map[string]jsonFunc{}
	for _, jf := range jsonFuncs {
		byName[jf.fn.Module()+"."+jf.fn.Name] = jf
	}
	for _, f := range abi.HostFuncs {
		b := builders[f.Cap]
		if b == nil {
			b = r.NewHostModuleBuilder(f.Module())
			builders[f.Cap] = b
		}
		var fn api.GoModuleFunc
		switch f {
		case abi.FnTake:
			fn = hostTake
		case abi.FnLastError:
			fn = hostLastError
		case abi.FnLog:
			fn = hostLog
		case abi.FnNowMS:
			fn = hostNow
		case abi.FnRemainingMS:
			fn = hostRemaining
		case abi.FnSleepMS:
			fn = hostSleep
		default:
			jf, ok := byName[f.Module()+"."+f.Name]
			if !ok {
				return fmt.Errorf("host: no implementation of %s.%s", f.Module(), f.Name)
			}
			fn = jsonHostFunc(jf)
		}
		params, results := valueTypes(f.Signature.Params), valueTypes(f.Signature.Results)
		b.NewFunctionBuilder().WithGoModuleFunction(fn, params, results).WithName(f.Name).Export(f.Name)
	}
	for _, c := range abi.Capabilities {
		if b := builders[c]; b != nil {
			if _, err := b.Instantiate(ctx); err != nil {
				return fmt.Errorf("host: instantiating %s: %w", c.Module(), err)
			}
		}
	}
	return nil
}

func valueTypes(sig string) []api.ValueType {
	out := make([]api.ValueType, 0, len(sig))
	for _, c := range sig {
		switch c {
		case 'i':
			out = append(out, api.ValueTypeI32)
		case 'I':
			out = append(out, api.ValueTypeI64)
		case 'f':
			out = append(out, api.ValueTypeF32)
		case 'F':
			out = append(out, api.ValueTypeF64)
		}
	}
	return out
}

func jsonHostFunc(jf jsonFunc) api.GoModuleFunc {
	name := jf.fn.Module() + "." + jf.fn.Name
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		st := stateFrom(ctx)
		st.spend(name)
		inPtr, inLen := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
		outPtr, outCap := api.DecodeU32(stack[2]), api.DecodeU32(stack[3])
		mem := mod.Memory()
		in := read(mem, name, inPtr, inLen)
		read(mem, name, outPtr, outCap) // the output buffer must lie in memory too
		resp, status := st.dispatch(ctx, jf, in)
		if status < 0 {
			stack[0] = api.EncodeI32(status)
			return
		}
		if uint32(len(resp)) <= outCap {
			mem.Write(outPtr, resp)
		} else {
			st.pending, st.hasPend = resp, true
		}
		stack[0] = api.EncodeI32(int32(len(resp)))
	}
}

func hostTake(ctx context.Context, mod api.Module, stack []uint64) {
	st := stateFrom(ctx)
	ptr, capacity := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	read(mod.Memory(), "heal_host.take", ptr, capacity)
	if !st.hasPend {
		stack[0] = api.EncodeI32(abi.StatusNoPending)
		return
	}
	n := len(st.pending)
	if uint32(n) <= capacity {
		mod.Memory().Write(ptr, st.pending)
		st.pending, st.hasPend = nil, false
	}
	stack[0] = api.EncodeI32(int32(n))
}

func hostLastError(ctx context.Context, mod api.Module, stack []uint64) {
	st := stateFrom(ctx)
	ptr, capacity := api.DecodeU32(stack[0]), api.DecodeU32(stack[1])
	read(mod.Memory(), "heal_host.last_error", ptr, capacity)
	msg := st.lastErr
	if len(msg) > 0 && capacity > 0 {
		mod.Memory().Write(ptr, []byte(msg[:min(len(msg), int(capacity))]))
	}
	stack[0] = api.EncodeI32(int32(len(msg)))
}

func hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	st := stateFrom(ctx)
	st.spend("heal_log.write")
	level := api.DecodeI32(stack[0])
	b := read(mod.Memory(), "heal_log.write", api.DecodeU32(stack[1]), api.DecodeU32(stack[2]))
	if len(b) > maxLogMessage {
		b = b[:maxLogMessage]
	}
	msg := string(b)
	if !utf8.ValidString(msg) {
		msg = string([]rune(msg)) // replaces invalid bytes with U+FFFD
	}
	lg := st.guestLogger()
	switch level {
	case abi.LogTrace:
		lg.Trace(msg)
	case abi.LogDebug:
		lg.Debug(msg)
	case abi.LogWarn:
		lg.Warn(msg)
	case abi.LogError:
		lg.Error(msg)
	default:
		lg.Info(msg)
	}
}

func hostNow(ctx context.Context, _ api.Module, stack []uint64) {
	stateFrom(ctx).spend("heal_time.now_ms")
	stack[0] = api.EncodeI64(time.Now().UnixMilli())
}

func hostRemaining(ctx context.Context, _ api.Module, stack []uint64) {
	st := stateFrom(ctx)
	st.spend("heal_time.remaining_ms")
	stack[0] = api.EncodeI64(max(0, time.Until(st.deadline).Milliseconds()))
}

// grace is how long before the deadline sleep_ms wakes the guest so it can
// still return a result: the smaller of 50 ms and a tenth of the timeout.
func (st *callState) grace() time.Duration { return min(50*time.Millisecond, st.timeout/10) }

func hostSleep(ctx context.Context, _ api.Module, stack []uint64) {
	st := stateFrom(ctx)
	st.spend("heal_time.sleep_ms")
	ms := api.DecodeI32(stack[0])
	if ms <= 0 {
		stack[0] = 0
		return
	}
	want := time.Duration(ms) * time.Millisecond
	limit := time.Until(st.deadline) - st.grace()
	d, cut := want, false
	if limit < want {
		d, cut = max(limit, 0), true
	}
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			cut = true
		}
	}
	if cut {
		stack[0] = api.EncodeI32(abi.StatusTimeout)
		return
	}
	stack[0] = 0
}

// isFault reports whether err came from a host-function fault.
func isFault(err error) bool {
	var f *fault
	return errors.As(err, &f)
}
