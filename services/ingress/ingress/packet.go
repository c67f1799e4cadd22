package ingress

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"github.com/ecs-realm/realm/libs/wire"
)

// handleData authenticates an Input or KeepAlive packet p from endpoint from
// at Service.mono time now, and keeps its input for commit. p is decrypted in
// place, so the per-packet path needs no buffer of its own and allocates
// nothing. Only the endpoint's worker handles its packets, so the lock on
// the session is uncontended but for a handshake, the sweeper or a close.
func (w *worker) handleData(p []byte, from netip.AddrPort, now int64) {
	s := w.s
	id, st, ok := s.reg.Lookup(from)
	if !ok {
		s.m.dropped[dropUnknownEndpoint].Inc()
		return
	}
	seq := binary.BigEndian.Uint64(p[1:wire.HeaderSize])

	st.mu.Lock()
	if st.gone.Load() {
		// Removed (session closed) after the lookup.
		st.mu.Unlock()
		s.m.dropped[dropUnknownEndpoint].Inc()
		return
	}
	if !st.bucket.allow(now) {
		st.mu.Unlock()
		s.m.dropped[dropRate].Inc()
		return
	}
	if st.replay.Check(seq) != nil {
		st.mu.Unlock()
		s.m.dropped[dropReplay].Inc()
		return
	}
	// Decrypt in place: the plaintext overwrites the ciphertext.
	h, plain, err := wire.OpenPacket(p[wire.HeaderSize:wire.HeaderSize], st.c2s, p)
	if err != nil {
		st.mu.Unlock()
		if errors.Is(err, wire.ErrAuth) {
			s.m.dropped[dropBadAuth].Inc()
		} else {
			s.m.dropped[dropMalformed].Inc()
		}
		return
	}
	_ = st.replay.Accept(seq) // cannot fail: Check passed under the same lock
	if h.Type == wire.TypeKeepAlive {
		ok, echoed, match := st.confirm(plain)
		st.mu.Unlock()
		st.lastSeen.Store(now)
		switch {
		case !ok:
			s.m.dropped[dropMalformed].Inc()
		case !echoed:
			s.m.keepAlives.Inc()
		case match:
			s.m.confirmations[confirmOK].Inc()
		default:
			s.m.confirmations[confirmWrong].Inc()
		}
		return
	}
	st.mu.Unlock()
	st.lastSeen.Store(now)

	in, ok := decodeInput(plain)
	if !ok {
		s.m.dropped[dropMalformed].Inc()
		return
	}
	w.ins = append(w.ins, sessInput{id: id, in: in})
}
