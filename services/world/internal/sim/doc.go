// Package sim is the world's game state and its fixed-step simulation: an
// ECS world (github.com/mlange-42/ark) of players moving on a square map, the
// events that change it, and the per-player snapshots it produces each tick.
//
// Why a package of its own: the simulation has no clock, no goroutine of its
// own and no network. World.Apply takes one event (a decoded NATS message;
// input batches flattened by Inputs.Decode, which allocates nothing),
// World.Step advances exactly one tick of Config.TickRate and returns the
// encoded snapshot batches to publish. The service (services/world/world)
// feeds Apply from its lock-free queue and calls Step from its ticker; tests
// and benchmarks call both by hand and get the same results every run.
//
// # Rules
//
//   - A player entity is spawned by the first realm.endpoint.bound of its
//     session (also a resync re-announcement), at a spawn point derived from
//     the session id (SpawnPoint: uniform over the map, the same after a
//     restart). A later bound only moves the route (ingress id, endpoint) and
//     resumes snapshots.
//   - realm.endpoint.unbound stops the snapshots of the player and keeps its
//     entity, when it comes from the ingress instance that owns the current
//     route (an unbound from the instance a session moved away from is stale
//     and ignored). With reason SESSION_CLOSED it despawns, like
//     realm.session.closed: both report the same fact, and core NATS may lose
//     either one.
//   - realm.session.closed despawns. The session id is then remembered for a
//     minute, so that an endpoint.bound published before the close but
//     delivered after it (login and ingress are different publishers, so NATS
//     does not order them) cannot resurrect the player.
//   - Inputs are server-authoritative: the move vector is clamped to length
//     1 and scaled by Config.MaxSpeed; an input whose sequence is not above
//     the newest applied one is stale and ignored, so of all inputs of one tick
//     only the newest counts; non-finite moves are rejected. The velocity holds
//     until the next input.
//   - Each tick: velocity from input, position += velocity·dt with the fixed
//     dt = 1/TickRate, clamped into [0, WorldSize]².
//   - Every SnapshotEvery ticks, each bound player gets a Snapshot of itself
//     and the nearest entities within AOIRadius, at most AOICap of them and
//     at most snapshot.MaxSize bytes (the farthest are left out), in no
//     particular order. Nearby entities carry no session id (package
//     snapshot). With SnapshotSpread the players take turns (by a hash of
//     the session id): each tick, 1/SnapshotEvery of them get theirs.
//     Snapshots are grouped by the ingress instance of the route into
//     SnapshotBatch messages of at most Config.MaxBatchBytes.
//
// # Costs
//
// A tick is O(entities) for the systems, the grid rebuild and the encoding of
// every entity (once per tick, into a chunk of bytes), plus per snapshot an
// area-of-interest query and the byte copies of the chunks it shows.
//
// The area of interest comes from neighbour lists kept across ticks
// (grid.Lists): a query recomputes the distances of the ~40 entities of the
// receiver's list, keeps its 32 nearest apart from the rest (trading the few
// that change sides since the last tick; no sort) and proves the answer
// exact from a bound on how far entities can have moved since the list was
// built (MaxSpeed, measured each tick; entities that break it, such as new
// ones, are reported to the lists one by one). Now and then a list is
// extended from the grid. The answer is the set a fresh grid query would
// give, for about a third of its cost. A snapshot that must leave entities
// out to fit snapshot.MaxSize (never at the default cap) sorts them nearest
// first and cuts the farthest.
//
// Entities have local ids, dense and stable while they live, which index the
// state copy and the lists. Every 128 views (or when a quarter of the
// entities are new) the ids are renumbered in grid order, so that neighbours'
// positions and chunks share cache lines; it costs about 1 ms at 10k
// entities. Receivers are processed in grid order within each route.
//
// The snapshot phase reads an immutable copy of the state and runs on up to
// Config.Workers goroutines, each writing its own buffer and the lists of its
// own receivers; buffers are reused across ticks, so a steady world allocates
// nothing per snapshot (nor per tick with one worker).
//
// Snapshots leave as views (package snapshot): each SnapshotBatch holds the
// encoding of every entity its players see once, in a table, and each
// player's snapshot as the indexes of its entities in it, which ingress
// assembles before sealing. Neighbours' snapshots share most entities, so
// at 10k players a tick publishes about 2 MB instead of the 10 MB of whole
// snapshots, and the NATS publish inside the service's tick shrinks with it
// (BenchmarkTickPublish). See BenchmarkTick in bench_test.go for the tick
// itself against the previous implementation and a proto.Marshal baseline.
//
// # Concurrency
//
// A World belongs to one goroutine: Apply, Step and the accessors must not be
// called concurrently. Step starts and joins its worker goroutines before it
// returns. The batches it returns alias buffers that the next Step reuses.
package sim
