// Package healtest is a fake engine for testing strategies written with
// package heal under plain `go test`, like net/http/httptest for handlers.
//
// A Host holds a programmable page (elements of the abi.Element shape, page
// info, network state), a virtual clock, resolver, vision and DNS answers and
// injectable failures, and records every host call, action and log line.
// Host.Run runs a registered strategy through the same JSON encoding, output
// buffers, pending responses and status codes as the engine's host, and
// checks its result as the engine would.
//
// The fake page understands CSS selectors made of a tag, #id, .class and
// [attr=value] parts (comma-separated lists too, no combinators) and XPaths
// equal to an element's xpath or id_xpath.
package healtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/selfheal/engine/abi"
)

// Errors of a strategy call, mirroring the engine host's sentinels.
var (
	// ErrTrap: the strategy panicked; a wasm instance would have trapped.
	ErrTrap = errors.New("healtest: strategy trapped")
	// ErrBadResult: the result is not a valid abi.Result.
	ErrBadResult = errors.New("healtest: bad result")
	// ErrResultTooLarge: the encoded result exceeds the result cap.
	ErrResultTooLarge = errors.New("healtest: result too large")
	// ErrHostCallBudget: the strategy made more host calls than the budget.
	ErrHostCallBudget = errors.New("healtest: host-call budget exhausted")
	// ErrDeadline: the call's deadline passed while the strategy ran.
	ErrDeadline = errors.New("healtest: deadline exceeded")
	// ErrUnknownStrategy: no strategy of that name is registered.
	ErrUnknownStrategy = errors.New("healtest: unknown strategy")
)

// Defaults of the engine's manifest limits.
const (
	DefaultDeadline       = 10 * time.Second
	DefaultHostCalls      = 1000
	DefaultMaxResultBytes = 1 << 20
)

// Epoch is where every Host's virtual clock starts.
var Epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// Action is one call of a heal_browser_act function, as recorded by the
// fake browser.
type Action struct {
	Func       string // "heal_browser_act.click"
	Locator    abi.Locator
	Navigation abi.Navigation
	Idle       abi.IdleRequest
	At         time.Duration // virtual time since the Host was created
}

// LogEntry is one heal_log.write.
type LogEntry struct {
	Level   int32
	Message string
}

type fault struct {
	err   error
	times int // calls left to fail; <= 0 means every call
}

type event struct {
	at time.Time
	fn func(*Host)
}

// Host is a fake engine. Configure it, then Run strategies on it. Its methods
// are safe for concurrent use; runs on any Host are serialised, as calls on
// one wasm instance are.
type Host struct {
	mu         sync.Mutex
	page       abi.PageInfo
	viewport   abi.Viewport
	elements   []abi.Element
	network    abi.NetworkState
	shot       *abi.Screenshot
	resolve    func(abi.ResolveRequest) (abi.Resolution, error)
	candidates func(abi.ResolveRequest) (abi.Resolution, error)
	locate     func(abi.LocateTextRequest) (abi.TextLocation, error)
	lookup     func(abi.LookupRequest) (abi.LookupResult, error)
	detached   map[abi.Capability]bool
	faults     map[string]*fault
	events     []event
	now        time.Time
	calls      map[string]int
	actions    []Action
	logs       []LogEntry
	budget     int
	maxResult  int
}

// NewHost returns a Host with an empty page at about:blank, online with no
// requests in flight, a browser attached and no resolver, vision or DNS
// (their functions report unavailable until answers are programmed).
func NewHost() *Host {
	return &Host{
		page:      abi.PageInfo{URL: "about:blank", ReadyState: "complete"},
		viewport:  abi.Viewport{Width: 1280, Height: 720},
		network:   abi.NetworkState{Online: true, IdleMS: 1000},
		detached:  map[abi.Capability]bool{},
		faults:    map[string]*fault{},
		calls:     map[string]int{},
		now:       Epoch,
		budget:    DefaultHostCalls,
		maxResult: DefaultMaxResultBytes,
	}
}

// Run runs a strategy on a fresh Host.
func Run(strategy string, req abi.Request) (abi.Result, error) { return NewHost().Run(strategy, req) }

// SetPage sets the page's URL, title and ready state.
func (h *Host) SetPage(p abi.PageInfo) *Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.page = p
	return h
}

// Page returns the page's URL, title and ready state.
func (h *Host) Page() abi.PageInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.page
}

// AddElements appends elements to the page; each gets its position as Index.
func (h *Host) AddElements(els ...abi.Element) *Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, el := range els {
		el.Index = len(h.elements)
		el.Attrs = cloneAttrs(el.Attrs)
		h.elements = append(h.elements, el)
	}
	return h
}

// Elements returns a copy of the page's elements.
func (h *Host) Elements() []abi.Element {
	h.mu.Lock()
	defer h.mu.Unlock()
	return cloneElements(h.elements)
}

// Update applies change to every element css selects and returns how many
// it changed. It panics on a selector the fake page cannot parse.
func (h *Host) Update(css string, change func(*abi.Element)) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	idx, err := match(h.elements, css, "")
	if err != nil {
		panic(err)
	}
	for _, i := range idx {
		change(&h.elements[i])
	}
	return len(idx)
}

// SetNetwork sets the page's network state.
func (h *Host) SetNetwork(n abi.NetworkState) *Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.network = n
	return h
}

// SetScreenshot sets what heal_browser.screenshot returns; by default it is
// a blank PNG of the viewport's size.
func (h *Host) SetScreenshot(s abi.Screenshot) *Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.shot = &s
	return h
}

// OnResolve programs heal_resolver.resolve.
func (h *Host) OnResolve(fn func(abi.ResolveRequest) (abi.Resolution, error)) *Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.resolve = fn
	return h
}

// OnCandidates programs heal_resolver.candidates.
func (h *Host) OnCandidates(fn func(abi.ResolveRequest) (abi.Resolution, error)) *Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.candidates = fn
	return h
}

// OnLocateText programs heal_vision.locate_text.
func (h *Host) OnLocateText(fn func(abi.LocateTextRequest) (abi.TextLocation, error)) *Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.locate = fn
	return h
}

// OnLookupHost programs heal_net.lookup_host.
func (h *Host) OnLookupHost(fn func(abi.LookupRequest) (abi.LookupResult, error)) *Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lookup = fn
	return h
}

// Detach makes every function of capability c report unavailable (-4), as
// when no browser, resolver or OCR is attached to the call.
func (h *Host) Detach(c abi.Capability) *Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.detached[c] = true
	return h
}

// Fail makes every call of fn fail with err. The status code is
// abi.StatusOf(err) (wrap abi.ErrNotFound, abi.ErrUnavailable,
// abi.ErrBadRequest or context.DeadlineExceeded for those codes) and the
// message err.Error(). A nil err removes the fault.
func (h *Host) Fail(fn abi.HostFunc, err error) *Host { return h.FailNext(fn, 0, err) }

// FailNext makes the next n calls of fn fail with err (every call when
// n <= 0).
func (h *Host) FailNext(fn abi.HostFunc, n int, err error) *Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		delete(h.faults, funcName(fn))
		return h
	}
	h.faults[funcName(fn)] = &fault{err: err, times: n}
	return h
}

// At schedules change to run when the virtual clock has advanced d from now,
// for example to make an element appear while a strategy waits. The change
// runs without the Host's lock held, so it may call any method.
func (h *Host) At(d time.Duration, change func(*Host)) *Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, event{at: h.now.Add(d), fn: change})
	return h
}

// SetHostCallBudget sets the host-call budget of each run (the manifest's
// limits.host_calls); heal_host.take and last_error do not count.
func (h *Host) SetHostCallBudget(n int) *Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.budget = n
	return h
}

// SetMaxResultBytes sets the result cap (the manifest's
// limits.max_result_bytes).
func (h *Host) SetMaxResultBytes(n int) *Host {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.maxResult = n
	return h
}

// Calls returns how many times fn was called, over all runs.
func (h *Host) Calls(fn abi.HostFunc) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[funcName(fn)]
}

// TotalCalls returns the number of host calls that count against the budget
// (all but heal_host.take and last_error), over all runs.
func (h *Host) TotalCalls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for name, c := range h.calls {
		if name != funcName(abi.FnTake) && name != funcName(abi.FnLastError) {
			n += c
		}
	}
	return n
}

// Actions returns the browser actions performed, oldest first.
func (h *Host) Actions() []Action {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.actions)
}

// Logs returns the lines the strategies logged, oldest first.
func (h *Host) Logs() []LogEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.logs)
}

// Now returns the virtual clock.
func (h *Host) Now() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

// Elapsed returns the virtual time since the Host was created.
func (h *Host) Elapsed() time.Duration { return h.Now().Sub(Epoch) }

// advanceTo moves the virtual clock to t, running the events due on the way
// in order of their time.
func (h *Host) advanceTo(t time.Time) {
	for {
		h.mu.Lock()
		next := -1
		for i, ev := range h.events {
			if !ev.at.After(t) && (next < 0 || ev.at.Before(h.events[next].at)) {
				next = i
			}
		}
		if next < 0 {
			if t.After(h.now) {
				h.now = t
			}
			h.mu.Unlock()
			return
		}
		ev := h.events[next]
		h.events = slices.Delete(h.events, next, next+1)
		if ev.at.After(h.now) {
			h.now = ev.at
		}
		h.mu.Unlock()
		ev.fn(h)
	}
}

// nextEvent returns the time of the earliest scheduled event.
func (h *Host) nextEvent() (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.events) == 0 {
		return time.Time{}, false
	}
	at := h.events[0].at
	for _, ev := range h.events[1:] {
		if ev.at.Before(at) {
			at = ev.at
		}
	}
	return at, true
}

func (h *Host) blankPNG(scale float64) abi.Screenshot {
	if scale <= 0 {
		scale = 1
	}
	w, hgt := int(h.viewport.Width*scale), int(h.viewport.Height*scale)
	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, hgt)))
	return abi.Screenshot{Width: w, Height: hgt, PNG: buf.Bytes()}
}

func funcName(fn abi.HostFunc) string { return fn.Module() + "." + fn.Name }

func cloneAttrs(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneElements(els []abi.Element) []abi.Element {
	out := slices.Clone(els)
	for i := range out {
		out[i].Attrs = cloneAttrs(out[i].Attrs)
		out[i].Frame = slices.Clone(out[i].Frame)
	}
	return out
}

// checkResult validates an encoded result as the engine's host does.
func checkResult(b []byte, maxBytes int) (abi.Result, error) {
	var res abi.Result
	switch {
	case len(b) == 0:
		return res, fmt.Errorf("%w: empty result", ErrBadResult)
	case len(b) > maxBytes:
		return res, fmt.Errorf("%w: %d bytes, cap %d", ErrResultTooLarge, len(b), maxBytes)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, fmt.Errorf("%w: %v", ErrBadResult, err)
	}
	if !res.Outcome.Valid() {
		return res, fmt.Errorf("%w: outcome %q is not one of retry, use_element, give_up, abort", ErrBadResult, res.Outcome)
	}
	if res.Outcome == abi.OutcomeUseElement && res.Element == nil && res.Point == nil {
		return res, fmt.Errorf("%w: use_element without element or point", ErrBadResult)
	}
	return res, nil
}

func knownStrategies(describe func() []byte) []string {
	var d abi.Description
	if describe != nil {
		_ = json.Unmarshal(describe(), &d)
	}
	sort.Strings(d.Strategies)
	return d.Strategies
}
