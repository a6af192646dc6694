package classify

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
)

// Unknown is the type of an error no pattern matched.
const Unknown = "unknown"

// Strategy is one recovery strategy of a pattern with its parameters. It is
// immutable: accessors return copies.
type Strategy struct {
	name   string
	params map[string]any
	json   []byte // params as a JSON object, computed once at load
}

// Name is the strategy's name, e.g. "wait_longer".
func (s Strategy) Name() string { return s.name }

// Params returns a copy of the strategy's parameters as decoded from TOML
// (int64, float64, string, bool, or slices and maps of those).
func (s Strategy) Params() map[string]any { return maps.Clone(s.params) }

// Param returns one parameter.
func (s Strategy) Param(key string) (any, bool) {
	v, ok := s.params[key]
	return v, ok
}

// ParamsJSON returns the parameters as a JSON object, the form a plugin
// receives them in (abi.Request.Config). The result is a fresh copy.
func (s Strategy) ParamsJSON() json.RawMessage { return slices.Clone(s.json) }

// Pattern is an error pattern: how to recognise an error and which
// strategies recover from it, in order. It is immutable after load.
type Pattern struct {
	name         string
	signature    string
	extra        string
	description  string
	expectedRate float64
	signals      []string
	strategies   []Strategy

	re *regexp.Regexp // signature and extra signature, case-insensitive
}

// Name is the pattern's name, which is also the error type it assigns.
func (p *Pattern) Name() string { return p.name }

// Signature is the pattern's regular expression as written.
func (p *Pattern) Signature() string { return p.signature }

// ExtraSignature is an additional expression matched like Signature; it
// keeps the design document's signatures as written while recognising more.
func (p *Pattern) ExtraSignature() string { return p.extra }

// Description says what the pattern means.
func (p *Pattern) Description() string { return p.description }

// ExpectedRate is the success rate expected of the pattern's recovery,
// between 0 and 1. Strategy selection uses it as the prior.
func (p *Pattern) ExpectedRate() float64 { return p.expectedRate }

// Signals lists the structured signals that select this pattern.
func (p *Pattern) Signals() []string { return slices.Clone(p.signals) }

// Strategies returns the pattern's strategies in priority order.
func (p *Pattern) Strategies() []Strategy { return slices.Clone(p.strategies) }

// NumStrategies returns how many strategies the pattern has.
func (p *Pattern) NumStrategies() int { return len(p.strategies) }

// Strategy returns the i-th strategy in priority order.
func (p *Pattern) Strategy(i int) Strategy { return p.strategies[i] }

// StrategiesJSON returns the strategies as the JSON array stored in the
// error_patterns.recovery_strategies column: each strategy an object with
// its name and its parameters, e.g. {"name":"wait_longer","timeout_ms":5000}.
func (p *Pattern) StrategiesJSON() json.RawMessage {
	out := make([]map[string]any, len(p.strategies))
	for i, s := range p.strategies {
		m := maps.Clone(s.params)
		if m == nil {
			m = map[string]any{}
		}
		m["name"] = s.name
		out[i] = m
	}
	b, _ := json.Marshal(out) // TOML values always marshal
	return b
}

func (p *Pattern) matches(msg string) bool { return p.re != nil && p.re.MatchString(msg) }
