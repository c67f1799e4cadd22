package load

import (
	"math"
	"math/rand/v2"
)

// Wandering behaviour: a heading that drifts a little every step, now and
// then jumps to a random direction, and turns back towards home when the
// player strayed further than the radius, so that players stay near each
// other and see each other in their snapshots.
const (
	wanderMaxTurn = 0.35 // radians per step, at most
	wanderJump    = 0.02 // probability per step of a new random heading
	// DefaultWanderRadius is how far (world units) a player strays from
	// where it first saw itself before heading back.
	DefaultWanderRadius = 25
)

// Wander produces a player's movement inputs. It is not safe for
// concurrent use: each player owns one.
type Wander struct {
	rng     *rand.Rand
	heading float64 // radians
	radius  float64
	home    [2]float64
	hasHome bool
}

// NewWander returns a wanderer with a random start heading from seed,
// straying at most radius (zero means DefaultWanderRadius) from home.
func NewWander(seed uint64, radius float64) *Wander {
	if radius <= 0 {
		radius = DefaultWanderRadius
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return &Wander{rng: rng, heading: rng.Float64() * 2 * math.Pi, radius: radius}
}

// Next returns the next move, a unit vector. x, y is the player's position
// from its latest snapshot, when known (ok); the first known position
// becomes home.
func (w *Wander) Next(x, y float32, ok bool) (float32, float32) {
	switch {
	case ok && !w.hasHome:
		w.home, w.hasHome = [2]float64{float64(x), float64(y)}, true
	case ok && math.Hypot(float64(x)-w.home[0], float64(y)-w.home[1]) > w.radius:
		back := math.Atan2(w.home[1]-float64(y), w.home[0]-float64(x))
		w.heading = turnTowards(w.heading, back, wanderMaxTurn)
		return unit(w.heading)
	}
	if w.rng.Float64() < wanderJump {
		w.heading = w.rng.Float64() * 2 * math.Pi
	} else {
		w.heading += (w.rng.Float64()*2 - 1) * wanderMaxTurn
	}
	return unit(w.heading)
}

// turnTowards turns heading by at most step radians towards target.
func turnTowards(heading, target, step float64) float64 {
	d := math.Remainder(target-heading, 2*math.Pi) // in [-pi, pi]
	return heading + math.Max(-step, math.Min(step, d))
}

func unit(heading float64) (float32, float32) {
	s, c := math.Sincos(heading)
	return float32(c), float32(s)
}
