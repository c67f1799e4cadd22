package ingress

import (
	"context"
	"net/netip"
	"time"

	"github.com/ecs-realm/realm/libs/bus"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// sweepInterval is how often idle bindings are looked for: a quarter of the
// idle timeout, between 10ms and 1s.
func (s *Service) sweepInterval() time.Duration {
	return min(max(s.cfg.IdleTimeout/4, 10*time.Millisecond), time.Second)
}

// sweepLoop runs sweep every sweepInterval until ctx ends.
func (s *Service) sweepLoop(ctx context.Context) {
	t := time.NewTicker(s.sweepInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sweep(time.Now())
		}
	}
}

// sweep, at wall time now, unbinds the endpoints idle for IdleTimeout (publishing
// EndpointUnbound{IDLE_TIMEOUT}), forgets unbound sessions whose tokens have
// all expired (nothing can bind them again), and prunes expired revocations.
// An idle session stays registered, unbound, so that its replay window keeps
// refusing its old handshakes until its token expires.
func (s *Service) sweep(now time.Time) {
	idleBefore := s.mono() - int64(s.cfg.IdleTimeout)
	type cand struct {
		id uint64
		st *sess
	}
	var idle, expired []cand
	s.reg.Range(func(id uint64, ep netip.AddrPort, st *sess) bool {
		switch {
		case ep.IsValid():
			if st.lastSeen.Load() < idleBefore {
				idle = append(idle, cand{id, st})
			}
		default:
			st.mu.Lock()
			exp := st.expires
			st.mu.Unlock()
			if exp <= now.UnixNano() {
				expired = append(expired, cand{id, st})
			}
		}
		return true
	})
	for _, c := range idle {
		s.bindMu.Lock()
		// Check again: a handshake may have refreshed or moved it meanwhile.
		st, ok := s.reg.Get(c.id)
		if !s.stopping && ok && st == c.st && st.lastSeen.Load() < idleBefore {
			if ep, ok := s.reg.Unbind(c.id); ok {
				s.bindings.Add(-1)
				s.m.unbinds[unbindIdle].Inc()
				s.publish(bus.SubjectEndpointUnbound, &realmv1.EndpointUnbound{
					SessionId: c.id,
					Endpoint:  ep.String(),
					IngressId: s.cfg.ID,
					Reason:    realmv1.UnbindReason_UNBIND_REASON_IDLE_TIMEOUT,
				})
			}
		}
		s.bindMu.Unlock()
	}
	for _, c := range expired {
		s.bindMu.Lock()
		st, ok := s.reg.Get(c.id)
		if _, bound := s.reg.Endpoint(c.id); !s.stopping && ok && st == c.st && !bound {
			s.forgetLocked(c.id, st)
		}
		s.bindMu.Unlock()
	}
	s.bindMu.Lock()
	s.revoked.prune(now.UnixNano())
	s.revokedLen.Store(int64(s.revoked.len()))
	s.bindMu.Unlock()
}
