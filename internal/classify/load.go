package classify

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

//go:embed defaults.toml
var defaultsTOML string

// DefaultsTOML returns the embedded default patterns file.
func DefaultsTOML() string { return defaultsTOML }

// BuiltinStrategies are the strategy names the engine ships. A pattern may
// name only known strategies; plugins add names through WithStrategies.
var BuiltinStrategies = []string{
	"wait_longer", "scroll_into_view", "use_vision_fallback",
	"retry_with_longer_timeout", "check_network_idle", "reload_page",
	"wait_for_manual_intervention", "use_different_approach",
	"retry_navigation", "check_dns", "use_cached_version",
	"wait_and_retry", "use_alternative_selector", "refresh_dom_state", "dismiss_overlay",
	"wait_for_reconnection", "retry_request",
}

// ErrBadPattern is wrapped by every error about a pattern file's content.
var ErrBadPattern = errors.New("bad error pattern")

// PatternError names the file and pattern a load error is about.
type PatternError struct {
	File    string // "(defaults)" for the embedded file
	Pattern string // empty when the error is about the file as a whole
	Reason  string
}

func (e *PatternError) Error() string {
	if e.Pattern == "" {
		return fmt.Sprintf("%s: %s", e.File, e.Reason)
	}
	return fmt.Sprintf("%s: pattern %q: %s", e.File, e.Pattern, e.Reason)
}

// Unwrap makes errors.Is(err, ErrBadPattern) true.
func (e *PatternError) Unwrap() error { return ErrBadPattern }

// Option configures Load.
type Option func(*options)

type options struct {
	known []string
	extra []string
}

// WithStrategies replaces the set of known strategy names (default
// BuiltinStrategies).
func WithStrategies(names ...string) Option {
	return func(o *options) { o.known = slices.Clone(names) }
}

// WithExtraStrategies adds names to the set of known strategies, e.g. the
// strategies loaded plugins provide.
func WithExtraStrategies(names ...string) Option {
	return func(o *options) { o.extra = append(o.extra, names...) }
}

// The TOML shapes. Pointers tell "absent" from "zero" so that a user file
// overrides only what it sets.
type fileTOML struct {
	Unknown *patternTOML  `toml:"unknown"`
	Pattern []patternTOML `toml:"pattern"`
}

type patternTOML struct {
	Name           string          `toml:"name"`
	Signature      *string         `toml:"signature"`
	ExtraSignature *string         `toml:"extra_signature"`
	Description    *string         `toml:"description"`
	ExpectedRate   *float64        `toml:"expected_success_rate"`
	Signals        *[]string       `toml:"signals"`
	Strategy       *[]strategyTOML `toml:"strategy"`
}

type strategyTOML struct {
	Name   string         `toml:"name"`
	Params map[string]any `toml:"params"`
}

// Load builds a classifier from the embedded default patterns and, when
// userPath is not empty, a user TOML file that overrides fields of default
// patterns (same name) and adds new ones. New user patterns are matched
// before the defaults, in file order, so a specific user pattern wins over a
// general default. A bad file is refused with an error naming the file, the
// pattern and the reason (a *PatternError wrapping ErrBadPattern).
func Load(userPath string, opts ...Option) (*Classifier, error) {
	var o options
	o.known = BuiltinStrategies
	for _, opt := range opts {
		opt(&o)
	}
	known := make(map[string]bool, len(o.known)+len(o.extra))
	for _, n := range o.known {
		known[n] = true
	}
	for _, n := range o.extra {
		known[n] = true
	}

	defs, err := decode("(defaults)", defaultsTOML)
	if err != nil {
		return nil, err
	}
	var user *fileTOML
	if userPath != "" {
		b, err := os.ReadFile(userPath)
		if err != nil {
			return nil, fmt.Errorf("classify: reading patterns: %w", err)
		}
		if user, err = decode(userPath, string(b)); err != nil {
			return nil, err
		}
	}
	return build(defs, user, userPath, known)
}

func decode(file, text string) (*fileTOML, error) {
	var raw map[string]any
	if _, err := toml.Decode(text, &raw); err != nil {
		return nil, &PatternError{File: file, Reason: err.Error()}
	}
	if err := checkKeys(file, raw); err != nil {
		return nil, err
	}
	var f fileTOML
	if _, err := toml.Decode(text, &f); err != nil {
		return nil, &PatternError{File: file, Reason: err.Error()}
	}
	return &f, nil
}

var (
	fileKeys     = []string{"unknown", "pattern"}
	patternKeys  = []string{"name", "signature", "extra_signature", "description", "expected_success_rate", "signals", "strategy"}
	strategyKeys = []string{"name", "params"}
)

// checkKeys refuses keys the format does not know, naming the pattern they
// sit in: a misspelt key would otherwise be ignored silently.
func checkKeys(file string, raw map[string]any) error {
	for k := range raw {
		if !slices.Contains(fileKeys, k) {
			return &PatternError{File: file, Reason: fmt.Sprintf("unknown key %q", k)}
		}
	}
	var tables []map[string]any
	if u, ok := raw["unknown"].(map[string]any); ok {
		u["name"] = Unknown
		tables = append(tables, u)
	}
	if ps, ok := raw["pattern"].([]map[string]any); ok {
		tables = append(tables, ps...)
	}
	for _, p := range tables {
		name, _ := p["name"].(string)
		for k := range p {
			if !slices.Contains(patternKeys, k) {
				return &PatternError{File: file, Pattern: name, Reason: fmt.Sprintf("unknown key %q", k)}
			}
		}
		ss, _ := p["strategy"].([]map[string]any)
		for _, s := range ss {
			for k := range s {
				if !slices.Contains(strategyKeys, k) {
					return &PatternError{File: file, Pattern: name, Reason: fmt.Sprintf("strategy %v: unknown key %q (parameters go in params = {...})", s["name"], k)}
				}
			}
		}
	}
	return nil
}

func build(defs, user *fileTOML, userPath string, known map[string]bool) (*Classifier, error) {
	// Index the defaults by name, keeping their order.
	type entry struct {
		t    patternTOML
		file string
	}
	var order []string
	byName := map[string]*entry{}
	for _, p := range defs.Pattern {
		if _, dup := byName[p.Name]; dup {
			return nil, &PatternError{File: "(defaults)", Pattern: p.Name, Reason: "duplicate pattern name"}
		}
		byName[p.Name] = &entry{t: p, file: "(defaults)"}
		order = append(order, p.Name)
	}
	unknown := *defs.Unknown
	unknown.Name = Unknown
	unknownFile := "(defaults)"

	var added []string
	if user != nil {
		seen := map[string]bool{}
		for _, p := range user.Pattern {
			if p.Name == "" {
				return nil, &PatternError{File: userPath, Reason: "a pattern has no name"}
			}
			if p.Name == Unknown {
				return nil, &PatternError{File: userPath, Pattern: p.Name, Reason: `"unknown" is reserved; configure it in the [unknown] table`}
			}
			if seen[p.Name] {
				return nil, &PatternError{File: userPath, Pattern: p.Name, Reason: "duplicate pattern name"}
			}
			seen[p.Name] = true
			if e, ok := byName[p.Name]; ok {
				e.t = overlay(e.t, p)
				e.file = userPath
				continue
			}
			byName[p.Name] = &entry{t: p, file: userPath}
			added = append(added, p.Name)
		}
		if user.Unknown != nil {
			unknown = overlay(unknown, *user.Unknown)
			unknownFile = userPath
		}
	}

	c := &Classifier{byName: map[string]*Pattern{}, bySignal: map[string]*Pattern{}}
	for _, name := range append(added, order...) {
		e := byName[name]
		p, err := compile(e.t, e.file, known, true)
		if err != nil {
			return nil, err
		}
		c.patterns = append(c.patterns, p)
		c.byName[name] = p
		for _, s := range p.signals {
			if _, taken := c.bySignal[s]; !taken {
				c.bySignal[s] = p
			}
		}
	}
	up, err := compile(unknown, unknownFile, known, false)
	if err != nil {
		return nil, err
	}
	c.unknown = up
	c.filter = newPrefilter(c.patterns)
	return c, nil
}

// overlay applies the fields set in u over base.
func overlay(base, u patternTOML) patternTOML {
	if u.Signature != nil {
		base.Signature = u.Signature
	}
	if u.ExtraSignature != nil {
		base.ExtraSignature = u.ExtraSignature
	}
	if u.Description != nil {
		base.Description = u.Description
	}
	if u.ExpectedRate != nil {
		base.ExpectedRate = u.ExpectedRate
	}
	if u.Signals != nil {
		base.Signals = u.Signals
	}
	if u.Strategy != nil {
		base.Strategy = u.Strategy
	}
	return base
}

func compile(t patternTOML, file string, known map[string]bool, needSignature bool) (*Pattern, error) {
	bad := func(format string, args ...any) error {
		return &PatternError{File: file, Pattern: t.Name, Reason: fmt.Sprintf(format, args...)}
	}
	p := &Pattern{name: t.Name}
	if t.Signature != nil {
		p.signature = *t.Signature
	}
	if t.ExtraSignature != nil {
		p.extra = *t.ExtraSignature
	}
	if t.Description != nil {
		p.description = *t.Description
	}
	if needSignature && p.signature == "" && (t.Signals == nil || len(*t.Signals) == 0) {
		return nil, bad("needs a signature or signals")
	}
	for _, src := range []string{p.signature, p.extra} {
		if src == "" {
			continue
		}
		if _, err := regexp.Compile(src); err != nil {
			return nil, bad("invalid regular expression %q: %v", src, err)
		}
	}
	if expr := joinAlternatives(p.signature, p.extra); expr != "" {
		p.re = regexp.MustCompile("(?i:" + expr + ")")
	}
	p.expectedRate = 0.5
	if t.ExpectedRate != nil {
		r := *t.ExpectedRate
		if r > 1 && r <= 100 { // written as a percentage
			r /= 100
		}
		if r < 0 || r > 1 {
			return nil, bad("expected_success_rate %v is outside 0..1 (or 0..100 %%)", *t.ExpectedRate)
		}
		p.expectedRate = r
	}
	if t.Signals != nil {
		p.signals = slices.Clone(*t.Signals)
	}
	if t.Strategy == nil || len(*t.Strategy) == 0 {
		return nil, bad("has no strategies")
	}
	seen := map[string]bool{}
	for i, s := range *t.Strategy {
		if s.Name == "" {
			return nil, bad("strategy %d has no name", i+1)
		}
		if !known[s.Name] {
			return nil, bad("unknown strategy %q", s.Name)
		}
		if seen[s.Name] {
			return nil, bad("strategy %q listed twice", s.Name)
		}
		seen[s.Name] = true
		params := maps.Clone(s.Params)
		if params == nil {
			params = map[string]any{}
		}
		js, err := json.Marshal(params)
		if err != nil {
			return nil, bad("strategy %q: parameters: %v", s.Name, err)
		}
		p.strategies = append(p.strategies, Strategy{name: s.Name, params: params, json: js})
	}
	return p, nil
}

func joinAlternatives(exprs ...string) string {
	var parts []string
	for _, e := range exprs {
		if e != "" {
			parts = append(parts, "(?:"+e+")")
		}
	}
	return strings.Join(parts, "|")
}
