package sim

import (
	"encoding/binary"
	"sync"

	"github.com/ecs-realm/realm/services/world/internal/grid"
	"github.com/ecs-realm/realm/services/world/internal/snapshot"
)

// minPerWorker is the fewest snapshot receivers worth a worker goroutine of
// their own: below it, starting and joining one costs more than it saves.
const minPerWorker = 512

// view is what the snapshot phase reads: a copy of the state made after the
// systems ran, immutable while the workers run. Entities are indexed 0..n-1
// in query order.
type view struct {
	xs, ys []float32 // position of each entity
	// chunks holds each entity encoded once as a Snapshot.nearby field, at
	// a fixed stride: entity i's bytes are chunks[i*stride:][:lens[i]].
	// The fixed stride lets a chunk be copied as six words (copyChunk),
	// the padding after it being overwritten by the next one.
	chunks []byte
	lens   []uint8
	// receivers are the bound players, grouped by route (ingress) and
	// in grid order within a route (see orderReceivers).
	receivers []receiver
	recvOf    []int32    // entity → its index in receivers, -1 if none
	sorted    []receiver // scratch of orderReceivers
	perRoute  []int32    // scratch of orderReceivers
}

// receiver is one bound player to send a snapshot to.
type receiver struct {
	entity  int32  // index in the view
	route   int32  // index in World.routes
	session uint64 // its session id
	input   uint64 // newest applied input sequence
}

// stride is the room of one encoded entity in view.chunks.
const stride = snapshot.MaxEntitySize

func (v *view) chunk(i int32) []byte { return v.chunks[int(i)*stride:][:v.lens[i]] }

// worker encodes the snapshots of a run of receivers into its own buffer.
// Workers share nothing but the read-only view and grid.
type worker struct {
	_       [cacheLine]byte // workers are allocated side by side: no false sharing
	scratch grid.Scratch
	near    []int32
	buf     []byte    // SnapshotBatch messages, back to back
	msgs    []message // where each message is in buf

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
	w.buildView()
	w.grid.Build(w.size, w.radius, w.view.xs, w.view.ys)
	w.view.orderReceivers(w.grid.Order(), len(w.routes))
	rs := w.view.receivers

	nw := min(w.cfg.Workers, max(1, len(rs)/minPerWorker))
	for len(w.workers) < nw {
		w.workers = append(w.workers, new(worker))
	}
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
	return w.out
}

// buildView copies positions out of the ECS world, encodes every entity once,
// and lists the bound players grouped by route.
func (w *World) buildView() {
	v := &w.view
	v.xs, v.ys, v.chunks, v.lens = v.xs[:0], v.ys[:0], v.chunks[:0], v.lens[:0]
	v.receivers, v.recvOf = v.receivers[:0], v.recvOf[:0]
	add := func(p *Position, vel *Velocity, id *Ident) int32 {
		v.recvOf = append(v.recvOf, -1)
		i := int32(len(v.xs))
		v.xs, v.ys = append(v.xs, p.X), append(v.ys, p.Y)
		start := len(v.chunks)
		v.chunks = snapshot.AppendNearby(v.chunks, &snapshot.Entity{
			EntityID: id.EntityID, SessionID: id.SessionID,
			X: p.X, Y: p.Y, VX: vel.X, VY: vel.Y,
		})
		v.lens = append(v.lens, uint8(len(v.chunks)-start))
		v.chunks = append(v.chunks, make([]byte, stride-(len(v.chunks)-start))...)
		return i
	}

	q := w.viewed.Query()
	for q.NextTable() {
		ps, vs, ids, pls, ins := q.GetColumns()
		for i := range ps {
			e := add(&ps[i], &vs[i], &ids[i])
			if pl := &pls[i]; pl.Bound {
				v.recvOf[e] = int32(len(v.receivers))
				v.receivers = append(v.receivers, receiver{
					entity: e, route: pl.route, session: pl.SessionID, input: ins[i].Sequence,
				})
			}
		}
	}
	o := w.others.Query()
	for o.NextTable() {
		ps, vs, ids := o.GetColumns()
		for i := range ps {
			add(&ps[i], &vs[i], &ids[i])
		}
	}
}

// orderReceivers puts the receivers in the grid's order (order: entity
// indices region by region), then groups them by route with a stable
// counting sort. Each worker's run then holds long stretches of one ingress
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

// run encodes the snapshots of rs into k.buf as SnapshotBatch messages, one
// route per message and at most MaxBatchBytes each.
func (k *worker) run(w *World, rs []receiver) {
	v, g, tick := &w.view, &w.grid, w.stats.Tick
	limit, capN, radius := w.cfg.MaxBatchBytes, w.cfg.AOICap, w.radius
	k.msgs = k.msgs[:0]
	// Room for every snapshot at its largest, plus the padding of the
	// last chunk copied: the buffer never moves while it is written.
	if need := len(rs)*(snapshot.MaxSize+32) + stride; cap(k.buf) < need {
		k.buf = make([]byte, 0, need+need/8)
	}
	// Locals, not fields, in the loop: no write barriers, fewer loads.
	buf, near, msgs := k.buf[:0], k.near, k.msgs
	var snapshots, bytes, truncated uint64
	open := false // whether msgs[len-1] is being written
	for _, r := range rs {
		near = g.Nearest(near[:0], v.xs[r.entity], v.ys[r.entity], radius, capN, r.entity, &k.scratch)
		self := v.chunk(r.entity)
		size := snapshot.HeaderSize(tick, r.input) + len(self)
		n := 0
		for _, j := range near {
			c := int(v.lens[j])
			if size+c > snapshot.MaxSize {
				truncated++
				break
			}
			size += c
			n++
		}

		rec := snapshot.SessionSize(r.session, size)
		if open {
			m := &msgs[len(msgs)-1]
			if m.route != r.route || len(buf)-m.start+rec > limit {
				m.end, open = len(buf), false
			}
		}
		if !open {
			msgs = append(msgs, message{route: r.route, start: len(buf)})
			buf = snapshot.AppendBatchHeader(buf, tick)
			open = true
		}
		buf = snapshot.AppendSessionHeader(buf, r.session, size)
		buf = snapshot.AppendHeader(buf, tick, r.input)
		buf = snapshot.AppendSelf(buf, self)
		// The nearby chunks, by fixed-size copies into the spare capacity
		// (reserved above, so it is never beyond the array).
		full, end := buf[:cap(buf)], len(buf)
		for _, j := range near[:n] {
			copyChunk(full[end:], v.chunks[int(j)*stride:])
			end += int(v.lens[j])
		}
		buf = full[:end]
		msgs[len(msgs)-1].count++
		snapshots++
		bytes += uint64(size)
	}
	if open {
		msgs[len(msgs)-1].end = len(buf)
	}
	k.buf, k.near, k.msgs = buf, near, msgs
	k.snapshots, k.bytes, k.truncated = snapshots, bytes, truncated
}

// copyChunk copies stride bytes from src to dst as six 8-byte words: the
// compiler emits plain loads and stores where an array assignment would call
// memmove (it cannot rule out overlap).
func copyChunk(dst, src []byte) {
	_, _ = dst[stride-1], src[stride-1]
	le := binary.LittleEndian
	le.PutUint64(dst[0:], le.Uint64(src[0:]))
	le.PutUint64(dst[8:], le.Uint64(src[8:]))
	le.PutUint64(dst[16:], le.Uint64(src[16:]))
	le.PutUint64(dst[24:], le.Uint64(src[24:]))
	le.PutUint64(dst[32:], le.Uint64(src[32:]))
	le.PutUint64(dst[40:], le.Uint64(src[40:]))
}
