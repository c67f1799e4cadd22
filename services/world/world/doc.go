// Package world is the world service: the single-threaded game loop that owns
// the ECS world, fed by NATS through a lock-free queue, sending every bound
// player a snapshot of its surroundings through the ingress instance that
// owns its UDP endpoint.
//
// # Design
//
// NATS callbacks are the producers of one mpsc.Queue: the subscriptions to
// realm.session.opened/closed, realm.endpoint.bound/unbound and
// realm.world.input decode their message on their own goroutine and push it,
// nothing more. One goroutine, the loop in Service.Run, is the only consumer
// and the only owner of the game state (a sim.World), so the state needs no
// locks. At each tick it drains the queue (at most maxDrain messages, the rest
// waits for the next tick), applies the messages, steps the simulation by one
// fixed dt and publishes the resulting SnapshotBatch messages on
// realm.ingress.<id>.out. The rules of the simulation, the area of interest
// and the snapshot encoding are documented in package sim.
//
// Each subscription has its own callback goroutine, so messages of different
// subjects reach the queue in no guaranteed order, even from one publisher.
// The simulation is built for that: an endpoint.unbound that arrives after a
// newer endpoint.bound is recognised as stale, a closed session's late
// endpoint.bound does not respawn it, and an input that overtakes its
// session's first endpoint.bound is dropped and counted
// (realm_world_dropped_total{reason="input_unknown_session"}); clients send
// inputs continuously, so the next one applies.
//
// # Tick loop
//
// Ticks start at a fixed rate (Config.TickRate) against the monotonic clock.
// A tick that overruns its period is counted (realm_world_tick_overruns_total)
// and the next one starts at once; the schedule then restarts from that
// moment, so an overrun never turns into a burst of catch-up ticks. The
// simulation advances the same fixed dt per tick regardless: under sustained
// overload, game time runs slower than wall time rather than in larger steps.
//
// # Restarts and reconnects
//
// The world keeps no state outside its process. When Run starts, and after
// every NATS reconnect (a subscriber misses what was published while it was
// away), it publishes realm.ingress.resync; every ingress instance answers by
// re-publishing its bindings as EndpointBound{resync: true}, and the world
// spawns the players it does not know (at their deterministic spawn point) and
// refreshes the routes of those it does. Players whose binding or session
// ended while the world was disconnected are not learnt about that way: they
// stay until their session.closed is seen, like any missed event on core NATS.
//
// # Costs
//
// A NATS callback costs one protobuf decode and one Push (an atomic add and
// store). The loop's tick is measured in realm_world_tick_duration_seconds;
// the snapshot phase runs on up to Config.Workers goroutines; see package sim
// for the numbers. Publishing copies each batch into nats.go's buffer, on the
// loop goroutine.
package world
