package resolver

import (
	"fmt"
	"math"
	"strings"

	"github.com/selfheal/engine/abi"
)

// semantic keeps the pool's elements that satisfy every semantic field of
// the target at the profile's tolerance, scores them by the mean of their
// field scores, collapses nested matches, and returns them best first with
// the method named after the most specific field used.
func (ru *run) semantic(pool []int) ([]ranked, string) {
	t, p, els := ru.t, ru.p, ru.s.Elements
	method := ""
	switch {
	case t.Text != "":
		method = MethodText
	case t.Label != "":
		method = MethodLabel
	case t.Placeholder != "":
		method = MethodPlaceholder
	case t.Role != "":
		method = MethodRole
	default:
		method = MethodNear
	}
	text, label, ph := Normalize(t.Text), Normalize(t.Label), Normalize(t.Placeholder)
	roles := ExpandRole(t.Role, p.ExpandRoles)
	exactRole := strings.ToLower(strings.TrimSpace(t.Role))

	var list []ranked
	for _, i := range pool {
		e, pr := &els[i], &ru.prep[i]
		sum, n := 0.0, 0
		var reasons []string
		if text != "" {
			r := max(ratioNorm(text, pr.text), ratioNorm(text, pr.accName))
			if r < p.MinRatio {
				continue
			}
			sum, n = sum+r, n+1
			reasons = append(reasons, fmt.Sprintf("text %.2f", r))
		}
		if t.Role != "" {
			if !roleMatches(e, roles) {
				continue
			}
			r := 1.0
			if !roleMatches(e, []string{exactRole}) {
				r = 0.9
				reasons = append(reasons, "role alias "+e.Role)
			} else {
				reasons = append(reasons, "role "+exactRole)
			}
			sum, n = sum+r, n+1
		}
		if label != "" {
			if !isFormControl(e) {
				continue
			}
			r := max(ratioNorm(label, pr.accName), ratioNorm(label, Normalize(e.Attrs["aria-label"])),
				0.95*ratioNorm(label, pr.nb[2]), 0.9*ratioNorm(label, pr.nb[0]))
			if r < p.MinRatio {
				continue
			}
			sum, n = sum+r, n+1
			reasons = append(reasons, fmt.Sprintf("label %.2f", r))
		}
		if ph != "" {
			r := ratioNorm(ph, Normalize(e.Attrs["placeholder"]))
			if r < p.MinRatio {
				continue
			}
			sum, n = sum+r, n+1
			reasons = append(reasons, fmt.Sprintf("placeholder %.2f", r))
		}
		list = append(list, ranked{i: i, score: sum / math.Max(float64(n), 1), reasons: reasons})
	}
	if t.Near != "" {
		anchor, ar := findAnchor(els, ru.prep, t.Near, p.MinRatio)
		if anchor < 0 {
			ru.details.Warnings = append(ru.details.Warnings, fmt.Sprintf("near anchor %q not found at ratio %.2f", t.Near, p.MinRatio))
			return nil, method
		}
		var idx []int
		if text == "" && label == "" && ph == "" && t.Role == "" {
			idx = pool
			list = nil
			for _, i := range pool {
				list = append(list, ranked{i: i})
			}
		} else {
			for _, c := range list {
				idx = append(idx, c.i)
			}
		}
		kept, score, notes := nearFilter(els, anchor, idx, p, ru.s.Viewport)
		ru.details.Warnings = append(ru.details.Warnings, notes...)
		keep := make(map[int]bool, len(kept))
		for _, i := range kept {
			keep[i] = true
		}
		out := list[:0]
		for _, c := range list {
			if !keep[c.i] {
				continue
			}
			c.reasons = append(c.reasons, fmt.Sprintf("near %q (%.2f) %.2f", els[anchor].VisibleText, ar, score[c.i]))
			if len(c.reasons) == 1 {
				c.score = score[c.i]
			} else {
				c.score = (c.score*float64(len(c.reasons)-1) + score[c.i]) / float64(len(c.reasons))
			}
			out = append(out, c)
		}
		list = out
	}
	list = collapseNested(els, list)
	sortRanked(list)
	return list, method
}

// collapseNested removes matches that merely contain or sit inside another
// match of about the same score (a <button> and its inner <span> both read
// "Submit"). The interactive one stays; between equals, the inner one.
func collapseNested(els []abi.Element, list []ranked) []ranked {
	if len(list) < 2 || len(list) > 300 {
		return list
	}
	drop := make([]bool, len(list))
	for a := range list {
		for b := range list {
			if a == b || drop[a] || drop[b] {
				continue
			}
			ea, eb := &els[list[a].i], &els[list[b].i]
			if !sameFrame(ea.Frame, eb.Frame) || !strings.HasPrefix(eb.XPath, ea.XPath+"/") {
				continue
			}
			// ea is an ancestor of eb.
			if math.Abs(list[a].score-list[b].score) > 0.1 {
				continue
			}
			if isClickable(ea) && !isClickable(eb) {
				drop[b] = true
			} else {
				drop[a] = true
			}
		}
	}
	out := list[:0]
	for k, c := range list {
		if !drop[k] {
			out = append(out, c)
		}
	}
	return out
}

// isFormControl: the elements a label names.
func isFormControl(e *abi.Element) bool {
	switch e.Tag {
	case "input", "select", "textarea":
		return true
	}
	switch strings.ToLower(e.Role) {
	case "textbox", "searchbox", "combobox", "listbox", "checkbox", "radio", "switch", "slider", "spinbutton":
		return true
	}
	return e.Attrs["contenteditable"] == "true"
}
