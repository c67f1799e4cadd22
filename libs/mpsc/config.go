package mpsc

const (
	// defaultSpareBytes bounds the memory of the spare blocks a Queue keeps
	// when Config.SpareBlocks is zero.
	defaultSpareBytes = 1 << 20

	// minSpareBlocks is the fewest spare blocks kept by default, however
	// large the items.
	minSpareBlocks = 8

	// defaultYieldBacklog is Config.YieldBacklog when it is zero.
	defaultYieldBacklog = 1024
)

// Config tunes a Queue. The zero value means the defaults documented on each
// field; every value is valid, so there is nothing to validate.
type Config struct {
	// SpareBlocks is how many emptied blocks the consumer keeps for reuse by
	// producers, so that a flow of items allocates nothing as long as the
	// backlog fits in them. Each block holds 128 items. Blocks emptied beyond
	// this number are left to the garbage collector, which bounds the memory
	// a burst leaves behind. Zero means as many as fit in 1 MiB, but at least
	// 8 (for 8-byte items, 474 blocks: a backlog of 60,000 items); a
	// negative value keeps none (every block is allocated afresh).
	SpareBlocks int

	// YieldBacklog is the number of items waiting for the consumer beyond
	// which the producer that moves the tail to the next block (one Push in
	// 128) calls runtime.Gosched once. Producers that never block would
	// otherwise keep the consumer off the processor on a machine with few
	// cores, and the backlog would grow without bound. The yield is not backpressure: the
	// producer stays runnable, and Push returns as soon as the scheduler picks
	// it again. It is rounded up to whole blocks of 128 items. Zero means
	// 1024; a negative value never yields.
	YieldBacklog int
}

// spareLimit returns the effective number of spare blocks for blocks of
// blockBytes bytes.
func (c Config) spareLimit(blockBytes uintptr) int32 {
	switch {
	case c.SpareBlocks < 0:
		return 0
	case c.SpareBlocks == 0:
		return int32(max(minSpareBlocks, defaultSpareBytes/blockBytes))
	case c.SpareBlocks > 1<<30:
		return 1 << 30
	default:
		return int32(c.SpareBlocks)
	}
}

// yieldBlocks returns the backlog, in blocks, beyond which moveTail
// yields; 0 means never.
func (c Config) yieldBlocks() uint64 {
	switch {
	case c.YieldBacklog < 0:
		return 0
	case c.YieldBacklog == 0:
		return defaultYieldBacklog / blockSize
	default:
		return uint64(c.YieldBacklog-1)/blockSize + 1
	}
}
