package browser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/selfheal/engine/abi"
)

// bigPage has 500 table rows of a text cell, two buttons and a link: 2,000
// recorded elements.
func bigPage() string {
	var b strings.Builder
	b.WriteString(`<!doctype html><title>big</title><table>`)
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&b, `<tr><td>Customer %d</td><td><button class="btn edit" data-row="%d">Edit</button></td><td><button class="btn danger">Delete</button></td><td><a href="/c/%d">Details</a></td></tr>`, i, i, i)
	}
	b.WriteString(`</table>`)
	return b.String()
}

func BenchmarkSnapshot2000(b *testing.B) {
	srv := serve(b, map[string]string{"/": bigPage()})
	s := newSession(b, SessionOptions{})
	if _, err := s.Navigate(b.Context(), abi.Navigation{URL: srv.URL + "/"}); err != nil {
		b.Fatal(err)
	}
	snap, err := s.Snapshot(b.Context())
	if err != nil || len(snap.Elements) != 2000 {
		b.Fatalf("snapshot has %d elements, err %v", len(snap.Elements), err)
	}
	for b.Loop() {
		if _, err := s.Snapshot(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}
