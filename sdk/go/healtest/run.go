package healtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/selfheal/engine/abi"
	_ "github.com/selfheal/engine/sdk/go/heal" // installs the entry points healtest drives
	"github.com/selfheal/engine/sdk/go/internal/hostabi"
)

// Run runs the registered strategy on h, as the engine would: req.Strategy
// is set to strategy and req.DeadlineMS defaults to DefaultDeadline; the
// request is JSON-encoded, the strategy's host calls go through the ABI's
// byte-level convention, and the result is decoded and checked.
//
// Errors wrap ErrUnknownStrategy, ErrTrap (the strategy panicked),
// ErrHostCallBudget, ErrDeadline, ErrResultTooLarge or ErrBadResult.
func (h *Host) Run(strategy string, req abi.Request) (abi.Result, error) {
	if !slices.Contains(knownStrategies(hostabi.Describe), strategy) {
		return abi.Result{}, fmt.Errorf("%w %q (registered: %v)", ErrUnknownStrategy, strategy, knownStrategies(hostabi.Describe))
	}
	req.Strategy = strategy
	if req.DeadlineMS <= 0 {
		req.DeadlineMS = DefaultDeadline.Milliseconds()
	}
	in, err := json.Marshal(req)
	if err != nil {
		return abi.Result{}, fmt.Errorf("healtest: encoding the request: %w", err)
	}
	timeout := time.Duration(req.DeadlineMS) * time.Millisecond
	h.mu.Lock()
	s := &session{
		h:        h,
		deadline: h.now.Add(timeout),
		grace:    min(50*time.Millisecond, timeout/10),
		budget:   h.budget,
	}
	maxResult := h.maxResult
	h.mu.Unlock()

	out, err := s.run(in)
	if err != nil {
		return abi.Result{}, fmt.Errorf("strategy %q: %w", strategy, err)
	}
	if !h.Now().Before(s.deadline) {
		return abi.Result{}, fmt.Errorf("strategy %q: %w: still running at its %v deadline", strategy, ErrDeadline, timeout)
	}
	res, err := checkResult(out, maxResult)
	if err != nil {
		return res, fmt.Errorf("strategy %q: %w", strategy, err)
	}
	return res, nil
}

// budgetExceeded is panicked by a host function to stop the call, as the
// engine's host stops a wasm call.
type budgetExceeded struct{ budget int }

// session is the per-call state of the host side: the deadline, the budget,
// the pending response and the last error message.
type session struct {
	h        *Host
	deadline time.Time
	grace    time.Duration
	budget   int
	used     int
	pending  []byte
	lastErr  string
}

func (s *session) run(in []byte) (out []byte, err error) {
	release := hostabi.Install(s)
	defer release()
	defer func() {
		switch p := recover().(type) {
		case nil:
		case budgetExceeded:
			err = fmt.Errorf("%w: more than %d host calls", ErrHostCallBudget, p.budget)
		default:
			err = fmt.Errorf("%w: panic: %v", ErrTrap, p)
		}
	}()
	return hostabi.Run(in), nil
}

// count records a call and enforces the budget for functions that count.
func (s *session) count(fn abi.HostFunc) {
	s.h.mu.Lock()
	s.h.calls[funcName(fn)]++
	s.h.mu.Unlock()
	if fn == abi.FnTake || fn == abi.FnLastError {
		return
	}
	if s.used++; s.used > s.budget {
		panic(budgetExceeded{s.budget})
	}
}

func (s *session) JSON(fn abi.HostFunc, in, out []byte) int32 {
	s.count(fn)
	s.pending = nil
	resp, err := s.dispatch(fn, in)
	if err != nil {
		s.lastErr = err.Error()
		return abi.StatusOf(err)
	}
	if len(resp) > len(out) {
		s.pending = resp
	} else {
		copy(out, resp)
	}
	return int32(len(resp))
}

func (s *session) Take(out []byte) int32 {
	s.count(abi.FnTake)
	switch {
	case s.pending == nil:
		s.lastErr = "no pending response"
		return abi.StatusNoPending
	case len(out) < len(s.pending):
		return int32(len(s.pending))
	}
	n := copy(out, s.pending)
	s.pending = nil
	return int32(n)
}

func (s *session) LastError(out []byte) int32 {
	s.count(abi.FnLastError)
	copy(out, s.lastErr)
	return int32(len(s.lastErr))
}

func (s *session) Log(level int32, msg []byte) {
	s.count(abi.FnLog)
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.h.logs = append(s.h.logs, LogEntry{Level: level, Message: string(msg)})
}

func (s *session) NowMS() int64 {
	s.count(abi.FnNowMS)
	return s.h.Now().UnixMilli()
}

func (s *session) RemainingMS() int64 {
	s.count(abi.FnRemainingMS)
	return max(0, s.deadline.Sub(s.h.Now()).Milliseconds())
}

// SleepMS follows ABI.md: never past the deadline less the grace period; 0
// after a full sleep, -3 when cut short.
func (s *session) SleepMS(ms int32) int32 {
	s.count(abi.FnSleepMS)
	now := s.h.Now()
	want := now.Add(time.Duration(max(ms, 0)) * time.Millisecond)
	if limit := s.deadline.Add(-s.grace); want.After(limit) {
		s.h.advanceTo(limit)
		return abi.StatusTimeout
	}
	s.h.advanceTo(want)
	return 0
}

// dispatch decodes the input, applies faults and detached capabilities and
// runs the fake service.
func (s *session) dispatch(fn abi.HostFunc, in []byte) ([]byte, error) {
	h := s.h
	h.mu.Lock()
	detached := h.detached[fn.Cap]
	f := h.faults[funcName(fn)]
	if f != nil && f.times > 0 {
		if f.times--; f.times == 0 {
			delete(h.faults, funcName(fn))
		}
	}
	h.mu.Unlock()
	if detached {
		return nil, fmt.Errorf("%w: no %s attached to this call", abi.ErrUnavailable, fn.Cap)
	}
	if f != nil {
		return nil, f.err
	}
	var v any
	var err error
	switch fn {
	case abi.FnPageInfo:
		v = h.Page()
	case abi.FnQuery:
		v, err = decodeThen(in, s.query)
	case abi.FnExists:
		v, err = decodeThen(in, s.exists)
	case abi.FnSnapshot:
		v = s.snapshot()
	case abi.FnNetworkState:
		h.mu.Lock()
		v = h.network
		h.mu.Unlock()
	case abi.FnScreenshot:
		v, err = decodeThen(in, s.screenshot)
	case abi.FnClick, abi.FnHover, abi.FnScrollIntoView, abi.FnType, abi.FnPress:
		v, err = decodeThen(in, func(l abi.Locator) (abi.ActResult, error) { return s.act(fn, l) })
	case abi.FnWaitForSelector:
		v, err = decodeThen(in, s.waitForSelector)
	case abi.FnNavigate, abi.FnReload, abi.FnBack, abi.FnNewContext, abi.FnLoadCached:
		v, err = decodeThen(in, func(n abi.Navigation) (abi.ActResult, error) { return s.navigate(fn, n) })
	case abi.FnWaitNetworkIdle:
		v, err = decodeThen(in, s.waitNetworkIdle)
	case abi.FnResolve:
		v, err = decodeThen(in, serviceOf(h, &h.resolve, "resolver"))
	case abi.FnCandidates:
		v, err = decodeThen(in, serviceOf(h, &h.candidates, "resolver"))
	case abi.FnLocateText:
		v, err = decodeThen(in, serviceOf(h, &h.locate, "vision service"))
	case abi.FnLookupHost:
		v, err = decodeThen(in, serviceOf(h, &h.lookup, "DNS resolver"))
	default:
		return nil, fmt.Errorf("%w: healtest has no %s", abi.ErrBadRequest, funcName(fn))
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// decodeThen decodes guest input (length 0 is the zero value) and calls fn.
func decodeThen[In, Out any](in []byte, fn func(In) (Out, error)) (Out, error) {
	var v In
	if len(in) > 0 {
		if err := json.Unmarshal(in, &v); err != nil {
			var zero Out
			return zero, fmt.Errorf("%w: %v", abi.ErrBadRequest, err)
		}
	}
	return fn(v)
}

// serviceOf returns the programmed answer of a service, or unavailable.
func serviceOf[In, Out any](h *Host, slot *func(In) (Out, error), what string) func(In) (Out, error) {
	return func(in In) (Out, error) {
		h.mu.Lock()
		fn := *slot
		h.mu.Unlock()
		if fn == nil {
			var zero Out
			return zero, fmt.Errorf("%w: no %s programmed in healtest", abi.ErrUnavailable, what)
		}
		return fn(in)
	}
}

func (s *session) query(q abi.Query) (abi.QueryResult, error) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	idx, err := match(s.h.elements, q.CSS, q.XPath)
	if err != nil {
		return abi.QueryResult{}, err
	}
	if q.Limit > 0 && len(idx) > q.Limit {
		idx = idx[:q.Limit]
	}
	out := abi.QueryResult{Elements: make([]abi.Element, 0, len(idx))}
	for _, i := range idx {
		out.Elements = append(out.Elements, s.h.elements[i])
	}
	return out, nil
}

func (s *session) exists(q abi.Query) (abi.ExistsResult, error) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	idx, err := match(s.h.elements, q.CSS, q.XPath)
	if err != nil {
		return abi.ExistsResult{}, err
	}
	res := abi.ExistsResult{Count: len(idx)}
	for _, i := range idx {
		res.Visible = res.Visible || s.h.elements[i].Visible
	}
	return res, nil
}

func (s *session) snapshot() abi.Snapshot {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return abi.Snapshot{URL: s.h.page.URL, Title: s.h.page.Title, Viewport: s.h.viewport, Elements: cloneElements(s.h.elements)}
}

func (s *session) screenshot(r abi.ScreenshotRequest) (abi.Screenshot, error) {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if s.h.shot != nil {
		return *s.h.shot, nil
	}
	return s.h.blankPNG(r.Scale), nil
}

func (s *session) record(fn abi.HostFunc, a Action) {
	a.Func = funcName(fn)
	a.At = s.h.now.Sub(Epoch)
	s.h.actions = append(s.h.actions, a)
}

// act performs click, hover, scroll_into_view, type and press on the fake
// page. Clicks and hovers need a visible element, as in a browser; type
// appends to the element's value attribute.
func (s *session) act(fn abi.HostFunc, l abi.Locator) (abi.ActResult, error) {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case fn == abi.FnType && l.Point != nil:
		return abi.ActResult{}, fmt.Errorf("%w: type needs an element, not a point", abi.ErrBadRequest)
	case fn == abi.FnPress && l.Key == "":
		return abi.ActResult{}, fmt.Errorf("%w: press needs a key", abi.ErrBadRequest)
	case l.Point != nil || fn == abi.FnPress && l.CSS == "" && l.XPath == "":
		s.record(fn, Action{Locator: l})
		return abi.ActResult{OK: true, URL: h.page.URL}, nil
	}
	idx, err := match(h.elements, l.CSS, l.XPath)
	if err != nil {
		return abi.ActResult{}, err
	}
	if len(idx) == 0 {
		return abi.ActResult{}, fmt.Errorf("%w: no element matches %s%s", abi.ErrNotFound, l.CSS, l.XPath)
	}
	el := &h.elements[idx[0]]
	if (fn == abi.FnClick || fn == abi.FnHover) && !el.Visible {
		return abi.ActResult{}, fmt.Errorf("element %s is not visible", el.XPath)
	}
	if fn == abi.FnType {
		if el.Attrs == nil {
			el.Attrs = map[string]string{}
		}
		el.Attrs["value"] += l.Text
	}
	s.record(fn, Action{Locator: l})
	return abi.ActResult{OK: true, URL: h.page.URL}, nil
}

// waitUntil advances the virtual clock from event to event until cond holds
// or timeout (capped by the call's deadline) runs out.
func (s *session) waitUntil(timeoutMS int64, cond func() bool) error {
	limit := s.deadline
	if timeoutMS > 0 {
		limit = minTime(limit, s.h.Now().Add(time.Duration(timeoutMS)*time.Millisecond))
	}
	for {
		if cond() {
			return nil
		}
		next, ok := s.h.nextEvent()
		if !ok || next.After(limit) {
			s.h.advanceTo(limit)
			return context.DeadlineExceeded
		}
		s.h.advanceTo(next)
	}
}

func (s *session) waitForSelector(l abi.Locator) (abi.ActResult, error) {
	if _, err := match(nil, l.CSS, l.XPath); err != nil {
		return abi.ActResult{}, err
	}
	err := s.waitUntil(l.TimeoutMS, func() bool {
		st, _ := s.exists(abi.Query{CSS: l.CSS, XPath: l.XPath})
		return st.Count > 0 && (!l.Visible || st.Visible)
	})
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.record(abi.FnWaitForSelector, Action{Locator: l})
	if err != nil {
		return abi.ActResult{}, fmt.Errorf("waiting for %s%s: %w", l.CSS, l.XPath, err)
	}
	return abi.ActResult{OK: true, URL: s.h.page.URL}, nil
}

func (s *session) waitNetworkIdle(r abi.IdleRequest) (abi.ActResult, error) {
	err := s.waitUntil(r.TimeoutMS, func() bool {
		s.h.mu.Lock()
		defer s.h.mu.Unlock()
		return s.h.network.Online && s.h.network.Inflight == 0
	})
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	s.record(abi.FnWaitNetworkIdle, Action{Idle: r})
	if err != nil {
		return abi.ActResult{}, fmt.Errorf("waiting for network idle: %w", err)
	}
	return abi.ActResult{OK: true, URL: s.h.page.URL}, nil
}

// navigate performs navigate, reload, back, new_context and load_cached:
// navigate (and the others when given a URL) changes the page's URL.
func (s *session) navigate(fn abi.HostFunc, n abi.Navigation) (abi.ActResult, error) {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if fn == abi.FnNavigate && n.URL == "" {
		return abi.ActResult{}, fmt.Errorf("%w: navigate needs a url", abi.ErrBadRequest)
	}
	if n.URL != "" && fn != abi.FnBack && fn != abi.FnReload {
		h.page.URL = n.URL
	}
	s.record(fn, Action{Navigation: n})
	res := abi.ActResult{OK: true, URL: h.page.URL}
	if fn == abi.FnLoadCached {
		res.Source = "snapshot"
	}
	return res, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

var _ hostabi.Host = (*session)(nil)
