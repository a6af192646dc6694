package heal_test

import (
	"fmt"
	"time"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/sdk/go/heal"
	"github.com/selfheal/engine/sdk/go/healtest"
)

// scrollThenRetry scrolls the failed target into view and asks for a retry.
func scrollThenRetry(c *heal.Call) abi.Result {
	loc, ok := heal.LocatorOf(c.Target())
	if !ok {
		return heal.GiveUp("the target has no css or xpath")
	}
	if _, err := c.ScrollIntoView(loc); heal.IsNotFound(err) {
		return heal.GiveUp("the target is not on the page")
	} else if err != nil {
		return heal.GiveUp(err.Error())
	}
	c.Logf(heal.LevelInfo, "scrolled %s", loc.CSS)
	return heal.RetryWith(abi.RetryOptions{DelayMS: 100}, "scrolled into view")
}

// A strategy is a function registered under a name; healtest runs it against
// a fake page through the same JSON path as the engine.
func Example() {
	heal.Register("example_scroll_then_retry", scrollThenRetry)

	h := healtest.NewHost().AddElements(abi.Element{
		Tag: "button", Attrs: map[string]string{"id": "buy"}, XPath: "/html[1]/body[1]/button[1]",
	})
	res, err := h.Run("example_scroll_then_retry", abi.Request{
		Action: abi.Action{Kind: abi.ActionClick, Target: &abi.Target{CSS: "#buy"}},
	})
	fmt.Println(res.Outcome, res.Message, err)
	fmt.Println(h.Actions()[0].Func, h.Actions()[0].Locator.CSS)

	res, _ = h.Run("example_scroll_then_retry", abi.Request{
		Action: abi.Action{Kind: abi.ActionClick, Target: &abi.Target{CSS: "#gone"}},
	})
	fmt.Println(res.Outcome, res.Message)
	// Output:
	// retry scrolled into view <nil>
	// heal_browser_act.scroll_into_view #buy
	// give_up the target is not on the page
}

// Waiting strategies run on a virtual clock: At changes the page while the
// strategy sleeps, and no test really sleeps.
func Example_virtualClock() {
	heal.Register("example_wait", func(c *heal.Call) abi.Result {
		for c.Sleep(100 * time.Millisecond) {
			if st, err := c.Exists(abi.Query{CSS: "#late"}); err == nil && st.Visible {
				return heal.Retry("visible")
			}
		}
		return heal.GiveUp("deadline")
	})
	h := healtest.NewHost().AddElements(abi.Element{Tag: "div", Attrs: map[string]string{"id": "late"}, XPath: "/div[1]"})
	h.At(450*time.Millisecond, func(h *healtest.Host) {
		h.Update("#late", func(e *abi.Element) { e.Visible = true })
	})
	res, _ := h.Run("example_wait", abi.Request{DeadlineMS: 2000})
	fmt.Println(res.Outcome, h.Elapsed())
	// Output: retry 500ms
}
