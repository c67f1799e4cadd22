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
