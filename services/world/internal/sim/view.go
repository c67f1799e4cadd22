package sim

import (
	"math"
	"slices"

	"github.com/mlange-42/ark/ecs"

	"github.com/ecs-realm/realm/libs/snapshot"
)

// view is what the snapshot phase reads: a copy of the state made after the
// systems ran, immutable while the workers run (they write only the
// grid.Lists of their own receivers).
//
// Entities are known by a local id, dense and stable for as long as the
// entity lives, so that the area-of-interest lists (grid.Lists) can refer
// to them from one tick to the next. The arrays below are indexed by it.
type view struct {
	xs, ys []float32 // position; +Inf for a free id
	// chunks holds each entity encoded once as a Snapshot.nearby field, in
	// a fixed room: entity i's bytes are chunks[i][:lens[i]].
	chunks [][snapshot.MaxEntitySize]byte
	lens   []uint8
	owner  []uint64 // Ident.EntityID holding the id (never reused); 0 if free
	slot   []uint32 // its ECS entity's ID, for clearing idOf when it goes
	seen   []uint64 // the view (World.views) in which it was last seen

	idOf []int32 // ECS entity ID → local id, -1 if none
	free []int32 // local ids to reuse

	live []int32 // this view's ids, in query order
	// jumped are the ids whose entity is new or moved farther than
	// MaxSpeed allows since the last view; step is how far the others
	// moved at most.
	jumped []int32
	step   float64
	died   []int32 // ids freed by this view

	// receivers are the bound players whose snapshot is due, grouped by
	// route (ingress) and in grid order within a route (see
	// orderReceivers).
	receivers []receiver
	recvOf    []int32    // local id → its index in receivers, -1 if none
	sorted    []receiver // scratch of orderReceivers
	perRoute  []int32    // scratch of orderReceivers

	fresh   int     // entities that got an id since the last renumber
	renumAt uint64  // the view of the last renumber
	perm    []int32 // scratch of renumber
	done    []bool  // scratch of renumber
}

// receiver is one bound player to send a snapshot to.
type receiver struct {
	id      int32  // local id
	route   int32  // index in World.routes
	session uint64 // its session id
	input   uint64 // newest applied input sequence
}

func (v *view) chunk(i int32) []byte { return v.chunks[i][:v.lens[i]] }

// buildView copies positions out of the ECS world, encodes every entity
// once, finds who moved how far since the last view (limit: the farthest an
// entity may move in that time), and lists the bound players.
func (w *World) buildView(limit float64) {
	v := &w.view
	w.views++
	v.live, v.jumped, v.died, v.step = v.live[:0], v.jumped[:0], v.died[:0], 0
	v.receivers = v.receivers[:0]
	add := func(e ecs.Entity, p *Position, vel *Velocity, id *Ident) int32 {
		i := v.idFor(e)
		if v.seen[i] == w.views-1 && v.owner[i] == id.EntityID {
			dx, dy := float64(p.X)-float64(v.xs[i]), float64(p.Y)-float64(v.ys[i])
			if d := math.Sqrt(dx*dx + dy*dy); d <= limit {
				v.step = max(v.step, d)
			} else { // also NaN
				v.jumped = append(v.jumped, i)
			}
		} else {
			v.owner[i] = id.EntityID
			v.jumped = append(v.jumped, i)
			v.fresh++
		}
		v.seen[i] = w.views
		v.xs[i], v.ys[i] = p.X, p.Y
		v.lens[i] = uint8(snapshot.PutNearby(&v.chunks[i], &snapshot.Entity{
			EntityID: id.EntityID,
			X:        p.X, Y: p.Y, VX: vel.X, VY: vel.Y,
		}))
		v.recvOf[i] = -1
		v.live = append(v.live, i)
		return i
	}

	// With SnapshotSpread, the players whose turn it is.
	n := uint64(w.cfg.SnapshotEvery)
	spread, now := w.cfg.SnapshotSpread && n > 1, w.stats.Tick%n
	q := w.viewed.Query()
	for q.NextTable() {
		ps, vs, ids, pls, ins := q.GetColumns()
		es := q.Entities()
		for i := range ps {
			e := add(es[i], &ps[i], &vs[i], &ids[i])
			pl := &pls[i]
			if !pl.Bound {
				continue
			}
			if spread && turn(pl.SessionID, n) != now {
				continue
			}
			v.recvOf[e] = int32(len(v.receivers))
			v.receivers = append(v.receivers, receiver{
				id: e, route: pl.route, session: pl.SessionID, input: ins[i].Sequence,
			})
		}
	}
	o := w.others.Query()
	for o.NextTable() {
		ps, vs, ids := o.GetColumns()
		es := o.Entities()
		for i := range ps {
			add(es[i], &ps[i], &vs[i], &ids[i])
		}
	}

	// Free the ids of the entities that are gone.
	for i := range v.seen {
		if v.seen[i] != w.views && v.owner[i] != 0 {
			v.idOf[v.slot[i]] = -1
			v.owner[i] = 0
			v.xs[i], v.ys[i] = float32(math.Inf(1)), float32(math.Inf(1))
			v.free = append(v.free, int32(i))
			v.died = append(v.died, int32(i))
		}
	}
}

// idFor returns the local id of ECS entity e, giving it one if it has none.
// An ECS entity ID reused by a new entity keeps the local id; buildView
// tells them apart by owner.
func (v *view) idFor(e ecs.Entity) int32 {
	s := e.ID()
	for int(s) >= len(v.idOf) {
		v.idOf = append(v.idOf, -1)
	}
	if i := v.idOf[s]; i >= 0 {
		return i
	}
	var i int32
	if n := len(v.free); n > 0 {
		i = v.free[n-1]
		v.free = v.free[:n-1]
	} else {
		i = int32(len(v.xs))
		v.xs, v.ys = append(v.xs, 0), append(v.ys, 0)
		v.chunks = append(v.chunks, [snapshot.MaxEntitySize]byte{})
		v.lens = append(v.lens, 0)
		v.owner = append(v.owner, 0)
		v.slot = append(v.slot, 0)
		v.seen = append(v.seen, 0)
		v.recvOf = append(v.recvOf, -1)
	}
	v.idOf[s], v.slot[i], v.owner[i] = i, s, 0
	return i
}

// orderReceivers puts the receivers in the grid's order (order: local ids
// region by region), then groups them by route with a stable counting
// sort. Each worker's run then holds long stretches of one ingress
// instance, and consecutive receivers are neighbours: their queries read
// the same cells and copy the same encoded entities, which stay in cache.
func (v *view) orderReceivers(order []int32, routes int) {
	v.sorted = v.sorted[:0]
	for _, e := range order {
		if ri := v.recvOf[e]; ri >= 0 {
			v.sorted = append(v.sorted, v.receivers[ri])
		}
	}
	if routes <= 1 {
		copy(v.receivers, v.sorted)
		return
	}
	v.perRoute = append(v.perRoute[:0], make([]int32, routes+1)...)
	for _, r := range v.sorted {
		v.perRoute[r.route+1]++
	}
	for i := 1; i <= routes; i++ {
		v.perRoute[i] += v.perRoute[i-1]
	}
	for _, r := range v.sorted {
		v.receivers[v.perRoute[r.route]] = r
		v.perRoute[r.route]++
	}
}

// renumberEvery is how many views pass between two renumberings of the
// local ids in grid order (see renumber): 6.4 s at 20 Hz, in which players
// at the default speed cross about one cell. A renumbering costs about 1 ms
// at 10k players.
const renumberEvery = 128

// renumberDue reports whether the ids should be renumbered at view views:
// every renumberEvery views, or sooner when a quarter of the entities are new
// (a new entity takes a free id, wherever it is).
func (v *view) renumberDue(views uint64) bool {
	return views-v.renumAt >= renumberEvery || v.fresh > len(v.live)/4
}

// renumber gives the live entities the local ids 0, 1, ... in the grid's
// order (order: the ids, region by region), and the free ids the ones
// after. Entities near each other then have their positions and chunks
// near each other in memory, and the area-of-interest queries and snapshot
// copies of neighbouring receivers read the same cache lines: about a fifth
// off the snapshot phase at 10k players. It returns the permutation, old
// id → new id, valid until the next call.
func (v *view) renumber(order []int32, views uint64) []int32 {
	v.fresh, v.renumAt = 0, views
	n := len(v.xs)
	v.perm = slices.Grow(v.perm[:0], n)[:n]
	for i := range v.perm {
		v.perm[i] = -1
	}
	next := int32(0)
	for _, i := range order {
		v.perm[i] = next
		next++
	}
	live := next
	for i, p := range v.perm {
		if p < 0 {
			v.perm[i] = next
			next++
		}
	}
	v.done = slices.Grow(v.done[:0], n)[:n]
	permute(v.xs, v.perm, v.done)
	permute(v.ys, v.perm, v.done)
	permute(v.chunks, v.perm, v.done)
	permute(v.lens, v.perm, v.done)
	permute(v.owner, v.perm, v.done)
	permute(v.slot, v.perm, v.done)
	permute(v.seen, v.perm, v.done)
	permute(v.recvOf, v.perm, v.done)
	for i := range live {
		v.idOf[v.slot[i]] = i
	}
	// Free ids, the lowest last: they are taken from the end.
	v.free = v.free[:0]
	for i := next - 1; i >= live; i-- {
		v.free = append(v.free, i)
	}
	for _, ids := range [][]int32{v.live, v.jumped, v.died} {
		for j, i := range ids {
			ids[j] = v.perm[i]
		}
	}
	for j := range v.receivers {
		r := &v.receivers[j]
		r.id = v.perm[r.id]
	}
	return v.perm
}

// permute moves a[i] to a[perm[i]] for every i, in place, following the
// cycles of the permutation; done is scratch of len(a).
func permute[T any](a []T, perm []int32, done []bool) {
	clear(done)
	for s := range a {
		if done[s] {
			continue
		}
		carry := a[s]
		for i := s; ; {
			j := int(perm[i])
			carry, a[j] = a[j], carry
			done[j] = true
			if j == s {
				break
			}
			i = j
		}
	}
}
