package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// Snapshot is one snapshot as the client received it.
type Snapshot struct {
	Msg *realmv1.Snapshot
	// Received is when the packet was read from the socket, before it was
	// queued: use it for latency measurements.
	Received time.Time
}

// UDP is the data plane of a Session: a socket handshaken with one ingress.
// Its methods are safe for concurrent use.
type UDP struct {
	sess   *Session
	cfg    *Config
	log    *zap.Logger
	remote *net.UDPAddr // the ingress that answered; set before JoinUDP returns

	snapshots chan Snapshot // closed by Close once no reader is left
	stop      chan struct{} // closed by Close
	wg        sync.WaitGroup
	closeOnce sync.Once
	rebindMu  sync.Mutex // serialises Rebind

	lastSend atomic.Int64 // Unix nanoseconds of the last packet sent
	lastRecv atomic.Int64 // Unix nanoseconds of the last authentic packet received
	stats    counters
	// unconfirmed is the newest ack's challenge while no snapshot has
	// come through the link it came on: the keep-alive loop echoes it
	// again, in case the echo was lost (see confirm).
	unconfirmed atomic.Pointer[confirmation]

	mu      sync.Mutex // guards the fields below
	cur     *link      // the socket inputs leave from
	closed  bool
	sendBuf []byte // cap wire.MaxPacketSize
	ack     *realmv1.HandshakeAck

	recvMu sync.Mutex // guards window; taken by the links' readers
	window wire.ReplayWindow
}

// JoinUDP opens a UDP socket and handshakes with the session's ingress
// addresses in order, each for an equal share of Config.HandshakeTimeout,
// until one acknowledges. Errors: ErrNoIngress, ErrHandshakeTimeout (from
// every address, joined), the Conn's Err if it ends meanwhile, or ctx's.
func (s *Session) JoinUDP(ctx context.Context) (*UDP, error) {
	c := s.conn
	if len(s.IngressAddrs) == 0 {
		return nil, fmt.Errorf("client: join udp: %w", ErrNoIngress)
	}
	u := &UDP{
		sess:      s,
		cfg:       &c.cfg,
		log:       c.log.With(zap.Uint64("session", s.SessionID)),
		snapshots: make(chan Snapshot, c.cfg.SnapshotBuffer),
		stop:      make(chan struct{}),
		sendBuf:   make([]byte, 0, wire.MaxPacketSize),
	}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, fmt.Errorf("client: join udp: %w", err)
	}
	c.udps[u] = struct{}{}
	c.mu.Unlock()

	share := c.cfg.HandshakeTimeout / time.Duration(len(s.IngressAddrs))
	var errs []error
	for _, addr := range s.IngressAddrs {
		ack, err := u.join(ctx, addr, share)
		if err == nil {
			u.log.Debug("udp joined", zap.String("ingress", addr), zap.String("endpoint", ack.GetEndpoint()))
			return u, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", addr, err))
		if ctx.Err() != nil || c.Err() != nil {
			break
		}
	}
	_ = u.Close()
	return nil, fmt.Errorf("client: join udp: %w", errors.Join(errs...))
}

// join handshakes with one ingress address and makes it the UDP's.
func (u *UDP) join(ctx context.Context, addr string, timeout time.Duration) (*realmv1.HandshakeAck, error) {
	raddr, err := resolve(ctx, addr)
	if err != nil {
		return nil, err
	}
	l, err := u.dial(raddr)
	if err != nil {
		return nil, err
	}
	ack, err := u.handshake(ctx, l, timeout)
	if err != nil {
		l.close()
		return nil, err
	}
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		l.close()
		return nil, ErrClosed
	}
	u.remote, u.cur, u.ack = raddr, l, ack
	u.lastRecv.Store(time.Now().UnixNano())
	u.wg.Add(1) // under mu, before Close can wait
	go u.keepAlive()
	u.mu.Unlock()
	return ack, nil
}

// resolve turns a UDP host:port into an address, within ctx.
func resolve(ctx context.Context, addr string) (*net.UDPAddr, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolve: no address for %q", host)
	}
	p, err := net.DefaultResolver.LookupPort(ctx, "udp", port)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(ips[0].Unmap(), uint16(p))), nil
}

// dial opens a new local socket connected to remote and starts its reader.
func (u *UDP) dial(remote *net.UDPAddr) (*link, error) {
	conn, err := net.DialUDP("udp", nil, remote)
	if err != nil {
		return nil, fmt.Errorf("open udp socket: %w", err)
	}
	l := &link{conn: conn, acks: make(chan *realmv1.HandshakeAck, 1), done: make(chan struct{})}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed { // no wg.Add once Close waits
		_ = conn.Close()
		return nil, ErrClosed
	}
	u.wg.Add(1)
	go u.read(l)
	return l, nil
}

// Rebind moves the session to a new local socket: it handshakes from a fresh
// port (as after a NAT rebinding or a network change) and, once the ingress
// acknowledges, sends from it and closes the old socket. On failure the old
// socket stays in use. It takes up to Config.HandshakeTimeout.
func (u *UDP) Rebind(ctx context.Context) error {
	u.rebindMu.Lock()
	defer u.rebindMu.Unlock()
	u.mu.Lock()
	remote, closed := u.remote, u.closed
	u.mu.Unlock()
	if closed {
		return fmt.Errorf("client: rebind: %w", ErrClosed)
	}
	l, err := u.dial(remote)
	if err != nil {
		return fmt.Errorf("client: rebind: %w", err)
	}
	ack, err := u.handshake(ctx, l, u.cfg.HandshakeTimeout)
	if err != nil {
		l.close()
		return fmt.Errorf("client: rebind: %w", err)
	}
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		l.close()
		return fmt.Errorf("client: rebind: %w", ErrClosed)
	}
	old := u.cur
	u.cur, u.ack = l, ack
	u.mu.Unlock()
	old.close()
	u.log.Debug("udp rebound", zap.Stringer("local", l.conn.LocalAddr()), zap.String("endpoint", ack.GetEndpoint()))
	return nil
}

// SendInput seals in as an Input packet and sends it. The caller numbers its
// inputs (InputSequence increasing by one): the world ignores an input whose
// sequence is not above the last one it applied. A send error is usually
// transient (an ICMP report): the next input may go through. It does not
// allocate.
func (u *UDP) SendInput(in *realmv1.PlayerInput) error {
	if err := u.send(wire.TypeInput, in); err != nil {
		return fmt.Errorf("client: send input: %w", err)
	}
	u.stats.inputsSent.Add(1)
	return nil
}

// send seals msg (nil: empty plaintext) as a packet of type typ and writes it
// to the current socket.
func (u *UDP) send(typ wire.PacketType, msg proto.Message) error {
	return u.sendOn(nil, typ, msg)
}

// sendOn is send on link l (nil: the current one).
func (u *UDP) sendOn(l *link, typ wire.PacketType, msg proto.Message) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return ErrClosed
	}
	if l == nil {
		l = u.cur
	}
	buf := u.sendBuf[:0]
	var plain []byte
	if msg != nil {
		var err error
		// Marshal in place, right after the header, as SealPacket allows.
		plain, err = proto.MarshalOptions{}.MarshalAppend(buf[wire.HeaderSize:wire.HeaderSize], msg)
		if err != nil {
			return fmt.Errorf("marshal: %w", err)
		}
	}
	pkt, err := wire.SealPacket(buf, u.sess.c2s, typ, u.sess.seq.Next(), plain)
	if err != nil {
		return err
	}
	u.lastSend.Store(time.Now().UnixNano())
	if _, err := l.conn.Write(pkt); err != nil {
		u.stats.sendErrors.Add(1)
		return err
	}
	return nil
}

// keepAlive sends a KeepAlive packet whenever nothing was sent for about
// Config.KeepAliveInterval, and handshakes again when nothing arrived for
// Config.SilenceTimeout, until Close.
func (u *UDP) keepAlive() {
	defer u.wg.Done()
	half := u.cfg.KeepAliveInterval / 2
	silence, every := u.cfg.SilenceTimeout, half
	if silence > 0 {
		every = max(min(every, silence/2), time.Millisecond)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var quiet time.Time // not before: the last silence handshake's end
	for {
		select {
		case <-u.stop:
			return
		case now := <-t.C:
			if silence > 0 && now.Sub(time.Unix(0, u.lastRecv.Load())) >= silence && now.Sub(quiet) >= silence {
				u.handshakeAgain()
				quiet = time.Now()
				continue
			}
			if c := u.unconfirmed.Load(); c != nil {
				select {
				case <-c.l.done: // a link given up (a failed Rebind)
					u.unconfirmed.CompareAndSwap(c, nil)
				default:
					u.confirm(c) // the echo may have been lost
				}
			}
			if now.Sub(time.Unix(0, u.lastSend.Load())) < half {
				continue
			}
			if u.send(wire.TypeKeepAlive, nil) == nil {
				u.stats.keepAlivesSent.Add(1)
			}
		}
	}
}

// confirmation is a challenge to echo from a link (HandshakeAck.challenge).
type confirmation struct {
	l   *link
	msg *realmv1.KeepAlive
}

// confirm echoes a handshake's challenge in a KeepAlive from the link the
// ack came on: the ingress sends snapshots to an endpoint only once it has
// proved, so, that it receives there (docs/PROTOCOL.md §2). Sent on every
// ack, and again on keep-alive ticks until a snapshot arrives on that link.
func (u *UDP) confirm(c *confirmation) {
	if u.sendOn(c.l, wire.TypeKeepAlive, c.msg) == nil {
		u.stats.confirmsSent.Add(1)
	}
}

// handshakeAgain handshakes from the current socket after a silence (see
// Config.SilenceTimeout), unless a Rebind is under way. A failure is logged;
// the next silence tries again.
func (u *UDP) handshakeAgain() {
	if !u.rebindMu.TryLock() {
		return
	}
	defer u.rebindMu.Unlock()
	u.mu.Lock()
	l := u.cur
	u.mu.Unlock()
	select { // an ack left from before the silence proves nothing
	case <-l.acks:
	default:
	}
	u.stats.silenceHandshakes.Add(1)
	ack, err := u.handshake(context.Background(), l, u.cfg.HandshakeTimeout)
	if err != nil {
		if !errors.Is(err, ErrClosed) {
			u.log.Warn("udp handshake after silence failed", zap.Duration("silence", u.cfg.SilenceTimeout), zap.Error(err))
		}
		return
	}
	u.mu.Lock()
	u.ack = ack
	u.mu.Unlock()
	u.log.Debug("udp handshaken again after silence", zap.String("endpoint", ack.GetEndpoint()))
}

// Snapshots delivers the authenticated snapshots, oldest first, at most
// Config.SnapshotBuffer of them: when the reader falls behind, the oldest is
// dropped (Stats.SnapshotsDropped). The channel is closed by Close. With
// Config.OnSnapshot set, snapshots go there instead and this channel stays
// empty.
func (u *UDP) Snapshots() <-chan Snapshot { return u.snapshots }

// LocalAddr is the address of the socket inputs leave from.
func (u *UDP) LocalAddr() netip.AddrPort {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cur == nil {
		return netip.AddrPort{}
	}
	return u.cur.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// RemoteAddr is the ingress address the UDP handshook with.
func (u *UDP) RemoteAddr() netip.AddrPort {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.remote == nil {
		return netip.AddrPort{}
	}
	return u.remote.AddrPort()
}

// Ack is the last handshake acknowledgement: the endpoint as the ingress saw
// it, its tick rate and clock. It must not be modified.
func (u *UDP) Ack() *realmv1.HandshakeAck {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.ack
}

// Stats returns the UDP's packet counters.
func (u *UDP) Stats() Stats { return u.stats.load() }

// Close closes the sockets, stops the keep-alives, waits for the UDP's
// goroutines and then closes the Snapshots channel. The session stays
// logged in over TLS; the ingress unbinds the endpoint after its idle
// timeout. Close is idempotent and returns nil.
func (u *UDP) Close() error {
	u.closeOnce.Do(func() {
		u.mu.Lock()
		u.closed = true
		cur := u.cur
		u.mu.Unlock()
		close(u.stop)
		if cur != nil {
			_ = cur.conn.Close()
		}
		u.wg.Wait()
		close(u.snapshots)
		c := u.sess.conn
		c.mu.Lock()
		delete(c.udps, u)
		c.mu.Unlock()
	})
	return nil
}
