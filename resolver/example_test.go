package resolver_test

import (
	"fmt"

	"github.com/selfheal/engine/abi"
	"github.com/selfheal/engine/resolver"
)

// A button lost its id and changed its text between releases; its stored
// fingerprint still finds it at the first healing level.
func ExampleResolve() {
	old := abi.Element{Tag: "button", Role: "button", Text: "Submit", VisibleText: "Submit", Name: "Submit",
		Attrs: map[string]string{"id": "buy", "class": "btn primary"}, XPath: "/html[1]/body[1]/form[1]/button[1]",
		Rect: abi.Rect{X: 100, Y: 200, Width: 80, Height: 32}, Visible: true, Enabled: true,
		Neighbors: abi.Neighbors{Left: "Quantity"}}
	page := abi.Snapshot{Viewport: abi.Viewport{Width: 1280, Height: 800}, Elements: []abi.Element{
		{Index: 0, Tag: "button", Role: "button", Text: "Cancel", VisibleText: "Cancel", Name: "Cancel",
			Attrs: map[string]string{"class": "btn"}, XPath: "/html[1]/body[1]/form[1]/button[1]",
			Rect: abi.Rect{X: 240, Y: 200, Width: 80, Height: 32}, Visible: true, Enabled: true},
		{Index: 1, Tag: "button", Role: "button", Text: "Submit order", VisibleText: "Submit order", Name: "Submit order",
			Attrs: map[string]string{"class": "btn primary"}, XPath: "/html[1]/body[1]/form[1]/button[2]",
			Rect: abi.Rect{X: 100, Y: 200, Width: 120, Height: 32}, Visible: true, Enabled: true,
			Neighbors: abi.Neighbors{Left: "Quantity"}},
	}}
	res, err := resolver.Resolve(page, abi.Target{CSS: "#buy", Fingerprint: &old}, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("#%d %s by %s, threshold %.2f\n", res.Element.Index, res.Element.Text, res.Method, res.Details.FuzzyThresholdUsed)
	// Output: #1 Submit order by fingerprint, threshold 0.78
}
