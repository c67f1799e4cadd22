package load

import "time"

// sendLogSize is how many recent inputs a player remembers the send time
// of: 256 inputs are 12.8 s at 20 Hz, longer than any latency worth
// measuring. An input acknowledged later than that is not measured.
const sendLogSize = 256

// sendLog remembers when each of a player's recent inputs was sent, by
// input sequence, in a fixed ring: no growth with the run's length. It is
// owned by one player goroutine.
type sendLog struct {
	seq [sendLogSize]uint64
	at  [sendLogSize]time.Time
}

// put records that input seq was sent at t.
func (l *sendLog) put(seq uint64, t time.Time) {
	i := seq % sendLogSize
	l.seq[i], l.at[i] = seq, t
}

// get returns when input seq was sent, if it is still remembered.
func (l *sendLog) get(seq uint64) (time.Time, bool) {
	i := seq % sendLogSize
	if seq == 0 || l.seq[i] != seq {
		return time.Time{}, false
	}
	return l.at[i], true
}
