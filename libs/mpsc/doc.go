// Package mpsc is the lock-free multi-producer, single-consumer queue that
// feeds the world: many NATS callback goroutines Push messages, and the one
// game-loop goroutine drains everything pending once per tick, sleeping on
// the queue's wake-up signal between ticks if it likes.
//
// # Why not a channel
//
// A buffered channel takes a lock on every send and every receive, and parks
// and wakes goroutines whenever it fills or empties. A Queue costs a producer
// one atomic add and one atomic store per item and never makes it wait for the
// consumer; the consumer takes whole batches without any atomic
// read-modify-write. The benchmarks in this package measure both, and a mutex
// queue and a plain port of the seed's node queue, in the same run (see
// tools/mpscbench); Costs below quotes them.
//
// # Design
//
// The seed's queue is Vyukov's intrusive node queue: a linked list with a
// stub node, producers exchange the tail pointer and then link the previous
// node to theirs, and the single consumer follows next pointers from the head.
// A direct Go port allocates a node per item and pays two atomic operations
// and a cache miss per item; measured on the target machine it is slower than
// a buffered channel. This package keeps that structure but makes each node a
// block of 128 slots, as Tokio's mpsc and crossbeam's list channel do:
//
//   - The list starts with one empty block, which plays the stub's part: head
//     (the consumer's block) and tail (the producers' block) always point at a
//     block, so an empty queue is just "the next slot is not published yet"
//     and no operation has an empty-queue special case. Head and tail sit on
//     separate cache lines, and the producers' claim counter on a third, so
//     that the consumer and producers do not falsely share.
//   - Push claims a slot with one atomic add on the tail block's counter,
//     writes the item, and publishes it by storing the block's generation in
//     the slot's ready word. Then it loads the wake-up flag (one atomic load
//     on a line that is written only when the consumer goes to sleep).
//   - The producer whose add returns exactly 128 moves the tail on, the way
//     Vyukov's push exchanges the tail and links: the next block is already
//     linked (prepared from the spare stack, or allocated, by the producer
//     that moved the tail before), so it puts its own item in slot 0, moves
//     the tail, opens the block for claims, and prepares the block after it.
//     Producers that overflow the full block meanwhile wait for the tail to
//     move, a handful of stores.
//   - Pop, PopBatch and Drain read slots in order for as long as their ready
//     word holds the block's current generation, and move to the next block at
//     the end of one. A batch costs one atomic load per item, and one
//     compare-and-swap per 128 items to hand the used-up block back.
//   - A producer descheduled between its claim and its publish must not
//     stall everyone behind it, as it does in Vyukov's queue. When the next
//     slot is claimed but unpublished while a later one is published, the
//     consumer notes it as a hole, goes on, and hands the held item out as
//     soon as it is published. No producer's items are reordered: a producer
//     publishes each item before it claims its next slot, so if the consumer
//     sees a later slot published and then still finds the hole unpublished,
//     the hole belongs to another producer's unfinished push. The consumer
//     re-checks its holes after it sees a slot published and before it hands
//     that slot out, and hands out published holes first.
//
// # Block reuse
//
// An emptied block goes to a spare stack (up to Config.SpareBlocks) and is
// linked again by a later prepare, so a queue whose consumer keeps up
// allocates nothing. Reuse is safe without hazard pointers or epochs because of three
// rules:
//
//  1. A claim is valid only if the counter's add returns a count below 128 in
//     the block's current generation; the generation is in the counter word
//     (gen<<32 | count), so one add both claims and identifies the life of
//     the block. A block is opened (count reset, generation advanced) only
//     after it has been linked as the successor of the full tail block and
//     has become the tail. A producer holding a stale pointer to a recycled
//     block therefore either gets a full count and retries from the current
//     tail, or gets a valid slot in the block that is the tail at that moment,
//     exactly as if its pointer were fresh.
//  2. The consumer retires a block only after it has taken all 128 items of
//     its current generation (holes included) and found the link to the next
//     block. Every producer that claimed a slot in that generation has
//     published it, and publishing is the last thing a producer does to a
//     block, so nobody writes to a retired block until a prepare takes it
//     again.
//  3. The ready word of a slot holds the generation it was published in. Each
//     generation writes every slot, so a value left from the previous
//     generation never equals the current one, and ready words need no reset.
//
// The spare stack is a Treiber stack with one pusher (the consumer) and one
// popper at a time (each prepare is done by the producer that opened the
// block before, after the previous prepare linked that block), which rules
// out ABA.
//
// # Memory ordering
//
// Everything that crosses goroutines goes through sync/atomic, whose
// operations are sequentially consistent in Go's memory model. The edges that
// matter: a producer's item write happens before its ready store, which the
// consumer loads before reading the item; prepare's writes to a block happen
// before the link store that the consumer and the next mover load; the
// consumer's clearing of a retired block happens before its push to the
// spare stack, which the next prepare's pop observes; an open store happens
// before every add that sees the new generation. The race detector checks
// all of this in the tests.
//
// # Waking the consumer
//
// Ready arms a flag and returns a channel; the first Push that finds the flag
// armed clears it and sends one value, so producers pay a channel operation
// once per sleep of the consumer, not once per item. Ready arms before it
// checks the queue and Push publishes before it checks the flag, so with
// sequentially consistent atomics one of them sees the other: no wake-up is
// lost. Wait wraps Ready with a context for a consumer that has nothing else
// to do, and is tuned for throughput: while producers on other cores keep it
// fed it holds its processor for a few microseconds between batches (so the
// producers do not spread to it and contend, and the consumer does not chase
// them item by item), and otherwise it yields and parks. See Wait.
//
// # Costs
//
// Measured with tools/mpscbench on the target machine (2 shared vCPUs, where
// moving a cache line between the cores takes about 125 ns), int items, one
// op being one item pushed and popped:
//
//   - Push and Pop on one goroutine: about 15 ns, against about 37 ns for a
//     buffered channel. The floor is Push's two locked instructions: Go's
//     atomic stores are sequentially consistent, so the publish costs as
//     much as the claim (C++ or Rust would publish with a plain release
//     store).
//   - Producers that never block and a consumer that drains and calls
//     Wait: about 16 ns per item with 4 or 8 producers, against 35-57 ns for
//     the channel; 15-28 ns with one producer, against 50-55; with two
//     producers, the case that varies most from run to run, 21-41 ns against
//     36-45. With another process saturating one of the two cores, 20-25 ns
//     against 35-50.
//   - Allocation: none once enough spare blocks exist (the tests check it);
//     a backlog beyond the spares allocates one block per 128 items. The
//     plain node-queue port allocates once per item and costs 60-100 ns.
//
// # Limits
//
//   - A producer that is descheduled between claiming its slot and
//     publishing it delays its own item (the hole above) and keeps that
//     block from being reused until it publishes. Other producers' items
//     still flow. Items of different producers come out in the order their
//     slots were claimed, except for such a held item.
//   - Push is lock-free except at block boundaries, once per 128 items: a
//     producer that overflows a full block waits (spinning, then yielding)
//     for the producer moving the tail, and that one waits if the block
//     after has not been prepared yet. Either window is a few stores long
//     (a prepare that has to allocate takes longer), but a producer
//     descheduled inside it holds the others up until it runs again.
//   - The queue is unbounded: Push never fails and never waits for the
//     consumer, so memory grows with the backlog. Callers that need a bound
//     must count themselves. Spare blocks beyond Config.SpareBlocks are left
//     to the garbage collector.
//   - When the backlog exceeds Config.YieldBacklog, the producer moving the
//     tail calls runtime.Gosched once. Producers that never block (tight
//     loops, or many goroutines on few cores) would otherwise keep the
//     consumer off the processor while they contend with each other; the
//     yield lets it run. It is not backpressure: the producer stays runnable
//     and resumes as soon as the scheduler picks it again.
//   - Wait busy-waits for up to 5 µs per call while producers on other cores
//     keep filling batches, which costs CPU on a machine where that core had
//     other work; Drain on a ticker, or Ready, never spins.
//   - Only one goroutine at a time may act as the consumer (Pop, PopBatch,
//     Drain, Empty, Ready, Wait). There is no Len: counting would cost every
//     Push another contended atomic operation.
//   - A consumed item stays referenced by its slot until the consumer has
//     used up the block (at most 127 more items), because clearing slots one
//     by one would write to cache lines that producers are still filling.
package mpsc
