package world

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/mpsc"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/world/internal/sim"
)

// Errors of the service.
var (
	// ErrRunning is returned by Run when the service is already running or
	// has run: a Service runs once.
	ErrRunning = errors.New("world: Run called twice")
	// ErrNotTicking is reported by Ready when the loop is not running or
	// has not completed a tick recently.
	ErrNotTicking = errors.New("world: loop not ticking")
	// ErrDisconnected is reported by Ready while NATS is disconnected.
	ErrDisconnected = errors.New("world: nats disconnected")
)

const (
	// maxDrain bounds the messages one tick applies, so that a flood
	// cannot stall the loop; the rest wait for the next tick.
	maxDrain = 1 << 16
	// drainChunk is how many messages are popped from the queue at once.
	drainChunk = 1024
	// flushTimeout bounds the flushes at start and stop, so that a NATS
	// server gone silent cannot hold them.
	flushTimeout = 2 * time.Second
	// summaryEvery is how often the loop logs a summary at info level.
	summaryEvery = time.Minute
)

// Service is the world service. Create it with New, then call Run once.
type Service struct {
	cfg Config
	nc  *bus.Conn
	log *zap.Logger
	m   *metrics

	inbox *mpsc.Queue[any] // producers: NATS callbacks; consumer: the loop
	// inputs recycles the *sim.Inputs the input callback decodes into and
	// the loop applies: the busiest subject allocates nothing per message.
	inputs sync.Pool
	subs   []*nats.Subscription

	started   atomic.Bool
	lastTick  atomic.Int64 // Unix nanoseconds at the end of the last tick; 0 when not running
	staleTick time.Duration

	// Owned by the loop goroutine.
	world      *sim.World
	drained    []any             // PopBatch buffer
	subjects   map[string]string // ingress id → its out subject
	reconnects uint64            // NATS reconnects already answered with a resync
}

// New builds the service and subscribes to its NATS subjects, so that events
// queue from now on (they are applied once Run ticks). log may be nil.
func New(cfg Config, nc *bus.Conn, log *zap.Logger) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if nc == nil {
		return nil, fmt.Errorf("%w: nil NATS connection", ErrBadConfig)
	}
	if limit := nc.NATS().MaxPayload(); limit > 0 && int64(cfg.MaxBatchBytes) > limit {
		return nil, fmt.Errorf("%w: max batch bytes %d above the server's max payload %d", ErrBadConfig, cfg.MaxBatchBytes, limit)
	}
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("world", cfg.ID))
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	w, err := sim.New(cfg.Sim, log.Named("sim"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	period := time.Second / time.Duration(cfg.TickRate)
	s := &Service{
		cfg:        cfg,
		nc:         nc,
		log:        log,
		m:          m,
		inbox:      mpsc.New[any](mpsc.Config{}),
		inputs:     sync.Pool{New: func() any { return new(sim.Inputs) }},
		staleTick:  max(10*period, 2*time.Second),
		world:      w,
		drained:    make([]any, drainChunk),
		subjects:   make(map[string]string),
		reconnects: nc.NATS().Stats().Reconnects,
	}
	if err := s.subscribe(); err != nil {
		s.unsubscribe()
		return nil, err
	}
	return s, nil
}

// subscribe registers the NATS callbacks: each one only pushes the decoded
// message into the inbox.
func (s *Service) subscribe() error {
	q := s.inbox
	for _, sub := range []func() (*nats.Subscription, error){
		func() (*nats.Subscription, error) {
			return bus.Subscribe(s.nc, bus.SubjectSessionOpened, func(m *realmv1.SessionOpened) { q.Push(m) })
		},
		func() (*nats.Subscription, error) {
			return bus.Subscribe(s.nc, bus.SubjectSessionClosed, func(m *realmv1.SessionClosed) { q.Push(m) })
		},
		func() (*nats.Subscription, error) {
			return bus.Subscribe(s.nc, bus.SubjectEndpointBound, func(m *realmv1.EndpointBound) { q.Push(m) })
		},
		func() (*nats.Subscription, error) {
			return bus.Subscribe(s.nc, bus.SubjectEndpointUnbound, func(m *realmv1.EndpointUnbound) { q.Push(m) })
		},
		func() (*nats.Subscription, error) {
			return bus.SubscribeDecode(s.nc, bus.SubjectWorldInput, func(b []byte) error {
				in := s.inputs.Get().(*sim.Inputs)
				if err := in.Decode(b); err != nil {
					s.inputs.Put(in)
					return err
				}
				q.Push(in)
				return nil
			})
		},
	} {
		ns, err := sub()
		if err != nil {
			return fmt.Errorf("world: %w", err)
		}
		s.subs = append(s.subs, ns)
	}
	return nil
}

func (s *Service) unsubscribe() {
	for _, sub := range s.subs {
		if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			s.log.Debug("unsubscribe", zap.String("subject", sub.Subject), zap.Error(err))
		}
	}
	s.subs = nil
}

// Run runs the tick loop until ctx is done, then unsubscribes, flushes what
// it published and returns nil. It publishes a ResyncRequest first (and after
// every NATS reconnect) so that ingress instances re-announce their bindings.
// A Service runs once: a second call returns ErrRunning.
func (s *Service) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.stop()
	// The subscriptions must be in place on the server before the resync
	// request goes out, or the answers could be missed. While NATS is down
	// both wait in nats.go's buffer, in order.
	if s.nc.Connected() {
		if err := s.nc.FlushTimeout(flushTimeout); err != nil {
			s.log.Warn("flush before resync", zap.Error(err))
		}
	}
	s.resync("start")
	s.log.Info("world running",
		zap.Int("tick_rate_hz", s.cfg.TickRate), zap.Int("snapshot_every", s.cfg.SnapshotEvery),
		zap.Bool("snapshot_spread", s.cfg.SnapshotSpread),
		zap.Float64("world_size", s.cfg.WorldSize), zap.Float64("aoi_radius", s.cfg.AOIRadius),
		zap.Int("aoi_cap", s.cfg.AOICap), zap.Int("workers", s.cfg.Workers))

	period := time.Second / time.Duration(s.cfg.TickRate)
	timer := time.NewTimer(period)
	defer timer.Stop()
	due := time.Now()
	nextSummary := due.Add(summaryEvery)
	for {
		s.tick()
		now := time.Now()
		if !now.Before(nextSummary) {
			s.log.Info("world summary", zap.Stringer("state", s.world))
			nextSummary = now.Add(summaryEvery)
		}
		next, overrun := nextTick(due, now, period)
		due = next
		if overrun {
			s.m.overruns.Inc()
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		timer.Reset(next.Sub(now))
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
	}
}

// stop ends Run: no more events are queued, what was published is flushed.
func (s *Service) stop() {
	s.lastTick.Store(0)
	s.unsubscribe()
	// Snapshots are perishable: flush what is buffered if NATS is up, but
	// do not hold the shutdown for long.
	if s.nc.Connected() {
		if err := s.nc.FlushTimeout(flushTimeout); err != nil {
			s.log.Warn("flush on stop", zap.Error(err))
		}
	}
	s.log.Info("world stopped", zap.Stringer("state", s.world))
}

// tick runs one tick: drain and apply the inbox, step the world, publish the
// snapshots, export the metrics.
func (s *Service) tick() {
	start := time.Now()
	n := 0
	for n < maxDrain {
		k := s.inbox.PopBatch(s.drained[:min(drainChunk, maxDrain-n)])
		for _, msg := range s.drained[:k] {
			s.world.Apply(msg)
			if in, ok := msg.(*sim.Inputs); ok {
				s.inputs.Put(in)
			}
		}
		clear(s.drained[:k]) // do not keep the messages alive
		n += k
		if k < drainChunk {
			break
		}
	}
	s.m.queueItems.Observe(float64(n))

	for _, b := range s.world.Step() {
		if err := s.nc.NATS().Publish(s.subject(b.IngressID), b.Payload); err != nil {
			s.m.publishErrors.Inc()
			continue
		}
		s.m.batches.Inc()
		s.m.snapshots.Add(float64(b.Snapshots))
		s.m.publishedBytes.Add(float64(len(b.Payload)))
	}

	if r := s.nc.NATS().Stats().Reconnects; r != s.reconnects {
		s.reconnects = r
		s.resync("reconnect")
	}
	stats := s.world.Stats()
	s.m.export(&stats)
	s.m.ticks.Inc()
	end := time.Now()
	s.m.tickDuration.Observe(end.Sub(start).Seconds())
	s.lastTick.Store(end.UnixNano())
}

// subject returns the out subject of an ingress instance, cached.
func (s *Service) subject(ingress string) string {
	subj, ok := s.subjects[ingress]
	if !ok {
		subj = bus.IngressOutSubject(ingress)
		s.subjects[ingress] = subj
	}
	return subj
}

// resync asks every ingress instance to re-announce its bindings.
func (s *Service) resync(why string) {
	if err := s.nc.Publish(bus.SubjectIngressResync, &realmv1.ResyncRequest{WorldId: s.cfg.ID}); err != nil {
		s.log.Warn("publish resync request", zap.String("why", why), zap.Error(err))
		return
	}
	s.m.resyncs.Inc()
	s.log.Info("resync requested", zap.String("why", why))
}

// Ready reports whether the service should get traffic: NATS connected and
// the loop ticking (a tick completed within the last 10 periods, at least
// 2 s). Cheap; safe to call from any goroutine.
func (s *Service) Ready() error {
	if !s.nc.Connected() {
		return ErrDisconnected
	}
	last := s.lastTick.Load()
	if last == 0 || time.Since(time.Unix(0, last)) > s.staleTick {
		return ErrNotTicking
	}
	return nil
}
