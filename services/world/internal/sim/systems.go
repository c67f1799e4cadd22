package sim

// Step advances the world by one tick of 1/TickRate seconds: inputs become
// velocities, entities move and stay inside the map, and on snapshot ticks
// (every SnapshotEvery) every bound player's snapshot is encoded, or with
// SnapshotSpread those of the players whose turn it is, every tick. It
// returns the SnapshotBatch messages to publish, none on other ticks. The
// returned slice and its payloads are reused by the next Step.
func (w *World) Step() []Batch {
	w.stats.Tick++
	w.closed.expire(w.stats.Tick)
	w.steer()
	w.move()
	if !w.cfg.SnapshotSpread && w.stats.Tick%uint64(w.cfg.SnapshotEvery) != 0 {
		return nil
	}
	return w.snapshots()
}

// turn returns the tick (modulo n) on which the player of session gets its
// snapshots when SnapshotSpread spreads them over n ticks: a hash of the
// session id (SplitMix64's finalizer, as SpawnPoint), so that turns are even
// over the players.
func turn(session, n uint64) uint64 {
	h := session + 0x9e3779b97f4a7c15
	h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
	h = (h ^ h>>27) * 0x94d049bb133111eb
	return (h ^ h>>31) % n
}

// steer is the input system: velocity = move intent × max speed. The intent
// was clamped to length 1 when the input was applied.
func (w *World) steer() {
	q := w.steered.Query()
	for q.NextTable() {
		ins, vels := q.GetColumns()
		vels = vels[:len(ins)]
		for i := range ins {
			vels[i] = Velocity{X: ins[i].MoveX * w.speed, Y: ins[i].MoveY * w.speed}
		}
	}
}

// move is the movement and bounds system: position += velocity·dt, clamped
// into [0, size]². Velocity is left as the player intends it (a player
// pushing against the border keeps its velocity and stays in place).
func (w *World) move() {
	dt, size := w.dt, w.size
	q := w.moving.Query()
	for q.NextTable() {
		ps, vs := q.GetColumns()
		vs = vs[:len(ps)]
		for i := range ps {
			ps[i].X = clamp(ps[i].X+vs[i].X*dt, size)
			ps[i].Y = clamp(ps[i].Y+vs[i].Y*dt, size)
		}
	}
}

// clamp returns v limited to [0, hi].
func clamp(v, hi float32) float32 {
	return min(max(v, 0), hi)
}
