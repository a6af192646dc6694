package main

import (
	"fmt"
	"hash/fnv"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
)

// Strategies for action_execution_failure.

// waitRetryConfig is the parameters of wait_and_retry.
type waitRetryConfig struct {
	// DelayMS is the pause before the retry (the seed's 1 s).
	DelayMS Millis `json:"delay_ms"`
}

func (p *waitRetryConfig) validate() error { return atLeast("delay_ms", p.DelayMS, 0) }

func defaultWaitRetry() waitRetryConfig { return waitRetryConfig{DelayMS: 1000} }

// waitAndRetry pauses for animations, transitions and pending handlers to
// finish, looks at the target and retries. A pause longer than the call may
// take is finished by the engine before the retry.
func waitAndRetry(c *heal.Call) abi.Result {
	cfg := defaultWaitRetry()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	want := cfg.DelayMS.D()
	wait := budget(c, want)
	if wait > 0 && !c.Sleep(wait) {
		return heal.GiveUp("the call's deadline cut the pause short")
	}
	details := map[string]any{"delay_ms": cfg.DelayMS, "waited_ms": wait.Milliseconds()}
	if q, ok := heal.QueryOf(c.Target()); ok {
		if st, err := c.Exists(q); err == nil {
			details["count"], details["visible"] = st.Count, st.Visible
		} else {
			details["check_error"] = err.Error()
		}
	}
	msg := fmt.Sprintf("waited %d ms", wait.Milliseconds())
	if rest := want - wait; rest > 0 {
		return heal.WithDetails(heal.RetryWith(abi.RetryOptions{DelayMS: rest.Milliseconds()}, msg), details)
	}
	return heal.WithDetails(heal.Retry(msg), details)
}

// altSelectorConfig is the parameters of use_alternative_selector.
type altSelectorConfig struct {
	// MinScore refuses resolutions scoring lower (0..1).
	MinScore float64 `json:"min_score"`
	// Candidates is how many candidates to ask for and report.
	Candidates int `json:"candidates"`
}

func (p *altSelectorConfig) validate() error {
	if p.MinScore < 0 || p.MinScore > 1 {
		return fmt.Errorf("%w min_score: must be within 0..1, not %v", errConfig, p.MinScore)
	}
	return atLeast("candidates", p.Candidates, 1)
}

func defaultAltSelector() altSelectorConfig { return altSelectorConfig{Candidates: 5} }

// useAlternativeSelector asks the resolver for the target by what the user
// sees (fingerprint first, then text, role and label) at the request's
// healing level, instead of by the selector that failed.
func useAlternativeSelector(c *heal.Call) abi.Result {
	cfg := defaultAltSelector()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	t := c.Target()
	if !hasSemantics(t) {
		return heal.GiveUp(fmt.Sprintf("%s has nothing beyond its selector (no text, role, label, placeholder, anchor or fingerprint)", describeTarget(t)))
	}
	original := originalMatch(c, t)
	el, details, res := resolveAlternative(c, t, cfg)
	if el == nil {
		return res
	}
	if original != "" && el.XPath == original {
		return heal.WithDetails(heal.GiveUp("the resolver chose the element the failed selector already matches"), details)
	}
	c.Logf(heal.LevelInfo, "resolved %s by %v to %s", describeTarget(t), details["method"], el.XPath)
	return heal.WithDetails(heal.UseElement(*el, fmt.Sprintf("resolved by %v", details["method"])), details)
}

// originalMatch returns the XPath of the first element t's selector matches
// now, or "".
func originalMatch(c *heal.Call, t *abi.Target) string {
	q, ok := heal.QueryOf(t)
	if !ok {
		return ""
	}
	q.Limit = 1
	els, err := c.Query(q)
	if err != nil || len(els) == 0 {
		return ""
	}
	return els[0].XPath
}

// resolveAlternative resolves t without its selectors. It returns the
// chosen element and the details, or nil and the give_up result to return,
// which lists the best candidates.
func resolveAlternative(c *heal.Call, t *abi.Target, cfg altSelectorConfig) (*abi.Element, map[string]any, abi.Result) {
	req := abi.ResolveRequest{Target: withoutSelectors(*t), Level: c.Request.Healing.Level, Limit: cfg.Candidates}
	details := map[string]any{"target": describeTarget(t), "level": req.Level}
	res, err := c.Resolve(req)
	if heal.IsNotFound(err) {
		// The resolver says why in its message; the candidates say how
		// close it came.
		details["resolver"] = err.Error()
		if cands, cerr := c.Candidates(req); cerr == nil {
			details["candidates"] = briefCandidates(cands.Candidates, cfg.Candidates)
		}
		return nil, details, heal.WithDetails(heal.GiveUp(fmt.Sprintf("nothing resolves to %s at level %d", describeTarget(&req.Target), req.Level)), details)
	}
	if err != nil {
		return nil, details, heal.WithDetails(heal.GiveUp(fmt.Sprintf("resolving: %v", err)), details)
	}
	details["method"], details["score"], details["healing"] = res.Method, res.Score, res.Details
	details["candidates"] = briefCandidates(res.Candidates, cfg.Candidates)
	switch {
	case res.Element == nil:
		return nil, details, heal.WithDetails(heal.GiveUp("the resolver found candidates but chose none (ambiguous)"), details)
	case res.Score < cfg.MinScore:
		return nil, details, heal.WithDetails(heal.GiveUp(fmt.Sprintf("the best match scores %.2f, below min_score %.2f", res.Score, cfg.MinScore)), details)
	case !res.Element.Visible || !res.Element.Enabled:
		return nil, details, heal.WithDetails(heal.GiveUp(fmt.Sprintf("the best match %s is not visible and enabled", res.Element.XPath)), details)
	}
	details["element"] = brief(*res.Element)
	return res.Element, details, abi.Result{}
}

// refreshConfig is the parameters of refresh_dom_state.
type refreshConfig struct {
	// PollMS is the pause between two snapshots.
	PollMS Millis `json:"poll_ms"`
	// TimeoutMS is the longest wait for the DOM to settle.
	TimeoutMS Millis `json:"timeout_ms"`
	// StableSnapshots is how many successive snapshots must agree.
	StableSnapshots int `json:"stable_snapshots"`
	altSelectorConfig
}

func (p *refreshConfig) validate() error {
	return firstErr(atLeast("poll_ms", p.PollMS, minPoll), atLeast("timeout_ms", p.TimeoutMS, 0),
		atLeast("stable_snapshots", p.StableSnapshots, 2), p.altSelectorConfig.validate())
}

func defaultRefresh() refreshConfig {
	return refreshConfig{PollMS: 250, TimeoutMS: 5000, StableSnapshots: 2, altSelectorConfig: defaultAltSelector()}
}

// refreshDOMState waits for the page's DOM to settle (successive snapshots
// with the same elements in the same places of the tree), then retries when
// the original selector matches a visible element, or acts on what the
// resolver finds for the target now.
func refreshDOMState(c *heal.Call) abi.Result {
	cfg := defaultRefresh()
	if r, ok := configure(c, &cfg); !ok {
		return r
	}
	t := c.Target()
	if !hasSelector(t) && !hasSemantics(t) {
		return heal.GiveUp("the action has no target to look for")
	}
	var prev uint64
	same, count := 0, 0
	settled, st, err := poll(c, cfg.PollMS.D(), cfg.TimeoutMS.D(), func() (bool, error) {
		snap, err := c.Snapshot()
		if err != nil {
			same = 0
			return false, err
		}
		sig := structure(snap)
		if same > 0 && sig == prev {
			same++
		} else {
			same = 1
		}
		prev, count = sig, len(snap.Elements)
		return same >= cfg.StableSnapshots, nil
	})
	if err != nil {
		return heal.GiveUp(fmt.Sprintf("taking snapshots: %v", err))
	}
	dom := map[string]any{"settled": settled, "elements": count, "snapshots": st}
	if q, ok := heal.QueryOf(t); ok {
		if ex, err := c.Exists(q); err == nil && ex.Count > 0 && ex.Visible {
			return heal.WithDetails(heal.Retry("the DOM settled and the original selector matches"),
				map[string]any{"dom": dom, "count": ex.Count})
		}
	}
	if !hasSemantics(t) {
		return heal.WithDetails(heal.GiveUp(fmt.Sprintf("%s matches nothing visible after the DOM settled", describeTarget(t))), map[string]any{"dom": dom})
	}
	el, details, res := resolveAlternative(c, t, cfg.altSelectorConfig)
	details["dom"] = dom
	if el == nil {
		return heal.WithDetails(res, details)
	}
	return heal.WithDetails(heal.UseElement(*el, fmt.Sprintf("the DOM settled; resolved by %v", details["method"])), details)
}

// structure hashes a snapshot's shape: every element's tag and place in the
// tree. Text and boxes are left out, so clocks and animations do not keep a
// page from counting as settled.
func structure(s abi.Snapshot) uint64 {
	h := fnv.New64a()
	for _, el := range s.Elements {
		h.Write([]byte(el.Tag))
		h.Write([]byte{0})
		h.Write([]byte(el.XPath))
		h.Write([]byte{0})
		for _, f := range el.Frame {
			h.Write([]byte(f))
			h.Write([]byte{1})
		}
	}
	return h.Sum64()
}
