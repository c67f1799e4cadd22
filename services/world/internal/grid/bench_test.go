package grid

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ecs-realm/realm/libs/testutil/cputime"
)

// BenchmarkAOI measures one tick's area-of-interest work: rebuild the grid and
// find the 32 nearest within 50 units for every point, against the brute-force
// baseline (every pair) in the same run. Density matches 10k players on
// 1000×1000.
func BenchmarkAOI(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		size := float32(1000)
		if n == 1000 {
			size = 316 // same density as 10k on 1000×1000
		}
		rng := rand.New(rand.NewPCG(1, 2))
		xs, ys := randomPoints(rng, n, size)
		for _, shrink := range []bool{true, false} {
			b.Run(fmt.Sprintf("grid/shrink=%v/n=%d", shrink, n), func(b *testing.B) {
				noShrink = !shrink
				defer func() { noShrink = false }()
				b.ReportAllocs()
				cpu := cputime.Process()
				var g Grid
				var s Scratch
				dst := make([]int32, 0, 64)
				for b.Loop() {
					g.Build(size, 50, xs, ys)
					for _, i := range g.Order() { // region by region, as the world does
						dst = g.Nearest(dst[:0], xs[i], ys[i], 50, 32, i, &s)
					}
				}
				cputime.Report(b, cpu)
				b.ReportMetric(float64(s.Rescans)/float64(b.N*n), "rescans/query")
			})
		}
		if n > 1000 {
			continue // brute force at 10k takes ~0.1 s per tick
		}
		b.Run(fmt.Sprintf("bruteforce/n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu := cputime.Process()
			defer cputime.Report(b, cpu)
			for b.Loop() {
				for i := range xs {
					_ = bruteNearest(xs, ys, xs[i], ys[i], 50, 32, int32(i))
				}
			}
		})
	}
}

// BenchmarkMovingAOI measures the area-of-interest work of one tick of a
// world whose points all move (each up to 0.25 units a tick in a random
// direction, the world's default 5 units/s at 20 Hz): Grid.Nearest for
// every point (the baseline, as the world did before Lists) against Lists,
// in the same run. 10k points on 1000×1000, 32 nearest within 50; an op is a
// tick: moving the points, the grid rebuild and 10k queries.
func BenchmarkMovingAOI(b *testing.B) {
	const (
		n    = 10000
		size = 1000
		r    = 50
		k    = 32
		step = 0.25
	)
	type variant struct {
		name       string
		cell, skin float32
		lists      bool
	}
	variants := []variant{
		{name: "grid/cell=50", cell: 50}, // the world before Lists
		{name: "grid/cell=25", cell: 25},
		{name: "lists/skin=4/cell=50", cell: 50, skin: 4, lists: true},
	}
	for _, skin := range []float32{2, 4, 6} { // the world: skin 4, cell 25
		variants = append(variants, variant{name: fmt.Sprintf("lists/skin=%v/cell=25", skin), cell: 25, skin: skin, lists: true})
	}
	for _, v := range variants {
		b.Run(v.name, func(b *testing.B) {
			m := newMovingPoints(1, n, size, false)
			// Fixed per-tick moves, replayed: the same work for every variant.
			const plans = 16
			dx, dy := make([][]float32, plans), make([][]float32, plans)
			for p := range plans {
				dx[p], dy[p] = make([]float32, n), make([]float32, n)
				for i := range n {
					a := m.rng.Float64() * 2 * math.Pi
					d := step * m.rng.Float32()
					dx[p][i], dy[p][i] = d*float32(math.Cos(a)), d*float32(math.Sin(a))
				}
			}
			m.tick(0, 0, 0)
			// Ids in grid order, as the world keeps them (it renumbers
			// them now and then): neighbours share cache lines.
			var g0 Grid
			g0.Build(size, 25, m.xs, m.ys)
			m.renumber(g0.Order())
			var (
				g    Grid
				l    Lists
				s    Scratch
				tick int
			)
			l.Reset(k, r, v.skin)
			l.Grow(n)
			dst := make([]int32, 0, 64)
			run := func() {
				p := tick % plans
				tick++
				for i := range n {
					m.xs[i] = min(max(m.xs[i]+dx[p][i], 0), size)
					m.ys[i] = min(max(m.ys[i]+dy[p][i], 0), size)
				}
				g.BuildIDs(size, v.cell, m.xs, m.ys, m.live)
				if v.lists {
					l.Moved(step)
					for _, i := range g.Order() {
						dst = l.Nearest(dst[:0], i, m.xs, m.ys, &g, &s)
					}
				} else {
					for _, i := range g.Order() {
						dst = g.Nearest(dst[:0], m.xs[i], m.ys[i], r, k, i, &s)
					}
				}
			}
			for range 20 { // past the first builds
				run()
			}
			s = Scratch{}
			b.ReportAllocs()
			cpu := cputime.Process()
			for b.Loop() {
				run()
			}
			cputime.Report(b, cpu)
			q := float64(b.N * n)
			b.ReportMetric(float64(s.Refreshes)/q, "refreshes/query")
			b.ReportMetric(float64(s.Builds+s.Fallbacks)/q, "builds/query")
		})
	}
}
