package grid

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// movingPoints is a population of points at stable ids that move each tick
// within a step, some of them jumping (teleport), dying and being reborn,
// for checking Lists against brute force.
type movingPoints struct {
	rng    *rand.Rand
	size   float32
	xs, ys []float32
	alive  []bool
	live   []int32 // ids of the living points

	jumped, died []int32 // tick's results, reused
}

func newMovingPoints(seed uint64, n int, size float32, clustered bool) *movingPoints {
	m := &movingPoints{rng: rand.New(rand.NewPCG(seed, uint64(n))), size: size}
	m.xs, m.ys = randomPoints(m.rng, n, size)
	m.alive = make([]bool, n)
	for i := range m.alive {
		m.alive[i] = true
		if clustered { // a crowd on a few exact spots: ties, lists overfull
			m.xs[i], m.ys[i] = 500+float32(m.rng.IntN(4)), 500+float32(m.rng.IntN(4))
		}
	}
	return m
}

// tick moves every living point by at most step and returns the largest
// move and the ids that jumped, died or were born (the latter two at jump
// and churn per tick).
func (m *movingPoints) tick(step float32, jumps, churn int) (moved float64, jumped, died []int32) {
	jumped, died = m.jumped[:0], m.died[:0]
	for i := range m.xs {
		if !m.alive[i] {
			continue
		}
		a := m.rng.Float64() * 2 * math.Pi
		d := step * m.rng.Float32()
		x0, y0 := m.xs[i], m.ys[i]
		m.xs[i] = min(max(x0+d*float32(math.Cos(a)), 0), m.size)
		m.ys[i] = min(max(y0+d*float32(math.Sin(a)), 0), m.size)
		dx, dy := float64(m.xs[i])-float64(x0), float64(m.ys[i])-float64(y0)
		moved = math.Max(moved, math.Sqrt(dx*dx+dy*dy))
	}
	for range jumps {
		i := m.rng.IntN(len(m.xs))
		if m.alive[i] {
			m.xs[i], m.ys[i] = m.rng.Float32()*m.size, m.rng.Float32()*m.size
			jumped = append(jumped, int32(i))
		}
	}
	for range churn {
		i := m.rng.IntN(len(m.xs))
		if m.alive[i] {
			m.alive[i] = false
			m.xs[i], m.ys[i] = float32(math.Inf(1)), float32(math.Inf(1))
			died = append(died, int32(i))
		} else {
			m.alive[i] = true
			m.xs[i], m.ys[i] = m.rng.Float32()*m.size, m.rng.Float32()*m.size
			jumped = append(jumped, int32(i))
		}
	}
	m.live = m.live[:0]
	for i, a := range m.alive {
		if a {
			m.live = append(m.live, int32(i))
		}
	}
	m.jumped, m.died = jumped, died
	return moved, jumped, died
}

// renumber gives the living points the ids 0, 1, ... in the given order
// (and the dead ones the ids after), and returns the permutation.
func (m *movingPoints) renumber(order []int32) []int32 {
	perm := make([]int32, len(m.xs))
	for i := range perm {
		perm[i] = -1
	}
	next := int32(0)
	for _, id := range order {
		perm[id] = next
		next++
	}
	for i := range perm {
		if perm[i] < 0 {
			perm[i] = next
			next++
		}
	}
	xs, ys, alive := make([]float32, len(m.xs)), make([]float32, len(m.xs)), make([]bool, len(m.xs))
	for i, p := range perm {
		xs[p], ys[p], alive[p] = m.xs[i], m.ys[i], m.alive[i]
	}
	m.xs, m.ys, m.alive = xs, ys, alive
	m.live = m.live[:0]
	for i, a := range m.alive {
		if a {
			m.live = append(m.live, int32(i))
		}
	}
	return perm
}

func TestListsMatchBruteForce(t *testing.T) {
	tests := []struct {
		name         string
		n            int
		size, r      float32
		cell, skin   float32
		k            int
		step         float32
		jumps, churn int
		clustered    bool
	}{
		{name: "typical", n: 1000, size: 700, r: 50, cell: 50, skin: 4, k: 32, step: 0.25},
		{name: "fine cells", n: 1000, size: 700, r: 50, cell: 12.5, skin: 4, k: 32, step: 0.25},
		{name: "fast and thin skin", n: 1000, size: 700, r: 50, cell: 25, skin: 1, k: 32, step: 2},
		{name: "no skin", n: 1000, size: 500, r: 40, cell: 20, skin: 0, k: 16, step: 0.5},
		{name: "jumps and churn", n: 1000, size: 700, r: 50, cell: 25, skin: 4, k: 32, step: 0.25, jumps: 20, churn: 20},
		{name: "sparse, radius binds", n: 200, size: 1000, r: 50, cell: 25, skin: 4, k: 32, step: 0.5, churn: 5},
		{name: "cap one", n: 1000, size: 700, r: 50, cell: 50, skin: 3, k: 1, step: 0.25, jumps: 5},
		{name: "standing still", n: 1000, size: 700, r: 50, cell: 50, skin: 4, k: 32},
		{name: "crowd with ties overfills lists", n: 300, size: 1000, r: 10, cell: 10, skin: 2, k: 24, step: 0.01, clustered: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMovingPoints(1, tc.n, tc.size, tc.clustered)
			var (
				g      Grid
				l      Lists
				s      Scratch
				got    []int32
				checks int
			)
			l.Reset(tc.k, tc.r, tc.skin)
			l.Grow(tc.n)
			const ticks = 25
			for tick := range ticks {
				moved, jumped, died := m.tick(tc.step, tc.jumps, tc.churn)
				if tick == 0 {
					moved, jumped, died = 0, nil, nil
				}
				g.BuildIDs(tc.size, tc.cell, m.xs, m.ys, m.live)
				if tick%10 == 5 { // ids in grid order, as the world does now and then
					perm := m.renumber(g.Order())
					l.Renumber(perm)
					for i, id := range jumped {
						jumped[i] = perm[id]
					}
					for i, id := range died {
						died[i] = perm[id]
					}
					g.BuildIDs(tc.size, tc.cell, m.xs, m.ys, m.live)
				}
				l.Moved(moved)
				for _, id := range died {
					l.Drop(id)
				}
				for _, id := range jumped {
					l.Jumped(id, m.xs, m.ys, &g, &s)
				}
				for i, id := range m.live {
					if (i+tick)%3 == 0 {
						continue // not every list is queried every tick
					}
					got = l.Nearest(got[:0], id, m.xs, m.ys, &g, &s)
					want := bruteNearest(m.xs, m.ys, m.xs[id], m.ys[id], tc.r, tc.k, id)
					checkNearest(t, tick, id, got, want, m.xs, m.ys)
					checks++
				}
			}
			t.Logf("%d queries: %d builds, %d refreshes, %d fallbacks", checks, s.Builds, s.Refreshes, s.Fallbacks)
			// The lists must actually be used (else this test would not test
			// them): outside the crowd, few queries build from scratch.
			if !tc.clustered && tc.jumps+tc.churn == 0 && s.Builds > uint64(tc.n) {
				t.Fatalf("%d builds for %d points: lists are not kept", s.Builds, tc.n)
			}
		})
	}
}

// checkNearest fails unless got is the answer whose squared distances are
// want (sorted), in any order, without duplicates.
func checkNearest(t *testing.T, tick int, id int32, got []int32, want []float32, xs, ys []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("tick %d, point %d: got %d points, want %d", tick, id, len(got), len(want))
	}
	seen := map[int32]bool{}
	d2s := make([]float32, 0, len(got))
	for _, p := range got {
		if p == id || seen[p] {
			t.Fatalf("tick %d, point %d: result %v has itself or a duplicate", tick, id, got)
		}
		seen[p] = true
		dx, dy := xs[p]-xs[id], ys[p]-ys[id]
		d2s = append(d2s, dx*dx+dy*dy)
	}
	slices.Sort(d2s)
	for i := range d2s {
		if d2s[i] != want[i] {
			t.Fatalf("tick %d, point %d: %d-th nearest of the result at d²=%v, want %v", tick, id, i, d2s[i], want[i])
		}
	}
}

func TestListsJumpedIntoCrowd(t *testing.T) {
	// A point far away teleports next to another: it must appear in the
	// other's answer at once, though the other's list was built without it.
	xs := []float32{100, 110, 900}
	ys := []float32{100, 100, 900}
	var g Grid
	var l Lists
	var s Scratch
	l.Reset(4, 50, 2)
	l.Grow(len(xs))
	g.Build(1000, 50, xs, ys)
	if got := l.Nearest(nil, 0, xs, ys, &g, &s); len(got) != 1 || got[0] != 1 {
		t.Fatalf("before the jump: %v, want [1]", got)
	}
	xs[2], ys[2] = 101, 100
	g.Build(1000, 50, xs, ys)
	l.Moved(0)
	l.Jumped(2, xs, ys, &g, &s)
	if got := l.Nearest(nil, 0, xs, ys, &g, &s); len(got) != 2 || !slices.Contains(got, 2) || !slices.Contains(got, 1) {
		t.Fatalf("after the jump: %v, want 1 and 2", got)
	}
	if s.Builds != 1 {
		t.Fatalf("%d builds, want 1: the jump must not need a rebuild", s.Builds)
	}
}

func TestListsSteadyStateAllocatesNothing(t *testing.T) {
	m := newMovingPoints(3, 3000, 1000, false)
	var g Grid
	var l Lists
	var s Scratch
	l.Reset(32, 50, 4)
	l.Grow(len(m.xs))
	dst := make([]int32, 0, 64)
	step := func() {
		moved, jumped, _ := m.tick(0.25, 2, 0)
		g.BuildIDs(1000, 25, m.xs, m.ys, m.live)
		l.Moved(moved)
		for _, id := range jumped {
			l.Jumped(id, m.xs, m.ys, &g, &s)
		}
		for _, id := range m.live {
			dst = l.Nearest(dst[:0], id, m.xs, m.ys, &g, &s)
		}
	}
	for range 3 {
		step()
	}
	if allocs := testing.AllocsPerRun(10, step); allocs != 0 {
		t.Fatalf("a tick allocated %v times, want 0", allocs)
	}
}

func TestListsMovedNotFiniteDropsAll(t *testing.T) {
	tests := []struct {
		name string
		step float64
	}{
		{name: "NaN", step: math.NaN()},
		{name: "infinite", step: math.Inf(1)},
		{name: "negative", step: -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newMovingPoints(4, 500, 300, false)
			var (
				g Grid
				l Lists
				s Scratch
			)
			l.Reset(8, 30, 2)
			l.Grow(len(m.xs))
			g.Build(300, 15, m.xs, m.ys)
			for i := range m.xs {
				l.Nearest(nil, int32(i), m.xs, m.ys, &g, &s)
			}
			l.Moved(tc.step)
			before := s.Builds
			got := l.Nearest(nil, 7, m.xs, m.ys, &g, &s)
			if s.Builds != before+1 {
				t.Fatalf("Moved(%v) kept the lists", tc.step)
			}
			checkNearest(t, 0, 7, got, bruteNearest(m.xs, m.ys, m.xs[7], m.ys[7], 30, 8, 7), m.xs, m.ys)
		})
	}
}

func TestSortNearest(t *testing.T) {
	// Points 0..5 around (0, 0): 3 and 4 tie at distance 2, 1 and 5 at 1.
	xs := []float32{9, 1, 3, 2, 0, 0}
	ys := []float32{9, 0, 0, 0, 2, -1}
	ids := []int32{4, 0, 5, 2, 3, 1}
	var s Scratch
	s.SortNearest(ids, xs, ys, 0, 0)
	if want := []int32{1, 5, 3, 4, 2, 0}; !slices.Equal(ids, want) {
		t.Fatalf("SortNearest = %v, want %v (nearest first, ties by id)", ids, want)
	}
}
