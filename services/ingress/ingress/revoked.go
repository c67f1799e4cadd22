package ingress

// revokedSet remembers closed session ids until every token of theirs has
// expired, so a handshake with such a token is refused. Entries are kept in
// insertion order, which is also expiry order (every entry lives the same
// TokenLifetime), so pruning pops from the front. It is bounded: past max
// entries the oldest is evicted early. Not safe for concurrent use
// (Service.bindMu guards it).
type revokedSet struct {
	max   int
	until map[uint64]int64 // session id -> Unix nanoseconds until which it stays revoked
	queue []revokedEntry   // insertion order; queue[head:] is live
	head  int
}

type revokedEntry struct {
	id    uint64
	until int64
}

func newRevokedSet(max int) *revokedSet {
	return &revokedSet{max: max, until: make(map[uint64]int64)}
}

// add revokes id until the given time; it returns how many entries were
// evicted early to stay within max (0 or 1).
func (r *revokedSet) add(id uint64, until int64) int {
	evicted := 0
	if _, ok := r.until[id]; !ok && len(r.until) >= r.max {
		for r.head < len(r.queue) {
			e := r.queue[r.head]
			r.head++
			if r.until[e.id] == e.until {
				delete(r.until, e.id)
				evicted++
				break
			}
		}
	}
	r.until[id] = until
	r.queue = append(r.queue, revokedEntry{id: id, until: until})
	r.compact()
	return evicted
}

// has reports whether id is revoked at time now.
func (r *revokedSet) has(id uint64, now int64) bool {
	until, ok := r.until[id]
	return ok && now < until
}

// prune forgets the entries that expired by now.
func (r *revokedSet) prune(now int64) {
	for r.head < len(r.queue) && r.queue[r.head].until <= now {
		e := r.queue[r.head]
		r.head++
		if r.until[e.id] == e.until {
			delete(r.until, e.id)
		}
	}
	r.compact()
}

// len returns the number of revoked ids.
func (r *revokedSet) len() int { return len(r.until) }

// compact drops the consumed front of the queue once it is half of it.
func (r *revokedSet) compact() {
	if r.head > 0 && r.head*2 >= len(r.queue) {
		n := copy(r.queue, r.queue[r.head:])
		clear(r.queue[n:])
		r.queue = r.queue[:n]
		r.head = 0
	}
}
