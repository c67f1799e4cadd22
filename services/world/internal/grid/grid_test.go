package grid

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// bruteNearest is the obvious O(n) answer Nearest must agree with: the squared
// distances (computed the same way) of the k nearest points within r, sorted.
func bruteNearest(xs, ys []float32, x, y, r float32, k int, self int32) []float32 {
	var d []float32
	r2 := r * r
	for i := range xs {
		if int32(i) == self {
			continue
		}
		dx, dy := xs[i]-x, ys[i]-y
		if d2 := dx*dx + dy*dy; d2 <= r2 {
			d = append(d, d2)
		}
	}
	slices.Sort(d)
	if len(d) > k {
		d = d[:k]
	}
	return d
}

func randomPoints(rng *rand.Rand, n int, size float32) (xs, ys []float32) {
	xs, ys = make([]float32, n), make([]float32, n)
	for i := range n {
		xs[i], ys[i] = rng.Float32()*size, rng.Float32()*size
	}
	return xs, ys
}

func TestNearestMatchesBruteForce(t *testing.T) {
	tests := []struct {
		name       string
		n          int
		size, cell float32
		r          float32
		k          int
		clustered  bool
	}{
		{name: "typical", n: 2000, size: 1000, cell: 50, r: 50, k: 32},
		{name: "no cap reached", n: 300, size: 1000, cell: 50, r: 50, k: 32},
		{name: "cap one", n: 2000, size: 1000, cell: 50, r: 50, k: 1},
		{name: "radius wider than cells", n: 2000, size: 1000, cell: 20, r: 75, k: 40},
		{name: "radius narrower than cells", n: 2000, size: 1000, cell: 100, r: 30, k: 10},
		{name: "one cell", n: 200, size: 10, cell: 50, r: 50, k: 500},
		{name: "clustered with ties", n: 500, size: 100, cell: 10, r: 10, k: 16, clustered: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tc.n)))
			xs, ys := randomPoints(rng, tc.n, tc.size)
			if tc.clustered {
				// Many points on a few exact spots: distance ties.
				for i := range xs {
					xs[i], ys[i] = float32(rng.IntN(5))*3, float32(rng.IntN(5))*3
				}
			}
			var g Grid
			g.Build(tc.size, tc.cell, xs, ys)
			var s Scratch
			for q := range 300 {
				self := int32(rng.IntN(tc.n))
				x, y := xs[self], ys[self]
				if q%3 == 0 { // also query from arbitrary points, with no self
					self = -1
					x, y = rng.Float32()*tc.size, rng.Float32()*tc.size
				}
				got := g.Nearest(nil, x, y, tc.r, tc.k, self, &s)
				want := bruteNearest(xs, ys, x, y, tc.r, tc.k, self)
				if len(got) != len(want) {
					t.Fatalf("query %d: got %d points, want %d", q, len(got), len(want))
				}
				seen := map[int32]bool{}
				for i, idx := range got {
					if idx == self {
						t.Fatalf("query %d: result includes self %d", q, self)
					}
					if seen[idx] {
						t.Fatalf("query %d: index %d twice", q, idx)
					}
					seen[idx] = true
					dx, dy := xs[idx]-x, ys[idx]-y
					if d2 := dx*dx + dy*dy; d2 != want[i] {
						t.Fatalf("query %d: result %d at d²=%v, want %v", q, i, d2, want[i])
					}
				}
			}
		})
	}
}

func TestNearestEdgeCases(t *testing.T) {
	xs := []float32{-5, 0, 1000, 1200, float32(math.NaN()), 500}
	ys := []float32{-5, 0, 1000, 1200, 10, 500}
	var g Grid
	g.Build(1000, 50, xs, ys)
	if g.Len() != len(xs) {
		t.Fatalf("Len = %d, want %d", g.Len(), len(xs))
	}
	var s Scratch
	tests := []struct {
		name    string
		x, y, r float32
		k       int
		self    int32
		want    []int32
	}{
		{name: "corner below zero is indexed", x: 0, y: 0, r: 10, k: 8, self: -1, want: []int32{1, 0}},
		{name: "far corner beyond the square", x: 1000, y: 1000, r: 300, k: 8, self: 2, want: []int32{3}},
		{name: "zero cap", x: 500, y: 500, r: 50, k: 0, self: -1, want: nil},
		{name: "negative radius", x: 500, y: 500, r: -1, k: 4, self: -1, want: nil},
		{name: "boundary distance included", x: 500, y: 550, r: 50, k: 4, self: -1, want: []int32{5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := g.Nearest(nil, tc.x, tc.y, tc.r, tc.k, tc.self, &s)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Nearest = %v, want %v", got, tc.want)
			}
		})
	}

	var empty Grid
	if got := empty.Nearest(nil, 1, 1, 10, 4, -1, &s); len(got) != 0 {
		t.Fatalf("empty grid returned %v", got)
	}
}

func TestBuildCapsCells(t *testing.T) {
	var g Grid
	g.Build(1e6, 1, []float32{1, 999999}, []float32{1, 999999})
	if g.Cols() != MaxCols {
		t.Fatalf("Cols = %d, want %d", g.Cols(), MaxCols)
	}
	var s Scratch
	if got := g.Nearest(nil, 2, 2, 2, 4, -1, &s); !slices.Equal(got, []int32{0}) {
		t.Fatalf("Nearest = %v, want [0]", got)
	}
}

func TestScratchNearestSortsPrefix(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var s Scratch
	for n := 1; n < 300; n++ {
		r2 := float32(1 + rng.IntN(3000))
		keys := make([]uint64, n)
		for i := range keys {
			d2 := rng.Float32() * r2
			switch rng.IntN(4) {
			case 0:
				d2 = r2 // on the boundary
			case 1:
				d2 = float32(rng.IntN(3)) // duplicates, zero
			}
			keys[i] = uint64(math.Float32bits(d2))<<32 | uint64(i)
		}
		want := 1 + rng.IntN(n+5)
		sorted := slices.Clone(keys)
		slices.Sort(sorted)
		if len(sorted) > want {
			sorted = sorted[:want]
		}
		if got := s.nearest(keys, r2, want); !slices.Equal(got, sorted) {
			t.Fatalf("n=%d want=%d: got %v, want %v", n, want, got, sorted)
		}
	}
}

func TestSteadyStateAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	xs, ys := randomPoints(rng, 5000, 1000)
	var g Grid
	g.Build(1000, 50, xs, ys)
	var s Scratch
	dst := make([]int32, 0, 64)
	i := 0
	allocs := testing.AllocsPerRun(100, func() {
		g.Build(1000, 50, xs, ys)
		for range 100 {
			dst = g.Nearest(dst[:0], xs[i], ys[i], 50, 32, int32(i), &s)
			i = (i + 1) % len(xs)
		}
	})
	if allocs != 0 {
		t.Fatalf("Build + Nearest allocated %v times per run, want 0", allocs)
	}
}

func TestNearestRescansWhenCrowdIsFar(t *testing.T) {
	// 400 points on a ring of radius 45 around (500, 500), nothing closer:
	// the density of the cells suggests the 8 nearest lie much closer than
	// 45, the first, shrunken search finds none, and the full one must run.
	var xs, ys []float32
	for i := range 400 {
		a := 2 * math.Pi * float64(i) / 400
		xs = append(xs, 500+float32(45*math.Cos(a)))
		ys = append(ys, 500+float32(45*math.Sin(a)))
	}
	var g Grid
	g.Build(1000, 50, xs, ys)
	var s Scratch
	got := g.Nearest(nil, 500, 500, 50, 8, -1, &s)
	if s.Rescans != 1 {
		t.Fatalf("Rescans = %d, want 1", s.Rescans)
	}
	want := bruteNearest(xs, ys, 500, 500, 50, 8, -1)
	if len(got) != len(want) {
		t.Fatalf("got %d points, want %d", len(got), len(want))
	}
	for i, idx := range got {
		dx, dy := xs[idx]-500, ys[idx]-500
		if d2 := dx*dx + dy*dy; d2 != want[i] {
			t.Fatalf("result %d at d²=%v, want %v", i, d2, want[i])
		}
	}
}
