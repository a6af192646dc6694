package selection

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// Whatever the evidence, Next never returns a strategy that failed for the
// action, never one outside the pattern, and says none left exactly when the
// retries or the strategies are used up.
func TestPropertyNeverRepeatsOrExceeds(t *testing.T) {
	c := defaults(t)
	types := []string{"element_not_found", "timeout", "security_challenge", "page_load_failure", "action_execution_failure", "network_error", "unknown"}
	rapid.Check(t, func(t *rapid.T) {
		et := rapid.SampledFrom(types).Draw(t, "type")
		p, _ := c.Pattern(et)
		names := make([]string, p.NumStrategies())
		for i := range names {
			names[i] = p.Strategy(i).Name()
		}
		st := NewCounters()
		for range rapid.IntRange(0, 30).Draw(t, "observations") {
			st.Record(et, rapid.SampledFrom(names).Draw(t, "s"), rapid.SampledFrom([]string{"", "h1", "h2"}).Draw(t, "h"),
				rapid.SampledFrom([]string{"", "click", "type"}).Draw(t, "k"), rapid.Bool().Draw(t, "ok"))
		}
		tried := rapid.SliceOfDistinct(rapid.SampledFrom(names), rapid.ID).Draw(t, "tried")
		retry := rapid.IntRange(-1, len(names)+1).Draw(t, "retry")
		policy := rapid.SampledFrom([]Policy{Ordered, Thompson}).Draw(t, "policy")
		sel := New(c, st, Options{Policy: policy, Seed: rapid.Uint64Min(1).Draw(t, "seed")})
		ch, ok := sel.Next(context.Background(), Query{ErrorType: et, RetryCount: retry, Tried: tried, Host: "h1", ActionKind: "click"})
		wantNone := retry < 0 || retry >= len(names) || len(tried) == len(names)
		if ok == wantNone {
			t.Fatalf("ok = %v, want none left = %v (retry %d, tried %v of %v)", ok, wantNone, retry, tried, names)
		}
		if ok && (slices.Contains(tried, ch.Strategy) || !slices.Contains(names, ch.Strategy)) {
			t.Fatalf("chose %s with tried %v of %v", ch.Strategy, tried, names)
		}
	})
}

// With enough evidence the strategy with the higher true success rate is
// preferred, whatever its position in the seed order.
func TestPropertyPrefersBetterStrategy(t *testing.T) {
	c := defaults(t)
	p, _ := c.Pattern("timeout")
	rapid.Check(t, func(t *rapid.T) {
		rates := make([]float64, p.NumStrategies())
		for i := range rates {
			rates[i] = rapid.Float64Range(0, 1).Draw(t, "rate")
		}
		best := 0
		for i, r := range rates {
			if r > rates[best] {
				best = i
			}
		}
		for i, r := range rates {
			if i != best && rates[best]-r < 0.25 {
				t.Skip("rates too close to tell apart with this much evidence")
			}
		}
		rng := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "world"), 1))
		st := NewCounters()
		for i, r := range rates {
			for range 200 {
				st.Record("timeout", p.Strategy(i).Name(), "", "", rng.Float64() < r)
			}
		}
		sel := New(c, st, Options{Policy: Thompson, Seed: rapid.Uint64Min(1).Draw(t, "seed")})
		wins := 0
		for range 100 {
			ch, _ := sel.Next(context.Background(), Query{ErrorType: "timeout"})
			if ch.Strategy == p.Strategy(best).Name() {
				wins++
			}
		}
		if wins < 90 {
			t.Fatalf("best strategy %s (rates %v) chosen %d/100 times", p.Strategy(best).Name(), rates, wins)
		}
	})
}
