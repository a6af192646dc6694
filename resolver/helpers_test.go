package resolver

import (
	"fmt"

	"github.com/selfheal/engine/abi"
)

// el builds a visible, enabled record for tests.
func el(tag, xpath string, x, y, w, h float64, attrs map[string]string, text string) abi.Element {
	e := abi.Element{Tag: tag, XPath: xpath, Attrs: attrs, Text: text, VisibleText: text, Name: text,
		Rect: abi.Rect{X: x, Y: y, Width: w, Height: h}, Visible: true, Enabled: true}
	switch tag {
	case "button":
		e.Role = "button"
	case "a":
		e.Role = "link"
	case "input":
		e.Role = "textbox"
		e.Name = ""
	}
	if id := attrs["id"]; id != "" {
		e.IDXPath = fmt.Sprintf(`//*[@id=%q]`, id)
	}
	return e
}

func snap(els ...abi.Element) abi.Snapshot {
	for i := range els {
		els[i].Index = i
	}
	return abi.Snapshot{URL: "http://test/", Viewport: abi.Viewport{Width: 1280, Height: 800}, Elements: els}
}
