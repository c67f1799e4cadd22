// Package grid is the world's area-of-interest index: a uniform spatial grid
// over a square world, rebuilt from scratch every tick, answering "the k
// nearest points within radius r of (x, y)" (Grid.Nearest), and neighbour
// lists kept across ticks that answer the same question for points that
// move a little each tick, for a fraction of the work (Lists).
//
// Why a uniform grid: the world is a bounded square where players spread
// fairly evenly and every point moves every tick. A grid whose cells are a
// fraction of the query radius is rebuilt in O(n) with a counting sort (no
// per-point updates to track, no tree to rebalance), and a query reads only
// the cells its circle's bounding box overlaps: one contiguous run of the
// cell-sorted arrays per row, so the scan is sequential memory. BuildIDs
// indexes a subset of the caller's points, so that a caller can keep points
// at stable indices (ids) with holes.
//
// Why lists on top: at the world's density (10k players on 1000×1000, 32
// nearest within 50) a fresh query scans about 150 points and sorts the 80
// it finds, every tick, for every player, though the answer hardly changes
// between ticks. A Lists keeps each query point's neighbours (those within
// its k-th nearest's distance plus a skin), recomputes only their distances,
// keeps the k nearest apart from the rest (trading the few that change
// sides), and proves each answer exact from a bound on how far points can
// have moved; see Lists for the argument.
//
// Costs: Build is O(n + cells) and, once its arrays have grown to the
// population, allocates nothing. Grid.Nearest costs one branch-free
// distance check per point of the scanned cells, plus a counting sort of
// the candidates inside the radius by distance class that places only the k
// nearest. When the cells around the point hold many more than k points,
// the query first scans a smaller radius estimated from their density (and
// the full radius in the rare case that finds fewer than k), which cuts the
// distance checks in a crowd by about half. Lists.Nearest costs a pass over
// its list (about 40 points) and, now and then, a scan of a ring of cells.
// Nothing is allocated once the caller's Scratch and the Lists have grown.
//
// Limits: coordinates are clamped into [0, size] when bucketed, so points
// outside the square are indexed in the border cells (the world clamps
// positions anyway). The number of cells per side is capped at MaxCols: a
// radius that small relative to the world gets wider cells, which stays
// correct (a query scans as many rings as its radius needs) but scans more
// points. Grid.Nearest answers nearest first, Lists.Nearest in no particular
// order. Among points at exactly the same distance, the nearer is the one
// earlier in the cell-sorted arrays (Grid.Nearest) or with the lower id
// (Lists), which depends only on the input: results are deterministic.
//
// Concurrency: Build must not run concurrently with anything. After Build,
// any number of goroutines may query at once, each with its own Scratch;
// see Lists for its rules.
package grid
