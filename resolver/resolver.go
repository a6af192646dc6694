package resolver

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/selfheal/engine/abi"
)

// Errors of a resolution. Both wrap abi.ErrNotFound, so the host reports them
// as status -2; their messages name the best candidates.
var (
	// ErrNoMatch: no candidate was good enough.
	ErrNoMatch = fmt.Errorf("%w: no element matches the target", abi.ErrNotFound)
	// ErrAmbiguous: two candidates were too close to choose between.
	ErrAmbiguous = fmt.Errorf("%w: target is ambiguous", abi.ErrNotFound)
	// ErrEmptyTarget: the target names nothing to look for.
	ErrEmptyTarget = fmt.Errorf("%w: target has no css, xpath, text, role, label, placeholder, near or fingerprint", abi.ErrBadRequest)
)

// Resolution methods reported in abi.Resolution.Method.
const (
	MethodCSS         = "css"
	MethodXPath       = "xpath"
	MethodText        = "text"
	MethodRole        = "role"
	MethodLabel       = "label"
	MethodPlaceholder = "placeholder"
	MethodNear        = "near"
	MethodFingerprint = "fingerprint"
)

// Resolver matches targets against snapshots. Its configuration is fixed at
// New; a Resolver is safe for concurrent use.
type Resolver struct {
	weights   Weights
	margin    float64
	threshold float64
}

// Option configures a Resolver.
type Option func(*Resolver)

// WithWeights replaces the fingerprint feature weights (see Fit).
func WithWeights(w Weights) Option { return func(r *Resolver) { r.weights = w } }

// WithMargin sets how far the best candidate must lead the runner-up
// (default 0.05 of similarity).
func WithMargin(m float64) Option { return func(r *Resolver) { r.margin = m } }

// WithThreshold sets the fingerprint confidence threshold at level 0
// (default 0.70); each healing level lowers it by 0.05, down to level 2.
func WithThreshold(t float64) Option { return func(r *Resolver) { r.threshold = t } }

// New returns a resolver with the default weights, margin and threshold,
// changed by the options.
func New(opts ...Option) *Resolver {
	r := &Resolver{weights: DefaultWeights, margin: 0.05, threshold: 0.70}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Default is the resolver used by the package-level functions.
var Default = New()

// Resolve finds the target in the snapshot at a healing level with the
// default resolver.
func Resolve(s abi.Snapshot, t abi.Target, level int) (abi.Resolution, error) {
	return Default.Resolve(s, t, level)
}

// Threshold is the fingerprint confidence threshold at a level.
func (r *Resolver) Threshold(level int) float64 {
	return r.threshold - 0.05*float64(min(max(level, 0), 2))
}

// Resolve finds the target in the snapshot using the profile of the level.
func (r *Resolver) Resolve(s abi.Snapshot, t abi.Target, level int) (abi.Resolution, error) {
	return r.ResolveProfile(&s, t, Profile(level), 5)
}

// ResolveProfile finds the target with an explicit healing profile and
// returns up to limit ranked candidates with the choice. An invalid profile
// falls back to the strict one with a warning in the details.
//
// The order of methods: css and xpath first (an exact, unique match is
// trusted as is); then the semantic fields (text, role, label, placeholder,
// near), all of which a candidate must satisfy at the profile's tolerance;
// then the fingerprint, scored over every visible element. Several
// candidates are settled by the fingerprint, or by the semantic score when
// there is no fingerprint, and only with a clear margin; otherwise the
// resolution fails with ErrAmbiguous.
func (r *Resolver) ResolveProfile(s *abi.Snapshot, t abi.Target, p abi.HealingProfile, limit int) (abi.Resolution, error) {
	return r.run(s, t, p, limit, true)
}

// Candidates ranks the candidates for a target without choosing one.
func (r *Resolver) Candidates(s *abi.Snapshot, t abi.Target, p abi.HealingProfile, limit int) (abi.Resolution, error) {
	return r.run(s, t, p, limit, false)
}

func hasSemantic(t *abi.Target) bool {
	return t.Text != "" || t.Role != "" || t.Label != "" || t.Placeholder != "" || t.Near != ""
}

// ranked is one scored candidate during a resolution.
type ranked struct {
	i       int
	score   float64
	reasons []string
}

// scratch is the reusable working memory of one resolution.
type scratch struct {
	prep  []prepared
	steps []string // backing array of every record's XPath steps
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

type run struct {
	r       *Resolver
	s       *abi.Snapshot
	t       *abi.Target
	p       abi.HealingProfile
	prep    []prepared
	fp      *prepared
	details *abi.ResolutionDetails
	limit   int
}

func (r *Resolver) run(s *abi.Snapshot, t abi.Target, p abi.HealingProfile, limit int, choose bool) (abi.Resolution, error) {
	if limit <= 0 {
		limit = 5
	}
	p, warn := effectiveProfile(p)
	res := abi.Resolution{Details: abi.ResolutionDetails{
		HealingAttempt: p.Level, HealingProfile: p,
		FuzzyThresholdUsed: p.MinRatio, SpatialPaddingUsed: p.PadMul,
	}}
	if warn != "" {
		res.Details.Warnings = append(res.Details.Warnings, warn)
	}
	if t.Role != "" && p.ExpandRoles {
		for _, a := range ExpandRole(t.Role, true) {
			if a != strings.ToLower(strings.TrimSpace(t.Role)) {
				res.Details.RoleAliasesUsed = append(res.Details.RoleAliasesUsed, a)
			}
		}
	}
	if t.CSS == "" && t.XPath == "" && !hasSemantic(&t) && t.Fingerprint == nil {
		return res, ErrEmptyTarget
	}
	ru := &run{r: r, s: s, t: &t, p: p, details: &res.Details, limit: limit}

	// Explicit locators narrow the pool; an exact unique hit is the answer.
	var pool []int
	method := ""
	if t.CSS != "" {
		m, err := MatchCSS(s, t.CSS)
		if err != nil {
			return res, err
		}
		pool, method = m, MethodCSS
		if len(m) == 0 {
			res.Details.Warnings = append(res.Details.Warnings, fmt.Sprintf("css %q matches nothing", t.CSS))
		}
	}
	if t.XPath != "" {
		m := MatchXPath(s, t.XPath)
		if method != "" && len(pool) > 0 {
			m = intersect(pool, m)
		}
		if len(m) == 0 {
			res.Details.Warnings = append(res.Details.Warnings, fmt.Sprintf("xpath %q matches nothing", t.XPath))
		}
		if len(m) > 0 || method == "" {
			pool, method = m, MethodXPath
		}
	}
	if len(pool) > 0 {
		if len(pool) == 1 || (!hasSemantic(&t) && t.Fingerprint == nil) {
			// Several matches with nothing else to go on: the first in
			// document order, as the browser's querySelector would pick,
			// preferring a visible one.
			pick := pool[0]
			for _, i := range pool {
				if s.Elements[i].Visible {
					pick = i
					break
				}
			}
			list := make([]ranked, 0, len(pool))
			list = append(list, ranked{i: pick, score: 1, reasons: []string{method + " match"}})
			for _, i := range pool {
				if i != pick {
					list = append(list, ranked{i: i, score: 1, reasons: []string{method + " match"}})
				}
			}
			ru.fill(&res, list, limit)
			if choose {
				res.Element, res.Score, res.Method = &s.Elements[pick], 1, method
			}
			return res, nil
		}
	}

	// The per-record scratch space is reused across resolutions: a
	// 2,000-element snapshot would otherwise allocate ~0.7 MB per call.
	sc := scratchPool.Get().(*scratch)
	defer func() {
		clear(sc.prep)
		clear(sc.steps)
		scratchPool.Put(sc)
	}()
	if cap(sc.prep) < len(s.Elements) {
		sc.prep = make([]prepared, len(s.Elements))
	}
	ru.prep = sc.prep[:len(s.Elements)]
	steps := sc.steps[:0]
	for i := range s.Elements {
		steps = prepareInto(&ru.prep[i], &s.Elements[i], steps)
	}
	sc.steps = steps
	if hasSemantic(&t) {
		for i := range ru.prep {
			ru.prep[i].ensureTexts()
		}
	}
	if t.Fingerprint != nil {
		fp := prepareFingerprint(t.Fingerprint)
		ru.fp = &fp
	}

	if len(pool) > 1 {
		list, m, err := ru.stage(pool)
		if err == nil || errors.Is(err, ErrAmbiguous) {
			return ru.finish(&res, list, m, err, limit, choose)
		}
	}
	var visible []int
	for i := range s.Elements {
		if s.Elements[i].Visible {
			visible = append(visible, i)
		}
	}
	list, m, err := ru.stage(visible)
	return ru.finish(&res, list, m, err, limit, choose)
}

func (ru *run) finish(res *abi.Resolution, list []ranked, method string, err error, limit int, choose bool) (abi.Resolution, error) {
	ru.fill(res, list, limit)
	if !choose {
		return *res, nil
	}
	if err != nil {
		return *res, err
	}
	res.Element, res.Score, res.Method = &ru.s.Elements[list[0].i], list[0].score, method
	return *res, nil
}

func (ru *run) fill(res *abi.Resolution, list []ranked, limit int) {
	for k := 0; k < len(list) && k < limit; k++ {
		res.Candidates = append(res.Candidates, abi.Candidate{Element: ru.s.Elements[list[k].i], Score: round3(list[k].score), Reasons: list[k].reasons})
	}
}

func round3(x float64) float64 { return float64(int(x*1000+0.5)) / 1000 }

// stage runs the semantic and fingerprint methods over a pool. It returns the
// ranked candidates, the method, and nil when list[0] is the choice.
func (ru *run) stage(pool []int) ([]ranked, string, error) {
	if hasSemantic(ru.t) {
		list, method := ru.semantic(pool)
		if len(list) > 0 {
			if ru.fp != nil {
				for k := range list {
					sem := list[k].score
					list[k].score = ru.fingerprintScore(list[k].i, &list[k].reasons)
					list[k].reasons = append(list[k].reasons, fmt.Sprintf("semantic %.2f", sem))
				}
				sortRanked(list)
			}
			return list, method, ru.decide(list, 0)
		}
	}
	if ru.fp == nil {
		return nil, "", ru.noMatch(nil)
	}
	list := make([]ranked, 0, len(pool))
	for _, i := range pool {
		list = append(list, ranked{i: i})
	}
	list = ru.rankFingerprint(list, ru.limit)
	return list, MethodFingerprint, ru.decide(list, ru.r.Threshold(ru.p.Level))
}

// rankFingerprint scores the entries against the fingerprint, best first,
// keeping the top keep of them. It is a branch and bound: the cheap
// features give an upper bound (every text feature a perfect 1), and a
// candidate whose bound is below the keep-th best score so far skips the
// text comparisons, so the kept entries and their order are exact.
func (ru *run) rankFingerprint(list []ranked, keep int) []ranked {
	keep = max(keep, 2)
	var f [NumFeatures]float64
	var has [NumFeatures]bool
	top := make([]float64, 0, keep+1) // best scores so far, descending
	out := list[:0]
	for _, c := range list {
		cp := &ru.prep[c.i]
		cheapFeatures(ru.fp, cp, &f, &has)
		if len(top) == keep {
			textWeightsPresent(ru.fp, &has)
			f[FText], f[FAccName], f[FNeighbors] = 1, 1, 1
			if combine(ru.fp, &f, &has, &ru.r.weights) < top[keep-1] {
				continue
			}
			f[FText], f[FAccName], f[FNeighbors] = 0, 0, 0
			has[FText], has[FAccName], has[FNeighbors] = false, false, false
		}
		textFeatures(ru.fp, cp, &f, &has)
		c.score = combine(ru.fp, &f, &has, &ru.r.weights)
		out = append(out, c)
		k := len(top)
		for k > 0 && top[k-1] < c.score {
			k--
		}
		if k < keep {
			top = append(top, 0)
			copy(top[k+1:], top[k:])
			top[k] = c.score
			top = top[:min(len(top), keep)]
		}
	}
	sortRanked(out)
	if len(out) > keep {
		out = out[:keep]
	}
	for k := range out {
		ru.fingerprintScore(out[k].i, &out[k].reasons)
	}
	return out
}

// fingerprintScore scores one candidate and explains the score by its
// strongest and weakest features.
func (ru *run) fingerprintScore(i int, reasons *[]string) float64 {
	var f [NumFeatures]float64
	var has [NumFeatures]bool
	features(ru.fp, &ru.prep[i], &f, &has)
	var parts []string
	for k := Feature(0); k < NumFeatures; k++ {
		if has[k] && ru.r.weights[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, f[k]))
		}
	}
	*reasons = append(*reasons, "fingerprint: "+strings.Join(parts, ", "))
	return combine(ru.fp, &f, &has, &ru.r.weights)
}

func sortRanked(list []ranked) {
	slices.SortStableFunc(list, func(a, b ranked) int { return cmp.Compare(b.score, a.score) })
}

// decide accepts list[0] when it clears the threshold and leads the
// runner-up by the margin.
func (ru *run) decide(list []ranked, threshold float64) error {
	if len(list) == 0 || list[0].score < threshold {
		return ru.noMatch(list)
	}
	if len(list) > 1 && list[0].score-list[1].score < ru.r.margin {
		return fmt.Errorf("%w: %s and %s score within %.2f of each other",
			ErrAmbiguous, ru.describe(list[0]), ru.describe(list[1]), ru.r.margin)
	}
	return nil
}

func (ru *run) noMatch(list []ranked) error {
	switch len(list) {
	case 0:
		return fmt.Errorf("%w %s at level %d", ErrNoMatch, describeTarget(ru.t), ru.p.Level)
	case 1:
		return fmt.Errorf("%w %s at level %d: best %s is below %.2f", ErrNoMatch, describeTarget(ru.t), ru.p.Level, ru.describe(list[0]), ru.r.Threshold(ru.p.Level))
	}
	return fmt.Errorf("%w %s at level %d: best %s and %s are below %.2f", ErrNoMatch, describeTarget(ru.t), ru.p.Level,
		ru.describe(list[0]), ru.describe(list[1]), ru.r.Threshold(ru.p.Level))
}

func (ru *run) describe(c ranked) string {
	return fmt.Sprintf("#%d %s (score %.3f)", c.i, Describe(&ru.s.Elements[c.i]), c.score)
}

// Describe renders an element briefly: <tag#id.class "text"> at xpath.
func Describe(e *abi.Element) string {
	var b strings.Builder
	b.WriteString("<" + e.Tag)
	if id := e.Attrs["id"]; id != "" {
		b.WriteString("#" + id)
	}
	for _, c := range strings.Fields(e.Attrs["class"]) {
		b.WriteString("." + c)
	}
	b.WriteString(">")
	t := e.VisibleText
	if t == "" {
		t = e.Name
	}
	if t != "" {
		if len(t) > 40 {
			t = t[:40] + "…"
		}
		fmt.Fprintf(&b, " %q", t)
	}
	b.WriteString(" at " + strings.Join(append(append([]string{}, e.Frame...), e.XPath), " >> "))
	return b.String()
}

func describeTarget(t *abi.Target) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, fmt.Sprintf("%s=%q", k, v))
		}
	}
	add("css", t.CSS)
	add("xpath", t.XPath)
	add("text", t.Text)
	add("role", t.Role)
	add("label", t.Label)
	add("placeholder", t.Placeholder)
	add("near", t.Near)
	if t.Fingerprint != nil {
		parts = append(parts, "fingerprint="+Describe(t.Fingerprint))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func intersect(a, b []int) []int {
	set := make(map[int]bool, len(a))
	for _, x := range a {
		set[x] = true
	}
	var out []int
	for _, x := range b {
		if set[x] {
			out = append(out, x)
		}
	}
	return out
}
