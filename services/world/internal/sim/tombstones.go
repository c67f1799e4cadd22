package sim

// tombstoneSeconds is how long a closed session id is remembered, so that a
// late endpoint.bound does not respawn it. Session ids are random 64-bit
// values, never reused, so remembering longer would only cost memory.
const tombstoneSeconds = 60

// tombstones remembers closed session ids for ttl ticks: a map for lookups
// and a FIFO of (session, expiry) to forget them in order.
type tombstones struct {
	ttl   uint64
	ids   map[uint64]struct{}
	fifo  []tombstone
	first int // index of the oldest live entry in fifo
}

type tombstone struct{ sid, expires uint64 }

func (t *tombstones) init(ttl uint64) {
	t.ttl = max(ttl, 1)
	t.ids = make(map[uint64]struct{})
}

func (t *tombstones) has(sid uint64) bool {
	_, ok := t.ids[sid]
	return ok
}

func (t *tombstones) add(sid, now uint64) {
	if t.has(sid) {
		return
	}
	t.ids[sid] = struct{}{}
	t.fifo = append(t.fifo, tombstone{sid: sid, expires: now + t.ttl})
}

// expire forgets the session ids whose time has come.
func (t *tombstones) expire(now uint64) {
	for t.first < len(t.fifo) && t.fifo[t.first].expires <= now {
		delete(t.ids, t.fifo[t.first].sid)
		t.first++
	}
	// Compact once the dead prefix dominates, keeping appends amortized O(1).
	if t.first > 1024 && t.first*2 > len(t.fifo) {
		n := copy(t.fifo, t.fifo[t.first:])
		t.fifo = t.fifo[:n]
		t.first = 0
	}
}

// len returns the number of remembered session ids.
func (t *tombstones) len() int { return len(t.ids) }
