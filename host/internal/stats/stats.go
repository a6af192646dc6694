// Package stats records call latencies in a fixed logarithmic histogram with
// atomic counters, cheap enough for every strategy call.
package stats

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Buckets are powers of two of microseconds: bucket i holds latencies in
// [2^(i-1), 2^i) µs, bucket 0 below 1 µs; the last is open-ended (> 9 min).
const buckets = 40

// Histogram is safe for concurrent use.
type Histogram struct {
	count  atomic.Uint64
	sumNS  atomic.Uint64
	bucket [buckets]atomic.Uint64
}

// Observe records one latency.
func (h *Histogram) Observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.count.Add(1)
	h.sumNS.Add(uint64(d))
	us := uint64(d / time.Microsecond)
	i := bits.Len64(us)
	if i >= buckets {
		i = buckets - 1
	}
	h.bucket[i].Add(1)
}

// Count is the number of observations.
func (h *Histogram) Count() uint64 { return h.count.Load() }

// Mean is the mean latency, 0 without observations.
func (h *Histogram) Mean() time.Duration {
	n := h.count.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sumNS.Load() / n)
}

// Quantile estimates the q-quantile (0 < q <= 1) as the upper bound of the
// bucket holding it, so it never understates latency by more than 2x.
func (h *Histogram) Quantile(q float64) time.Duration {
	var counts [buckets]uint64
	var total uint64
	for i := range counts {
		counts[i] = h.bucket[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			if i == 0 {
				return time.Microsecond
			}
			return time.Duration(uint64(1)<<i) * time.Microsecond
		}
	}
	return time.Duration(math.MaxInt64)
}
