package ingress

import (
	"errors"
	"net/netip"
	"time"

	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// clockSkew is the slack allowed between login's clock and this one when a
// token's expiry is compared with TokenLifetime.
const clockSkew = time.Minute

// handshakeDrop maps a wire.OpenHandshake error to a drop reason.
func handshakeDrop(err error) string {
	switch {
	case errors.Is(err, wire.ErrTokenExpired):
		return dropExpired
	case errors.Is(err, wire.ErrTokenInvalid), errors.Is(err, wire.ErrSessionMismatch), errors.Is(err, wire.ErrAuth):
		return dropBadAuth
	default: // size, type, layout, padding, token size or version
		return dropMalformed
	}
}

// failHandshake counts a refused handshake: nothing is sent back.
func (s *Service) failHandshake(result, reason string) {
	s.m.handshakes[result].Inc()
	s.m.dropped[reason].Inc()
}

// handleHandshake verifies a handshake request and binds its source endpoint
// to the session (docs/PROTOCOL.md §2). Nothing is sent unless the request
// verifies, and the ack is never larger than the request. It runs on the
// receive loop (it may call receiver.barrier).
func (s *Service) handleHandshake(p []byte, from netip.AddrPort) {
	now := time.Now()
	// Size, layout, token (version, expiry, tag), session id, request tag.
	hs, c2s, err := wire.OpenHandshake(s.tokens, p, now)
	if err != nil {
		r := handshakeDrop(err)
		s.failHandshake(r, r)
		return
	}
	tok := hs.Token
	if tok.Expires.After(now.Add(s.cfg.TokenLifetime + clockSkew)) {
		// Its revocation could not be remembered for as long as it lives.
		s.failHandshake(hsLifetime, dropExpired)
		s.lifetimeLog.do(now, func(suppressed int) {
			s.log.Warn("refusing connect tokens that outlive --token-lifetime; raise it to login's token lifetime",
				zap.Duration("token_lifetime", s.cfg.TokenLifetime),
				zap.Duration("token_remaining", tok.Expires.Sub(now)),
				zap.Int("suppressed", suppressed))
		})
		return
	}

	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	if s.stopping {
		return
	}
	if s.revoked.has(hs.SessionID, now.UnixNano()) {
		s.failHandshake(dropRevoked, dropRevoked)
		return
	}
	id := hs.SessionID
	st, ok := s.reg.Get(id)
	if ok && (st.clientKey != tok.ClientKey || st.serverKey != tok.ServerKey) {
		// Login gives a session the same keys for its whole life; a token with
		// other keys starts the session's state over.
		// The Bind below announces the endpoint again.
		s.forgetLocked(id, st)
		ok = false
	}
	if !ok {
		st = newSess(tok, c2s, now, s.mono(), s.cfg.RateLimit, s.cfg.RateBurst)
		_ = st.replay.Accept(hs.Seq) // empty window
		if err := s.reg.Add(id, st); err != nil {
			s.failHandshake(hsError, dropMalformed)
			return
		}
	} else {
		cur, bound := s.reg.Endpoint(id)
		st.mu.Lock()
		if err := st.replay.Accept(hs.Seq); err != nil {
			// A replayed request: harmless from the bound endpoint (the client
			// re-sent it), an attempt to move the session from anywhere else.
			fromBound := bound && cur == from
			limited := fromBound && !st.bucket.allow(s.mono())
			st.mu.Unlock()
			switch {
			case !fromBound:
				s.failHandshake(dropReplay, dropReplay)
			case limited:
				s.failHandshake(dropRate, dropRate)
			default:
				s.m.handshakes[hsRepeat].Inc()
				s.ack(st, p, from, now)
			}
			return
		}
		st.expires = max(st.expires, tok.Expires.UnixNano())
		st.mu.Unlock()
	}

	cur, bound := s.reg.Endpoint(id)
	if bound && cur != from || s.takesEndpoint(id, from) {
		// The binding moves: let the workers finish what was read from
		// the old endpoints first.
		s.rx.barrier()
	}
	if !bound || cur != from {
		// Before the endpoint is bound: the snapshot path must not see it
		// bound and still confirmed.
		st.newBinding()
	}
	res, err := s.reg.Bind(id, from)
	if err != nil {
		s.failHandshake(hsError, dropMalformed)
		return
	}
	st.lastSeen.Store(s.mono())
	if res.Displaced != 0 {
		// The endpoint belonged to another session (a new login reusing the
		// client's port): that session is now unbound.
		s.bindings.Add(-1)
		s.m.unbinds[unbindDisplaced].Inc()
		s.publish(bus.SubjectEndpointUnbound, &realmv1.EndpointUnbound{
			SessionId: res.Displaced,
			Endpoint:  from.String(),
			IngressId: s.cfg.ID,
			Reason:    realmv1.UnbindReason_UNBIND_REASON_UNSPECIFIED,
		})
	}
	switch {
	case !res.Changed:
		s.m.handshakes[hsRepeat].Inc()
	case res.Previous.IsValid():
		s.m.handshakes[hsRebound].Inc()
	default:
		s.bindings.Add(1)
		s.m.handshakes[hsBound].Inc()
	}
	if res.Changed {
		s.publish(bus.SubjectEndpointBound, s.boundEvent(st, from, false))
	}
	s.ack(st, p, from, now)
}

// takesEndpoint reports whether endpoint from is bound to a session other
// than id. Called with bindMu held.
func (s *Service) takesEndpoint(id uint64, from netip.AddrPort) bool {
	other, _, ok := s.reg.Lookup(from)
	return ok && other != id
}

// boundEvent is the EndpointBound of a session bound to ep.
func (s *Service) boundEvent(st *sess, ep netip.AddrPort, resync bool) *realmv1.EndpointBound {
	return &realmv1.EndpointBound{
		SessionId: st.id,
		AccountId: st.account,
		Endpoint:  ep.String(),
		IngressId: s.cfg.ID,
		Resync:    resync,
	}
}

// ack sends a HandshakeAck for st to the endpoint that sent request.
// Called with bindMu held (ackBuf is shared).
func (s *Service) ack(st *sess, request []byte, to netip.AddrPort, now time.Time) {
	st.mu.Lock()
	challenge := st.challenge
	st.mu.Unlock()
	msg := &realmv1.HandshakeAck{
		SessionId:        st.id,
		Endpoint:         to.String(),
		TickRateHz:       s.cfg.TickRate,
		ServerTimeUnixNs: now.UnixNano(),
		Challenge:        challenge[:],
	}
	// Marshal behind the header's room, then seal in place.
	plain, err := proto.MarshalOptions{}.MarshalAppend(s.ackBuf[wire.HeaderSize:wire.HeaderSize], msg)
	if err != nil {
		s.m.handshakes[hsError].Inc()
		return
	}
	pkt, err := wire.SealPacket(s.ackBuf[:0], st.s2c, wire.TypeHandshakeAck, st.seq.Next(), plain)
	if err != nil {
		s.m.handshakes[hsError].Inc()
		return
	}
	s.ackBuf = pkt[:0]
	// No amplification: the answer is never larger than the request.
	if len(pkt) > len(request) {
		s.m.handshakes[hsError].Inc()
		return
	}
	// A failed send is counted by the socket (write errors); the client
	// retries its handshake.
	_ = s.srv.WriteTo(pkt, to)
}
