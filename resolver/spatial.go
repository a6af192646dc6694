package resolver

import (
	"fmt"
	"math"
	"strings"

	"github.com/selfheal/engine/abi"
)

// BasePadding is the padding, in CSS pixels, added on every side of a near
// anchor at pad_mul 1 to form the region of interest.
const BasePadding = 120.0

// ROI returns the region of interest around an anchor: the anchor's box
// grown by BasePadding*padMul on each side, clamped to the viewport when the
// viewport is known. clamped reports whether clamping cut the region.
func ROI(anchor abi.Rect, padMul float64, vp abi.Viewport) (roi abi.Rect, clamped bool) {
	pad := BasePadding * padMul
	x0, y0 := anchor.X-pad, anchor.Y-pad
	x1, y1 := anchor.X+anchor.Width+pad, anchor.Y+anchor.Height+pad
	if vp.Width > 0 && vp.Height > 0 {
		cx0, cy0 := math.Max(x0, 0), math.Max(y0, 0)
		cx1, cy1 := math.Min(x1, vp.Width), math.Min(y1, vp.Height)
		clamped = cx0 != x0 || cy0 != y0 || cx1 != x1 || cy1 != y1
		x0, y0, x1, y1 = cx0, cy0, math.Max(cx1, cx0), math.Max(cy1, cy0)
	}
	return abi.Rect{X: x0, Y: y0, Width: x1 - x0, Height: y1 - y0}, clamped
}

func inside(p abi.Point, r abi.Rect) bool {
	return p.X >= r.X && p.X <= r.X+r.Width && p.Y >= r.Y && p.Y <= r.Y+r.Height
}

// findAnchor returns the index of the visible element whose own text best
// matches the anchor text at the threshold; ties go to the smaller box (the
// innermost element that carries the text).
func findAnchor(els []abi.Element, prep []prepared, near string, minRatio float64) (int, float64) {
	want := Normalize(near)
	best, bestR, bestArea := -1, 0.0, math.Inf(1)
	for i := range els {
		e := &els[i]
		if !e.Visible {
			continue
		}
		r := ratioNorm(want, prep[i].text)
		if r < minRatio {
			continue
		}
		area := e.Rect.Width * e.Rect.Height
		if r > bestR+1e-9 || (math.Abs(r-bestR) <= 1e-9 && area < bestArea) {
			best, bestR, bestArea = i, r, area
		}
	}
	return best, bestR
}

// parentPath drops the last step of an XPath.
func parentPath(xp string) string {
	if i := strings.LastIndexByte(xp, '/'); i > 0 {
		return xp[:i]
	}
	return ""
}

// container finds the anchor's container: the deepest ancestor of the anchor
// that also encloses at least one of the candidates (a form row, a card, a
// table row). It returns "" when they share nothing below <body>.
func container(anchor *abi.Element, els []abi.Element, cands []int) string {
	for p := parentPath(anchor.XPath); strings.Count(p, "/") > 2; p = parentPath(p) {
		for _, i := range cands {
			if sameFrame(els[i].Frame, anchor.Frame) && strings.HasPrefix(els[i].XPath, p+"/") {
				return p
			}
		}
	}
	return ""
}

func sameFrame(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// nearFilter keeps candidates whose centre lies in the ROI around the anchor
// and scores them by closeness (60%) and by sharing the anchor's container
// (40%). It returns the kept indexes, their scores and notes for the details.
func nearFilter(els []abi.Element, anchor int, cands []int, p abi.HealingProfile, vp abi.Viewport) (kept []int, score map[int]float64, notes []string) {
	a := &els[anchor]
	roi, clamped := ROI(a.Rect, p.PadMul, vp)
	if clamped {
		notes = append(notes, fmt.Sprintf("roi clamped to the viewport: %.0fx%.0f at (%.0f,%.0f)", roi.Width, roi.Height, roi.X, roi.Y))
	}
	ac := a.Rect.Center()
	diag := math.Hypot(roi.Width, roi.Height)
	var inROI []int
	for _, i := range cands {
		if i == anchor {
			continue
		}
		if inside(els[i].Rect.Center(), roi) {
			inROI = append(inROI, i)
		}
	}
	cont := container(a, els, inROI)
	if cont != "" {
		notes = append(notes, "container "+cont)
	}
	score = make(map[int]float64, len(inROI))
	for _, i := range inROI {
		c := els[i].Rect.Center()
		closeness := 1 - math.Min(math.Hypot(c.X-ac.X, c.Y-ac.Y)/diag, 1)
		in := 0.0
		if cont != "" && strings.HasPrefix(els[i].XPath, cont+"/") {
			in = 1
		}
		score[i] = 0.6*closeness + 0.4*in
		kept = append(kept, i)
	}
	return kept, score, notes
}
