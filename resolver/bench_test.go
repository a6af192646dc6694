package resolver

import (
	"fmt"
	"testing"

	"github.com/selfheal/engine/abi"
)

// bigSnapshot is a 2,000-element page of table rows with buttons, links and
// texts, the target somewhere in the middle.
func bigSnapshot(n int) (abi.Snapshot, abi.Element) {
	els := make([]abi.Element, 0, n)
	for i := 0; len(els) < n; i++ {
		row := fmt.Sprintf("/html[1]/body[1]/main[1]/table[1]/tbody[1]/tr[%d]", i+1)
		y := float64(40 + 24*i)
		name := el("td", row+"/td[1]", 10, y, 200, 20, nil, fmt.Sprintf("Customer %d", i))
		edit := el("button", row+"/td[2]/button[1]", 220, y, 60, 20, map[string]string{"class": "btn edit", "data-row": fmt.Sprint(i)}, "Edit")
		edit.Neighbors = abi.Neighbors{Left: name.Text, Right: "Delete", Above: "Edit", Below: "Edit"}
		del := el("button", row+"/td[3]/button[1]", 290, y, 60, 20, map[string]string{"class": "btn danger", "data-row": fmt.Sprint(i)}, "Delete")
		del.Neighbors = abi.Neighbors{Left: "Edit", Above: "Delete", Below: "Delete"}
		link := el("a", row+"/td[4]/a[1]", 360, y, 80, 20, map[string]string{"href": fmt.Sprintf("/c/%d", i)}, "Details")
		els = append(els, name, edit, del, link)
	}
	els = els[:n]
	s := snap(els...)
	return s, s.Elements[n/2+1]
}

func BenchmarkFingerprintResolve2000(b *testing.B) {
	s, fp := bigSnapshot(2000)
	fp.Attrs = map[string]string{"class": "btn edit-v1", "data-row": fp.Attrs["data-row"]}
	target := abi.Target{Fingerprint: &fp}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Default.ResolveProfile(&s, target, Profile(1), 5); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBigSnapshotResolves(t *testing.T) {
	s, fp := bigSnapshot(2000)
	fp.Attrs = map[string]string{"class": "btn edit-v1", "data-row": fp.Attrs["data-row"]}
	res, err := Resolve(s, abi.Target{Fingerprint: &fp}, 1)
	if err != nil || res.Element.Index != fp.Index {
		t.Fatalf("chose %v err %v, want #%d", res.Element, err, fp.Index)
	}
}
