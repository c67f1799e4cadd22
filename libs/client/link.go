package client

import (
	"errors"
	"net"
	"syscall"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// link is one local UDP socket, connected to the ingress, and its reader.
type link struct {
	conn *net.UDPConn
	acks chan *realmv1.HandshakeAck // cap 1: the newest ack not yet taken
	done chan struct{}              // closed when the reader returns
	err  error                      // why the reader returned; read after done
}

// close closes the socket and waits for its reader.
func (l *link) close() {
	_ = l.conn.Close()
	<-l.done
}

// isTransient reports whether a socket error is an ICMP report a connected
// UDP socket surfaces (the next packet may well get through).
func isTransient(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.ECONNRESET)
}

// read receives the link's packets until its socket is closed.
func (u *UDP) read(l *link) {
	defer u.wg.Done()
	defer close(l.done)
	buf := make([]byte, wire.MaxPacketSize+1) // one more: to see oversized packets
	plain := make([]byte, 0, wire.MaxPacketSize)
	for {
		n, err := l.conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				l.err = ErrClosed
				return
			}
			if isTransient(err) {
				u.stats.rerr.Add(1)
				continue
			}
			l.err = err
			u.log.Warn("udp read failed", zap.Error(err))
			return
		}
		plain = u.handle(l, buf[:n], plain, time.Now())
	}
}

// handle authenticates, decodes and delivers one packet. It returns plain,
// the reusable plaintext buffer.
func (u *UDP) handle(l *link, pkt, plain []byte, now time.Time) []byte {
	if len(pkt) > wire.MaxPacketSize {
		u.stats.rejected.Add(1)
		return plain
	}
	h, err := wire.ParseHeader(pkt)
	if err != nil || (h.Type != wire.TypeHandshakeAck && h.Type != wire.TypeSnapshot) {
		u.stats.rejected.Add(1)
		return plain
	}
	u.recvMu.Lock()
	if err := u.window.Check(h.Seq); err != nil {
		u.recvMu.Unlock()
		u.stats.replayed.Add(1)
		return plain
	}
	_, plain, err = wire.OpenPacket(plain[:0], u.sess.s2c, pkt)
	if err == nil {
		err = u.window.Accept(h.Seq)
	}
	u.recvMu.Unlock()
	if err != nil {
		if errors.Is(err, wire.ErrReplayed) || errors.Is(err, wire.ErrTooOld) {
			u.stats.replayed.Add(1) // a copy opened by another link first
		} else {
			u.stats.rejected.Add(1)
		}
		return plain
	}
	u.lastRecv.Store(now.UnixNano())

	switch h.Type {
	case wire.TypeHandshakeAck:
		a := new(realmv1.HandshakeAck)
		if proto.Unmarshal(plain, a) != nil || a.GetSessionId() != u.sess.SessionID {
			u.stats.rejected.Add(1)
			return plain
		}
		u.stats.acks.Add(1)
		if len(a.GetChallenge()) > 0 {
			c := &confirmation{l: l, msg: &realmv1.KeepAlive{Challenge: a.GetChallenge()}}
			u.unconfirmed.Store(c)
			u.confirm(c)
		}
		select { // keep only the newest
		case <-l.acks:
		default:
		}
		l.acks <- a // the reader is the only sender
	case wire.TypeSnapshot:
		if c := u.unconfirmed.Load(); c != nil && c.l == l {
			u.unconfirmed.CompareAndSwap(c, nil) // confirmed
		}
		if on := u.cfg.OnSnapshot; on != nil {
			u.stats.snapshots.Add(1)
			on(plain, now)
			return plain
		}
		s := new(realmv1.Snapshot)
		if proto.Unmarshal(plain, s) != nil {
			u.stats.rejected.Add(1)
			return plain
		}
		u.stats.snapshots.Add(1)
		u.deliver(Snapshot{Msg: s, Received: now})
	}
	return plain
}

// deliver queues a snapshot, dropping the oldest queued one when the channel
// is full.
func (u *UDP) deliver(s Snapshot) {
	for {
		select {
		case u.snapshots <- s:
			return
		default:
		}
		select {
		case <-u.snapshots:
			u.stats.snapshotsDropped.Add(1)
		default:
		}
	}
}
