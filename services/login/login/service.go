package login

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/frame"
	"github.com/ecs-realm/realm/libs/tlsconfig"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/login/internal/accounts"
	"github.com/ecs-realm/realm/services/login/internal/presence"
	"github.com/ecs-realm/realm/services/login/internal/ratelimit"
)

// Fixed limits that are not worth a knob.
const (
	// maxBusyRejections bounds the SERVER_BUSY answers in flight (each
	// costs a TLS handshake); past it an extra connection is just closed.
	maxBusyRejections = 64
	// maxDrainBytes bounds what is read (and discarded) from a client while
	// waiting for its close_notify.
	maxDrainBytes = 1 << 20
	// readyProbeInterval is how often the KV buckets are checked for /readyz.
	readyProbeInterval = 5 * time.Second
	// flushTimeout bounds the final NATS flush of Run.
	flushTimeout = 5 * time.Second
	// acceptBackoffMax caps the wait after a failing Accept (EMFILE, ...).
	acceptBackoffMax = time.Second
)

var (
	// ErrRunTwice is returned by a second call of Run.
	ErrRunTwice = errors.New("login: Run called twice")
	// ErrStopped is returned by Ready once Run has begun shutting down.
	ErrStopped = errors.New("login: shutting down")
)

// Service is one login instance: a TLS listener and its sessions.
type Service struct {
	cfg      Config
	log      *zap.Logger
	nc       *bus.Conn
	ln       net.Listener
	tlsConf  *tls.Config
	caFile   string // development CA, "" with configured certificates
	tokens   *wire.TokenCodec
	accounts *accounts.Store
	presence *presence.Table
	limiter  *ratelimit.Limiter
	m        *metrics

	watch     *presence.Watcher  // kicks replaced sessions; from New to the end of Run
	stopWatch context.CancelFunc // ends the watch's context
	unhook    func()             // removes the watch's Resume from the NATS connection

	ran       atomic.Bool
	open      atomic.Int64  // connections open; incremented only by the accept loop
	connSeq   atomic.Uint64 // numbers connections in logs
	busySlots chan struct{} // one token per SERVER_BUSY answer in flight
	probe     atomic.Pointer[probeResult]
	wg        sync.WaitGroup // connection goroutines

	// Lock order: Service.mu, then conn.mu.
	mu        sync.Mutex         // guards the fields below
	conns     map[*conn]struct{} // connections past their TLS handshake
	byAccount map[uint64][]*conn // connections logged in or logging in, by account id
	closing   bool               // Run is shutting down
}

type probeResult struct{ err error }

// New validates cfg, loads (or in development creates) the TLS certificate,
// opens the accounts and presence buckets on nc's JetStream, starts watching
// presence and binds the listener, so that Addr works at once. Run serves;
// a Service whose Run is never called keeps its listener and watch.
func New(cfg Config, nc *bus.Conn, log *zap.Logger) (*Service, error) {
	cfg, err := cfg.fill()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	s := &Service{
		cfg:       cfg,
		log:       log.With(zap.String("login", cfg.ID)),
		nc:        nc,
		busySlots: make(chan struct{}, maxBusyRejections),
		conns:     make(map[*conn]struct{}),
		byAccount: make(map[uint64][]*conn),
	}
	certFile, keyFile := cfg.CertFile, cfg.KeyFile
	if certFile == "" {
		dc, err := tlsconfig.EnsureDevCert(cfg.devCertDir(), cfg.DevHosts)
		if err != nil {
			return nil, fmt.Errorf("development certificate: %w", err)
		}
		certFile, keyFile, s.caFile = dc.CertFile, dc.KeyFile, dc.CAFile
	}
	if s.tlsConf, err = tlsconfig.Server(tlsconfig.ServerConfig{
		CertFile: certFile, KeyFile: keyFile, AllowTLS12: cfg.AllowTLS12,
	}); err != nil {
		return nil, err
	}
	if s.tokens, err = wire.NewTokenCodec(cfg.TokenKey); err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	if s.limiter, err = ratelimit.New(ratelimit.Config{Rate: cfg.LoginRate, Burst: cfg.LoginBurst}); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	reg := cfg.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if s.m, err = newMetrics(reg); err != nil {
		return nil, err
	}

	js, err := nc.JetStream()
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.RequestTimeout)
	defer cancel()
	if s.accounts, err = accounts.Open(ctx, js, accounts.Config{
		Replicas: cfg.Replicas,
		Params: accounts.Params{
			Time: cfg.ArgonTime, MemoryKiB: cfg.ArgonMemoryKiB, Threads: cfg.ArgonThreads,
		},
		MaxConcurrentHashes: cfg.MaxConcurrentHashes,
	}); err != nil {
		return nil, err
	}
	if s.presence, err = presence.Open(ctx, js, presence.Config{Replicas: cfg.Replicas}, cfg.ID); err != nil {
		return nil, err
	}
	s.probe.Store(&probeResult{})

	// The watch lives as long as its context (nats.go unsubscribes when it
	// ends): Run stops it after the last session is gone.
	wctx, stopWatch := context.WithCancel(context.Background())
	if s.watch, err = s.presence.Watch(wctx, s.onPresence); err != nil {
		stopWatch()
		return nil, err
	}
	s.stopWatch = stopWatch
	// A restarted server loses the watch's consumer: after a reconnect the
	// watch moves to a new one at once (see presence.Watcher.Resume).
	resumes := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "realm_login_presence_watch_resumes_total",
		Help: "Presence watches moved to a new consumer after a NATS reconnect (a restarted server loses the watch's consumer).",
	}, func() float64 { n, _ := s.watch.Resumes(); return float64(n) })
	if err := reg.Register(resumes); err != nil {
		_ = s.watch.Stop()
		stopWatch()
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	if s.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		_ = s.watch.Stop()
		stopWatch()
		return nil, fmt.Errorf("listen: %w", err)
	}
	s.unhook = nc.OnReconnect(s.watch.Resume)
	return s, nil
}

// Addr returns the TLS listener's address.
func (s *Service) Addr() net.Addr { return s.ln.Addr() }

// ID returns the instance id (Config.ID, or the generated one).
func (s *Service) ID() string { return s.cfg.ID }

// DevCAFile returns the development CA certificate clients must trust, or ""
// when the service runs with configured certificates.
func (s *Service) DevCAFile() string { return s.caFile }

// Ready reports whether the service can log players in: NATS connected, the
// KV buckets answering (checked every few seconds in the background), and
// not shutting down. It is cheap: for /readyz.
func (s *Service) Ready() error {
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		return ErrStopped
	}
	if err := s.nc.ReadyCheck(); err != nil {
		return err
	}
	return s.probe.Load().err
}

// Run serves until ctx is done, then shuts down: it stops accepting, lets
// every request in flight finish, sends Kick{SHUTDOWN} and close_notify to
// every client, publishes each session's realm.session.closed, releases
// presence, stops the presence watch, flushes NATS and returns nil (or the
// error of the watch's end or of the flush). Call it once.
func (s *Service) Run(ctx context.Context) error {
	if !s.ran.CompareAndSwap(false, true) {
		return ErrRunTwice
	}
	// Requests in flight outlive ctx: shutdown lets them finish.
	base := context.WithoutCancel(ctx)

	probeCtx, stopProbe := context.WithCancel(base)
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		s.probeLoop(probeCtx)
	}()
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		s.acceptLoop(ctx, base)
	}()
	s.log.Info("login serving", zap.Stringer("addr", s.Addr()))

	<-ctx.Done()
	s.log.Info("login shutting down")
	_ = s.ln.Close()
	<-acceptDone
	s.mu.Lock()
	s.closing = true
	for c := range s.conns {
		c.kickConn(realmv1.CloseReason_CLOSE_REASON_SHUTDOWN)
	}
	s.mu.Unlock()
	s.wg.Wait()

	stopProbe()
	<-probeDone
	werr := s.watch.Stop()
	s.stopWatch()
	s.unhook()
	fctx, cancel := context.WithTimeout(base, flushTimeout)
	defer cancel()
	ferr := s.nc.Flush(fctx)
	s.log.Info("login stopped")
	if err := errors.Join(werr, ferr); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// acceptLoop accepts until the listener closes. ctx ends handshakes in
// progress at shutdown; base outlives it for requests in flight.
func (s *Service) acceptLoop(ctx, base context.Context) {
	var backoff time.Duration
	for {
		raw, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or similar: back off like net/http.
			backoff = min(max(2*backoff, 5*time.Millisecond), acceptBackoffMax)
			s.log.Warn("accept", zap.Error(err), zap.Duration("retry_in", backoff))
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			continue
		}
		backoff = 0
		s.m.connsAccepted.Inc()
		if s.open.Load() >= int64(s.cfg.MaxConnections) {
			s.rejectBusy(ctx, raw)
			continue
		}
		s.open.Add(1)
		s.m.connsOpen.Inc()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.m.connsOpen.Dec()
			defer s.open.Add(-1)
			c := newConn(s, raw)
			c.serve(ctx, base)
		}()
	}
}

// rejectBusy answers a connection over MaxConnections with Error
// SERVER_BUSY (after a TLS handshake, which it needs), or closes it at once
// when too many such answers are in flight already.
func (s *Service) rejectBusy(ctx context.Context, raw net.Conn) {
	select {
	case s.busySlots <- struct{}{}:
	default:
		s.m.rejected.WithLabelValues(rejBusyOverflow).Inc()
		_ = raw.Close()
		return
	}
	s.m.rejected.WithLabelValues(rejBusy).Inc()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.busySlots }()
		tc, ok := s.handshake(ctx, raw)
		if !ok {
			return
		}
		s.refuse(tc, raw, realmv1.ErrorCode_ERROR_CODE_SERVER_BUSY, "server busy: too many connections")
	}()
}

// handshake runs the TLS handshake within HandshakeTimeout (or until ctx
// ends) and counts it; on failure it closes raw.
func (s *Service) handshake(ctx context.Context, raw net.Conn) (*tls.Conn, bool) {
	tc := tls.Server(raw, s.tlsConf)
	hctx, cancel := context.WithTimeout(ctx, s.cfg.HandshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		res := hsError
		if hctx.Err() != nil {
			res = hsTimeout
		}
		s.m.handshakes.WithLabelValues(res).Inc()
		s.log.Debug("tls handshake failed", zap.Stringer("remote", raw.RemoteAddr()), zap.Error(err))
		_ = raw.Close()
		return nil, false
	}
	s.m.handshakes.WithLabelValues(hsOK).Inc()
	return tc, true
}

// refuse sends one Error frame, close_notify, waits briefly for the
// client's close and closes raw: the end of a connection that never had a
// session.
func (s *Service) refuse(tc *tls.Conn, raw net.Conn, code realmv1.ErrorCode, text string) {
	defer raw.Close()
	_ = tc.SetWriteDeadline(time.Now().Add(s.cfg.CloseTimeout))
	if _, err := frame.Write(tc, errorMsg(0, code, text), nil); err != nil {
		return
	}
	if err := tc.CloseWrite(); err != nil {
		return
	}
	_ = tc.SetReadDeadline(time.Now().Add(s.cfg.CloseTimeout))
	_, _ = io.Copy(io.Discard, io.LimitReader(tc, maxDrainBytes))
}

// probeLoop checks the KV buckets every readyProbeInterval for Ready.
func (s *Service) probeLoop(ctx context.Context) {
	t := time.NewTicker(readyProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, readyProbeInterval)
		err := errors.Join(s.accounts.Status(pctx), s.presence.Status(pctx))
		cancel()
		if ctx.Err() != nil {
			return
		}
		s.probe.Store(&probeResult{err: err})
	}
}

// onPresence is the presence watcher's callback: it kicks the local
// sessions of e's account that e replaces (see the package doc).
func (s *Service) onPresence(e presence.Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.byAccount[e.AccountID] {
		if !e.Deleted && e.SessionID == c.sessionID {
			continue // our own claim
		}
		if c.claimRev == 0 { // our claim is in flight: decide when it returns
			c.maxOther = max(c.maxOther, e.Revision)
			continue
		}
		if e.Revision > c.claimRev {
			c.kickConn(realmv1.CloseReason_CLOSE_REASON_REPLACED)
		}
	}
}

// link registers c as logging in to account; false if shutting down.
func (s *Service) link(c *conn, account uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	c.account, c.claimRev, c.maxOther = account, 0, 0
	s.byAccount[account] = append(s.byAccount[account], c)
	return true
}

// claimed records c's claim revision and reports whether a newer change of
// the account was already seen while the claim was in flight.
func (s *Service) claimed(c *conn, rev uint64) (replaced bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.claimRev = rev
	return c.maxOther > rev
}

// unlink removes c from conns and byAccount.
func (s *Service) unlink(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	s.unlinkAccountLocked(c)
}

// unlinkAccount removes c from byAccount (after a failed claim).
func (s *Service) unlinkAccount(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unlinkAccountLocked(c)
}

func (s *Service) unlinkAccountLocked(c *conn) {
	if c.account == 0 {
		return
	}
	list := s.byAccount[c.account]
	for i, x := range list {
		if x == c {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(s.byAccount, c.account)
	} else {
		s.byAccount[c.account] = list
	}
	c.account = 0
}

// register adds c to conns; false if shutting down.
func (s *Service) register(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func errorMsg(reqID uint64, code realmv1.ErrorCode, text string) *realmv1.ServerMessage {
	return &realmv1.ServerMessage{RequestId: reqID, Body: &realmv1.ServerMessage_Error{
		Error: &realmv1.Error{Code: code, Message: text},
	}}
}
