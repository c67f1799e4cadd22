package ingress

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecs-realm/realm/libs/wire"
)

// sess is the per-session state, the value stored in the session registry.
// The keys, AEADs and send sequence never change after creation (a token
// with other keys for the same session replaces the whole sess), so the
// snapshot path reads them without a lock.
type sess struct {
	id        uint64
	account   uint64
	clientKey wire.Key       // to tell a token with other keys
	serverKey wire.Key       // likewise
	c2s       cipher.AEAD    // opens the client's packets
	s2c       cipher.AEAD    // seals acks and snapshots
	seq       *wire.Sequence // server-to-client sequences; atomic

	lastSeen atomic.Int64 // Service.mono time of the last authenticated packet or handshake
	gone     atomic.Bool  // removed from the registry: drop what is still in flight
	// confirmed is set when a KeepAlive from the bound endpoint echoed
	// challenge (return routability): only then are snapshots sent there.
	// Cleared, with a new challenge, before every new binding.
	confirmed atomic.Bool

	mu      sync.Mutex        // guards the fields below; taken per packet, after Service.bindMu when both are held
	replay  wire.ReplayWindow // client-to-server sequences, handshakes included
	bucket  bucket            // per-endpoint rate limit
	expires int64             // Unix nanoseconds: the latest token expiry seen for the session
	// challenge is the binding's return-routability challenge, sent in
	// every HandshakeAck (see newBinding).
	challenge [challengeSize]byte
}

// challengeSize is the size of HandshakeAck.challenge.
const challengeSize = 16

// newBinding gives st a new challenge and withdraws the confirmation of its
// endpoint: called before the session is bound to a new endpoint, so that
// no snapshot goes there before a KeepAlive from it echoes the challenge
// (only a client that receives at that endpoint can). Called with bindMu
// held.
func (st *sess) newBinding() {
	st.mu.Lock()
	rand.Read(st.challenge[:]) // never fails (crypto/rand)
	st.confirmed.Store(false)
	st.mu.Unlock()
}

// confirm checks a KeepAlive's plaintext against the binding's challenge:
// it reports whether the plaintext was well formed, and whether it
// carried a challenge, and if so whether that was the binding's (then the
// endpoint is confirmed). Called with st.mu held: a new binding cannot
// change the challenge in between.
func (st *sess) confirm(plain []byte) (ok, echoed, match bool) {
	challenge, ok := decodeKeepAlive(plain)
	if !ok || challenge == nil {
		return ok, false, false
	}
	match = subtle.ConstantTimeCompare(challenge, st.challenge[:]) == 1
	if match {
		st.confirmed.Store(true)
	}
	return true, true, match
}

// newSess builds the state of a session from its verified token; now is the
// wall clock, mono the Service's monotonic clock.
func newSess(tok wire.ConnectToken, c2s cipher.AEAD, now time.Time, mono int64, rate float64, burst int) *sess {
	st := &sess{
		id:        tok.SessionID,
		account:   tok.AccountID,
		clientKey: tok.ClientKey,
		serverKey: tok.ServerKey,
		c2s:       c2s,
		s2c:       wire.NewAEAD(tok.ServerKey),
		seq:       wire.NewSequence(now),
		expires:   tok.Expires.UnixNano(),
	}
	st.bucket.init(rate, burst, mono)
	st.lastSeen.Store(mono)
	return st
}

// bucket is a token bucket: rate tokens per second up to burst, one token
// per packet. Not safe for concurrent use (sess.mu guards it).
type bucket struct {
	tokens float64 // available now; at most burst
	last   int64   // Service.mono time of the last refill
	rate   float64 // tokens per nanosecond
	burst  float64
}

func (b *bucket) init(perSecond float64, burst int, now int64) {
	b.rate = perSecond / float64(time.Second)
	b.burst = float64(burst)
	b.tokens = b.burst
	b.last = now
}

// allow takes one token at time now, and reports whether there was one.
func (b *bucket) allow(now int64) bool {
	if now > b.last {
		b.tokens = min(b.burst, b.tokens+float64(now-b.last)*b.rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
