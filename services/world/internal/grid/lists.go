package grid

import (
	"math"
	"slices"
)

// Lists answers Grid.Nearest for points that move a little each tick, from
// a neighbour list per query point kept across ticks (Verlet lists, as in
// molecular dynamics), with the same result.
//
// A list holds every point that was within reach of its owner when it was
// built: reach is the distance of the owner's k-th nearest (or the radius,
// if fewer are in it) plus a skin. Lists are keyed by the caller's stable ids,
// and the caller reports motion: Moved(step) after each tick, step being how
// far any point moved at most, and Jumped(id) for the points that did not
// obey that bound (spawned, reused ids, teleported). Their sum, drift, bounds
// how much closer a point outside a list can have come: an outsider is at
// least reach − 2·drift away. Each query computes the distances of its list's
// points, finds its k nearest among them, and checks that the k-th of those
// is nearer than that bound: then no outsider can be among the k nearest,
// and the answer is exact. When the margin runs thin, the list is extended
// from the grid (only the ring between the old bound and the new reach is
// scanned) before it can fail; if it fails anyway, the same happens at once.
// The threshold for that is spread over the ids, so that lists built
// together are not all refreshed on the same tick.
//
// A list is not kept sorted but split: its first min(k, len) points are the
// nearest, in any order. A query computes the distances of the list's points
// (into its Scratch: the list itself holds ids only), finds the farthest
// inside and the nearest outside, and only when they cross trades the few
// points on the wrong side; points change sides rarely between two ticks,
// whereas a sort moves them across the whole list.
//
// Costs: with k = 32 and points spread evenly, a list holds about 40 points
// and a query is a pass over them, plus now and then a refresh (a scan of a
// ring of cells): a fraction of the time of Grid.Nearest at the world's
// density (BenchmarkMovingAOI). Memory: width = k + k/2 + 16 ids (4 bytes)
// per id, allocated up to the largest id seen. A point reported by Jumped
// costs one scan of the cells around it. Ids given in spatial order
// (Renumber) make the pass read fewer cache lines.
//
// An answer holds the points Grid.Nearest would return, in no particular
// order: the k nearest within the radius, by the same float32 squared
// distances. Of points at exactly the same distance, those with the lower
// ids count as nearer, rather than those earlier in the grid.
//
// Concurrency: Reset, Grow, Moved, Jumped, Drop and Clear must not run
// concurrently with anything. Nearest may run concurrently for distinct ids,
// each goroutine with its own Scratch: it writes only its id's list.
type Lists struct {
	k     int
	r, r2 float32 // radius, and the squared radius Nearest tests against
	skin  float64
	width int     // entries per list
	eps   float64 // allowance for rounding in computed distances, units

	drift float64 // sum of the steps reported to Moved
	ids   []int32 // the list of id: ids[id*width:][:lists[id].n]
	lists []list

	done []bool  // Renumber's scratch
	row  []int32 // Renumber's scratch
}

// list is one query point's neighbour list: the ids of the points in it,
// split as the package doc says.
type list struct {
	reach float64 // every point not in the list was at least this far when built
	base  float64 // drift when built
	n     int32   // keys in use
	ok    bool    // whether the list is maintained (else it is rebuilt)
}

// Reset configures the lists for the k nearest within radius r, with lists
// reaching skin farther than needed, and forgets every list. A larger skin
// means longer lists (a slower pass) but fewer refreshes: about sixteen
// times the distance a point moves in a tick measured best (see
// BenchmarkMovingAOI).
func (l *Lists) Reset(k int, r, skin float32) {
	l.k = max(k, 0)
	l.r, l.r2 = r, r*r
	l.skin = math.Max(float64(skin), 0)
	if w := l.k + l.k/2 + 16; w != l.width {
		l.width = w
		l.lists, l.ids = nil, nil // Grow allocates them for the new width
	}
	// Distances are computed in float32 from float32 positions: relative
	// error about 1e-7, so 1e-5 of the longest distance that matters is a
	// wide margin.
	l.eps = 1e-5 * (float64(r) + l.skin)
	l.drift = 0
	clear(l.lists)
}

// Grow makes room for ids below n. Ids at or above it must not be passed to
// the other methods.
func (l *Lists) Grow(n int) {
	if n <= len(l.lists) {
		return
	}
	if n > cap(l.lists) {
		c := n + n/4
		lists := make([]list, len(l.lists), c)
		copy(lists, l.lists)
		l.lists = lists
		ids := make([]int32, c*l.width)
		copy(ids, l.ids)
		l.ids = ids
	}
	l.lists = l.lists[:n]
}

// Moved reports that since the last call no point moved farther than step,
// except those then passed to Jumped. A step that is not a finite number
// drops every list.
func (l *Lists) Moved(step float64) {
	if !(step >= 0 && step < math.MaxFloat32) {
		l.Clear()
		return
	}
	l.drift += step
}

// Clear drops every list; each is built again on its next query.
func (l *Lists) Clear() {
	for i := range l.lists {
		l.lists[i].ok = false
	}
	l.drift = 0
}

// Drop forgets the list of id (a point that is gone, or no longer queried).
func (l *Lists) Drop(id int32) {
	l.lists[id].ok = false
}

// Jumped reports that point id appeared, or moved farther than the last
// step given to Moved. Its own list is dropped, and it is added to the lists
// of the points near it that must hold it. g must index the points at their
// current positions (xs, ys), as for Nearest.
func (l *Lists) Jumped(id int32, xs, ys []float32, g *Grid, s *Scratch) {
	l.lists[id].ok = false
	x, y := xs[id], ys[id]
	if l.k == 0 || x != x || y != y { // NaN is near nothing
		return
	}
	// No list reaches farther than the radius plus the skin.
	far := float32(float64(l.r) + l.skin + 2*l.eps)
	for _, key := range g.scanRing(x, y, 0, far*far, s) {
		p := g.index[uint32(key)]
		if p == id || int(p) >= len(l.lists) {
			continue
		}
		li := &l.lists[p]
		if !li.ok {
			continue
		}
		// Outsiders must be at least the list's bound away: id is, or it
		// joins the list.
		if dist(key)-l.eps >= l.bound(li) {
			continue
		}
		ids := l.ids[int(p)*l.width:][:l.width]
		if slices.Contains(ids[:li.n], id) {
			continue
		}
		if int(li.n) == l.width {
			li.ok = false
			continue
		}
		ids[li.n] = id
		li.n++
	}
}

// bound returns how near an outsider of li can be now, in units.
func (l *Lists) bound(li *list) float64 {
	return li.reach - 2*(l.drift-li.base)
}

// Nearest appends to dst the ids of the points within the radius of point
// id, at most k of them, leaving out id itself, in no particular order: the
// points of g.Nearest(dst, xs[id], ys[id], r, k, id, s), but from id's list.
// g must have been built (BuildIDs) from xs and ys as they are now, with
// every id below the size given to Grow.
func (l *Lists) Nearest(dst []int32, id int32, xs, ys []float32, g *Grid, s *Scratch) []int32 {
	if l.k == 0 {
		return dst
	}
	li := &l.lists[id]
	x, y := xs[id], ys[id]
	var keys []uint64
	var n int
	if !li.ok {
		keys, n = l.build(id, li, x, y, g, s)
	} else {
		ids := l.ids[int(id)*l.width:][:li.n]
		a := min(l.k, len(ids))
		var top uint64
		keys, top = s.rekey(ids, a, xs, ys, x, y)
		var ref float64
		n, ref = l.answer(keys[:a], top)
		if margin := l.bound(li) - ref - l.eps; margin <= l.refreshAt(id) {
			keys, n = l.refresh(id, li, keys, ref, x, y, g, s)
		} else {
			l.gather(keys[:a], n)
		}
	}
	if n < 0 {
		s.Fallbacks++
		return g.Nearest(dst, x, y, l.r, l.k, id, s)
	}
	start := len(dst)
	dst = slices.Grow(dst, n)[:start+n]
	for j, key := range keys[:n] {
		dst[start+j] = int32(uint32(key))
	}
	return dst
}

// rekey returns the keys of the points of a list, ids, from (x, y): squared
// distance (float32 bits) above id, in s.list. It restores the list's split:
// keys[:a] are the a smallest, in no particular order, and top is the
// largest of them (0 if a is 0). The pass computing the distances also
// finds the largest key inside and the smallest outside; only when they
// cross does swapAcross trade the keys on the wrong side, in keys and ids.
func (s *Scratch) rekey(ids []int32, a int, xs, ys []float32, x, y float32) (keys []uint64, top uint64) {
	s.list = resize(s.list, len(ids))
	keys = s.list
	in, out := keys[:a], keys[a:]
	for j, p := range ids[:a] {
		key := distKey(p, xs, ys, x, y)
		in[j] = key
		top = max(top, key)
	}
	low := uint64(math.MaxUint64)
	for j, p := range ids[a:] {
		key := distKey(p, xs, ys, x, y)
		out[j] = key
		low = min(low, key)
	}
	if a == 0 || top < low {
		return keys, top
	}
	return keys, s.swapAcross(ids, keys, a, top, low)
}

// SortNearest orders ids (indices into xs, ys) nearest first from (x, y),
// points at the same distance by id: the order in which Lists counts
// points nearer. For a caller that must cut an answer of Nearest, which
// is in no particular order, to its nearest few.
func (s *Scratch) SortNearest(ids []int32, xs, ys []float32, x, y float32) {
	keys := s.vals[:0]
	for _, p := range ids {
		keys = append(keys, distKey(p, xs, ys, x, y))
	}
	slices.Sort(keys)
	for i, key := range keys {
		ids[i] = int32(uint32(key))
	}
	s.vals = keys
}

// distKey returns the key of point p from (x, y).
func distKey(p int32, xs, ys []float32, x, y float32) uint64 {
	dx, dy := xs[p]-x, ys[p]-y
	return uint64(math.Float32bits(dx*dx+dy*dy))<<32 | uint64(uint32(p))
}

// swapAcross restores the split of keys at a when the largest key inside,
// top, exceeds the smallest outside, low. Inside keys at most low are below
// every outside key, and outside keys at least top are above every inside
// key: those stay. The others (the inside keys above low and the outside
// keys below top) are sorted, and as many of the smallest as left the
// inside go back in. The ids of the list follow. It returns the new largest
// inside key.
func (s *Scratch) swapAcross(ids []int32, keys []uint64, a int, top, low uint64) uint64 {
	slots, vals := s.slots[:0], s.vals[:0]
	var kept uint64
	for j, key := range keys[:a] {
		if key > low {
			slots, vals = append(slots, int32(j)), append(vals, key)
		} else {
			kept = max(kept, key)
		}
	}
	inside := len(vals) // at least 1: top
	for j := a; j < len(keys); j++ {
		if key := keys[j]; key < top {
			slots, vals = append(slots, int32(j)), append(vals, key)
		}
	}
	insertionSort(vals)
	for i, j := range slots {
		keys[j], ids[j] = vals[i], int32(uint32(vals[i]))
	}
	s.slots, s.vals = slots, vals
	return max(kept, vals[inside-1])
}

// answer returns how many keys are the answer and the distance an outsider
// must exceed for it to be exact: the k-th nearest's, or the radius when
// fewer than k are within it. in are the min(k, len(list)) smallest keys of
// a list, in any order, and top the largest of them. The answer is the keys
// of in within the radius (gather puts them first).
func (l *Lists) answer(in []uint64, top uint64) (n int, ref float64) {
	r2 := math.Float32bits(l.r2)
	if len(in) == l.k && uint32(top>>32) <= r2 {
		return len(in), dist(top)
	}
	for _, key := range in {
		n += b2i(uint32(key>>32) <= r2)
	}
	return n, math.Sqrt(float64(l.r2))
}

// gather moves the n keys of in within the radius to its front.
func (l *Lists) gather(in []uint64, n int) {
	if n == len(in) {
		return
	}
	r2 := math.Float32bits(l.r2)
	m := 0
	for j, key := range in {
		if uint32(key>>32) <= r2 {
			in[m], in[j] = key, in[m]
			m++
		}
	}
}

// refreshAt is the margin (units) under which the list of id is refreshed
// before it fails: between 1/16 and 5/16 of the skin, spread over ids by a
// multiplicative hash, so that lists built on the same tick come due on
// different ticks. (Refreshing earlier costs more refreshes, later more
// lists past their margin; this range measured best at the world's
// density, see BenchmarkTick in package sim.)
func (l *Lists) refreshAt(id int32) float64 {
	u := float64(uint32(id)*0x9e3779b9>>8) / (1 << 24)
	return l.skin * (1.0/16 + u/4)
}

// refresh rebuilds the list of id around its current keys: the keys
// nearer than the list's bound are all the points that near (so they stay),
// and the grid supplies the ring from that bound out to the new reach. The
// keys are split as repartition leaves them (the min(k, len) smallest
// first). ref is the current k-th distance (or the radius), an upper bound
// of the true one.
func (l *Lists) refresh(id int32, li *list, keys []uint64, ref float64, x, y float32, g *Grid, s *Scratch) ([]uint64, int) {
	lo := l.bound(li) - 2*l.eps // every point nearer than this is listed
	if lo <= 0 {
		return l.build(id, li, x, y, g, s)
	}
	s.Refreshes++
	// The keys nearer than lo stay, moved to the front in order. If all
	// of the smallest are kept, they stay where they are, still the
	// smallest; else the kept ones are all among the smallest, and the
	// ring's nearest complete them. Either way settle finds the split in
	// place.
	lo2 := float32(lo * lo)
	keep := 0
	for j, key := range keys {
		if math.Float32frombits(uint32(key>>32)) < lo2 {
			keys[keep], keys[j] = key, keys[keep]
			keep++
		}
	}
	reach := ref + l.skin
	hi := float32(reach + l.eps)
	ring := g.scanRing(x, y, lo2, hi*hi, s)
	// To ids, without id itself (only there when lo2 is 0), then sorted.
	m := 0
	for _, key := range ring {
		p := g.index[uint32(key)]
		ring[m] = key&^math.MaxUint32 | uint64(uint32(p))
		m += b2i(p != id)
	}
	ring = s.sortKeys(ring[:m], hi*hi)
	return l.settle(li, id, keys[:keep], ring, reach, s)
}

// build builds the list of id from the grid.
func (l *Lists) build(id int32, li *list, x, y float32, g *Grid, s *Scratch) ([]uint64, int) {
	s.Builds++
	reach := float64(l.r) + l.skin
	found := g.nearestKeys(x, y, float32(reach), l.width+2, s) // with self, and one past the width
	m := 0
	for _, key := range found {
		p := g.index[uint32(key)]
		if p == id {
			continue
		}
		found[m] = key&^math.MaxUint32 | uint64(uint32(p))
		m++
	}
	found = found[:m]
	insertionSort(found) // ties by id
	return l.settle(li, id, s.list[:0], found, reach, s)
}

// settle stores the list of id made of its first keep keys and then more
// (sorted, all farther than those kept): together every point within
// reach, except that only the width nearest fit. The kept keys are in any
// order but split like a list: those among the min(k, keep) smallest come
// first. It sets the list's reach and returns the keys, split, with the
// answer first, and the size of the answer, or -1 if the list cannot vouch
// for this tick's answer (more than width points tie or crowd within the
// k-th distance).
func (l *Lists) settle(li *list, id int32, kept, more []uint64, reach float64, s *Scratch) ([]uint64, int) {
	keep := len(kept)
	room := l.width - keep
	if len(more) > room {
		reach = math.Min(reach, dist(more[room])) // the first left out
		more = more[:room]
	}
	keys := append(kept, more...)
	s.list = keys[:0]

	a := min(l.k, len(keys))
	var top uint64
	for _, key := range keys[:a] {
		top = max(top, key)
	}
	n, ref := l.answer(keys[:a], top)
	reach = math.Min(reach, ref+l.skin)
	// Drop the farthest of more beyond reach: none of the answer (ref <
	// reach) and none of the kept keys, which are nearer than the bound
	// the ring starts at.
	end := len(keys)
	for end > keep && dist(keys[end-1]) >= reach {
		end--
	}
	ids := l.ids[int(id)*l.width:][:end]
	for j, key := range keys[:end] {
		ids[j] = int32(uint32(key))
	}
	li.n, li.ok = int32(end), true
	li.reach, li.base = reach-l.eps, l.drift
	if !(ref < reach) {
		return keys, -1
	}
	l.gather(keys[:min(a, end)], n)
	return keys[:end], n
}

// dist returns the distance in a key, in float64.
func dist(key uint64) float64 {
	return math.Sqrt(float64(math.Float32frombits(uint32(key >> 32))))
}

// sortKeys returns keys sorted, squared distances all at most r2: in place
// when they are few, else in s.sorted.
func (s *Scratch) sortKeys(keys []uint64, r2 float32) []uint64 {
	if len(keys) <= 16 {
		insertionSort(keys)
		return keys
	}
	return s.nearest(keys, r2, len(keys))
}

// Renumber changes the ids: the point that was id i is now perm[i], for
// every id below the size given to Grow (perm is a permutation of them).
// Lists keep their content. Callers renumber now and then so that points
// near each other have ids near each other: a query then reads positions
// that share cache lines. It costs a pass over every list.
func (l *Lists) Renumber(perm []int32) {
	n := len(l.lists)
	// Ids in the lists first, then the lists to their new places.
	for i := range l.lists {
		row := l.ids[i*l.width:][:l.lists[i].n]
		for j, p := range row {
			row[j] = perm[p]
		}
	}
	l.done = resize(l.done, n)
	clear(l.done)
	l.row = resize(l.row, l.width)
	carry := l.row
	for s := range n {
		if l.done[s] {
			continue
		}
		li := l.lists[s]
		copy(carry, l.ids[s*l.width:][:li.n])
		for i := s; ; {
			j := int(perm[i])
			next := l.lists[j]
			l.lists[j] = li
			dst := l.ids[j*l.width:][:l.width]
			// Swap the rows: dst's content goes on with the cycle.
			for k := range max(li.n, next.n) {
				carry[k], dst[k] = dst[k], carry[k]
			}
			li = next
			l.done[j] = true
			if j == s {
				break
			}
			i = j
		}
	}
}
