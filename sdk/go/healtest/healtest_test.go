package healtest

import (
	"strings"
	"testing"
	"time"

	"github.com/selfheal/engine/abi"
)

func TestSelectors(t *testing.T) {
	els := []abi.Element{
		{Tag: "button", Attrs: map[string]string{"id": "buy", "class": "btn primary", "data-test": "buy"}, XPath: "/html[1]/body[1]/button[1]", IDXPath: `//*[@id="buy"]`},
		{Tag: "a", Attrs: map[string]string{"class": "btn", "href": "/cart"}, XPath: "/html[1]/body[1]/a[1]"},
		{Tag: "input", Attrs: map[string]string{"name": "q"}, XPath: "/html[1]/body[1]/input[1]"},
	}
	tests := []struct {
		css, xpath string
		want       []int
		err        string
	}{
		{css: "#buy", want: []int{0}},
		{css: ".btn", want: []int{0, 1}},
		{css: "button.btn.primary", want: []int{0}},
		{css: "a.primary", want: nil},
		{css: "*[href]", want: []int{1}},
		{css: `[data-test="buy"]`, want: []int{0}},
		{css: "input[name=q], #buy", want: []int{0, 2}},
		{css: "BUTTON", want: []int{0}},
		{xpath: "/html[1]/body[1]/a[1]", want: []int{1}},
		{xpath: `//*[@id="buy"]`, want: []int{0}},
		{css: "main button", err: "unsupported"},
		{css: "#", err: "empty id"},
		{css: "a,", err: "empty selector"},
		{css: "[x", err: "unclosed"},
		{err: "neither css nor xpath"},
		{css: "a", xpath: "/a", err: "not both"},
	}
	for _, tt := range tests {
		got, err := match(els, tt.css, tt.xpath)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("match(%q, %q) error = %v, want %q", tt.css, tt.xpath, err, tt.err)
			}
			continue
		}
		if err != nil || len(got) != len(tt.want) {
			t.Errorf("match(%q, %q) = %v, %v, want %v", tt.css, tt.xpath, got, err, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("match(%q, %q) = %v, want %v", tt.css, tt.xpath, got, tt.want)
			}
		}
	}
}

// Events fire in time order as the virtual clock advances, including events
// that schedule further events.
func TestVirtualClockEvents(t *testing.T) {
	h := NewHost()
	var order []string
	h.At(300*time.Millisecond, func(h *Host) { order = append(order, "b") })
	h.At(100*time.Millisecond, func(h *Host) {
		order = append(order, "a")
		h.At(50*time.Millisecond, func(*Host) { order = append(order, "a2") })
	})
	h.advanceTo(Epoch.Add(200 * time.Millisecond))
	if got := strings.Join(order, ","); got != "a,a2" || h.Elapsed() != 200*time.Millisecond {
		t.Fatalf("after 200ms: %s at %v", got, h.Elapsed())
	}
	h.advanceTo(Epoch.Add(time.Second))
	if got := strings.Join(order, ","); got != "a,a2,b" {
		t.Fatalf("after 1s: %s", got)
	}
}

func TestSessionConvention(t *testing.T) {
	h := NewHost().AddElements(abi.Element{Tag: "p", Text: strings.Repeat("x", 100), XPath: "/p[1]", Visible: true})
	s := &session{h: h, deadline: h.Now().Add(time.Second), budget: 10}

	small := make([]byte, 8)
	n := s.JSON(abi.FnQuery, []byte(`{"css":"p"}`), small)
	if int(n) <= len(small) {
		t.Fatalf("query returned %d, want more than the %d-byte buffer", n, len(small))
	}
	if got := s.Take(small); got != n {
		t.Errorf("take with a small buffer = %d, want %d (still pending)", got, n)
	}
	big := make([]byte, n)
	if got := s.Take(big); got != n || !strings.Contains(string(big), `"xpath":"/p[1]"`) {
		t.Errorf("take = %d %s", got, big)
	}
	if got := s.Take(big); got != abi.StatusNoPending {
		t.Errorf("second take = %d, want no_pending", got)
	}

	if got := s.JSON(abi.FnExists, []byte(`{"css":`), big); got != abi.StatusBadRequest {
		t.Errorf("bad JSON status = %d", got)
	}
	msg := make([]byte, 4)
	full := s.LastError(msg)
	if int(full) <= len(msg) || string(msg) != "bad " {
		t.Errorf("last_error = %d %q", full, msg)
	}

	h.Detach(abi.CapBrowser)
	if got := s.JSON(abi.FnPageInfo, nil, big); got != abi.StatusUnavailable {
		t.Errorf("detached browser status = %d", got)
	}
	if got := s.JSON(abi.FnResolve, []byte(`{}`), big); got != abi.StatusUnavailable {
		t.Errorf("resolver without answers status = %d", got)
	}
	if h.TotalCalls() != 4 || h.Calls(abi.FnTake) != 3 {
		t.Errorf("total %d, take %d", h.TotalCalls(), h.Calls(abi.FnTake))
	}
}

func TestWaitForSelectorUsesEvents(t *testing.T) {
	h := NewHost().AddElements(abi.Element{Tag: "button", Attrs: map[string]string{"id": "go"}, XPath: "/b[1]"})
	h.At(700*time.Millisecond, func(h *Host) { h.Update("#go", func(e *abi.Element) { e.Visible = true }) })
	s := &session{h: h, deadline: h.Now().Add(10 * time.Second), budget: 10}
	out := make([]byte, 256)
	if n := s.JSON(abi.FnWaitForSelector, []byte(`{"css":"#go","visible":true,"timeout_ms":500}`), out); n != abi.StatusTimeout {
		t.Fatalf("wait 500ms = %d, want timeout", n)
	}
	if n := s.JSON(abi.FnWaitForSelector, []byte(`{"css":"#go","visible":true,"timeout_ms":500}`), out); n < 0 {
		t.Fatalf("second wait = %d", n)
	}
	if h.Elapsed() != 700*time.Millisecond {
		t.Errorf("visible at %v, want 700ms", h.Elapsed())
	}
	if acts := h.Actions(); len(acts) != 2 || acts[1].At != 700*time.Millisecond {
		t.Errorf("actions = %+v", acts)
	}
}
