package world

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecs-realm/realm/services/world/internal/sim"
)

// metrics are the service's Prometheus metrics, all named realm_world_*.
type metrics struct {
	tickDuration prometheus.Histogram
	queueItems   prometheus.Histogram
	overruns     prometheus.Counter
	ticks        prometheus.Counter

	entities     prometheus.Gauge
	players      prometheus.Gauge
	boundPlayers prometheus.Gauge

	snapshots      prometheus.Counter
	snapshotBytes  prometheus.Counter
	truncated      prometheus.Counter
	batches        prometheus.Counter
	publishedBytes prometheus.Counter
	publishErrors  prometheus.Counter
	resyncs        prometheus.Counter

	events  *prometheus.CounterVec // applied lifecycle events, by kind
	dropped *prometheus.CounterVec // ignored messages, by reason
	inputs  prometheus.Counter     // inputs applied

	follow []follower // counters mirroring sim.Stats fields
	last   sim.Stats  // the Stats already exported; owned by the loop
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "realm", "world"
	m := &metrics{
		tickDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "tick_duration_seconds",
			Help:    "Work time of one tick: drain, apply, simulate, encode, publish.",
			Buckets: prometheus.ExponentialBuckets(0.00025, 2, 12), // 0.25 ms .. 0.5 s
		}),
		queueItems: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: ns, Subsystem: sub, Name: "queue_items_per_tick",
			Help:    "Messages drained from the inbox queue by one tick.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 9), // 1 .. 65536
		}),
		overruns: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "tick_overruns_total",
			Help: "Ticks whose work outlasted the tick period (the next tick started at once).",
		}),
		ticks: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "ticks_total",
			Help: "Ticks run.",
		}),
		entities: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "entities",
			Help: "Entities in the world.",
		}),
		players: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "players",
			Help: "Player entities in the world.",
		}),
		boundPlayers: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Subsystem: sub, Name: "bound_players",
			Help: "Players with a bound UDP endpoint (snapshot receivers).",
		}),
		snapshots: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "snapshots_sent_total",
			Help: "Player snapshots published.",
		}),
		snapshotBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "snapshot_bytes_total",
			Help: "Bytes of encoded snapshots produced.",
		}),
		truncated: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "snapshots_truncated_total",
			Help: "Snapshots that left out entities within the area of interest to stay within 1300 bytes.",
		}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "batches_published_total",
			Help: "SnapshotBatch messages published.",
		}),
		publishedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "published_bytes_total",
			Help: "Payload bytes of SnapshotBatch messages published.",
		}),
		publishErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "publish_errors_total",
			Help: "SnapshotBatch messages that could not be published (closed or overfull connection).",
		}),
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "resync_requests_total",
			Help: "ResyncRequests published (start and NATS reconnects).",
		}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "events_total",
			Help: "Lifecycle events applied, by kind (session_opened, spawn, despawn, rebind, unbind).",
		}, []string{"kind"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "dropped_total",
			Help: "Messages or inputs ignored, by reason.",
		}, []string{"reason"}),
		inputs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: ns, Subsystem: sub, Name: "inputs_applied_total",
			Help: "Player inputs applied (newer than the player's last one).",
		}),
	}
	for _, c := range []prometheus.Collector{
		m.tickDuration, m.queueItems, m.overruns, m.ticks, m.entities, m.players, m.boundPlayers,
		m.snapshots, m.snapshotBytes, m.truncated, m.batches, m.publishedBytes, m.publishErrors,
		m.resyncs, m.events, m.dropped, m.inputs,
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("world: register metrics: %w", err)
		}
	}
	// Counters that follow a cumulative sim.Stats field, resolved once.
	follow := func(c prometheus.Counter, field func(*sim.Stats) uint64) {
		m.follow = append(m.follow, follower{c, field})
	}
	ev := m.events.WithLabelValues
	follow(ev("session_opened"), func(s *sim.Stats) uint64 { return s.SessionsOpened })
	follow(ev("spawn"), func(s *sim.Stats) uint64 { return s.Spawned })
	follow(ev("despawn"), func(s *sim.Stats) uint64 { return s.Despawned })
	follow(ev("rebind"), func(s *sim.Stats) uint64 { return s.Rebound })
	follow(ev("unbind"), func(s *sim.Stats) uint64 { return s.Unbound })
	dr := m.dropped.WithLabelValues
	follow(dr("input_stale"), func(s *sim.Stats) uint64 { return s.InputsStale })
	follow(dr("input_unknown_session"), func(s *sim.Stats) uint64 { return s.InputsUnknown })
	follow(dr("input_invalid"), func(s *sim.Stats) uint64 { return s.InputsInvalid })
	follow(dr("bad_event"), func(s *sim.Stats) uint64 { return s.BadEvents })
	follow(dr("bind_after_close"), func(s *sim.Stats) uint64 { return s.BindsAfterClose })
	follow(dr("stale_unbind"), func(s *sim.Stats) uint64 { return s.StaleUnbinds })
	follow(m.inputs, func(s *sim.Stats) uint64 { return s.InputsApplied })
	follow(m.snapshotBytes, func(s *sim.Stats) uint64 { return s.SnapshotBytes })
	follow(m.truncated, func(s *sim.Stats) uint64 { return s.SnapshotsTruncated })
	return m, nil
}

// follower is a counter that mirrors a cumulative sim.Stats field.
type follower struct {
	c     prometheus.Counter
	field func(*sim.Stats) uint64
}

// export sets the gauges from s and adds to each counter what its field
// gained since the last call.
func (m *metrics) export(s *sim.Stats) {
	m.entities.Set(float64(s.Entities))
	m.players.Set(float64(s.Players))
	m.boundPlayers.Set(float64(s.BoundPlayers))
	for _, f := range m.follow {
		if now, before := f.field(s), f.field(&m.last); now > before {
			f.c.Add(float64(now - before))
		}
	}
	m.last = *s
}
