package sim

import (
	"math"

	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/bus"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// bind applies endpoint.bound: spawn on the first binding, else update the
// route and resume snapshots.
func (w *World) bind(m *realmv1.EndpointBound) {
	sid, ingress := m.GetSessionId(), m.GetIngressId()
	if sid == 0 || bus.ValidID(ingress) != nil {
		w.stats.BadEvents++
		return
	}
	if w.closed.has(sid) {
		w.stats.BindsAfterClose++
		return
	}
	route := w.intern(ingress)
	if e, ok := w.sessions[sid]; ok {
		pl, _ := w.players.Get(e)
		if pl.Bound && pl.route == route && pl.Endpoint == m.GetEndpoint() {
			return // a re-announcement of the route in force
		}
		if !pl.Bound {
			w.bound++
		}
		pl.IngressID, pl.Endpoint, pl.route, pl.Bound = ingress, m.GetEndpoint(), route, true
		w.stats.Rebound++
		w.log.Debug("player rebound", zap.Uint64("session", sid),
			zap.String("ingress", ingress), zap.String("endpoint", pl.Endpoint))
		return
	}

	x, y := SpawnPoint(sid, w.size)
	w.nextEntityID++
	e := w.spawn.NewEntity(
		&Position{X: x, Y: y},
		&Velocity{},
		&Ident{EntityID: w.nextEntityID, SessionID: sid},
		&Player{SessionID: sid, AccountID: m.GetAccountId(), IngressID: ingress,
			Endpoint: m.GetEndpoint(), Bound: true, route: route},
		&Input{},
	)
	w.sessions[sid] = e
	w.bound++
	w.stats.Spawned++
	w.log.Debug("player spawned", zap.Uint64("session", sid), zap.Uint64("entity", w.nextEntityID),
		zap.String("ingress", ingress), zap.Bool("resync", m.GetResync()))
}

// unbind applies endpoint.unbound.
func (w *World) unbind(m *realmv1.EndpointUnbound) {
	sid := m.GetSessionId()
	if sid == 0 {
		w.stats.BadEvents++
		return
	}
	if m.GetReason() == realmv1.UnbindReason_UNBIND_REASON_SESSION_CLOSED {
		w.closeSession(sid, "unbound: session closed")
		return
	}
	e, ok := w.sessions[sid]
	if !ok {
		w.stats.StaleUnbinds++
		return
	}
	pl, _ := w.players.Get(e)
	// Only the instance that owns the route may end it: after a move to
	// another instance (reason MOVED, or a bound that overtook this unbound),
	// the old instance's unbound is stale.
	if !pl.Bound || pl.IngressID != m.GetIngressId() ||
		(m.GetEndpoint() != "" && pl.Endpoint != m.GetEndpoint()) {
		w.stats.StaleUnbinds++
		return
	}
	pl.Bound = false
	w.bound--
	w.stats.Unbound++
	w.log.Debug("player unbound", zap.Uint64("session", sid),
		zap.String("ingress", pl.IngressID), zap.Stringer("reason", m.GetReason()))
}

// closeSession despawns the player of sid, if any, and remembers sid.
func (w *World) closeSession(sid uint64, why string) {
	if sid == 0 {
		w.stats.BadEvents++
		return
	}
	w.closed.add(sid, w.stats.Tick)
	e, ok := w.sessions[sid]
	if !ok {
		return
	}
	if pl, _ := w.players.Get(e); pl.Bound {
		w.bound--
	}
	w.ecs.RemoveEntity(e)
	delete(w.sessions, sid)
	w.stats.Despawned++
	w.log.Debug("player despawned", zap.Uint64("session", sid), zap.String("why", why))
}

// applyInput records in as the newest input of the player of in.Session,
// if it is newer than the one applied.
func (w *World) applyInput(in *SessionInput) {
	e, ok := w.sessions[in.Session]
	if !ok {
		w.stats.InputsUnknown++
		return
	}
	mx, my := in.MoveX, in.MoveY // no move: stand still
	if in.Missing || !finite(mx) || !finite(my) {
		w.stats.InputsInvalid++
		return
	}
	_, last := w.players.Get(e)
	seq := in.Sequence
	if seq <= last.Sequence {
		w.stats.InputsStale++
		return
	}
	// Clamp the move to length 1 in float64, where squaring cannot
	// overflow.
	if l2 := float64(mx)*float64(mx) + float64(my)*float64(my); l2 > 1 {
		inv := 1 / math.Sqrt(l2)
		mx, my = float32(float64(mx)*inv), float32(float64(my)*inv)
	}
	last.Sequence, last.MoveX, last.MoveY = seq, mx, my
	w.stats.InputsApplied++
}

func finite(f float32) bool {
	return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0)
}

// intern returns the route index of an ingress id. Ingress ids are few
// (one per ingress instance ever seen), so the table only grows.
func (w *World) intern(ingress string) int32 {
	if r, ok := w.routeOf[ingress]; ok {
		return r
	}
	r := int32(len(w.routes))
	w.routes = append(w.routes, ingress)
	w.routeOf[ingress] = r
	return r
}
