// Package selection chooses the next recovery strategy for a failed action.
//
// It keeps the contract of the self-healing design document: walk the error
// pattern's strategies by priority, escalate with the retry count, never
// repeat a strategy that already failed for the same action, and say "none
// left" when they are exhausted. Beyond that, the Thompson policy learns the
// order from history: each strategy's success rate is a Beta posterior whose
// prior is the pattern's expected rate, refined by outcomes overall and then
// per action kind and per host; the strategy with the highest sample wins.
// With no evidence at all the seed's order is followed exactly.
package selection

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"github.com/selfheal/engine/internal/classify"
)

// Policy is how the selector orders strategies.
type Policy int

const (
	// Ordered follows the pattern's priority order.
	Ordered Policy = iota
	// Thompson samples Beta posteriors of the strategies' success rates.
	Thompson
)

func (p Policy) String() string {
	if p == Thompson {
		return "thompson"
	}
	return "ordered"
}

// Options configure a Selector. The zero value is the ordered policy.
type Options struct {
	Policy Policy
	// Seed makes Thompson sampling deterministic; 0 seeds randomly.
	Seed uint64
	// PriorStrength is how many observations the pattern's expected rate is
	// worth (default 10).
	PriorStrength float64
	// ContextStrength is how many observations a broader level's estimate is
	// worth as the prior of a narrower one (action kind, host; default 5).
	ContextStrength float64
	// MinEvidence is how many observations of the remaining strategies are
	// needed before learning overrides the seed's order (default 1).
	MinEvidence uint64
}

// Patterns looks patterns up by error type; *classify.Classifier is one.
type Patterns interface {
	Pattern(name string) (*classify.Pattern, bool)
}

// Query describes the failure a strategy is wanted for.
type Query struct {
	ErrorType  string
	RetryCount int // attempts already made for this action
	SessionID  string
	ActionKey  string // identifies the action within the session
	Host       string
	ActionKind string
	// Tried lists the strategies that already failed for this action.
	Tried []string
}

// Choice is the selected strategy.
type Choice struct {
	Strategy string
	// Params are the strategy's parameters from the pattern, as JSON.
	Params  json.RawMessage
	Explain Explain
}

// Explain says why a strategy was chosen.
type Explain struct {
	Policy     string // "ordered", "cold-start" or "thompson"
	ErrorType  string
	Chosen     string
	Candidates []Candidate // the remaining strategies, in priority order
}

// Candidate is one remaining strategy as the selector saw it.
type Candidate struct {
	Strategy string
	Position int     // in the pattern's priority order, from 0
	Prior    float64 // the pattern's expected rate
	Overall  Counts
	Kind     Counts  // for the query's action kind
	Host     Counts  // for the query's host
	Context  Counts  // for host and action kind together
	Mean     float64 // posterior mean
	Sample   float64 // the Thompson draw (0 unless sampled)
}

func (e Explain) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: chose %s by %s", e.ErrorType, e.Chosen, e.Policy)
	for _, c := range e.Candidates {
		fmt.Fprintf(&b, "\n  #%d %-28s prior %.2f overall %d/%d kind %d/%d host %d/%d both %d/%d mean %.3f",
			c.Position+1, c.Strategy, c.Prior, c.Overall.Successes, c.Overall.Total,
			c.Kind.Successes, c.Kind.Total, c.Host.Successes, c.Host.Total,
			c.Context.Successes, c.Context.Total, c.Mean)
		if c.Sample > 0 {
			fmt.Fprintf(&b, " sample %.3f", c.Sample)
		}
	}
	return b.String()
}

// Selector chooses strategies. Safe for concurrent use.
type Selector struct {
	patterns Patterns
	stats    Stats
	opts     Options

	mu  sync.Mutex
	rng *rand.Rand
}

// New returns a selector over patterns reading outcomes from stats.
func New(patterns Patterns, stats Stats, opts Options) *Selector {
	if opts.PriorStrength <= 0 {
		opts.PriorStrength = 10
	}
	if opts.ContextStrength <= 0 {
		opts.ContextStrength = 5
	}
	if opts.MinEvidence == 0 {
		opts.MinEvidence = 1
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &Selector{patterns: patterns, stats: stats, opts: opts, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Next returns the strategy to try, or ok=false when none is left: the
// retry count has reached the number of strategies, or every strategy has
// failed for this action. An unknown error type gets the Unknown chain.
// It reads only memory (Stats), never the database; ctx is for Stats
// implementations that may wait.
func (s *Selector) Next(ctx context.Context, q Query) (Choice, bool) {
	p, ok := s.patterns.Pattern(q.ErrorType)
	if !ok {
		if p, ok = s.patterns.Pattern(classify.Unknown); !ok {
			return Choice{}, false
		}
	}
	n := p.NumStrategies()
	if q.RetryCount >= n || q.RetryCount < 0 {
		return Choice{}, false
	}
	var buf [8]int
	remaining := buf[:0]
	for i := range n {
		if !slices.Contains(q.Tried, p.Strategy(i).Name()) {
			remaining = append(remaining, i)
		}
	}
	if len(remaining) == 0 {
		return Choice{}, false
	}

	ex := Explain{ErrorType: q.ErrorType, Policy: s.opts.Policy.String(), Candidates: make([]Candidate, len(remaining))}
	var evidence uint64
	for j, i := range remaining {
		c := s.candidate(p, i, q)
		evidence += c.Overall.Total
		ex.Candidates[j] = c
	}

	pick := -1
	if s.opts.Policy == Thompson && evidence >= s.opts.MinEvidence {
		best := -1.0
		s.mu.Lock()
		for j := range ex.Candidates {
			c := &ex.Candidates[j]
			a, b := s.posterior(c)
			c.Sample = betaSample(s.rng, a, b)
			if c.Sample > best {
				best, pick = c.Sample, j
			}
		}
		s.mu.Unlock()
	} else {
		if s.opts.Policy == Thompson {
			ex.Policy = "cold-start"
		}
		// The seed's escalation: the strategy at the retry count's position,
		// or the first one not tried when that one was.
		for j, i := range remaining {
			if i >= q.RetryCount {
				pick = j
				break
			}
		}
		if pick < 0 {
			pick = 0
		}
	}
	st := p.Strategy(remaining[pick])
	ex.Chosen = st.Name()
	return Choice{Strategy: st.Name(), Params: st.ParamsJSON(), Explain: ex}, true
}

func (s *Selector) candidate(p *classify.Pattern, i int, q Query) Candidate {
	name := p.Strategy(i).Name()
	c := Candidate{Strategy: name, Position: i, Prior: p.ExpectedRate()}
	c.Overall = s.stats.Counts(Key{ErrorType: q.ErrorType, Strategy: name})
	if q.ActionKind != "" {
		c.Kind = s.stats.Counts(Key{ErrorType: q.ErrorType, Strategy: name, ActionKind: q.ActionKind})
	}
	if q.Host != "" {
		c.Host = s.stats.Counts(Key{ErrorType: q.ErrorType, Strategy: name, Host: q.Host})
		if q.ActionKind != "" {
			c.Context = s.stats.Counts(Key{ErrorType: q.ErrorType, Strategy: name, Host: q.Host, ActionKind: q.ActionKind})
		}
	}
	a, b := s.posterior(&c)
	c.Mean = a / (a + b)
	return c
}

// posterior blends the levels: the expected rate is the prior of the
// overall counts, whose estimate is the prior (worth ContextStrength
// observations) of the action-kind counts, then of the host counts, then of
// both together. A level without observations passes its prior on.
func (s *Selector) posterior(c *Candidate) (alpha, beta float64) {
	alpha = c.Prior*s.opts.PriorStrength + float64(c.Overall.Successes)
	beta = (1-c.Prior)*s.opts.PriorStrength + float64(c.Overall.Failures())
	for _, lvl := range []Counts{c.Kind, c.Host, c.Context} {
		if lvl.Total == 0 {
			continue
		}
		m := alpha / (alpha + beta)
		alpha = m*s.opts.ContextStrength + float64(lvl.Successes)
		beta = (1-m)*s.opts.ContextStrength + float64(lvl.Failures())
	}
	// Keep both parameters positive for expected rates of exactly 0 or 1.
	return math.Max(alpha, 1e-3), math.Max(beta, 1e-3)
}

// betaSample draws from Beta(a, b) as X/(X+Y) of two gamma draws.
func betaSample(r *rand.Rand, a, b float64) float64 {
	x := gammaSample(r, a)
	y := gammaSample(r, b)
	if x+y == 0 {
		return a / (a + b)
	}
	return x / (x + y)
}

// gammaSample draws from Gamma(k, 1) by Marsaglia and Tsang's method, with
// the usual boost for k < 1.
func gammaSample(r *rand.Rand, k float64) float64 {
	if k < 1 {
		return gammaSample(r, k+1) * math.Pow(r.Float64(), 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
