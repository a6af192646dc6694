package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/healtest"
)

// level1 is the first healing profile of abi/ABI.md section 6.
var level1 = abi.HealingProfile{Level: 1, MinRatio: 0.78, PadMul: 1.3, ExpandRoles: true}

// call is a request builder for tests.
type call struct{ abi.Request }

func newCall(kind string, t *abi.Target) *call {
	return &call{abi.Request{
		Action:  abi.Action{Kind: kind, Target: t, TimeoutMS: 5000},
		Attempt: 1, Healing: level1, PageURL: "http://shop.test/cart",
	}}
}

func (c *call) config(cfg string) *call        { c.Config = json.RawMessage(cfg); return c }
func (c *call) deadline(d time.Duration) *call { c.DeadlineMS = d.Milliseconds(); return c }
func (c *call) errMsg(msg string) *call        { c.Error.Message = msg; return c }

// run runs strategy on h and fails the test on a call error.
func (c *call) run(t *testing.T, h *healtest.Host, strategy string) abi.Result {
	t.Helper()
	res, err := h.Run(strategy, c.Request)
	if err != nil {
		t.Fatalf("%s: %v", strategy, err)
	}
	return res
}

// want checks a result's outcome and that its message contains msg.
func want(t *testing.T, res abi.Result, outcome abi.Outcome, msg string) {
	t.Helper()
	if res.Outcome != outcome || !strings.Contains(res.Message, msg) {
		t.Fatalf("result = %s %q (details %s), want %s containing %q", res.Outcome, res.Message, res.Details, outcome, msg)
	}
}

// details decodes a result's details.
func details(t *testing.T, res abi.Result) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(res.Details, &m); err != nil {
		t.Fatalf("details %s: %v", res.Details, err)
	}
	return m
}

// actions returns the names of the browser actions performed, e.g.
// "navigate".
func actions(h *healtest.Host) []string {
	var out []string
	for _, a := range h.Actions() {
		_, name, _ := strings.Cut(a.Func, ".")
		out = append(out, name)
	}
	return out
}

// between checks that d lies within [lo, hi].
func between(t *testing.T, what string, d, lo, hi time.Duration) {
	t.Helper()
	if d < lo || d > hi {
		t.Fatalf("%s = %v, want within [%v, %v]", what, d, lo, hi)
	}
}

func el(tag, xpath string, attrs map[string]string, text string, visible bool) abi.Element {
	return abi.Element{Tag: tag, XPath: xpath, Attrs: attrs, Text: text, VisibleText: text, Visible: visible, Enabled: true,
		Rect: abi.Rect{X: 10, Y: 10, Width: 100, Height: 30}}
}

func notFound(what string) error { return fmt.Errorf("%w: %s", abi.ErrNotFound, what) }

var errFailed = errors.New("net::ERR_CONNECTION_REFUSED")
