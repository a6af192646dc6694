package selection

import (
	"context"
	"testing"
)

// Target: under 5 us per selection.
func BenchmarkNextThompson(b *testing.B) {
	c := defaults(b)
	st := NewCounters()
	for _, s := range []string{"wait_and_retry", "use_alternative_selector", "refresh_dom_state", "dismiss_overlay"} {
		for i := range 50 {
			st.Record("action_execution_failure", s, "shop.example", "click", i%3 == 0)
		}
	}
	sel := New(c, st, Options{Policy: Thompson, Seed: 1})
	q := Query{ErrorType: "action_execution_failure", RetryCount: 1, Host: "shop.example", ActionKind: "click", Tried: []string{"wait_and_retry"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := sel.Next(ctx, q); !ok {
			b.Fatal("none left")
		}
	}
}

func BenchmarkNextOrdered(b *testing.B) {
	sel := New(defaults(b), NewCounters(), Options{})
	q := Query{ErrorType: "element_not_found", RetryCount: 1, Tried: []string{"wait_longer"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		sel.Next(ctx, q)
	}
}
