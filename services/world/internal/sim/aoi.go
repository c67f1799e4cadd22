package sim

import (
	"sync"

	"github.com/ecs-realm/realm/libs/snapshot"
	"github.com/ecs-realm/realm/services/world/internal/grid"
)

// minPerWorker is the fewest snapshot receivers worth a worker goroutine of
// their own: below it, starting and joining one costs more than it saves.
const minPerWorker = 512

// aoiBaseline makes the snapshot phase query the grid afresh for every
// receiver (with cells as wide as the radius), as before grid.Lists: for
// benchmarks to compare.
var aoiBaseline = false

// worker encodes the snapshots of a run of receivers into its own buffer,
// as views (snapshot.AppendView) into an entity table per message. Workers
// share nothing but the read-only view and grid, and the grid.Lists, in
// which each writes only its own receivers' lists.
type worker struct {
	_       [cacheLine]byte // workers are allocated side by side: no false sharing
	scratch grid.Scratch
	near    []int32
	buf     []byte    // SnapshotBatch messages, back to back
	msgs    []message // where each message is in buf

	// The entity table of the message being written: table holds the
	// chunks of the entities its views show, each once; an entity (local
	// id) is in it if placed[id].serial == serial, as entity
	// placed[id].index of count.
	table  []byte
	count  int // entities in table
	placed []placement
	serial uint32 // this message's number; 0 is never one

	snapshots, bytes, truncated uint64 // this tick's counts
	_                           [cacheLine]byte
}

// cacheLine is the size of a CPU cache line (64 bytes on amd64 and arm64).
const cacheLine = 64

// message is one SnapshotBatch inside worker.buf.
type message struct {
	route      int32
	start, end int
	count      int
}

// snapshots runs the snapshot phase of a tick and returns the batches.
func (w *World) snapshots() []Batch {
	rs := w.snapshotsView()
	nw := min(w.cfg.Workers, max(1, len(rs)/minPerWorker))
	for len(w.workers) < nw {
		w.workers = append(w.workers, new(worker))
	}
	w.track()
	if nw == 1 {
		w.workers[0].run(w, rs)
	} else {
		var wg sync.WaitGroup
		for i := range nw {
			part := rs[len(rs)*i/nw : len(rs)*(i+1)/nw]
			k := w.workers[i]
			wg.Go(func() { k.run(w, part) })
		}
		wg.Wait()
	}
	return w.collect(nw)
}

// snapshotsView builds the view and the grid over it, and returns the
// receivers in the order to encode them.
func (w *World) snapshotsView() []receiver {
	// The farthest an entity may move between two views: MaxSpeed for the
	// ticks in between, plus float32 rounding.
	ticks := w.stats.Tick - w.viewTick
	w.viewTick = w.stats.Tick
	limit := float64(ticks) * (float64(w.speed)*float64(w.dt) + float64(w.size)*1e-6) * 1.001
	w.buildView(limit)
	v := &w.view
	cell := w.cell
	if aoiBaseline {
		cell = w.radius
	}
	w.grid.BuildIDs(w.size, cell, v.xs, v.ys, v.live)
	if v.renumberDue(w.views) {
		w.lists.Grow(len(v.xs))
		w.lists.Renumber(v.renumber(w.grid.Order(), w.views))
		w.grid.BuildIDs(w.size, cell, v.xs, v.ys, v.live)
	}
	w.view.orderReceivers(w.grid.Order(), len(w.routes))
	return v.receivers
}

// collect gathers the batches and counts of the nw workers that ran.
func (w *World) collect(nw int) []Batch {
	w.out = w.out[:0]
	for _, k := range w.workers[:nw] {
		for _, m := range k.msgs {
			w.out = append(w.out, Batch{IngressID: w.routes[m.route], Payload: k.buf[m.start:m.end], Snapshots: m.count})
			w.stats.BatchBytes += uint64(m.end - m.start)
		}
		w.stats.Batches += uint64(len(k.msgs))
		w.stats.Snapshots += k.snapshots
		w.stats.SnapshotBytes += k.bytes
		w.stats.SnapshotsTruncated += k.truncated
	}
	for _, k := range w.workers {
		s := &k.scratch
		w.stats.AOIBuilds += s.Builds
		w.stats.AOIRefreshes += s.Refreshes
		w.stats.AOIFallbacks += s.Fallbacks
		s.Builds, s.Refreshes, s.Fallbacks = 0, 0, 0
	}
	return w.out
}

// aoiSkin returns how much farther than needed the area-of-interest lists
// reach, for entities moving at most step units between views: 16 steps
// (4 units with the defaults), at most a quarter of the radius. With k = 32
// at the benchmark's density, skins from 3 to 6 units cost about the same
// (longer lists against fewer refreshes; see grid.BenchmarkMovingAOI).
func aoiSkin(step, radius float32) float32 {
	return min(16*step, radius/4)
}

// track tells the area-of-interest lists how the entities moved since the
// last view: the largest step of those that kept to MaxSpeed, and the ids
// that did not (new entities included) or are gone.
func (w *World) track() {
	v := &w.view
	w.lists.Grow(len(v.xs))
	for _, i := range v.died {
		w.lists.Drop(i)
	}
	// A jump costs a scan of the cells around it; past a share of the
	// population, building every list afresh is cheaper.
	if len(v.jumped) > len(v.live)/8 {
		w.lists.Clear()
		return
	}
	w.lists.Moved(v.step)
	for _, i := range v.jumped {
		w.lists.Jumped(i, v.xs, v.ys, &w.grid, &w.workers[0].scratch)
	}
}

// run encodes the snapshots of rs into k.buf as SnapshotBatch messages, one
// route per message and at most MaxBatchBytes each: per message the views
// of its receivers, then the table of the entities they show.
func (k *worker) run(w *World, rs []receiver) {
	v, g, l, tick := &w.view, &w.grid, &w.lists, w.stats.Tick
	limit, capN, radius := w.cfg.MaxBatchBytes, w.cfg.AOICap, w.radius
	k.msgs = k.msgs[:0]
	if len(k.placed) < len(v.xs) {
		k.placed = make([]placement, len(v.xs)+len(v.xs)/4)
		k.serial = 0
	}
	// Locals, not fields, in the loop: no write barriers, fewer loads.
	buf, near, msgs := k.buf[:0], k.near, k.msgs
	var snapshots, bytes, truncated uint64
	for _, r := range rs {
		if aoiBaseline {
			near = g.Nearest(near[:0], v.xs[r.id], v.ys[r.id], radius, capN, r.id, &k.scratch)
		} else {
			near = l.Nearest(near[:0], r.id, v.xs, v.ys, g, &k.scratch)
		}
		// The snapshot's size as ingress will assemble it; when the
		// entities do not all fit, the nearest first while they do.
		head := snapshot.HeaderSize(tick, r.input) + snapshot.SelfChunkSize(v.chunk(r.id), r.session)
		n, size := fit(head, near, v.lens)
		if n < len(near) {
			k.scratch.SortNearest(near, v.xs, v.ys, v.xs[r.id], v.ys[r.id])
			n, size = fit(head, near, v.lens)
			truncated++
		}
		// A new message for a new route, or when this view and the
		// entities it may add to the table could overflow the message.
		worst := viewBound(n) + size + snapshot.EntitiesHeaderSize(limit)
		if m := len(msgs) - 1; m < 0 || msgs[m].route != r.route || len(buf)-msgs[m].start+len(k.table)+worst > limit ||
			k.count+n+1 > snapshot.MaxEntities {
			if m >= 0 {
				buf = k.endMessage(buf, &msgs[m])
			}
			msgs = append(msgs, message{route: r.route, start: len(buf)})
			buf = snapshot.AppendBatchHeader(buf, tick)
			k.newTable()
		}
		buf = snapshot.AppendViewHead(buf, r.session, r.input, k.place(v, r.id), n)
		for _, j := range near[:n] {
			i := k.place(v, j)
			buf = append(buf, byte(i), byte(i>>8))
		}
		msgs[len(msgs)-1].count++
		snapshots++
		bytes += uint64(size)
	}
	if m := len(msgs) - 1; m >= 0 {
		buf = k.endMessage(buf, &msgs[m])
	}
	k.buf, k.near, k.msgs = buf, near, msgs
	k.snapshots, k.bytes, k.truncated = snapshots, bytes, truncated
}

// placement is where an entity is in a worker's table (see worker).
type placement struct {
	serial uint32
	index  uint16
}

// viewBound is the most bytes a view record with n nearby entities takes:
// tag and length, three varint fields of at most 11 bytes, the packed
// indexes' tag and length and n 2-byte indexes.
func viewBound(n int) int { return 1 + 3 + 3*11 + 1 + 3 + 2*n }

// newTable starts the entity table of a new message.
func (k *worker) newTable() {
	k.table, k.count = k.table[:0], 0
	k.serial++
	if k.serial == 0 { // wrapped: every placement could look current
		clear(k.placed)
		k.serial = 1
	}
}

// place returns the index of entity id in the message's table, adding its
// chunk if it is not there yet (most are: neighbours share entities).
func (k *worker) place(v *view, id int32) uint16 {
	if p := k.placed[id]; p.serial == k.serial {
		return p.index
	}
	return k.add(v, id)
}

// add adds entity id to the message's table and returns its index.
func (k *worker) add(v *view, id int32) uint16 {
	i := uint16(k.count)
	k.placed[id] = placement{k.serial, i}
	k.count++
	k.table = append(k.table, v.chunk(id)...)
	return i
}

// endMessage appends the message's entity table and records its end.
func (k *worker) endMessage(buf []byte, m *message) []byte {
	buf = snapshot.AppendEntities(buf, k.table)
	m.end = len(buf)
	return buf
}

// fit returns how many of the chunks of near, taken in order, fit in a
// snapshot of size bytes so far, and the snapshot's size with them.
func fit(size int, near []int32, lens []uint8) (int, int) {
	for n, j := range near {
		c := int(lens[j])
		if size+c > snapshot.MaxSize {
			return n, size
		}
		size += c
	}
	return len(near), size
}
