package ingress

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/ingress/udpserver"
)

// subscribe subscribes to every subject the service consumes.
func (s *Service) subscribe() error {
	for _, sub := range []func() (*nats.Subscription, error){
		func() (*nats.Subscription, error) {
			return bus.Subscribe(s.nc, bus.SubjectSessionClosed, s.onSessionClosed)
		},
		func() (*nats.Subscription, error) {
			return bus.Subscribe(s.nc, bus.SubjectEndpointBound, s.onEndpointBound)
		},
		func() (*nats.Subscription, error) {
			return bus.Subscribe(s.nc, bus.SubjectIngressResync, func(*realmv1.ResyncRequest) { s.Resync() })
		},
		func() (*nats.Subscription, error) {
			return bus.SubscribeDecode(s.nc, bus.IngressOutSubject(s.cfg.ID), s.onSnapshots)
		},
	} {
		sn, err := sub()
		if err != nil {
			return fmt.Errorf("ingress: subscribe: %w", err)
		}
		s.subs = append(s.subs, sn)
	}
	// Make sure the server knows the subscriptions before New returns, so
	// that nothing published afterwards is missed.
	if err := s.nc.FlushTimeout(shutdownFlushTimeout); err != nil {
		return fmt.Errorf("ingress: subscribe: %w", err)
	}
	return nil
}

// unsubscribe stops every subscription; a handler already running finishes
// (and changes nothing once stopping is set).
func (s *Service) unsubscribe() {
	for _, sub := range s.subs {
		_ = sub.Unsubscribe()
	}
	s.subs = nil
}

// onSessionClosed revokes the session's tokens and removes its binding at
// once: later packets from its endpoint are unknown, later handshakes with
// its tokens revoked.
func (s *Service) onSessionClosed(m *realmv1.SessionClosed) {
	id := m.GetSessionId()
	if id == 0 {
		return
	}
	now := time.Now()
	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	if s.stopping {
		return
	}
	if s.revoked.add(id, now.Add(s.cfg.TokenLifetime+clockSkew).UnixNano()) > 0 {
		s.m.evicted.Inc()
	}
	s.revokedLen.Store(int64(s.revoked.len()))
	st, ok := s.reg.Get(id)
	if !ok {
		return
	}
	if ep := s.forgetLocked(id, st); ep.IsValid() {
		s.m.unbinds[unbindClosed].Inc()
		s.publish(bus.SubjectEndpointUnbound, &realmv1.EndpointUnbound{
			SessionId: id,
			Endpoint:  ep.String(),
			IngressId: s.cfg.ID,
			Reason:    realmv1.UnbindReason_UNBIND_REASON_SESSION_CLOSED,
		})
	}
}

// onEndpointBound drops the local binding of a session that another ingress
// instance has just bound (the client moved there). It publishes nothing: the
// other instance's EndpointBound already tells the world where the session
// is, and an EndpointUnbound from here could arrive after it and undo it.
// The session's state is kept (unbound) so that its replay window still
// refuses old handshakes here. Re-announcements (resync) are ignored: they
// say where a session was, not that it moved.
func (s *Service) onEndpointBound(m *realmv1.EndpointBound) {
	if m.GetIngressId() == s.cfg.ID || m.GetResync() {
		return
	}
	id := m.GetSessionId()
	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	if s.stopping {
		return
	}
	if _, ok := s.reg.Unbind(id); ok {
		s.bindings.Add(-1)
		s.m.unbinds[unbindMoved].Inc()
	}
}

// Resync publishes an EndpointBound{resync: true} for every current binding.
// The service calls it when a world asks (realm.ingress.resync); wire it to
// bus.Options.OnReconnect too, so that a world that missed events while this
// connection was down learns the bindings again.
func (s *Service) Resync() {
	type binding struct {
		id uint64
		st *sess
	}
	var all []binding
	s.reg.Range(func(id uint64, ep netip.AddrPort, st *sess) bool {
		if ep.IsValid() {
			all = append(all, binding{id, st})
		}
		return true
	})
	n := 0
	for _, b := range all {
		// One session at a time, so handshakes are not held up for long and
		// a binding that changed since the snapshot is announced as it is now.
		s.bindMu.Lock()
		if s.stopping {
			s.bindMu.Unlock()
			break
		}
		if st, ep, ok := s.reg.Bound(b.id); ok && st == b.st {
			s.publish(bus.SubjectEndpointBound, s.boundEvent(st, ep, true))
			n++
		}
		s.bindMu.Unlock()
	}
	s.log.Info("re-announced bindings", zap.Int("bindings", n))
}

// snapBatch is the most snapshots sent by one udpserver.WriteBatch.
const snapBatch = 64

// onSnapshots seals each snapshot of the encoded SnapshotBatch b for its
// session and sends it to the session's endpoint, up to snapBatch datagrams
// per udpserver.WriteBatch (sendmmsg on Linux): whole snapshots as they are,
// views assembled from the batch's entities (snapshot.Reader, which
// allocates nothing). It runs on the subscription's goroutine, one batch at
// a time, so the snapshot buffers need no lock. A snapshot is sealed, with
// its sequence, when it is reached, and sent at most snapBatch-1 snapshots
// later, before onSnapshots returns. A malformed batch is refused whole
// (counted by bus as undecodable); a bad view is skipped and counted.
func (s *Service) onSnapshots(b []byte) error {
	msgs := s.snapMsgs[:0]
	err := s.snaps.Read(b, func(session uint64, snap []byte, err error) {
		if err != nil {
			s.m.skipped[skipBadView].Inc()
			return
		}
		msgs = s.queueSnapshot(msgs, session, snap)
	})
	if len(msgs) > 0 {
		s.sendSnapshots(msgs)
	}
	return err
}

// queueSnapshot seals plain, the snapshot of session id, into the next
// snapshot buffer and adds it to msgs, sending msgs when they are
// snapBatch. It returns msgs.
func (s *Service) queueSnapshot(msgs []udpserver.Message, id uint64, plain []byte) []udpserver.Message {
	st, ep, ok := s.reg.Bound(id)
	if !ok || st.gone.Load() {
		s.m.skipped[skipUnknown].Inc()
		return msgs
	}
	if !st.confirmed.Load() {
		s.m.skipped[skipUnconfirmed].Inc()
		return msgs
	}
	i := len(msgs)
	pkt, err := wire.SealPacket(s.snapBufs[i][:0], st.s2c, wire.TypeSnapshot, st.seq.Next(), plain)
	if err != nil {
		s.m.skipped[skipTooLarge].Inc()
		return msgs
	}
	s.snapBufs[i] = pkt[:0]
	msgs = append(msgs, udpserver.Message{Buf: pkt, Addr: ep})
	if len(msgs) == snapBatch {
		s.sendSnapshots(msgs)
		msgs = msgs[:0]
	}
	return msgs
}

// sendSnapshots sends sealed snapshots and counts each one sent, or refused
// by the socket.
func (s *Service) sendSnapshots(msgs []udpserver.Message) {
	n, _ := s.srv.WriteBatch(msgs)
	s.m.snapshots.Add(float64(n))
	if failed := len(msgs) - n; failed > 0 {
		s.m.skipped[skipSendError].Add(float64(failed))
	}
}
