// Package heal is the Go guest SDK for strategy plugins of the selfheal
// engine. A plugin's main package registers its strategies and has an empty
// main; the SDK provides the module's exports (heal_abi_version, heal_alloc,
// heal_run, heal_describe) and typed access to the host functions of
// abi/ABI.md.
//
//	package main
//
//	import (
//		"github.com/selfheal/engine/abi"
//		"github.com/selfheal/engine/sdk/go/heal"
//	)
//
//	func init() { heal.Register("scroll_then_retry", scroll) }
//
//	func scroll(c *heal.Call) abi.Result {
//		loc, ok := heal.LocatorOf(c.Target())
//		if !ok {
//			return heal.GiveUp("the target has no css or xpath")
//		}
//		if _, err := c.ScrollIntoView(loc); err != nil {
//			return heal.GiveUp(err.Error())
//		}
//		return heal.Retry("scrolled the target into view")
//	}
//
//	func main() {}
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
//
// and test the strategy logic natively with package healtest.
//
// A strategy that panics is not recovered: the panic traps the instance and
// the engine records the call as failed, with the panic text in the error.
package heal

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/internal/hostabi"
)

// Strategy is one recovery strategy: it inspects the call's request, uses
// host functions through c and returns its verdict.
type Strategy func(c *Call) abi.Result

var strategies = map[string]Strategy{}

// Register adds a strategy under name. Call it from init or a package-level
// variable initialiser: the engine runs only the module's initialisers, never
// main. Register panics on an empty name, a nil function or a duplicate, so
// that a broken module fails when the engine loads it.
func Register(name string, fn Strategy) {
	switch {
	case name == "":
		panic("heal: Register with an empty strategy name")
	case fn == nil:
		panic(fmt.Sprintf("heal: Register(%q) with a nil function", name))
	}
	if _, dup := strategies[name]; dup {
		panic(fmt.Sprintf("heal: strategy %q registered twice", name))
	}
	strategies[name] = fn
	description = nil
}

// Strategies returns the registered strategy names, sorted.
func Strategies() []string {
	names := make([]string, 0, len(strategies))
	for name := range strategies {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func init() {
	hostabi.Run = run
	hostabi.Describe = describe
}

// run is heal_run without the memory plumbing: a JSON Request in, a JSON
// Result out. It takes ownership of in: the request's strings share its
// memory. Malformed input and unknown strategies panic, which the host sees
// as a trap naming the problem on stderr.
func run(in []byte) []byte { return runInto(nil, in, true) }

// runInto is run appending the result to dst, so that the wasm export can
// reuse one result buffer; owned says whether the request may share in's
// memory.
func runInto(dst, in []byte, owned bool) []byte {
	call := &Call{}
	req := &call.Request
	decode := decodeRequest
	if owned {
		decode = decodeOwnedRequest
	}
	if err := decode(in, req); err != nil {
		panic(fmt.Sprintf("heal: the request is not a valid abi.Request: %v", err))
	}
	fn, ok := strategies[req.Strategy]
	if !ok {
		panic(fmt.Sprintf("heal: this module has no strategy %q (it has %s)", req.Strategy, strings.Join(Strategies(), ", ")))
	}
	res := fn(call)
	out, err := encodeResult(dst, &res)
	if err != nil {
		panic(fmt.Sprintf("heal: strategy %q returned a result that cannot be encoded: %v", req.Strategy, err))
	}
	return out
}

var description []byte

// describe is heal_describe: the registered strategies as a Description.
func describe() []byte {
	if description == nil {
		description, _ = json.Marshal(abi.Description{Strategies: Strategies()})
	}
	return description
}

// Retry asks the engine to retry the action unchanged.
func Retry(msg string) abi.Result { return abi.Result{Outcome: abi.OutcomeRetry, Message: msg} }

// RetryWith asks the engine to retry the action with overrides: a longer
// timeout, a delay or another target.
func RetryWith(opts abi.RetryOptions, msg string) abi.Result {
	return abi.Result{Outcome: abi.OutcomeRetry, Message: msg, Retry: &opts}
}

// UseElement asks the engine to act on el instead of the original target.
func UseElement(el abi.Element, msg string) abi.Result {
	return abi.Result{Outcome: abi.OutcomeUseElement, Message: msg, Element: &el}
}

// UsePoint asks the engine to act at p instead of the original target.
func UsePoint(p abi.Point, msg string) abi.Result {
	return abi.Result{Outcome: abi.OutcomeUseElement, Message: msg, Point: &p}
}

// GiveUp says this strategy cannot help; the engine tries the next one.
func GiveUp(msg string) abi.Result { return abi.Result{Outcome: abi.OutcomeGiveUp, Message: msg} }

// Done says the strategy achieved the action's effect itself (for example
// it completed the navigation); the engine does not repeat the action.
func Done(msg string) abi.Result { return abi.Result{Outcome: abi.OutcomeDone, Message: msg} }

// Abort stops healing of this action altogether.
func Abort(msg string) abi.Result { return abi.Result{Outcome: abi.OutcomeAbort, Message: msg} }

// WithDetails returns r with v, encoded as JSON, as its free-form details.
// A value that cannot be encoded is recorded as {"details_error": "..."}
// rather than failing the call.
func WithDetails(r abi.Result, v any) abi.Result {
	b, err := appendValue(nil, v)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"details_error": err.Error()})
	}
	r.Details = b
	return r
}

// LocatorOf returns a locator for t's CSS selector or XPath, preferring CSS.
// ok is false when t is nil or has neither.
func LocatorOf(t *abi.Target) (l abi.Locator, ok bool) {
	switch {
	case t == nil:
		return l, false
	case t.CSS != "":
		return abi.Locator{CSS: t.CSS}, true
	case t.XPath != "":
		return abi.Locator{XPath: t.XPath}, true
	}
	return l, false
}

// QueryOf returns a query for t's CSS selector or XPath, preferring CSS.
// ok is false when t is nil or has neither.
func QueryOf(t *abi.Target) (q abi.Query, ok bool) {
	l, ok := LocatorOf(t)
	return abi.Query{CSS: l.CSS, XPath: l.XPath}, ok
}
