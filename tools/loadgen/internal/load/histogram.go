package load

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram layout: values below subCount are counted exactly; above, each
// power of two is split into subCount buckets, so a bucket is at most 1/32
// (3.1%) of its values wide, from nanoseconds up to the largest Duration.
const (
	subBits  = 5
	subCount = 1 << subBits
	nBuckets = (64 - subBits + 1) * subCount
)

// Histogram is a log-bucketed histogram of durations, in the spirit of
// HdrHistogram: fixed size (15 KiB) whatever the number of samples, safe for
// concurrent Record, and mergeable. Quantiles are reported as the upper
// bound of their bucket (clamped to the largest value), so they overstate by
// at most 3.1%. The zero value is empty and ready to use.
type Histogram struct {
	counts [nBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64 // nanoseconds
	max    atomic.Uint64 // nanoseconds
}

// bucketOf returns the bucket of a value.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - subBits
	return (shift+1)*subCount + int((v>>shift)&(subCount-1))
}

// bucketUpper returns the largest value of bucket i.
func bucketUpper(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := i/subCount - 1
	lower := uint64(subCount+i%subCount) << shift
	return lower + (uint64(1)<<shift - 1)
}

// Record adds one sample; a negative duration counts as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Merge adds every sample of o to h. It may run concurrently with Record on
// either histogram; samples recorded into o meanwhile may or may not be
// included.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c != 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	h.sum.Add(o.sum.Load())
	om := o.max.Load()
	for {
		m := h.max.Load()
		if om <= m || h.max.CompareAndSwap(m, om) {
			return
		}
	}
}

// Count returns the number of samples.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max returns the largest sample (zero when empty).
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Mean returns the mean sample (zero when empty).
func (h *Histogram) Mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Quantile returns the value below which a fraction q (0..1) of the samples
// fall, rounded up to its bucket's upper bound and clamped to Max. It is zero
// when the histogram is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(q * float64(n))
	if float64(rank) < q*float64(n) || rank == 0 {
		rank++ // ceil, and at least the first sample
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return min(time.Duration(bucketUpper(i)), h.Max())
		}
	}
	return h.Max() // counts raced ahead of n
}
