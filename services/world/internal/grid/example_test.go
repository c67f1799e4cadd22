package grid_test

import (
	"fmt"

	"github.com/ecs-realm/realm/services/world/internal/grid"
)

func ExampleGrid_Nearest() {
	xs := []float32{10, 12, 40, 90}
	ys := []float32{10, 10, 10, 90}
	var g grid.Grid
	g.Build(100, 25, xs, ys) // 100×100 world, cells as wide as the radius

	var s grid.Scratch
	near := g.Nearest(nil, xs[0], ys[0], 25, 8, 0, &s) // around point 0, not itself
	fmt.Println(near)
	// Output: [1]
}

// Lists keep each query point's neighbours from one tick to the next: the
// caller builds the grid each tick, reports how far points moved, and asks.
func ExampleLists() {
	xs := []float32{10, 12, 40, 90}
	ys := []float32{10, 10, 10, 90}
	var (
		g grid.Grid
		l grid.Lists
		s grid.Scratch
	)
	l.Reset(2, 40, 2) // the 2 nearest within 40, lists reaching 2 farther
	l.Grow(len(xs))
	for tick := range 3 {
		for i := range xs {
			xs[i]++ // every point moves 1 unit a tick
		}
		g.Build(100, 20, xs, ys)
		if tick > 0 {
			l.Moved(1)
		}
		fmt.Println(l.Nearest(nil, 0, xs, ys, &g, &s))
	}
	// Output:
	// [1 2]
	// [1 2]
	// [1 2]
}
