package load

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestBucketLayout(t *testing.T) {
	prevUpper := uint64(0)
	for i := 1; i < nBuckets; i++ {
		up := bucketUpper(i)
		if up <= prevUpper {
			t.Fatalf("bucket %d upper %d not above bucket %d's %d", i, up, i-1, prevUpper)
		}
		if got := bucketOf(prevUpper + 1); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d (buckets must be contiguous)", prevUpper+1, got, i)
		}
		if got := bucketOf(up); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", up, got, i)
		}
		prevUpper = up
	}
	if prevUpper != math.MaxUint64 {
		t.Fatalf("last bucket ends at %d, want MaxUint64", prevUpper)
	}
}

func TestQuantile(t *testing.T) {
	tests := []struct {
		name    string
		samples []time.Duration
		q       float64
		want    time.Duration
	}{
		{name: "empty", q: 0.5, want: 0},
		{name: "one", samples: []time.Duration{7}, q: 0.99, want: 7},
		{name: "exact small values", samples: []time.Duration{1, 2, 3, 4}, q: 0.5, want: 2},
		{name: "q=1 is the max", samples: []time.Duration{time.Millisecond, time.Second}, q: 1, want: time.Second},
		{name: "q=0 is the first bucket", samples: []time.Duration{5, time.Second}, q: 0, want: 5},
		{name: "negative counts as zero", samples: []time.Duration{-time.Second}, q: 0.5, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			for _, s := range tc.samples {
				h.Record(s)
			}
			if got := h.Quantile(tc.q); got != tc.want {
				t.Errorf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

// TestQuantileError checks the relative error bound against exact
// quantiles of a wide random distribution.
func TestQuantileError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	samples := make([]time.Duration, 100000)
	for i := range samples {
		samples[i] = time.Duration(math.Exp(rng.Float64()*20)) * time.Microsecond / 10
		h.Record(samples[i])
	}
	slices.Sort(samples)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := samples[int(math.Ceil(q*float64(len(samples))))-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/subCount+1 {
			t.Errorf("Quantile(%v) = %v, exact %v: beyond the 1/%d bound", q, got, exact, subCount)
		}
	}
	if h.Max() != samples[len(samples)-1] {
		t.Errorf("Max = %v, want %v", h.Max(), samples[len(samples)-1])
	}
}

func TestMergeConcurrent(t *testing.T) {
	var a, b, total Histogram
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := &a
			if g%2 == 1 {
				h = &b
			}
			for i := range 1000 {
				h.Record(time.Duration(i) * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	total.Merge(&a)
	total.Merge(&b)
	if total.Count() != 4000 {
		t.Fatalf("Count = %d, want 4000", total.Count())
	}
	if total.Max() != 999*time.Microsecond {
		t.Errorf("Max = %v", total.Max())
	}
	if got, want := total.Mean(), 999*time.Microsecond/2; got != want {
		t.Errorf("Mean = %v, want %v", got, want)
	}
	if a.Quantile(0.5) != total.Quantile(0.5) {
		t.Errorf("median of the merge %v differs from its equal halves' %v", total.Quantile(0.5), a.Quantile(0.5))
	}
}

func TestRecordAllocs(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(1000, func() { h.Record(time.Millisecond) }); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
}

// BenchmarkRecord compares Record with appending to a mutex-guarded slice,
// the per-sample storage it replaces.
func BenchmarkRecord(b *testing.B) {
	b.Run("baseline-mutex-slice", func(b *testing.B) {
		var mu sync.Mutex
		var s []time.Duration
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.Lock()
				s = append(s, time.Millisecond)
				mu.Unlock()
			}
		})
	})
	b.Run("Histogram", func(b *testing.B) {
		var h Histogram
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.Record(time.Millisecond)
			}
		})
	})
}
