package load

import (
	"math"
	"testing"
)

func TestWanderUnitAndDeterministic(t *testing.T) {
	a, b := NewWander(7, 0), NewWander(7, 0)
	for i := range 1000 {
		ax, ay := a.Next(0, 0, false)
		bx, by := b.Next(0, 0, false)
		if ax != bx || ay != by {
			t.Fatalf("step %d: same seed gave (%v,%v) and (%v,%v)", i, ax, ay, bx, by)
		}
		if l := math.Hypot(float64(ax), float64(ay)); math.Abs(l-1) > 1e-5 {
			t.Fatalf("step %d: move length %v, want 1", i, l)
		}
	}
}

func TestWanderTurnsGradually(t *testing.T) {
	w := NewWander(1, 0)
	px, py := w.Next(0, 0, false)
	smooth := 0
	for range 1000 {
		x, y := w.Next(0, 0, false)
		turn := math.Acos(math.Max(-1, math.Min(1, float64(px*x+py*y))))
		if turn <= wanderMaxTurn+1e-4 {
			smooth++
		}
		px, py = x, y
	}
	// Only the rare random jumps (2%) may turn further.
	if smooth < 950 {
		t.Errorf("%d of 1000 steps turned by at most %v rad, want nearly all", smooth, wanderMaxTurn)
	}
}

func TestWanderHeadsHome(t *testing.T) {
	tests := []struct {
		name string
		x, y float32 // position far from home (0, 0)
	}{
		{"east", 100, 0},
		{"north-west", -60, 80},
		{"south", 0, -30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWander(3, 10)
			w.Next(0, 0, true) // home
			var x, y float32
			for range 20 { // enough steps to turn around
				x, y = w.Next(tc.x, tc.y, true)
			}
			toHome := -(float64(tc.x)*float64(x) + float64(tc.y)*float64(y)) / math.Hypot(float64(tc.x), float64(tc.y))
			if toHome < 0.99 {
				t.Errorf("move (%v,%v) from (%v,%v): cosine to home %v, want about 1", x, y, tc.x, tc.y, toHome)
			}
		})
	}
}
