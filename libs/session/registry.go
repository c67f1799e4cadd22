package session

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Registry holds sessions by id and the endpoint each is bound to. S is the
// caller's per-session value, stored as given and returned by copy (use a
// pointer type for mutable state). The zero Registry is not usable; call New.
// It is safe for concurrent use.
type Registry[S any] struct {
	mu     sync.Mutex   // serialises changes; taken before any shard lock
	n      atomic.Int64 // number of sessions; changed under mu
	_      [shardSize - 16]byte
	shards [numShards]shard[S]
}

const (
	shardBits = 6
	numShards = 1 << shardBits
	// shardSize is two cache lines (the adjacent-line prefetcher pairs
	// them), so whatever the allocation's alignment, readers of different
	// shards never write the same line.
	shardSize = 128
)

// shard is one part of both maps. A session's entry lives in the shard of its
// id; an endpoint's mapping lives in the shard of the endpoint.
type shard[S any] struct {
	mu   sync.RWMutex                  // guards the maps, and ep of the entries in byID
	byID map[uint64]*entry[S]          // sessions whose id hashes here
	byEP map[netip.AddrPort]binding[S] // bound endpoints that hash here
	_    [shardSize - 40]byte          // readers of different shards share no lock's cache line
}

// binding is the value of an endpoint: a copy of the session's id and value,
// so that a lookup reads one map slot and follows no pointer.
type binding[S any] struct {
	id  uint64
	val S
}

// entry is one session.
type entry[S any] struct {
	id  uint64         // immutable
	val S              // immutable
	ep  netip.AddrPort // zero when unbound; guarded by the id shard's lock, changed under Registry.mu
}

// BindResult says what Bind changed.
type BindResult struct {
	// Previous is the endpoint the session was bound to before, now
	// forgotten; zero if it was unbound or already bound to this endpoint.
	Previous netip.AddrPort
	// Displaced is the session that held the endpoint before and is now
	// unbound, 0 if none.
	Displaced uint64
	// Changed is false when the session was already bound to the endpoint
	// and nothing changed.
	Changed bool
}

// New returns an empty registry.
func New[S any]() *Registry[S] {
	r := &Registry[S]{}
	for i := range r.shards {
		r.shards[i].byID = make(map[uint64]*entry[S])
		r.shards[i].byEP = make(map[netip.AddrPort]binding[S])
	}
	return r
}

// Add registers an unbound session. It fails with ErrZeroID for id 0 and
// ErrExists if the id is registered.
func (r *Registry[S]) Add(id uint64, s S) error {
	if id == 0 {
		return fmt.Errorf("add session: %w", ErrZeroID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sh := r.idShard(id)
	if _, ok := sh.byID[id]; ok {
		return fmt.Errorf("add session %d: %w", id, ErrExists)
	}
	sh.mu.Lock()
	sh.byID[id] = &entry[S]{id: id, val: s}
	sh.mu.Unlock()
	r.n.Add(1)
	return nil
}

// Get returns the session's value.
func (r *Registry[S]) Get(id uint64) (S, bool) {
	sh := r.idShard(id)
	sh.mu.RLock()
	e := sh.byID[id]
	sh.mu.RUnlock()
	if e == nil {
		var zero S
		return zero, false
	}
	return e.val, true
}

// Remove unregisters a session and forgets its endpoint. It returns the
// session's value and the endpoint it was bound to (zero if none), and false
// if the id was not registered.
func (r *Registry[S]) Remove(id uint64) (S, netip.AddrPort, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.idShard(id).byID[id] // reading under r.mu: no change runs concurrently
	if e == nil {
		var zero S
		return zero, netip.AddrPort{}, false
	}
	ep := e.ep
	var l lockSet
	l.add(idShardIndex(id))
	if ep.IsValid() {
		l.add(epShardIndex(ep))
	}
	r.lock(&l)
	delete(r.shards[idShardIndex(id)].byID, id)
	if ep.IsValid() {
		delete(r.shards[epShardIndex(ep)].byEP, ep)
	}
	r.unlock(&l)
	r.n.Add(-1)
	return e.val, ep, true
}

// Bind binds a session to an endpoint (normalised, see the package
// documentation). If the session was bound elsewhere it moves and the old
// endpoint is forgotten; if another session held the endpoint, that session
// is left unbound and reported as Displaced. It fails with
// ErrInvalidEndpoint for an endpoint without an address and
// ErrUnknownSession for an unregistered id.
func (r *Registry[S]) Bind(id uint64, ep netip.AddrPort) (BindResult, error) {
	if !ep.IsValid() {
		return BindResult{}, fmt.Errorf("bind session %d: %w", id, ErrInvalidEndpoint)
	}
	ep = normalize(ep)
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.idShard(id).byID[id]
	if e == nil {
		return BindResult{}, fmt.Errorf("bind session %d: %w", id, ErrUnknownSession)
	}
	if e.ep == ep {
		return BindResult{}, nil
	}
	prev := e.ep
	var displaced *entry[S]
	if b, ok := r.epShard(ep).byEP[ep]; ok {
		displaced = r.idShard(b.id).byID[b.id] // never e: e.ep != ep
	}

	var l lockSet
	l.add(idShardIndex(id))
	l.add(epShardIndex(ep))
	if prev.IsValid() {
		l.add(epShardIndex(prev))
	}
	if displaced != nil {
		l.add(idShardIndex(displaced.id))
	}
	r.lock(&l)
	if prev.IsValid() {
		delete(r.shards[epShardIndex(prev)].byEP, prev)
	}
	if displaced != nil {
		displaced.ep = netip.AddrPort{}
	}
	r.shards[epShardIndex(ep)].byEP[ep] = binding[S]{id: id, val: e.val}
	e.ep = ep
	r.unlock(&l)

	res := BindResult{Previous: prev, Changed: true}
	if displaced != nil {
		res.Displaced = displaced.id
	}
	return res, nil
}

// Unbind forgets a session's endpoint and returns it; false if the session is
// not registered or not bound.
func (r *Registry[S]) Unbind(id uint64) (netip.AddrPort, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.idShard(id).byID[id]
	if e == nil || !e.ep.IsValid() {
		return netip.AddrPort{}, false
	}
	ep := e.ep
	var l lockSet
	l.add(idShardIndex(id))
	l.add(epShardIndex(ep))
	r.lock(&l)
	delete(r.shards[epShardIndex(ep)].byEP, ep)
	e.ep = netip.AddrPort{}
	r.unlock(&l)
	return ep, true
}

// Lookup returns the session bound to an endpoint (normalised first). It is
// the per-packet path: one shard read lock, one map lookup, no allocation.
func (r *Registry[S]) Lookup(ep netip.AddrPort) (uint64, S, bool) {
	ep = normalize(ep)
	sh := r.epShard(ep)
	sh.mu.RLock()
	b, ok := sh.byEP[ep]
	sh.mu.RUnlock()
	return b.id, b.val, ok
}

// Endpoint returns the endpoint a session is bound to; false if the session
// is not registered or not bound.
func (r *Registry[S]) Endpoint(id uint64) (netip.AddrPort, bool) {
	sh := r.idShard(id)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e := sh.byID[id]
	if e == nil || !e.ep.IsValid() {
		return netip.AddrPort{}, false
	}
	return e.ep, true
}

// Bound returns the session's value and endpoint in one lookup; false if
// the session is not registered or not bound. It is the per-snapshot path.
func (r *Registry[S]) Bound(id uint64) (S, netip.AddrPort, bool) {
	sh := r.idShard(id)
	sh.mu.RLock()
	defer sh.mu.RUnlock() // Bind writes e.ep under the lock
	e := sh.byID[id]
	if e == nil || !e.ep.IsValid() {
		var zero S
		return zero, netip.AddrPort{}, false
	}
	return e.val, e.ep, true
}

// Len returns the number of registered sessions.
func (r *Registry[S]) Len() int { return int(r.n.Load()) }

// Range calls fn for every session (ep is zero for an unbound one), in no
// particular order, until fn returns false. It iterates over a snapshot taken
// at one instant: changes made after the snapshot, by fn or anyone else, are
// not seen. Taking the snapshot copies every session (O(n) time and memory)
// and delays changes, not lookups, meanwhile. No lock is held while fn runs.
func (r *Registry[S]) Range(fn func(id uint64, ep netip.AddrPort, s S) bool) {
	type item struct {
		id  uint64
		ep  netip.AddrPort
		val S
	}
	r.mu.Lock()
	snap := make([]item, 0, r.n.Load())
	for i := range r.shards {
		for _, e := range r.shards[i].byID {
			snap = append(snap, item{e.id, e.ep, e.val})
		}
	}
	r.mu.Unlock()
	for _, it := range snap {
		if !fn(it.id, it.ep, it.val) {
			return
		}
	}
}

// normalize maps an IPv4-mapped IPv6 address to plain IPv4 (dropping any
// zone, which IPv4 cannot have).
func normalize(ep netip.AddrPort) netip.AddrPort {
	if ep.Addr().Is4In6() {
		return netip.AddrPortFrom(ep.Addr().Unmap(), ep.Port())
	}
	return ep
}

// golden is 2^64 divided by the golden ratio: multiplying by it and keeping
// the top bits spreads nearby keys over the shards (Fibonacci hashing).
const golden = 0x9e3779b97f4a7c15

func idShardIndex(id uint64) int { return int(id * golden >> (64 - shardBits)) }

func epShardIndex(ep netip.AddrPort) int {
	a := ep.Addr().As16()
	hi, lo := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])
	h := (hi*golden ^ lo) * golden
	h = (h ^ uint64(ep.Port())) * golden
	return int(h >> (64 - shardBits))
}

func (r *Registry[S]) idShard(id uint64) *shard[S] { return &r.shards[idShardIndex(id)] }

func (r *Registry[S]) epShard(ep netip.AddrPort) *shard[S] {
	return &r.shards[epShardIndex(ep)]
}

// lockSet is the set of shards one change touches (at most four), locked in
// increasing index order.
type lockSet struct {
	idx [4]int
	n   int
}

// add inserts i keeping idx sorted and without duplicates.
func (l *lockSet) add(i int) {
	for k := 0; k < l.n; k++ {
		if l.idx[k] == i {
			return
		}
	}
	k := l.n
	for ; k > 0 && l.idx[k-1] > i; k-- {
		l.idx[k] = l.idx[k-1]
	}
	l.idx[k] = i
	l.n++
}

func (r *Registry[S]) lock(l *lockSet) {
	for _, i := range l.idx[:l.n] {
		r.shards[i].mu.Lock()
	}
}

func (r *Registry[S]) unlock(l *lockSet) {
	for k := l.n - 1; k >= 0; k-- {
		r.shards[l.idx[k]].mu.Unlock()
	}
}
