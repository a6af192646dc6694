package resolver

import (
	"errors"
	"fmt"
	"math"

	"github.com/selfheal/engine/abi"
)

// Example is one recorded healing: the fingerprint the engine had, the page
// it found, and the index of the element that turned out to be right (the
// one whose action succeeded, or a human's correction).
type Example struct {
	Fingerprint abi.Element
	Snapshot    abi.Snapshot
	Correct     int // index into Snapshot.Elements
}

// FitOptions tune Fit. Zero values take the defaults.
type FitOptions struct {
	Epochs       int     // passes over the examples (default 100)
	LearningRate float64 // step size (default 2)
	Margin       float64 // score lead to aim for (default 0.15)
}

// ErrNoExamples is returned by Fit without usable examples.
var ErrNoExamples = errors.New("resolver: no usable training examples")

// Fit learns feature weights from recorded healings, starting at start. It
// minimises a pairwise hinge loss: for every example the right element
// should outscore every other candidate by the margin. Because the score is
// a weighted mean, the gradient of a pair's score gap with respect to w_k is
// (f_k(right)-S(right))/den_right - (f_k(wrong)-S(wrong))/den_wrong. Weights
// stay in [0.01, 10] so that no feature is switched off for good.
func Fit(examples []Example, start Weights, opt FitOptions) (Weights, error) {
	if opt.Epochs <= 0 {
		opt.Epochs = 100
	}
	if opt.LearningRate <= 0 {
		opt.LearningRate = 2
	}
	if opt.Margin <= 0 {
		opt.Margin = 0.15
	}
	type vec struct {
		f   [NumFeatures]float64
		has [NumFeatures]bool
	}
	type prepped struct {
		right  vec
		wrongs []vec
		fp     prepared
	}
	var data []prepped
	for n, ex := range examples {
		if ex.Correct < 0 || ex.Correct >= len(ex.Snapshot.Elements) {
			return start, fmt.Errorf("resolver: example %d: correct index %d outside the snapshot's %d elements", n, ex.Correct, len(ex.Snapshot.Elements))
		}
		fp := ex.Fingerprint
		d := prepped{fp: prepareFingerprint(&fp)}
		for i := range ex.Snapshot.Elements {
			c := prepare(&ex.Snapshot.Elements[i])
			var v vec
			features(&d.fp, &c, &v.f, &v.has)
			if i == ex.Correct {
				d.right = v
			} else if ex.Snapshot.Elements[i].Visible {
				d.wrongs = append(d.wrongs, v)
			}
		}
		data = append(data, d)
	}
	if len(data) == 0 {
		return start, ErrNoExamples
	}
	w := start
	score := func(fp *prepared, v *vec) (s, den float64) {
		return combine(fp, &v.f, &v.has, &w), denominator(fp, &v.has, &w)
	}
	for epoch := 0; epoch < opt.Epochs; epoch++ {
		for _, d := range data {
			sr, dr := score(&d.fp, &d.right)
			for _, wv := range d.wrongs {
				sw, dw := score(&d.fp, &wv)
				if sr-sw >= opt.Margin || dr == 0 || dw == 0 {
					continue
				}
				for k := Feature(0); k < NumFeatures; k++ {
					g := 0.0
					if d.right.has[k] {
						g += (d.right.f[k] - sr) / dr
					}
					if wv.has[k] {
						g -= (wv.f[k] - sw) / dw
					}
					w[k] = math.Min(10, math.Max(0.01, w[k]+opt.LearningRate*g))
				}
				sr, dr = score(&d.fp, &d.right)
			}
		}
	}
	return w, nil
}

func denominator(fp *prepared, has *[NumFeatures]bool, w *Weights) float64 {
	den := 0.0
	for i := Feature(0); i < NumFeatures; i++ {
		if has[i] {
			wi := w[i]
			if i == FID {
				wi *= fp.idStability
			}
			den += wi
		}
	}
	return den
}
