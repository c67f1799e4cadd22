package snapshot_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/ecs-realm/realm/libs/snapshot"
)

// FuzzCompose composes a snapshot of self and n copies of a nearby entity
// from their chunks (AppendHeader, AppendSelf, AppendNearby), decodes it
// with proto.Unmarshal and compares it with the message it should be, byte
// for byte with proto.Marshal; the size budget must hold, and PutNearby must
// write the chunk AppendNearby appends.
func FuzzCompose(f *testing.F) {
	f.Add(uint64(1), uint64(0), uint64(1), uint64(77), float32(1), float32(2), float32(0), float32(-5),
		uint64(2), uint64(0), float32(3), float32(4), uint8(3))
	f.Add(uint64(math.MaxUint64), uint64(math.MaxUint64), uint64(math.MaxUint64), uint64(math.MaxUint64),
		float32(math.Inf(-1)), float32(math.NaN()), float32(math.Copysign(0, -1)), float32(1e-40),
		uint64(math.MaxUint64), uint64(math.MaxUint64), float32(1), float32(1), uint8(40))
	f.Fuzz(func(t *testing.T, tick, input, id, session uint64, x, y, vx, vy float32,
		nid, nsession uint64, nx, ny float32, count uint8) {
		self := snapshot.Entity{EntityID: id, SessionID: session, X: x, Y: y, VX: vx, VY: vy}
		nearby := make([]snapshot.Entity, count)
		for i := range nearby {
			nearby[i] = snapshot.Entity{EntityID: nid + uint64(i), SessionID: nsession, X: nx, Y: ny, VX: vy, VY: vx}
		}
		b, n := compose(nil, tick, input, &self, nearby)
		if len(b) > snapshot.MaxSize {
			t.Fatalf("%d bytes > MaxSize", len(b))
		}
		if n < len(nearby) {
			// The next entity must really not fit.
			if len(b)+snapshot.EntitySize(&nearby[n]) <= snapshot.MaxSize {
				t.Fatalf("stopped at %d though entity %d fits", n, n)
			}
		}
		checkSnapshot(t, b, expected(tick, input, &self, nearby[:n]))

		var c [snapshot.MaxEntitySize]byte // PutNearby writes the same chunk
		m := snapshot.PutNearby(&c, &self)
		if !bytes.Equal(c[:m], snapshot.AppendNearby(nil, &self)) {
			t.Fatalf("PutNearby % x differs from AppendNearby", c[:m])
		}
	})
}
