package ingress

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/session"
	"github.com/ecs-realm/realm/libs/snapshot"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/ingress/udpserver"
)

// Errors returned by Service methods.
var (
	// ErrRunning means Run was called a second time.
	ErrRunning = errors.New("ingress: already run")
	// ErrNotReady is wrapped by Ready's error while the service cannot serve.
	ErrNotReady = errors.New("ingress: not ready")
)

// shutdownFlushTimeout bounds the wait for NATS to take the last events on
// shutdown.
const shutdownFlushTimeout = 5 * time.Second

// Service is one ingress instance: its UDP socket, its sessions and its NATS
// subscriptions. Create it with New and run it with Run.
type Service struct {
	cfg    Config
	log    *zap.Logger
	nc     *bus.Conn
	srv    *udpserver.Server
	tokens *wire.TokenCodec
	reg    *session.Registry[*sess]
	m      *metrics
	subs   []*nats.Subscription

	// The data path: rx on the receive loop, the workers on their own
	// goroutines (none with Config.Workers -1: rx.inline then), chunks
	// circulating between them through free, inputs collected in batch.
	// See pipeline.go.
	rx      *receiver
	workers []*worker
	free    chan *chunk // chunks not in use; holds every chunk
	batch   *batcher

	handler    udpserver.Handler // rx; a test may wrap it (forwarding EndBatch) before Run
	afterChunk func(n int)       // nil; a test or benchmark may set it before Run: called when n more data packets are fully handled (per chunk, or per read inline)
	epoch      time.Time         // origin of mono

	// Snapshots are sealed into snapBufs and sent snapBatch at a time; both
	// are used only by the snapshot subscription's goroutine (onSnapshots).
	snapBufs [snapBatch][]byte
	snapMsgs []udpserver.Message
	snaps    snapshot.Reader // reads SnapshotBatch messages, assembling views

	// bindMu serialises every change of a binding with the event announcing
	// it, so that events about one session are published in the order the
	// changes happened. The per-packet path never takes it. Lock order:
	// bindMu, then the registry's locks, then a sess.mu.
	bindMu   sync.Mutex
	revoked  *revokedSet // guarded by bindMu
	stopping bool        // guarded by bindMu: shutdown began, change nothing
	ackBuf   []byte      // guarded by bindMu: seals handshake acks

	bindings    atomic.Int64 // sessions bound to an endpoint
	revokedLen  atomic.Int64 // revoked.len(), for the gauge
	running     atomic.Bool
	publishLog  throttle // rate-limits publish error logs
	lifetimeLog throttle // rate-limits the token lifetime warning
}

// New validates cfg, opens the UDP socket and subscribes to the service's
// NATS subjects, so that Addr works and events are handled right away;
// datagrams wait in the socket until Run. log may be nil.
func New(cfg Config, nc *bus.Conn, log *zap.Logger) (*Service, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if nc == nil {
		return nil, fmt.Errorf("%w: nil NATS connection", ErrConfig)
	}
	if log == nil {
		log = zap.NewNop()
	}
	tokens, err := wire.NewTokenCodec(cfg.TokenKey)
	if err != nil {
		return nil, fmt.Errorf("ingress: %w", err)
	}
	reg := cfg.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	srv, err := udpserver.Listen(cfg.Listen, cfg.Socket)
	if err != nil {
		return nil, fmt.Errorf("ingress: %w", err)
	}
	s := &Service{
		cfg:      cfg,
		log:      log.With(zap.String("ingress_id", cfg.ID)),
		nc:       nc,
		srv:      srv,
		tokens:   tokens,
		reg:      session.New[*sess](),
		revoked:  newRevokedSet(cfg.MaxRevoked),
		ackBuf:   make([]byte, 0, wire.MaxPacketSize),
		snapMsgs: make([]udpserver.Message, 0, snapBatch),
		epoch:    time.Now(),
	}
	// One backing array for the snapshot buffers, each wire.MaxPacketSize:
	// sealing never grows them.
	snaps := make([]byte, snapBatch*wire.MaxPacketSize)
	for i := range s.snapBufs {
		s.snapBufs[i] = snaps[i*wire.MaxPacketSize : i*wire.MaxPacketSize : (i+1)*wire.MaxPacketSize]
	}
	s.initPipeline()
	s.m, err = newMetrics(reg, srv,
		func() float64 { return float64(s.bindings.Load()) },
		func() float64 { return float64(s.reg.Len()) },
		func() float64 { return float64(s.revokedLen.Load()) })
	if err != nil {
		_ = srv.Close()
		return nil, fmt.Errorf("ingress: metrics: %w", err)
	}
	if err := s.subscribe(); err != nil {
		s.unsubscribe()
		_ = srv.Close()
		return nil, err
	}
	s.checkSocketBuffers()
	return s, nil
}

// ID returns the instance id (Config.ID or the generated one).
func (s *Service) ID() string { return s.cfg.ID }

// Addr returns the UDP address the socket is bound to.
func (s *Service) Addr() netip.AddrPort { return s.srv.LocalAddr() }

// Ready returns nil while Run serves the socket and NATS is connected: the
// readiness check for /readyz.
func (s *Service) Ready() error {
	if !s.running.Load() {
		return fmt.Errorf("%w: not running", ErrNotReady)
	}
	if s.srv.Closed() {
		return fmt.Errorf("%w: socket closed", ErrNotReady)
	}
	if !s.nc.Connected() {
		return fmt.Errorf("%w: NATS disconnected", ErrNotReady)
	}
	return nil
}

// Run serves the socket until ctx is done, then shuts down: it closes the
// socket, publishes the pending inputs, publishes EndpointUnbound{SHUTDOWN}
// for every binding, flushes NATS and returns nil. It returns an error if the
// socket fails (after the same shutdown). Run may be called once; it must be
// called to release what New acquired.
func (s *Service) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	var workers sync.WaitGroup
	for _, w := range s.workers {
		workers.Go(w.run)
	}
	served := make(chan error, 1)
	go func() { served <- s.srv.Serve(s.handler) }()
	bg, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { s.flushLoop(bg) })
	wg.Go(func() { s.sweepLoop(bg) })
	s.log.Info("ingress serving", zap.Stringer("addr", s.Addr()),
		zap.Bool("batched_reads", s.srv.Batched()), zap.Int("workers", len(s.workers)))

	var err error
	select {
	case <-ctx.Done():
		_ = s.srv.Close()
		err = <-served // nil after Close
	case err = <-served:
		_ = s.srv.Close()
	}
	if err != nil {
		err = fmt.Errorf("ingress: %w", err)
	}
	// The receive loop has returned: hand over what it still holds (nothing
	// after a complete read) and let the workers finish their queues.
	s.rx.EndBatch()
	for _, w := range s.workers {
		close(w.in)
	}
	workers.Wait()
	stop()
	wg.Wait()
	s.shutdown()
	return err
}

// shutdown runs once the receive loop and the background loops have ended.
func (s *Service) shutdown() {
	s.unsubscribe()
	s.batch.flush(true)
	s.bindMu.Lock()
	s.stopping = true
	var ids []uint64
	s.reg.Range(func(id uint64, _ netip.AddrPort, _ *sess) bool {
		ids = append(ids, id)
		return true
	})
	unbound := 0
	for _, id := range ids {
		st, ok := s.reg.Get(id)
		if !ok {
			continue
		}
		if ep := s.forgetLocked(id, st); ep.IsValid() {
			unbound++
			s.m.unbinds[unbindShutdown].Inc()
			s.publish(bus.SubjectEndpointUnbound, &realmv1.EndpointUnbound{
				SessionId: id,
				Endpoint:  ep.String(),
				IngressId: s.cfg.ID,
				Reason:    realmv1.UnbindReason_UNBIND_REASON_SHUTDOWN,
			})
		}
	}
	s.bindMu.Unlock()
	if err := s.nc.FlushTimeout(shutdownFlushTimeout); err != nil {
		s.log.Warn("NATS flush on shutdown failed; the world may miss the last events", zap.Error(err))
	}
	s.log.Info("ingress stopped", zap.Int("unbound", unbound), zap.Uint64("packets_in", s.srv.Stats().PacketsIn))
}

// forgetLocked removes a session from the registry and returns the endpoint
// it was bound to (zero if none). Called with bindMu held; it publishes
// nothing.
func (s *Service) forgetLocked(id uint64, st *sess) netip.AddrPort {
	st.mu.Lock()
	st.gone.Store(true) // under st.mu: a packet that takes st.mu after this sees it
	st.mu.Unlock()
	_, ep, _ := s.reg.Remove(id)
	if ep.IsValid() {
		s.bindings.Add(-1)
	}
	return ep
}

// mono is the service's clock for last-seen times and rate limits:
// monotonic nanoseconds since New. It reads one clock where time.Now reads
// two (wall and monotonic), which matters once per packet.
func (s *Service) mono() int64 { return int64(time.Since(s.epoch)) }

// flushLoop is the input publisher: it publishes full batches as soon as
// they are queued and the partial one every FlushInterval, until ctx ends.
func (s *Service) flushLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.batch.kick:
			s.batch.flush(false)
		case <-t.C:
			s.batch.flush(true)
		}
	}
}

// publishBatch is the batcher's publish: one NATS message per batch.
func (s *Service) publishBatch(b []byte, n int) {
	if err := s.nc.NATS().Publish(bus.SubjectWorldInput, b); err != nil {
		s.publishFailed(bus.SubjectWorldInput, err)
		return
	}
	s.m.inputs.Add(float64(n))
	s.m.batches.Inc()
}

// publish sends an event, counting and (rate-limited) logging a failure.
func (s *Service) publish(subject string, m proto.Message) {
	if err := s.nc.Publish(subject, m); err != nil {
		s.publishFailed(subject, err)
	}
}

func (s *Service) publishFailed(subject string, err error) {
	s.m.publishErrors.WithLabelValues(subject).Inc()
	s.publishLog.do(time.Now(), func(suppressed int) {
		s.log.Warn("NATS publish failed", zap.String("subject", subject), zap.Error(err),
			zap.Int("suppressed", suppressed))
	})
}

// checkSocketBuffers warns when the kernel granted smaller socket buffers
// than requested.
func (s *Service) checkSocketBuffers() {
	r, w, err := s.srv.SocketBuffers()
	if err != nil {
		return
	}
	if r < s.cfg.Socket.ReadBuffer || w < s.cfg.Socket.WriteBuffer {
		s.log.Warn("UDP socket buffers smaller than requested; raise net.core.rmem_max / wmem_max",
			zap.Int("read_requested", s.cfg.Socket.ReadBuffer), zap.Int("read_granted", r),
			zap.Int("write_requested", s.cfg.Socket.WriteBuffer), zap.Int("write_granted", w))
	}
}

// throttle lets an action (a log line) run at most once per interval and
// counts what it suppressed in between.
type throttle struct {
	mu         sync.Mutex // guards the fields below
	next       time.Time
	suppressed int
}

// throttleInterval is the minimum time between two throttled log lines.
const throttleInterval = 10 * time.Second

// do calls f with the number of calls suppressed since the last one, unless
// f ran less than throttleInterval ago.
func (t *throttle) do(now time.Time, f func(suppressed int)) {
	t.mu.Lock()
	if now.Before(t.next) {
		t.suppressed++
		t.mu.Unlock()
		return
	}
	n := t.suppressed
	t.suppressed, t.next = 0, now.Add(throttleInterval)
	t.mu.Unlock()
	f(n)
}
