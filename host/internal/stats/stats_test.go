package stats

import (
	"testing"
	"time"
)

func TestHistogram(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram must report zeros")
	}
	for range 90 {
		h.Observe(10 * time.Microsecond)
	}
	for range 10 {
		h.Observe(5 * time.Millisecond)
	}
	if h.Count() != 100 {
		t.Fatalf("count %d", h.Count())
	}
	if p50 := h.Quantile(0.5); p50 < 10*time.Microsecond || p50 > 20*time.Microsecond {
		t.Errorf("p50 = %s", p50)
	}
	if p99 := h.Quantile(0.99); p99 < 5*time.Millisecond || p99 > 10*time.Millisecond {
		t.Errorf("p99 = %s", p99)
	}
	if m := h.Mean(); m != (90*10*time.Microsecond+10*5*time.Millisecond)/100 {
		t.Errorf("mean = %s", m)
	}
}
