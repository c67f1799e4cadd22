package wire

import (
	"sync/atomic"
	"time"
)

// Sequence hands out a sender's packet sequences. It starts at the Unix time
// in nanoseconds and adds one per packet (see the package documentation for
// why). It is safe for concurrent use; use NewSequence, not the zero value.
type Sequence struct {
	next atomic.Uint64 // the sequence Next returns next
}

// NewSequence returns a counter whose first sequence is now.UnixNano().
func NewSequence(now time.Time) *Sequence {
	s := new(Sequence)
	s.next.Store(uint64(now.UnixNano()))
	return s
}

// Next returns the next sequence; every call returns a different one (until
// the counter wraps after 2^64 packets).
func (s *Sequence) Next() uint64 { return s.next.Add(1) - 1 }
