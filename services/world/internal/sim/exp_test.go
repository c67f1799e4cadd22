package sim

import (
	"os"
	"fmt"
	"math"
	"testing"

	"github.com/ecs-realm/realm/services/world/internal/snapshot"
)

// E1: the output floor: encoding with precomputed near lists.
func BenchmarkExpOutput(b *testing.B) {
	bw := newBenchWorld(b, 10000, 1)
	w := bw.w
	w.snapshots()
	rs := w.view.receivers
	k := w.workers[0]
	nears := make([][]int32, len(rs))
	for i, r := range rs {
		nears[i] = w.grid.Nearest(nil, w.view.xs[r.entity], w.view.ys[r.entity], w.radius, w.cfg.AOICap, r.entity, &k.scratch)
	}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		k.runFixed(w, rs, nears)
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(len(k.buf)), "bytes")
}

// E2: list update: per receiver, keys for ~L listed entries + insertion sort, positions jittered.
func BenchmarkExpLists(b *testing.B) {
	for _, L := range []int{0, 36, 44, 52} {
		b.Run(fmt.Sprint(L), func(b *testing.B) { expLists(b, L) })
	}
}

func expLists(b *testing.B, L int) {
	bw := newBenchWorld(b, 10000, 1)
	w := bw.w
	w.snapshots()
	rs := w.view.receivers
	k := w.workers[0]
	lists := make([]int32, len(rs)*L)
	for i, r := range rs {
		nn := w.grid.Nearest(nil, w.view.xs[r.entity], w.view.ys[r.entity], 50, L, r.entity, &k.scratch)
		copy(lists[i*L:], nn)
	}
	xs, ys := w.view.xs, w.view.ys
	keys := make([]uint64, L+1)
	b.ReportAllocs()
	cpu := cpuTime()
	sum := 0
	for b.Loop() {
		bw.inputs()
		w.stats.Tick++
		w.steer()
		w.move()
		w.buildView()
		xs, ys = w.view.xs, w.view.ys
		for i, r := range rs {
			if L == 0 {
				continue
			}
			l := lists[i*L : i*L+L]
			x, y := xs[r.entity], ys[r.entity]
			for j, e := range l {
				dx, dy := xs[e]-x, ys[e]-y
				d2 := dx*dx + dy*dy
				keys[j] = uint64(math.Float32bits(d2))<<32 | uint64(uint32(e))
			}
			kk := keys[:L]
			inv := insertionSortCount(kk)
			sum += inv
			for j, key := range kk {
				l[j] = int32(uint32(key))
			}
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(sum)/float64(b.N*len(rs)), "inv/player")
}

func insertionSortCount(a []uint64) int {
	n := 0
	for i := 1; i < len(a); i++ {
		v := a[i]
		j := i - 1
		for j >= 0 && a[j] > v {
			a[j+1] = a[j]
			j--
			n++
		}
		a[j+1] = v
	}
	return n
}

func (k *worker) runFixed(w *World, rs []receiver, nears [][]int32) {
	v, tick := &w.view, w.stats.Tick
	limit := w.cfg.MaxBatchBytes
	k.msgs = k.msgs[:0]
	if need := len(rs)*(snapshot.MaxSize+32) + stride; cap(k.buf) < need {
		k.buf = make([]byte, 0, need+need/8)
	}
	buf, msgs := k.buf[:0], k.msgs
	open := false
	for i, r := range rs {
		near := nears[i]
		self := v.chunk(r.entity)
		size := snapshot.HeaderSize(tick, r.input) + len(self)
		n := 0
		for _, j := range near {
			c := int(v.lens[j])
			if size+c > snapshot.MaxSize {
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
		full, end := buf[:cap(buf)], len(buf)
		for _, j := range near[:n] {
			copyChunk(full[end:], v.chunks[int(j)*stride:])
			end += int(v.lens[j])
		}
		buf = full[:end]
		msgs[len(msgs)-1].count++
	}
	if open {
		msgs[len(msgs)-1].end = len(buf)
	}
	k.buf, k.msgs = buf, msgs
}

func BenchmarkExpMemmove(b *testing.B) {
	src := make([]byte, 12843922)
	dst := make([]byte, 12843922+64)
	for i := range src {
		src[i] = byte(i)
	}
	b.Run("one", func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			copy(dst, src)
		}
		reportCPU(b, cpu)
	})
	// 48-byte words from a 480 KB table, advancing 40: the pattern of copyChunk.
	table := make([]byte, 10000*48+64)
	b.Run("chunks", func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			end := 0
			j := 0
			for end+48 < len(dst) {
				copyChunk(dst[end:], table[j*48:])
				end += 40
				j = (j + 7919) % 10000
			}
		}
		reportCPU(b, cpu)
	})
	b.Run("fill", func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			clear(dst)
		}
		reportCPU(b, cpu)
	})
}

var noSort = os.Getenv("NOSORT") != ""

type pt struct{ x, y float32 }

// E3: in-place keys, AoS positions.
func BenchmarkExpLists2(b *testing.B) {
	for _, L := range []int{0, 36, 44} {
		b.Run(fmt.Sprint(L), func(b *testing.B) { expLists2(b, L) })
	}
}

func expLists2(b *testing.B, L int) {
	bw := newBenchWorld(b, 10000, 1)
	w := bw.w
	w.snapshots()
	rs := w.view.receivers
	k := w.workers[0]
	const M = 56
	lists := make([]uint64, len(w.view.xs)*M)
	ns := make([]int32, len(w.view.xs))
	pos := make([]pt, len(w.view.xs))
	for i, r := range rs {
		nn := w.grid.Nearest(nil, w.view.xs[r.entity], w.view.ys[r.entity], 50, L, r.entity, &k.scratch)
		for j, e := range nn {
			lists[i*M+j] = uint64(uint32(e))
		}
		ns[i] = int32(len(nn))
	}
	b.ReportAllocs()
	cpu := cpuTime()
	sum := 0
	for b.Loop() {
		bw.inputs()
		w.stats.Tick++
		w.steer()
		w.move()
		w.buildView()
		xs, ys := w.view.xs, w.view.ys
		for i := range pos {
			pos[i] = pt{xs[i], ys[i]}
		}
		if L == 0 {
			continue
		}
		for i, r := range rs {
			l := lists[i*M : i*M+int(ns[i])]
			if useSoA {
				updateKeysSoA(l, xs, ys, xs[r.entity], ys[r.entity])
			} else {
				updateKeys(l, pos, pos[r.entity])
			}
			if !noSort {
				sum += insertionSortCount(l)
			}
		}
	}
	reportCPU(b, cpu)
	b.ReportMetric(float64(sum)/float64(b.N*len(rs)), "inv/player")
}

var useSoA = os.Getenv("SOA") != ""

func updateKeys(l []uint64, pos []pt, p pt) {
	for j, key := range l {
		q := pos[uint32(key)]
		dx, dy := q.x-p.x, q.y-p.y
		d2 := dx*dx + dy*dy
		l[j] = uint64(math.Float32bits(d2))<<32 | key&0xffffffff
	}
}

func updateKeysSoA(l []uint64, xs, ys []float32, x, y float32) {
	for j, key := range l {
		i := uint32(key)
		dx, dy := xs[i]-x, ys[i]-y
		d2 := dx*dx + dy*dy
		l[j] = uint64(math.Float32bits(d2))<<32 | key&0xffffffff
	}
}
