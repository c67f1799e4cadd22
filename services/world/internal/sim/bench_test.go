package sim

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/snapshot"
	"github.com/ecs-realm/realm/libs/testutil/cputime"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	"github.com/ecs-realm/realm/libs/testutil/wait"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// benchWorld is a world of n players spread over the default 1000×1000 map
// (10k players: about 78 within each 50-unit radius, so snapshots are full)
// and the input batches that keep all of them moving.
type benchWorld struct {
	w     *World
	sids  []uint64
	batch Inputs // as the service decodes realm.world.input
	seq   uint64
	rng   *rand.Rand

	onTick func(time.Duration) // if set, gets each measured tick's duration
}

func newBenchWorld(b *testing.B, n int, cfg Config) *benchWorld {
	b.Helper()
	bw := &benchWorld{w: newWorld(b, cfg), rng: rand.New(rand.NewPCG(1, uint64(n)))}
	for range n {
		bw.sids = append(bw.sids, bw.rng.Uint64()|1)
	}
	for i, sid := range bw.sids {
		bw.w.Apply(bound(sid, fmt.Sprintf("in-%d", i%4)))
		bw.batch.List = append(bw.batch.List, SessionInput{Session: sid})
	}
	for range 3 { // warm up buffers
		bw.tick()
	}
	return bw
}

// inputs gives every player a new input (a random direction) for the next
// tick, as ingress would deliver them and the service would decode them
// (Inputs.Decode runs on the NATS callback's goroutine, not in the tick).
func (bw *benchWorld) inputs() {
	bw.seq++
	for i := range bw.batch.List {
		in := &bw.batch.List[i]
		in.Sequence = bw.seq
		in.MoveX, in.MoveY = bw.rng.Float32()*2-1, bw.rng.Float32()*2-1
	}
	bw.w.Apply(&bw.batch)
}

func (bw *benchWorld) tick() []Batch {
	bw.inputs()
	return bw.w.Step()
}

// BenchmarkTick measures one whole tick with every player moving: applying
// one input per player, the systems, the grid rebuild, the area of interest
// and the encoding of every snapshot, as views, into SnapshotBatch messages.
// Baselines in the same run: "aoi=grid" finds each area of interest afresh
// with Grid.Nearest every tick (the implementation before grid.Lists), and
// "proto" builds realm.v1 messages and encodes them with proto.Marshal (one
// goroutine; compare with workers=1).
func BenchmarkTick(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		for _, aoi := range []string{"lists", "grid"} {
			for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
				b.Run(fmt.Sprintf("players=%d/aoi=%s/workers=%d", n, aoi, workers), func(b *testing.B) {
					aoiBaseline = aoi == "grid"
					defer func() { aoiBaseline = false }()
					benchTicks(b, newBenchWorld(b, n, Config{Workers: workers}))
				})
			}
		}
		b.Run(fmt.Sprintf("players=%d/proto", n), func(b *testing.B) {
			bw := newBenchWorld(b, n, Config{Workers: 1})
			var base protoBaseline
			b.ReportAllocs()
			cpu := cputime.Process()
			for b.Loop() {
				bw.inputs()
				base.step(bw.w)
			}
			cputime.Report(b, cpu)
		})
	}
}

// BenchmarkTickPublish is BenchmarkTick/workers=GOMAXPROCS with what the
// world service does after each Step: publishing every batch on its
// ingress's subject, to an embedded NATS server that delivers them to a
// subscriber in the same process (the all-in-one realm's ingress). An op is
// Step plus the publishes; the server's and the subscriber's work runs on
// their own goroutines, on the same cores. Compare with BenchmarkTick.
func BenchmarkTickPublish(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("players=%d", n), func(b *testing.B) {
			_, url := natstest.Start(b)
			nc, err := bus.Connect(url, bus.Options{Name: "bench-world"})
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			sub, err := bus.Connect(url, bus.Options{Name: "bench-ingress"})
			if err != nil {
				b.Fatal(err)
			}
			defer sub.Close()
			var received atomic.Int64
			s, err := sub.NATS().Subscribe(bus.IngressOutSubject("*"), func(m *nats.Msg) { received.Add(int64(len(m.Data))) })
			if err != nil {
				b.Fatal(err)
			}
			if err := s.SetPendingLimits(-1, -1); err != nil {
				b.Fatal(err)
			}
			if err := sub.NATS().Flush(); err != nil {
				b.Fatal(err)
			}
			bw := newBenchWorld(b, n, Config{})
			for range 20 {
				bw.tick()
			}
			b.ReportAllocs()
			var published int64
			cpu := cputime.Process()
			for b.Loop() {
				for _, bt := range bw.tick() {
					if err := nc.NATS().Publish(bus.IngressOutSubject(bt.IngressID), bt.Payload); err != nil {
						b.Fatal(err)
					}
					published += int64(len(bt.Payload))
				}
			}
			cputime.Report(b, cpu)
			b.ReportMetric(float64(published)/float64(b.N)/1e6, "MB/op")
			b.StopTimer()
			if err := nc.NATS().Flush(); err != nil {
				b.Fatal(err)
			}
			wait.For(b, 30*time.Second, "the subscriber to receive every batch", func() bool { return received.Load() >= published })
		})
	}
}

// BenchmarkTickSpread measures SnapshotSpread (each tick encodes 1/n of the
// snapshots) at 10k players, with one worker and with one per core, against every snapshot every
// tick ("every=1") and the burst of SnapshotEvery without spreading in the
// same run. An op is one tick: ns/op is the average over the n ticks,
// peak-ns the duration of the longest of them (the largest of the medians
// of tick k mod n, so that a preempted tick does not count).
func BenchmarkTickSpread(b *testing.B) {
	for _, o := range []struct {
		name string
		cfg  Config
	}{
		{"every=1", Config{}},
		{"every=2/burst", Config{SnapshotEvery: 2}},
		{"every=2/spread", Config{SnapshotEvery: 2, SnapshotSpread: true}},
		{"every=4/burst", Config{SnapshotEvery: 4}},
		{"every=4/spread", Config{SnapshotEvery: 4, SnapshotSpread: true}},
	} {
		for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
			b.Run(fmt.Sprintf("%s/workers=%d", o.name, workers), func(b *testing.B) {
				cfg := o.cfg
				cfg.Workers = workers
				benchSpread(b, cfg)
			})
		}
	}
}

// benchSpread runs BenchmarkTickSpread for one configuration.
func benchSpread(b *testing.B, cfg Config) {
	bw := newBenchWorld(b, 10000, cfg)
	every := max(cfg.SnapshotEvery, 1)
	phases := make([][]time.Duration, every)
	i := 0
	bw.onTick = func(d time.Duration) {
		phases[i%every] = append(phases[i%every], d)
		i++
	}
	benchTicks(b, bw)
	var peak time.Duration
	for _, p := range phases {
		if len(p) > 0 {
			slices.Sort(p)
			peak = max(peak, p[len(p)/2])
		}
	}
	b.ReportMetric(float64(peak), "peak-ns")
}

// benchTicks runs the benchmark loop over whole ticks of bw.
func benchTicks(b *testing.B, bw *benchWorld) {
	for range 20 { // past the first list builds
		bw.tick()
	}
	before := bw.w.Stats()
	b.ReportAllocs()
	snaps := 0
	cpu := cputime.Process()
	for b.Loop() {
		start := time.Now()
		for _, bt := range bw.tick() {
			snaps += bt.Snapshots
		}
		if bw.onTick != nil {
			bw.onTick(time.Since(start))
		}
	}
	cputime.Report(b, cpu)
	after := bw.w.Stats()
	b.ReportMetric(float64(snaps)/float64(b.N), "snapshots/op")
	b.ReportMetric(float64(after.AOIRefreshes-before.AOIRefreshes)/float64(snaps), "refreshes/snapshot")
}

// protoBaseline is the snapshot phase done the obvious way: a realm.v1
// message tree per snapshot, proto.Marshal, then one SnapshotBatch per
// ingress marshalled again. Same area of interest and size budget.
type protoBaseline struct {
	ents    []snapshot.Entity
	near    []int32
	batches map[int32]*realmv1.SnapshotBatch
}

func (p *protoBaseline) step(w *World) [][]byte {
	w.stats.Tick++
	w.closed.expire(w.stats.Tick)
	w.steer()
	w.move()
	w.snapshotsView()

	// The entity data by local id.
	p.ents = append(p.ents[:0], make([]snapshot.Entity, len(w.view.xs))...)
	q := w.viewed.Query()
	for q.NextTable() {
		ps, vs, ids, _, _ := q.GetColumns()
		es := q.Entities()
		for i := range ps {
			p.ents[w.view.idOf[es[i].ID()]] = snapshot.Entity{EntityID: ids[i].EntityID, SessionID: ids[i].SessionID,
				X: ps[i].X, Y: ps[i].Y, VX: vs[i].X, VY: vs[i].Y}
		}
	}
	msg := func(e *snapshot.Entity) *realmv1.EntityState {
		return &realmv1.EntityState{EntityId: e.EntityID, SessionId: e.SessionID,
			Position: &realmv1.Vec2{X: e.X, Y: e.Y}, Velocity: &realmv1.Vec2{X: e.VX, Y: e.VY}}
	}
	p.batches = map[int32]*realmv1.SnapshotBatch{}
	var scratch = &w.workers[0].scratch
	for _, r := range w.view.receivers {
		p.near = w.grid.Nearest(p.near[:0], w.view.xs[r.id], w.view.ys[r.id], w.radius, w.cfg.AOICap, r.id, scratch)
		s := &realmv1.Snapshot{ServerTick: w.stats.Tick, LastInputSequence: r.input, Self: msg(&p.ents[r.id])}
		size := proto.Size(s)
		for _, j := range p.near {
			e := msg(&p.ents[j])
			if size+2+proto.Size(e) > snapshot.MaxSize {
				break
			}
			size += 2 + proto.Size(e)
			s.Nearby = append(s.Nearby, e)
		}
		b, err := proto.Marshal(s)
		if err != nil {
			panic(err)
		}
		sb := p.batches[r.route]
		if sb == nil {
			sb = &realmv1.SnapshotBatch{ServerTick: w.stats.Tick}
			p.batches[r.route] = sb
		}
		sb.Snapshots = append(sb.Snapshots, &realmv1.SessionSnapshot{SessionId: r.session, Snapshot: b})
	}
	var out [][]byte
	for _, sb := range p.batches {
		b, err := proto.Marshal(sb)
		if err != nil {
			panic(err)
		}
		out = append(out, b)
	}
	return out
}
