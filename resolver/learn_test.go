package resolver

import (
	"errors"
	"testing"

	"github.com/selfheal/engine/abi"
)

// A localised toolbar: every release translates the labels while the
// layout stays, and a neighbouring button's new label happens to contain
// the old one. The default weights trust the text and pick the neighbour;
// weights learnt from three recorded healings trust the position instead.
func TestFitLearnsFromHistory(t *testing.T) {
	mk := func(textA, textB string) abi.Snapshot {
		return snap(
			el("button", "/html[1]/body[1]/div[1]/button[1]", 10, 10, 80, 30, nil, textA),
			el("button", "/html[1]/body[1]/div[1]/button[2]", 100, 10, 80, 30, nil, textB),
		)
	}
	fp := mk("Save", "Close").Elements[0]
	test := mk("Speichern", "Save as")
	var examples []Example
	for _, tx := range [][2]string{{"Guardar", "Save copy"}, {"Enregistrer", "Save all"}, {"Salva", "Save draft"}} {
		examples = append(examples, Example{Fingerprint: fp, Snapshot: mk(tx[0], tx[1]), Correct: 0})
	}
	if res, err := New().Resolve(test, abi.Target{Fingerprint: &fp}, 2); err == nil && res.Element.Index == 0 {
		t.Fatalf("default weights already choose right (%+v); the test shows nothing", res.Candidates)
	}
	w, err := Fit(examples, DefaultWeights, FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w[FText] >= DefaultWeights[FText] || w[FLocation] <= DefaultWeights[FLocation] {
		t.Errorf("learnt text weight %.2f and location weight %.2f; want text down, location up", w[FText], w[FLocation])
	}
	res, err := New(WithWeights(w)).Resolve(test, abi.Target{Fingerprint: &fp}, 2)
	if err != nil || res.Element.Index != 0 {
		t.Fatalf("learnt weights chose %v err %v; candidates %+v", res.Element, err, res.Candidates)
	}
	if _, err := Fit(nil, DefaultWeights, FitOptions{}); !errors.Is(err, ErrNoExamples) {
		t.Errorf("Fit(nil) err = %v", err)
	}
	if _, err := Fit([]Example{{Correct: 3}}, DefaultWeights, FitOptions{}); err == nil {
		t.Error("Fit accepted an index outside the snapshot")
	}
}
