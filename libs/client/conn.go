package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/frame"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// Conn is one TLS connection to a login server. Its methods are safe for
// concurrent use; requests may be in flight together (the server answers
// them in order, matched by request id).
//
// No lock of this package is held while another is taken.
type Conn struct {
	cfg Config
	log *zap.Logger
	tc  *tls.Conn

	nextID    atomic.Uint64 // last request id handed out
	lastWrite atomic.Int64  // Unix nanoseconds of the last frame written

	writeMu sync.Mutex // guards wbuf and writes to tc
	wbuf    []byte

	mu      sync.Mutex // guards the fields below
	pending map[uint64]chan *realmv1.ServerMessage
	err     error // why the connection ended; nil while open
	sess    *Session
	udps    map[*UDP]struct{}

	done       chan struct{} // closed when err is set
	readDone   chan struct{} // closed when readLoop returns
	reschedule chan struct{} // cap 1: the keeper recomputes its refresh timer
	wg         sync.WaitGroup
}

// Dial connects to cfg.LoginAddr and completes the TLS handshake within
// ctx. The connection's life is not bound to ctx: end it with Logout or
// Close.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	d := tls.Dialer{Config: cfg.TLS}
	nc, err := d.DialContext(ctx, "tcp", cfg.LoginAddr)
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", cfg.LoginAddr, err)
	}
	c := &Conn{
		cfg:        cfg,
		log:        cfg.Logger.With(zap.String("login", cfg.LoginAddr)),
		tc:         nc.(*tls.Conn),
		pending:    make(map[uint64]chan *realmv1.ServerMessage),
		udps:       make(map[*UDP]struct{}),
		done:       make(chan struct{}),
		readDone:   make(chan struct{}),
		reschedule: make(chan struct{}, 1),
	}
	c.lastWrite.Store(time.Now().UnixNano())
	c.log.Debug("connected", zap.Stringer("local", nc.LocalAddr()))
	c.wg.Add(2)
	go c.readLoop()
	go c.keep()
	return c, nil
}

// Done is closed when the connection has ended: kicked, logged out, closed,
// or dropped. Err then says why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is nil while the connection is open. Afterwards it is a *KickError
// (errors.Is ErrKicked), a *ServerError pushed by the server (SERVER_BUSY,
// SHUTTING_DOWN), ErrLoggedOut, ErrClosed, or ErrDisconnected wrapping the
// cause.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Session returns the logged-in session, or nil before Login.
func (c *Conn) Session() *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// Close ends the connection (sending TLS close_notify when it can), closes
// every UDP joined through it, and waits for all of the Conn's goroutines.
// It does not log out first: the server sees a disconnect. Close is
// idempotent and always returns nil.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	_ = c.tc.Close() // sends close_notify unless a write is stuck
	c.mu.Lock()
	udps := make([]*UDP, 0, len(c.udps))
	for u := range c.udps {
		udps = append(udps, u)
	}
	c.mu.Unlock()
	for _, u := range udps {
		_ = u.Close()
	}
	c.wg.Wait()
	return nil
}

// fail records why the connection ended, once, and wakes everything waiting
// on it.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	c.pending = nil
	close(c.done)
}

// readLoop reads the server's frames until the connection ends.
func (c *Conn) readLoop() {
	defer c.wg.Done()
	defer close(c.readDone)
	r := frame.NewReader(c.tc)
	for {
		m := new(realmv1.ServerMessage)
		if err := r.Read(m); err != nil {
			c.fail(fmt.Errorf("%w: %w", ErrDisconnected, err))
			// Answer the server's close_notify with ours, and release the socket.
			_ = c.tc.Close()
			c.log.Debug("connection ended", zap.Error(c.Err()))
			return
		}
		c.dispatch(m)
	}
}

// dispatch hands a server frame to the request waiting for it, or handles a
// server push.
func (c *Conn) dispatch(m *realmv1.ServerMessage) {
	if k := m.GetKick(); k != nil {
		c.fail(&KickError{Reason: k.GetReason(), Message: k.GetMessage()})
		return
	}
	id := m.GetRequestId()
	if id == 0 {
		if e := m.GetError(); e != nil {
			c.fail(&ServerError{Code: e.GetCode(), Message: e.GetMessage()})
			return
		}
		c.log.Debug("ignoring unexpected server push")
		return
	}
	c.mu.Lock()
	ch := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if ch != nil {
		ch <- m // cap 1, one reply per id
	}
	if m.GetLogout() != nil {
		c.fail(ErrLoggedOut)
	}
}

// roundTrip sends a request and waits for its reply. A reply with an Error
// body is returned as a *ServerError.
func (c *Conn) roundTrip(ctx context.Context, m *realmv1.ClientMessage) (*realmv1.ServerMessage, error) {
	id := c.nextID.Add(1)
	m.RequestId = id
	ch := make(chan *realmv1.ServerMessage, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, err
	}
	c.pending[id] = ch
	c.mu.Unlock()

	if err := c.write(ctx, m); err != nil {
		c.forget(id)
		return nil, err
	}
	select {
	case r := <-ch:
		return reply(r)
	case <-ctx.Done():
		c.forget(id)
		return nil, ctx.Err()
	case <-c.done:
		select {
		case r := <-ch: // the reply came with the end (a logout)
			return reply(r)
		default:
			return nil, c.Err()
		}
	}
}

func reply(r *realmv1.ServerMessage) (*realmv1.ServerMessage, error) {
	if e := r.GetError(); e != nil {
		return nil, &ServerError{Code: e.GetCode(), Message: e.GetMessage()}
	}
	return r, nil
}

// forget drops a request whose reply nobody waits for any more.
func (c *Conn) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id) // no-op on a nil map
	c.mu.Unlock()
}

// aLongTimeAgo is a deadline in the past: it fails a blocked write at once.
var aLongTimeAgo = time.Unix(1, 0)

// write sends one frame, giving up when ctx ends. A failed write leaves the
// TLS stream unusable (crypto/tls makes write errors permanent), so it ends
// the connection.
func (c *Conn) write(ctx context.Context, m *realmv1.ClientMessage) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	dl, _ := ctx.Deadline() // zero: none
	_ = c.tc.SetWriteDeadline(dl)
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = c.tc.SetWriteDeadline(aLongTimeAgo)
		close(fired)
	})
	var err error
	c.wbuf, err = frame.Write(c.tc, m, c.wbuf)
	if !stop() {
		<-fired // it must not touch the deadline of a later write
	}
	if err != nil {
		if errors.Is(err, frame.ErrTooLarge) {
			return fmt.Errorf("client: %w", err) // nothing was written
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		c.fail(fmt.Errorf("%w: write: %w", ErrDisconnected, err))
		_ = c.tc.NetConn().Close()
		return err
	}
	c.lastWrite.Store(time.Now().UnixNano())
	return nil
}

// keep pings an idle connection and refreshes the session's token before it
// expires, until the connection ends.
func (c *Conn) keep() {
	defer c.wg.Done()
	var pingC <-chan time.Time
	if c.cfg.PingInterval > 0 {
		t := time.NewTicker(c.cfg.PingInterval / 2)
		defer t.Stop()
		pingC = t.C
	}
	refresh := time.NewTimer(time.Hour)
	refresh.Stop()
	defer refresh.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-pingC:
			idle := time.Since(time.Unix(0, c.lastWrite.Load()))
			if idle >= c.cfg.PingInterval/2 {
				c.keepAlivePing()
			}
		case <-c.reschedule:
			if s := c.Session(); s != nil {
				if at := s.refreshAt(); !at.IsZero() {
					refresh.Reset(time.Until(at))
				}
			}
		case <-refresh.C:
			c.autoRefresh()
		}
	}
}

// keepAlivePing pings the server; an unanswered ping ends the connection.
func (c *Conn) keepAlivePing() {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.PingInterval)
	defer cancel()
	_, err := c.Ping(ctx)
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		c.fail(fmt.Errorf("%w: ping unanswered for %v", ErrDisconnected, c.cfg.PingInterval))
		_ = c.tc.NetConn().Close()
	}
}

// refreshRetry is the wait before retrying a failed automatic token refresh.
const refreshRetry = 2 * time.Second

// autoRefresh refreshes the token; on failure it retries later.
func (c *Conn) autoRefresh() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.RefreshToken(ctx)
	if err == nil || c.Err() != nil {
		return
	}
	c.log.Warn("token refresh failed, retrying", zap.Error(err), zap.Duration("retry", refreshRetry))
	if s := c.Session(); s != nil {
		s.retryRefreshAt(time.Now().Add(refreshRetry))
		c.wakeKeeper()
	}
}

// wakeKeeper wakes the keeper to recompute its refresh timer.
func (c *Conn) wakeKeeper() {
	select {
	case c.reschedule <- struct{}{}:
	default:
	}
}
