package login

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/frame"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/login/internal/presence"
)

// conn is one client connection: the goroutine running serve reads and
// handles requests (the reader), a second one writes queued frames (the
// writer). See the package doc for how a connection ends.
type conn struct {
	s         *Service
	raw       net.Conn
	tc        *tls.Conn
	remote    netip.AddrPort
	sessionID uint64 // drawn at accept, used if this connection logs in; never 0
	log       *zap.Logger

	out        chan *realmv1.ServerMessage // the write queue; closed by the reader when it ends
	writerDone chan struct{}               // closed when the writer returns
	drop       atomic.Bool                 // writer: discard what is still queued (slow consumer)
	failed     atomic.Bool                 // a write failed: the socket is closed
	closeBy    atomic.Int64                // Unix ns by which the writer must be done; 0 until the reader ends
	final      *realmv1.ServerMessage      // written by the reader before close(out), read by the writer after

	mu   sync.Mutex          // guards kick; taken after Service.mu
	kick realmv1.CloseReason // set once by kickConn: the reader ends with Kick{kick}

	// Guarded by Service.mu (the presence watcher reads them).
	account  uint64 // 0 until a login reaches presence
	claimRev uint64 // revision of this session's presence claim; 0 while in flight
	maxOther uint64 // highest revision of another change seen while claimRev was 0

	sess *session // owned by the reader; nil until logged in
}

// session is the logged-in state of a connection.
type session struct {
	accountID uint64
	c2s, s2c  wire.Key // the token's client-to-server and server-to-client keys
	claim     presence.Entry
}

// ending says how the reader ends a connection: reason 0 means go on.
type ending struct {
	reason realmv1.CloseReason
	final  *realmv1.ServerMessage // last frame before close_notify, or nil
	drop   bool                   // discard queued frames first (slow consumer)
}

func newConn(s *Service, raw net.Conn) *conn {
	c := &conn{
		s:          s,
		raw:        raw,
		out:        make(chan *realmv1.ServerMessage, s.cfg.WriteQueue),
		writerDone: make(chan struct{}),
	}
	if ta, ok := raw.RemoteAddr().(*net.TCPAddr); ok {
		c.remote = ta.AddrPort()
	}
	var b [8]byte
	for c.sessionID == 0 {
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
		c.sessionID = binary.BigEndian.Uint64(b[:])
	}
	c.log = s.log.With(zap.Uint64("session", c.sessionID), zap.Stringer("remote", c.remote),
		zap.Uint64("conn", s.connSeq.Add(1)))
	return c
}

// serve runs the connection to its end: handshake, registration, the reader
// loop, the close protocol and the session's teardown.
func (c *conn) serve(ctx, base context.Context) {
	tc, ok := c.s.handshake(ctx, c.raw)
	if !ok {
		return
	}
	c.tc = tc
	if !c.s.register(c) {
		c.s.m.rejected.WithLabelValues(rejShutdown).Inc()
		c.s.refuse(tc, c.raw, realmv1.ErrorCode_ERROR_CODE_SHUTTING_DOWN, "server shutting down")
		return
	}
	if ce := c.log.Check(zap.DebugLevel, "connection open"); ce != nil {
		cs := tc.ConnectionState()
		ce.Write(zap.Uint16("tls_version", cs.Version), zap.Bool("resumed", cs.DidResume))
	}
	go c.writeLoop(c.log)
	end := c.readLoop(base)
	c.finish(base, end)
}

// kickConn makes the reader end the connection with Kick{reason} as soon as
// the request it handles (if any) is answered. The first reason wins.
// Safe from any goroutine.
func (c *conn) kickConn(reason realmv1.CloseReason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kick != 0 {
		return
	}
	c.kick = reason
	_ = c.tc.SetReadDeadline(time.Unix(1, 0)) // wakes a blocked Read
}

// armRead sets the idle deadline for the next frame, or returns the pending
// kick instead. Under mu, so that a kick cannot be overwritten by the idle
// deadline.
func (c *conn) armRead() realmv1.CloseReason {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kick == 0 {
		_ = c.tc.SetReadDeadline(time.Now().Add(c.s.cfg.IdleTimeout))
	}
	return c.kick
}

func kickMsg(reason realmv1.CloseReason, text string) *realmv1.ServerMessage {
	return &realmv1.ServerMessage{Body: &realmv1.ServerMessage_Kick{
		Kick: &realmv1.Kick{Reason: reason, Message: text},
	}}
}

var kickText = map[realmv1.CloseReason]string{
	realmv1.CloseReason_CLOSE_REASON_REPLACED:      "logged in elsewhere",
	realmv1.CloseReason_CLOSE_REASON_SHUTDOWN:      "server shutting down",
	realmv1.CloseReason_CLOSE_REASON_SLOW_CONSUMER: "too many unread frames",
	realmv1.CloseReason_CLOSE_REASON_IDLE_TIMEOUT:  "no frame within the idle timeout",
}

func kickEnding(reason realmv1.CloseReason) ending {
	return ending{reason: reason, final: kickMsg(reason, kickText[reason])}
}

// readLoop reads and handles frames until the connection must end.
func (c *conn) readLoop(base context.Context) ending {
	fr := frame.NewReader(c.tc)
	var msg realmv1.ClientMessage
	for {
		if k := c.armRead(); k != 0 {
			return kickEnding(k)
		}
		if err := fr.Read(&msg); err != nil {
			return c.readError(err)
		}
		if end := c.handle(base, &msg); end.reason != 0 {
			return end
		}
	}
}

// readError turns a failed Read into the connection's ending.
func (c *conn) readError(err error) ending {
	protocol := func(kind string, code realmv1.ErrorCode, text string) ending {
		c.s.m.frameErrors.WithLabelValues(kind).Inc()
		c.log.Debug("protocol error", zap.Error(err))
		return ending{reason: realmv1.CloseReason_CLOSE_REASON_PROTOCOL_ERROR, final: errorMsg(0, code, text)}
	}
	switch {
	case errors.Is(err, frame.ErrTooLarge):
		return protocol(feTooLarge, realmv1.ErrorCode_ERROR_CODE_FRAME_TOO_LARGE, "frame too large")
	case errors.Is(err, frame.ErrMalformed):
		return protocol(feMalformed, realmv1.ErrorCode_ERROR_CODE_MALFORMED_FRAME, "malformed frame")
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.mu.Lock()
		k := c.kick
		c.mu.Unlock()
		if k != 0 {
			return kickEnding(k)
		}
		return kickEnding(realmv1.CloseReason_CLOSE_REASON_IDLE_TIMEOUT)
	}
	// io.EOF (close_notify), a truncated frame, a reset, or the socket
	// closed by a failed write.
	return ending{reason: realmv1.CloseReason_CLOSE_REASON_DISCONNECTED}
}

// send queues m for the writer; false if the queue is full.
func (c *conn) send(m *realmv1.ServerMessage) bool {
	select {
	case c.out <- m:
		return true
	default:
		return false
	}
}

// reply queues m, or ends the connection as a slow consumer.
func (c *conn) reply(m *realmv1.ServerMessage) ending {
	if c.send(m) {
		return ending{}
	}
	end := kickEnding(realmv1.CloseReason_CLOSE_REASON_SLOW_CONSUMER)
	end.drop = true
	return end
}

// writeLoop writes queued frames until the reader closes the queue, then
// the final frame and close_notify. A failed write closes the socket, which
// ends the reader. log is the reader's c.log at start (c.log is the
// reader's to change).
func (c *conn) writeLoop(log *zap.Logger) {
	defer close(c.writerDone)
	var buf []byte
	var err error
	fail := func() {
		c.failed.Store(true)
		_ = c.raw.Close()
	}
	deadline := func() time.Time {
		if by := c.closeBy.Load(); by != 0 { // the reader ended: one deadline for the rest
			return time.Unix(0, by)
		}
		return time.Now().Add(c.s.cfg.WriteTimeout)
	}
	for m := range c.out {
		if c.failed.Load() || c.drop.Load() {
			continue
		}
		_ = c.tc.SetWriteDeadline(deadline())
		if buf, err = frame.Write(c.tc, m, buf); err != nil {
			log.Debug("write", zap.Error(err))
			fail()
		}
	}
	if c.failed.Load() {
		return
	}
	_ = c.tc.SetWriteDeadline(deadline())
	if c.final != nil {
		if _, err = frame.Write(c.tc, c.final, buf); err != nil {
			fail()
			return
		}
	}
	if err := c.tc.CloseWrite(); err != nil { // close_notify
		fail()
	}
}

// finish ends the connection. The session's end is final as soon as the
// reader decided it, so the session is torn down first (unlinked,
// realm.session.closed published, presence released) while the writer sends
// what is queued (unless dropped), the final frame and close_notify. Then the
// client has CloseTimeout to answer with its own close_notify (its frames in
// between are read and discarded, so that closing does not reset the
// connection under unread data), and the socket closes.
func (c *conn) finish(base context.Context, end ending) {
	if end.final.GetKick() != nil { // counted when decided, even if never delivered
		c.s.m.kicks.WithLabelValues(reasonLabel(end.reason)).Inc()
	}
	c.final = end.final
	if end.drop {
		c.drop.Store(true)
	}
	c.closeBy.Store(time.Now().Add(c.s.cfg.CloseTimeout).UnixNano())
	close(c.out)
	c.s.unlink(c)
	if c.sess != nil {
		c.closeSession(base, end.reason)
	}
	<-c.writerDone
	if !c.failed.Load() {
		_ = c.tc.SetReadDeadline(time.Now().Add(c.s.cfg.CloseTimeout))
		_, _ = io.Copy(io.Discard, io.LimitReader(c.tc, maxDrainBytes))
	}
	_ = c.raw.Close()
	c.log.Debug("connection closed", zap.Stringer("reason", end.reason))
}

// closeSession publishes realm.session.closed and releases presence if it
// is still this session's. It runs exactly once per logged-in session, from
// finish.
func (c *conn) closeSession(base context.Context, reason realmv1.CloseReason) {
	s := c.s
	s.m.sessionsOpen.Dec()
	s.m.closes.WithLabelValues(reasonLabel(reason)).Inc()
	if err := s.nc.Publish(bus.SubjectSessionClosed, &realmv1.SessionClosed{
		SessionId:    c.sessionID,
		AccountId:    c.sess.accountID,
		Reason:       reason,
		LoginId:      s.cfg.ID,
		ClosedUnixMs: time.Now().UnixMilli(),
	}); err != nil {
		s.m.publishErrors.WithLabelValues(evClosed).Inc()
		c.log.Warn("publish session closed", zap.Error(err))
	}
	ctx, cancel := context.WithTimeout(base, s.cfg.RequestTimeout)
	defer cancel()
	if _, err := s.presence.Release(ctx, c.sess.claim); err != nil {
		s.m.presenceErrs.Inc()
		c.log.Warn("release presence", zap.Error(err))
	}
	c.log.Info("session closed", zap.Stringer("reason", reason))
}
