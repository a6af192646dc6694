// Command go-wait-visible is an example strategy plugin written with the Go
// guest SDK. One module provides two strategies:
//
//   - wait_until_visible polls the page until the failed action's target is
//     visible, with sleeps that respect the call's deadline, then asks for a
//     retry;
//   - resolve_by_text asks the engine's resolver for the target by its text,
//     role, label or fingerprint and hands the element back to act on.
//
// Build: GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o wait_visible.wasm .
package main

import (
	"fmt"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
)

func init() {
	heal.Register("wait_until_visible", waitUntilVisible)
	heal.Register("resolve_by_text", resolveByText)
}

// main is never run: the engine calls the module's exports.
func main() {}

// waitConfig is the [config.wait_until_visible] table of the manifest.
type waitConfig struct {
	PollMS    int64 `json:"poll_ms"`     // pause between two checks
	MaxWaitMS int64 `json:"max_wait_ms"` // give up after this long even if the deadline is later
	// TimeoutMS is the timeout asked for the retried action.
	TimeoutMS int64 `json:"timeout_ms"`
}

// margin is kept free before the deadline for the last check and the result.
const margin = 100 * time.Millisecond

func waitUntilVisible(c *heal.Call) abi.Result {
	cfg := waitConfig{PollMS: 100, MaxWaitMS: 5000}
	if err := c.Config(&cfg); err != nil {
		return heal.Abort(err.Error())
	}
	if cfg.PollMS <= 0 {
		return heal.Abort(fmt.Sprintf("wait_until_visible: poll_ms must be positive, not %d", cfg.PollMS))
	}
	q, ok := heal.QueryOf(c.Target())
	if !ok {
		return heal.GiveUp("the target has neither css nor xpath to wait for")
	}
	poll := time.Duration(cfg.PollMS) * time.Millisecond
	waited := time.Duration(0)
	for checks := 1; ; checks++ {
		st, err := c.Exists(q)
		if err != nil {
			return heal.GiveUp(fmt.Sprintf("checking the target: %v", err))
		}
		if st.Visible {
			c.Logf(heal.LevelInfo, "%s%s visible after %d checks", q.CSS, q.XPath, checks)
			r := heal.Retry(fmt.Sprintf("target visible after %d ms", waited.Milliseconds()))
			if cfg.TimeoutMS > 0 {
				r = heal.RetryWith(abi.RetryOptions{TimeoutMS: cfg.TimeoutMS}, r.Message)
			}
			return heal.WithDetails(r, map[string]any{"checks": checks, "waited_ms": waited.Milliseconds(), "count": st.Count})
		}
		// Sleep only when a whole poll and a check still fit before the
		// deadline (and its grace period), so the verdict is returned in time.
		if waited+poll > time.Duration(cfg.MaxWaitMS)*time.Millisecond || c.Remaining() < poll+margin {
			return heal.GiveUp(fmt.Sprintf("target not visible after %d ms (%d matches)", waited.Milliseconds(), st.Count))
		}
		if !c.Sleep(poll) {
			return heal.GiveUp("the call's deadline cut the wait short")
		}
		waited += poll
	}
}

// resolveConfig is the [config.resolve_by_text] table of the manifest.
type resolveConfig struct {
	MinScore float64 `json:"min_score"` // refuse weaker matches
}

func resolveByText(c *heal.Call) abi.Result {
	cfg := resolveConfig{MinScore: 0.5}
	if err := c.Config(&cfg); err != nil {
		return heal.Abort(err.Error())
	}
	t := *c.Target()
	if t.Text == "" && t.Label == "" && t.Role == "" && t.Fingerprint == nil {
		return heal.GiveUp("the target has no text, label, role or fingerprint to resolve")
	}
	// Without the selectors that just failed, the resolver matches on what
	// the user sees.
	t.CSS, t.XPath = "", ""
	res, err := c.Resolve(abi.ResolveRequest{Target: t, Level: c.Request.Healing.Level})
	switch {
	case heal.IsNotFound(err):
		return heal.GiveUp(fmt.Sprintf("nothing resolves to %q at level %d", t.Text, c.Request.Healing.Level))
	case err != nil:
		return heal.GiveUp(err.Error())
	case res.Element == nil:
		return heal.GiveUp("the resolver chose no element")
	case res.Score < cfg.MinScore:
		return heal.GiveUp(fmt.Sprintf("best match scores %.2f, below min_score %.2f", res.Score, cfg.MinScore))
	case !res.Element.Visible || !res.Element.Enabled:
		return heal.GiveUp(fmt.Sprintf("best match %s is not visible and enabled", res.Element.XPath))
	}
	c.Logf(heal.LevelInfo, "resolved by %s to %s (score %.2f)", res.Method, res.Element.XPath, res.Score)
	return heal.WithDetails(heal.UseElement(*res.Element, "resolved by "+res.Method),
		map[string]any{"score": res.Score, "method": res.Method, "healing": res.Details})
}
