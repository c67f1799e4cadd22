package grid

import "math"

// MaxCols caps the number of cells per side (MaxCols² cells in all, 4 MiB of
// cell offsets at most).
const MaxCols = 1024

// Grid is a uniform spatial grid over the square [0, size]². The zero value
// is an empty grid; fill it with Build.
type Grid struct {
	cell float32 // cell width, in world units
	inv  float32 // 1 / cell
	cols int     // cells per side

	// start[c] .. start[c+1] are the sorted positions of the points in cell
	// c (row-major: c = cy*cols + cx); len(start) = cols*cols + 1.
	start []int32
	// xs, ys and index are indexed by sorted position: the coordinates of
	// the point there and its index in the caller's arrays.
	xs, ys []float32
	index  []int32
	// cellOf is the cell of each caller index; Build's scratch.
	cellOf []int32
}

// Build indexes the points (xs[i], ys[i]) of a square world of side size with
// cells of width cell (the query radius, or a fraction of it). len(xs) must
// equal len(ys); size and cell must be positive. The grid keeps no reference
// to xs and ys.
func (g *Grid) Build(size, cell float32, xs, ys []float32) {
	g.build(size, cell, xs, ys, nil)
}

// BuildIDs is Build for the points listed in ids only: ids are indices into xs
// and ys, and the queries return them. It lets a caller keep its points at
// stable indices with holes (removed points) and index only the live ones.
func (g *Grid) BuildIDs(size, cell float32, xs, ys []float32, ids []int32) {
	g.build(size, cell, xs, ys, ids)
}

func (g *Grid) build(size, cell float32, xs, ys []float32, ids []int32) {
	if !(size > 0) {
		size = 1
	}
	if !(cell > 0) || cell > size {
		cell = size
	}
	cols := int(math.Ceil(float64(size / cell)))
	if cols > MaxCols {
		cols = MaxCols
		cell = size / MaxCols
	}
	cols = max(cols, 1)
	g.cell, g.inv, g.cols = cell, 1/cell, cols

	n := min(len(xs), len(ys))
	if ids != nil {
		n = len(ids)
	}
	id := func(i int) int32 {
		if ids != nil {
			return ids[i]
		}
		return int32(i)
	}
	cells := cols * cols
	g.start = resize(g.start, cells+1)
	clear(g.start)
	g.cellOf = resize(g.cellOf, n)
	for i := range n {
		p := id(i)
		c := g.cellIndex(xs[p], ys[p])
		g.cellOf[i] = int32(c)
		g.start[c+1]++
	}
	for c := 1; c <= cells; c++ {
		g.start[c] += g.start[c-1]
	}
	g.xs = resize(g.xs, n)
	g.ys = resize(g.ys, n)
	g.index = resize(g.index, n)
	// Place each point at the next free slot of its cell, using start[c] as
	// the cursor, then shift the offsets back by one cell.
	for i := range n {
		c := g.cellOf[i]
		p := g.start[c]
		g.start[c]++
		q := id(i)
		g.xs[p], g.ys[p], g.index[p] = xs[q], ys[q], q
	}
	copy(g.start[1:], g.start[:cells])
	g.start[0] = 0
}

// Len returns the number of points indexed.
func (g *Grid) Len() int { return len(g.index) }

// Order returns the caller indices (ids, after BuildIDs) in cell order (row-major cells, in each
// cell in input order): walking it visits the points region by region. The
// slice belongs to the grid, valid until the next Build.
func (g *Grid) Order() []int32 { return g.index }

// Cols returns the number of cells per side.
func (g *Grid) Cols() int { return g.cols }

// CellSize returns the width of a cell, in world units.
func (g *Grid) CellSize() float32 { return g.cell }

// cellIndex returns the row-major cell of (x, y), clamped into the grid.
func (g *Grid) cellIndex(x, y float32) int {
	return g.cellRow(y)*g.cols + g.cellCol(x)
}

func (g *Grid) cellCol(x float32) int { return clampInt(x*g.inv, g.cols) }
func (g *Grid) cellRow(y float32) int { return clampInt(y*g.inv, g.cols) }

// clampInt converts v to a cell coordinate in [0, n-1]; NaN maps to 0.
func clampInt(v float32, n int) int {
	if !(v >= 0) {
		return 0
	}
	if v >= float32(n) {
		return n - 1
	}
	return int(v)
}

// Scratch is per-goroutine working memory for queries. Its zero value is
// ready; it grows to the largest query seen and is then reused.
type Scratch struct {
	keys   []uint64 // candidates within the radius
	class  []uint8  // distance class of each candidate
	sorted []uint64 // the nearest candidates, by distance
	list   []uint64 // the keys of the list Lists.Nearest works on
	slots  []int32  // positions in it whose keys Lists.Nearest trades
	vals   []uint64 // the keys traded

	// Rescans counts the queries whose shrunken first search found too
	// few points and had to search the full radius (see Nearest).
	Rescans uint64
	// Builds, Refreshes and Fallbacks count what Lists.Nearest did
	// besides its pass over a list: lists built from scratch, lists
	// extended from the grid, and answers taken from Grid.Nearest
	// because a list could not vouch for them (see Lists).
	Builds, Refreshes, Fallbacks uint64
}

// Nearest appends to dst the caller indices of the points within distance r
// of (x, y) (boundary included), nearest first, at most k of them (k ≤ 0
// means none), leaving out the point whose caller index is self (pass -1 to
// leave out nothing). It reads the grid only, so concurrent calls with
// distinct Scratch values are safe.
//
// When the cells around (x, y) hold many more than k points, Nearest first
// searches a smaller radius, estimated from their density to hold about
// shrinkMargin² × k points, and searches the full radius only if that finds
// fewer than k: the result is the same, for a fraction of the distance checks.
func (g *Grid) Nearest(dst []int32, x, y, r float32, k int, self int32, s *Scratch) []int32 {
	if k <= 0 {
		return dst
	}
	want := k
	if self >= 0 {
		want++ // self is usually among the candidates, at distance 0
	}
	for _, key := range g.nearestKeys(x, y, r, want, s) {
		if k == 0 {
			break
		}
		idx := g.index[uint32(key)]
		if idx == self {
			continue
		}
		dst = append(dst, idx)
		k--
	}
	return dst
}

// nearestKeys returns the keys of the want nearest points within r of (x, y)
// (all of them if fewer), sorted: squared distance above sorted position.
func (g *Grid) nearestKeys(x, y, r float32, want int, s *Scratch) []uint64 {
	if want <= 0 || len(g.index) == 0 || !(r >= 0) {
		return nil
	}
	q := r
	x0, x1, y0, y1 := g.box(x, y, r)
	if n := g.count(x0, x1, y0, y1); n > 2*want && !noShrink {
		area := float32((x1-x0+1)*(y1-y0+1)) * g.cell * g.cell
		if guess := shrinkMargin * float32(math.Sqrt(float64(float32(want)*area/(math.Pi*float32(n))))); guess < r {
			q = guess
		}
	}
	keys := g.scan(x, y, q, s)
	if len(keys) < want && q < r {
		s.Rescans++
		q = r
		keys = g.scan(x, y, q, s)
	}
	return s.nearest(keys, q*q, want)
}

// shrinkMargin scales the radius estimated to hold k points: the estimate
// is noisy (Poisson counts, uneven density), and a search that comes up short
// costs a second one.
const shrinkMargin = 1.3

// noShrink turns the smaller first search off, for benchmarks to compare.
var noShrink = false

// box returns the cells (columns x0..x1, rows y0..y1) that the square around
// the circle of radius r at (x, y) overlaps.
func (g *Grid) box(x, y, r float32) (x0, x1, y0, y1 int) {
	return g.cellCol(x - r), g.cellCol(x + r), g.cellRow(y - r), g.cellRow(y + r)
}

// count returns the number of points in a box of cells.
func (g *Grid) count(x0, x1, y0, y1 int) int {
	n := 0
	for row := y0; row <= y1; row++ {
		base := row * g.cols
		n += int(g.start[base+x1+1] - g.start[base+x0])
	}
	return n
}

// scan returns the keys of the points within r of (x, y), in s.keys.
func (g *Grid) scan(x, y, r float32, s *Scratch) []uint64 {
	x0, x1, y0, y1 := g.box(x, y, r)
	// Room for every point of the box, plus one slot that the branch-free
	// append below writes past the last accepted key.
	total := g.count(x0, x1, y0, y1) + 1
	if cap(s.keys) < total {
		s.keys = make([]uint64, total+total/4)
	}
	keys := s.keys[:total]

	// Key = float32 bits of the squared distance (monotone for
	// non-negative floats) above the sorted position: sorting keys sorts by
	// distance, ties by position, deterministically.
	r2 := r * r
	n := 0
	for row := y0; row <= y1; row++ {
		base := row * g.cols
		lo, hi := int(g.start[base+x0]), int(g.start[base+x1+1])
		xs, ys := g.xs[lo:hi], g.ys[lo:hi]
		ys = ys[:len(xs)]
		for j, px := range xs {
			dx, dy := px-x, ys[j]-y
			d2 := dx*dx + dy*dy
			keys[n] = uint64(math.Float32bits(d2))<<32 | uint64(lo+j)
			n += b2i(d2 <= r2)
		}
	}
	return keys[:n]
}

// scanRing returns the keys of the points at squared distance d2 from
// (x, y) with lo2 <= d2 <= hi2, in s.keys: scan with a hole in the middle.
func (g *Grid) scanRing(x, y, lo2, hi2 float32, s *Scratch) []uint64 {
	r := float32(math.Sqrt(float64(hi2)))
	x0, x1, y0, y1 := g.box(x, y, r)
	total := g.count(x0, x1, y0, y1) + 1
	if cap(s.keys) < total {
		s.keys = make([]uint64, total+total/4)
	}
	keys := s.keys[:total]
	n := 0
	for row := y0; row <= y1; row++ {
		base := row * g.cols
		lo, hi := int(g.start[base+x0]), int(g.start[base+x1+1])
		xs, ys := g.xs[lo:hi], g.ys[lo:hi]
		ys = ys[:len(xs)]
		for j, px := range xs {
			dx, dy := px-x, ys[j]-y
			d2 := dx*dx + dy*dy
			keys[n] = uint64(math.Float32bits(d2))<<32 | uint64(lo+j)
			n += b2i(d2 <= hi2) & b2i(d2 >= lo2)
		}
	}
	return keys[:n]
}

// buckets is how many distance classes nearest sorts candidates into. Points
// spread evenly over the disc have squared distances spread evenly over
// [0, r²], so each class holds about len(keys)/buckets candidates.
const buckets = 64

// nearest returns the want smallest keys (or all of them, if fewer), sorted.
// keys hold squared distances ≤ r2 in their upper 32 bits. It is a counting
// sort on the squared distance: a histogram over buckets classes finds the
// class holding the want-th key, the keys of that class and the nearer ones
// are placed by class, and an insertion sort finishes the nearly sorted
// result. That is O(len(keys) + buckets) with no data-dependent branch in the
// loops over keys, instead of a quickselect and a comparison sort.
func (s *Scratch) nearest(keys []uint64, r2 float32, want int) []uint64 {
	if len(keys) <= 16 {
		insertionSort(keys)
		return keys[:min(len(keys), want)]
	}
	// Squared distances in [0, r2] map to classes [0, buckets-1]; the
	// half-class margin absorbs rounding at d2 == r2 and the mask lets the
	// compiler drop bounds checks.
	scale := (buckets - 0.5) / r2
	if !(scale < math.MaxInt32) { // r2 == 0 (or tiny): one class
		scale = 0
	}
	if cap(s.class) < len(keys) {
		s.class = make([]uint8, len(keys)+len(keys)/4)
	}
	classes := s.class[:len(keys)]
	var hist [buckets + 1]int32
	for i, key := range keys {
		c := uint8(int(math.Float32frombits(uint32(key>>32))*scale)) & (buckets - 1)
		classes[i] = c
		hist[c+1]++
	}
	// Prefix sums up to the cut, the first class whose end reaches want:
	// hist[c] is where class c starts. Classes past the cut all point at a
	// spare slot past the end, where the placing loop dumps their keys.
	cut := buckets - 1
	for c := range buckets {
		hist[c+1] += hist[c]
		if int(hist[c+1]) >= want {
			cut = c
			break
		}
	}
	m := hist[cut+1]
	for c := cut + 1; c < buckets; c++ {
		hist[c] = m
	}
	if cap(s.sorted) < int(m)+1 {
		s.sorted = make([]uint64, m+m/4+1)
	}
	out := s.sorted[:m+1]
	for i, key := range keys {
		c := classes[i] & (buckets - 1)
		p := hist[c]
		out[p] = key
		hist[c] = p + int32(b2i(int(c) <= cut))
	}
	out = out[:m]
	insertionSort(out)
	return out[:min(len(out), want)]
}

// insertionSort sorts a, in O(len(a)) when a is nearly sorted.
func insertionSort(a []uint64) {
	for i := 1; i < len(a); i++ {
		v := a[i]
		j := i - 1
		for j >= 0 && a[j] > v {
			a[j+1] = a[j]
			j--
		}
		a[j+1] = v
	}
}

// b2i is 1 for true, 0 for false; the compiler turns it into a SETcc, which
// keeps the distance filter free of unpredictable branches.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// resize returns s with length n, reusing its array when large enough.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/8)
	}
	return s[:n]
}
