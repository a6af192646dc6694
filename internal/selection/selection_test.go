package selection

import (
	"context"
	"strings"
	"testing"

	"github.com/selfheal/engine/internal/classify"
)

func defaults(t testing.TB) *classify.Classifier {
	t.Helper()
	c, err := classify.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The seed's contract, for both policies at cold start.
func TestSeedContract(t *testing.T) {
	c := defaults(t)
	tests := []struct {
		name  string
		q     Query
		want  string // "" means none left
		param string
	}{
		{"first", Query{ErrorType: "element_not_found"}, "wait_longer", `{"timeout_ms":5000}`},
		{"escalate", Query{ErrorType: "element_not_found", RetryCount: 1, Tried: []string{"wait_longer"}}, "scroll_into_view", `{}`},
		{"escalate without tried list", Query{ErrorType: "element_not_found", RetryCount: 2}, "use_vision_fallback", `{}`},
		{"skip a failed one", Query{ErrorType: "element_not_found", RetryCount: 1, Tried: []string{"scroll_into_view"}}, "use_vision_fallback", `{}`},
		{"earlier untried when later failed", Query{ErrorType: "timeout", RetryCount: 2, Tried: []string{"reload_page", "check_network_idle"}}, "retry_with_longer_timeout", `{"multiplier":2}`},
		{"exhausted by retries", Query{ErrorType: "timeout", RetryCount: 3}, "", ""},
		{"exhausted by failures", Query{ErrorType: "security_challenge", RetryCount: 1, Tried: []string{"use_different_approach", "wait_for_manual_intervention"}}, "", ""},
		{"unknown type gets the default chain", Query{ErrorType: "martian"}, "wait_and_retry", `{"delay_ms":1000}`},
		{"negative retry count", Query{ErrorType: "timeout", RetryCount: -1}, "", ""},
	}
	for _, policy := range []Policy{Ordered, Thompson} {
		sel := New(c, NewCounters(), Options{Policy: policy, Seed: 1})
		for _, tt := range tests {
			t.Run(policy.String()+"/"+tt.name, func(t *testing.T) {
				got, ok := sel.Next(context.Background(), tt.q)
				if tt.want == "" {
					if ok {
						t.Fatalf("Next = %s, want none left", got.Strategy)
					}
					return
				}
				if !ok || got.Strategy != tt.want || string(got.Params) != tt.param {
					t.Fatalf("Next = %s %s (%v), want %s %s", got.Strategy, got.Params, ok, tt.want, tt.param)
				}
				if got.Explain.Chosen != tt.want || !strings.Contains(got.Explain.String(), tt.want) {
					t.Errorf("explain does not name the choice: %s", got.Explain)
				}
			})
		}
	}
}

// Evidence reorders per context: each host gets the strategy that works
// there, although overall both have the same record.
func TestLearnsPerHost(t *testing.T) {
	c := defaults(t)
	st := NewCounters()
	for range 40 {
		st.Record("element_not_found", "wait_longer", "slow.example", "click", false)
		st.Record("element_not_found", "scroll_into_view", "slow.example", "click", true)
		st.Record("element_not_found", "wait_longer", "fast.example", "click", true)
		st.Record("element_not_found", "scroll_into_view", "fast.example", "click", false)
	}
	sel := New(c, st, Options{Policy: Thompson, Seed: 7})
	count := map[string]int{}
	for range 200 {
		ch, _ := sel.Next(context.Background(), Query{ErrorType: "element_not_found", Host: "slow.example", ActionKind: "click"})
		count[ch.Strategy]++
	}
	if count["scroll_into_view"] < 180 {
		t.Errorf("on slow.example: %v, want scroll_into_view nearly always", count)
	}
	clear(count)
	for range 200 {
		ch, _ := sel.Next(context.Background(), Query{ErrorType: "element_not_found", Host: "fast.example", ActionKind: "click"})
		count[ch.Strategy]++
	}
	if count["wait_longer"] < 180 {
		t.Errorf("on fast.example: %v, want wait_longer mostly", count)
	}
	ch, _ := sel.Next(context.Background(), Query{ErrorType: "element_not_found", Host: "slow.example", ActionKind: "click"})
	if ch.Explain.Policy != "thompson" || ch.Explain.Candidates[0].Context.Total != 40 || ch.Explain.Candidates[0].Sample == 0 {
		t.Errorf("explain lacks the evidence: %+v", ch.Explain)
	}
}

func TestDeterministicWithSeed(t *testing.T) {
	c := defaults(t)
	st := NewCounters()
	st.Add("timeout", "reload_page", "", "", Counts{Successes: 5, Total: 9})
	st.Add("timeout", "check_network_idle", "", "", Counts{Successes: 4, Total: 9})
	run := func() string {
		sel := New(c, st, Options{Policy: Thompson, Seed: 42})
		var b strings.Builder
		for range 50 {
			ch, _ := sel.Next(context.Background(), Query{ErrorType: "timeout"})
			b.WriteString(ch.Strategy[:1])
		}
		return b.String()
	}
	if a, b := run(), run(); a != b {
		t.Errorf("same seed, different choices:\n%s\n%s", a, b)
	}
}

func TestCountersLevels(t *testing.T) {
	st := NewCounters()
	st.Record("timeout", "reload_page", "a.example", "click", true)
	st.Record("timeout", "reload_page", "a.example", "type", false)
	st.Record("timeout", "reload_page", "", "click", true)
	st.Record("timeout", "", "a.example", "click", true) // none left: not a strategy's outcome
	tests := []struct {
		k    Key
		want Counts
	}{
		{Key{"timeout", "reload_page", "", ""}, Counts{2, 3}},
		{Key{"timeout", "reload_page", "", "click"}, Counts{2, 2}},
		{Key{"timeout", "reload_page", "a.example", ""}, Counts{1, 2}},
		{Key{"timeout", "reload_page", "a.example", "type"}, Counts{0, 1}},
		{Key{"timeout", "", "", ""}, Counts{}},
	}
	for _, tt := range tests {
		if got := st.Counts(tt.k); got != tt.want {
			t.Errorf("Counts(%+v) = %+v, want %+v", tt.k, got, tt.want)
		}
	}
}
