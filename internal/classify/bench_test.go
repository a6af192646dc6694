package classify

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// manyPatterns loads the defaults plus n generated user patterns of a few
// shapes: literal alternatives, literals around wildcards, optional parts
// (no required literal for some) and character classes.
func manyPatterns(t testing.TB, n int) *Classifier {
	t.Helper()
	var b strings.Builder
	for i := range n {
		var sig string
		switch i % 4 {
		case 0:
			sig = fmt.Sprintf(`custom failure %d happened|failure code C%d`, i, i)
		case 1:
			sig = fmt.Sprintf(`widget-%d .*broke|widget-%d crashed`, i, i)
		case 2:
			sig = fmt.Sprintf(`(zzz )?%d qqq`, i)
		case 3:
			sig = fmt.Sprintf(`thing#%d[!?]`, i)
		}
		fmt.Fprintf(&b, "[[pattern]]\nname = \"gen_%d\"\nsignature = '%s'\n[[pattern.strategy]]\nname = \"wait_longer\"\n\n", i, sig)
	}
	path := filepath.Join(t.TempDir(), "many.toml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return mustLoad(t, path)
}

var benchMessages = []string{
	"NoSuchElementException: no such element: Unable to locate element: {\"method\":\"css selector\",\"selector\":\"#checkout\"}",
	"TimeoutError: page.click: Timeout 30000ms exceeded.",
	"page load error net::ERR_NAME_NOT_RESOLVED",
	"Element is not clickable at point (120, 44). Other element would receive the click",
	"something nobody has seen before happened in the widget tree",
}

// benchClassify reports the median of individually timed calls as p50-ns
// beside the mean ns/op.
func benchClassify(b *testing.B, c *Classifier) {
	b.ReportAllocs()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		_ = c.ClassifyMessage(benchMessages[i%len(benchMessages)])
		lat = append(lat, time.Since(start))
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
}

// Targets: p50 under 2 us with the defaults, under 20 us with 1,000 user
// patterns.
func BenchmarkClassify6(b *testing.B)    { benchClassify(b, mustLoad(b, "")) }
func BenchmarkClassify1000(b *testing.B) { benchClassify(b, manyPatterns(b, 1000)) }
