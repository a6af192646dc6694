package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/healtest"
)

var buy = abi.Element{
	Tag: "button", Attrs: map[string]string{"id": "buy"}, Text: "Buy now",
	XPath: "/html[1]/body[1]/main[1]/button[1]", Enabled: true,
}

func clickBuy(target abi.Target, config string) abi.Request {
	return abi.Request{
		Action:  abi.Action{Kind: abi.ActionClick, Target: &target},
		Healing: abi.HealingProfile{Level: 1, MinRatio: 0.78},
		Config:  []byte(config), DeadlineMS: 3000,
	}
}

func TestWaitUntilVisible(t *testing.T) {
	tests := []struct {
		name      string
		target    abi.Target
		config    string
		visibleAt time.Duration // 0: never
		outcome   abi.Outcome
		message   string
		checks    int // exists calls
		elapsed   time.Duration
	}{
		{"visible at once", abi.Target{CSS: "#buy"}, "", -1, abi.OutcomeRetry, "after 0 ms", 1, 0},
		{"appears while polling", abi.Target{CSS: "#buy"}, `{"poll_ms": 100}`, 250 * time.Millisecond, abi.OutcomeRetry, "after 300 ms", 4, 300 * time.Millisecond},
		{"by xpath", abi.Target{XPath: buy.XPath}, `{"poll_ms": 50}`, 120 * time.Millisecond, abi.OutcomeRetry, "after 150 ms", 4, 150 * time.Millisecond},
		{"max_wait bounds the wait", abi.Target{CSS: "#buy"}, `{"poll_ms": 100, "max_wait_ms": 400}`, 0, abi.OutcomeGiveUp, "not visible after 400 ms", 5, 400 * time.Millisecond},
		// A 3 s call: sleeps continue while a whole poll fits before the deadline.
		{"deadline bounds the wait", abi.Target{CSS: "#buy"}, `{"poll_ms": 500, "max_wait_ms": 60000}`, 0, abi.OutcomeGiveUp, "not visible after 2500 ms", 6, 2500 * time.Millisecond},
		{"no selector", abi.Target{Text: "Buy now"}, "", 0, abi.OutcomeGiveUp, "neither css nor xpath", 0, 0},
		{"bad config", abi.Target{CSS: "#buy"}, `{"poll_ms": 0}`, 0, abi.OutcomeAbort, "poll_ms must be positive", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := healtest.NewHost().AddElements(buy)
			switch {
			case tt.visibleAt < 0:
				h.Update("#buy", func(e *abi.Element) { e.Visible = true })
			case tt.visibleAt > 0:
				h.At(tt.visibleAt, func(h *healtest.Host) { h.Update("#buy", func(e *abi.Element) { e.Visible = true }) })
			}
			res, err := h.Run("wait_until_visible", clickBuy(tt.target, tt.config))
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.outcome || !strings.Contains(res.Message, tt.message) {
				t.Errorf("got %s %q, want %s containing %q", res.Outcome, res.Message, tt.outcome, tt.message)
			}
			if n := h.Calls(abi.FnExists); n != tt.checks {
				t.Errorf("exists called %d times, want %d", n, tt.checks)
			}
			if h.Elapsed() != tt.elapsed {
				t.Errorf("waited %v, want %v", h.Elapsed(), tt.elapsed)
			}
		})
	}
}

func TestWaitUntilVisibleRetryTimeout(t *testing.T) {
	h := healtest.NewHost().AddElements(buy)
	h.Update("#buy", func(e *abi.Element) { e.Visible = true })
	res, err := h.Run("wait_until_visible", clickBuy(abi.Target{CSS: "#buy"}, `{"timeout_ms": 8000}`))
	if err != nil {
		t.Fatal(err)
	}
	if res.Retry == nil || res.Retry.TimeoutMS != 8000 || string(res.Details) != `{"checks":1,"count":1,"waited_ms":0}` {
		t.Errorf("result = %+v, details %s", res, res.Details)
	}
	if logs := h.Logs(); len(logs) != 1 || !strings.Contains(logs[0].Message, "#buy visible after 1 checks") {
		t.Errorf("logs = %+v", logs)
	}
}

func TestWaitUntilVisibleBrowserFailure(t *testing.T) {
	h := healtest.NewHost().AddElements(buy).Fail(abi.FnExists, fmt.Errorf("%w: browser gone", abi.ErrUnavailable))
	res, err := h.Run("wait_until_visible", clickBuy(abi.Target{CSS: "#buy"}, ""))
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != abi.OutcomeGiveUp || !strings.Contains(res.Message, "unavailable: unavailable: browser gone") {
		t.Errorf("got %s %q", res.Outcome, res.Message)
	}
}

func TestResolveByText(t *testing.T) {
	visible := buy
	visible.Visible = true
	hidden := buy
	tests := []struct {
		name    string
		target  abi.Target
		answer  abi.Resolution
		err     error
		outcome abi.Outcome
		message string
	}{
		{"resolved", abi.Target{CSS: "#old-buy", Text: "Buy now"}, abi.Resolution{Element: &visible, Score: 0.9, Method: "text"}, nil, abi.OutcomeUseElement, "resolved by text"},
		{"weak match", abi.Target{Text: "Buy now"}, abi.Resolution{Element: &visible, Score: 0.3, Method: "text"}, nil, abi.OutcomeGiveUp, "below min_score"},
		{"hidden match", abi.Target{Text: "Buy now"}, abi.Resolution{Element: &hidden, Score: 0.9, Method: "text"}, nil, abi.OutcomeGiveUp, "not visible and enabled"},
		{"nothing good enough", abi.Target{Text: "Buy now"}, abi.Resolution{}, fmt.Errorf("%w: best 0.41", abi.ErrNotFound), abi.OutcomeGiveUp, `nothing resolves to "Buy now" at level 1`},
		{"no resolver", abi.Target{Text: "Buy now"}, abi.Resolution{}, abi.ErrUnavailable, abi.OutcomeGiveUp, "heal_resolver.resolve: unavailable"},
		{"nothing to resolve by", abi.Target{CSS: "#buy"}, abi.Resolution{}, nil, abi.OutcomeGiveUp, "no text, label, role or fingerprint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked []abi.ResolveRequest
			h := healtest.NewHost().OnResolve(func(r abi.ResolveRequest) (abi.Resolution, error) {
				asked = append(asked, r)
				return tt.answer, tt.err
			})
			res, err := h.Run("resolve_by_text", clickBuy(tt.target, ""))
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tt.outcome || !strings.Contains(res.Message, tt.message) {
				t.Errorf("got %s %q, want %s containing %q", res.Outcome, res.Message, tt.outcome, tt.message)
			}
			if len(asked) > 0 && (asked[0].Target.CSS != "" || asked[0].Level != 1 || asked[0].Target.Text != tt.target.Text) {
				t.Errorf("resolver asked %+v", asked[0])
			}
			if tt.outcome == abi.OutcomeUseElement && res.Element.XPath != buy.XPath {
				t.Errorf("element %s", res.Element.XPath)
			}
		})
	}
}

func TestUnknownStrategy(t *testing.T) {
	if _, err := healtest.Run("click_by_magic", abi.Request{}); !errors.Is(err, healtest.ErrUnknownStrategy) {
		t.Fatalf("err = %v", err)
	}
}
