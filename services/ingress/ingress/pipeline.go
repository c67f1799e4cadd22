package ingress

import (
	"encoding/binary"
	"net/netip"

	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/ingress/udpserver"
)

// Sizes of the hand-off between the receive loop and the workers.
const (
	// chunkBytes is the packet space of one chunk: a read of 64 inputs of
	// ~45 bytes fits with room to spare; a datagram that does not fit sends
	// the chunk early.
	chunkBytes = 16 << 10
	// chunksPerWorker sizes the shared free list of chunks (this many per
	// worker; one busy worker may hold more than its share): when none is
	// free the receive loop waits for one (counted in
	// realm_ingress_handoff_waits_total), and the socket's receive buffer
	// absorbs the burst meanwhile.
	chunksPerWorker = 8
	// maxDefaultWorkers caps the default Config.Workers: one receive loop
	// keeps about two workers busy (see doc.go), more only add hand-offs.
	maxDefaultWorkers = 2
)

// receiver is the udpserver.BatchHandler of the socket: it runs on the
// receive loop, one datagram at a time. With workers it copies each data
// packet into the chunk of its endpoint's worker (a hash, no lookup) and
// hands the chunks over at the end of each read, so the hand-off costs a few
// channel operations per read, not per packet. Handshakes are handled on the
// loop itself: they are rare, they take Service.bindMu anyway, and there the
// loop knows the order of everything read (see barrier). With no workers
// (Config.Workers -1) it authenticates and decodes each data packet itself,
// in place, and commits the read's inputs at its end.
//
// The fields below are used only by the receive loop, or by Run after the
// loop has returned.
type receiver struct {
	s   *Service
	cur []*chunk // per worker, the chunk being filled in this read; nil if none

	inline  *worker // Config.Workers -1: the loop's own worker, never started
	now     int64   // inline: Service.mono time of the current read
	fresh   bool    // inline: now was read in the current read
	handled int     // inline: data packets handled in the current read, for afterChunk
}

// chunk is a batch of data packets from the endpoints of one worker, copied
// out of the socket's receive buffers. Chunks circulate between the free
// list, the receive loop and the workers; exactly one of them holds a chunk
// at any time, so its contents need no lock.
//
// The copy is deliberate: handing the receive buffers themselves to the
// workers (with udpserver rotating several sets of them) was measured to
// take nearly twice as long per packet (docs/services/ingress.md). The
// likely reason: each datagram sits in its own 1401-byte buffer, so the
// worker's reads and in-place decryption, then the kernel's next write, move
// one scattered cache line per datagram between cores, where a chunk packs
// the datagrams into contiguous lines the hardware prefetches, and the
// receive buffers stay on the loop's core.
type chunk struct {
	data []byte        // the datagrams back to back; cap chunkBytes
	pkts []chunkPacket // one per datagram, in arrival order

	barrier chan struct{} // if not nil, a barrier (see receiver.barrier): signalled once the chunk is handled
}

// chunkPacket is one datagram of a chunk.
type chunkPacket struct {
	from     netip.AddrPort
	off, end int // bounds in chunk.data
}

func newChunk(maxPackets int) *chunk {
	return &chunk{data: make([]byte, 0, chunkBytes), pkts: make([]chunkPacket, 0, maxPackets)}
}

// fits reports whether a datagram of n bytes still fits.
func (c *chunk) fits(n int) bool {
	return len(c.pkts) < cap(c.pkts) && len(c.data)+n <= cap(c.data)
}

// add copies p in. The caller checked fits.
func (c *chunk) add(p []byte, from netip.AddrPort) {
	off := len(c.data)
	c.data = append(c.data, p...)
	c.pkts = append(c.pkts, chunkPacket{from: from, off: off, end: len(c.data)})
}

// reset empties the chunk.
func (c *chunk) reset() {
	c.pkts = c.pkts[:0]
	c.data = c.data[:0]
	c.barrier = nil
}

// HandlePacket implements udpserver.Handler.
func (r *receiver) HandlePacket(p []byte, from netip.AddrPort) {
	s := r.s
	if len(p) < wire.HeaderSize {
		s.m.dropped[dropMalformed].Inc()
		return
	}
	switch wire.PacketType(p[0]) {
	case wire.TypeInput, wire.TypeKeepAlive:
		if r.inline == nil {
			r.queue(p, from)
			return
		}
		if !r.fresh {
			// One clock read per read: its datagrams arrived together.
			r.now, r.fresh = s.mono(), true
		}
		r.inline.handleData(p, from, r.now)
		r.handled++
	case wire.TypeHandshake:
		s.handleHandshake(p, from)
	default: // unknown, or a server-to-client type
		s.m.dropped[dropMalformed].Inc()
	}
}

// EndBatch implements udpserver.BatchHandler: it hands this read's chunks
// to their workers (inline, it commits the read's inputs).
func (r *receiver) EndBatch() {
	if r.inline != nil {
		r.inline.commit()
		if f := r.s.afterChunk; f != nil && r.handled > 0 {
			f(r.handled)
		}
		r.fresh, r.handled = false, 0
		return
	}
	for i, c := range r.cur {
		if c != nil {
			r.s.workers[i].in <- c // never blocks: in holds every chunk
			r.cur[i] = nil
		}
	}
}

// queue copies a data packet into its worker's chunk.
func (r *receiver) queue(p []byte, from netip.AddrPort) {
	s := r.s
	i := s.workerOf(from)
	c := r.cur[i]
	if c != nil && !c.fits(len(p)) {
		s.workers[i].in <- c
		c = nil
	}
	if c == nil {
		select {
		case c = <-s.free:
		default:
			// Every chunk is taken: the workers are behind. Wait; the
			// socket buffer holds what arrives meanwhile.
			s.m.handoffWaits.Inc()
			c = <-s.free
		}
		r.cur[i] = c
	}
	c.add(p, from)
}

// barrier returns once the workers have handled every data packet the
// receive loop has read so far. handleHandshake calls it before it moves a
// session to another endpoint, which may belong to another worker (or gives
// an endpoint to another session): the inputs read from the old endpoint
// are then committed before any from the new one, and none is dropped as
// coming from an endpoint no longer bound, as if everything were handled in
// read order. It runs on the receive loop; moves are rare, and it waits for
// at most chunksPerWorker chunks per worker.
func (r *receiver) barrier() {
	if r.inline != nil {
		return // the loop has handled everything already
	}
	r.EndBatch()
	for _, w := range r.s.workers {
		c := <-r.s.free
		c.barrier = w.barrier
		w.in <- c
	}
	for _, w := range r.s.workers {
		<-w.barrier
	}
}

// initPipeline builds the receiver, the workers and their chunks from
// s.cfg. Called by New.
func (s *Service) initPipeline() {
	maxPackets := s.cfg.Socket.BatchSize
	if maxPackets == 0 {
		maxPackets = udpserver.DefaultBatchSize
	}
	s.batch = newBatcher(s.cfg.ID, s.cfg.MaxBatch, s.publishBatch)
	s.rx = &receiver{s: s}
	s.handler = s.rx
	if s.cfg.Workers < 1 {
		s.rx.inline = newWorker(s, 0, maxPackets)
		return
	}
	// One more chunk per worker for barriers, which take one each.
	n := s.cfg.Workers * (chunksPerWorker + 1)
	s.workers = make([]*worker, s.cfg.Workers)
	for i := range s.workers {
		s.workers[i] = newWorker(s, n, maxPackets)
	}
	s.rx.cur = make([]*chunk, s.cfg.Workers)
	s.free = make(chan *chunk, n)
	for range n {
		s.free <- newChunk(maxPackets)
	}
}

// workerOf maps an endpoint to its worker, the only one that handles the
// endpoint's data packets: while a session stays bound to one endpoint its
// packets are handled in the order they were read. The hash mixes the whole
// address and the port, so that many clients behind one NAT address spread
// over the workers too.
func (s *Service) workerOf(ep netip.AddrPort) int {
	if len(s.workers) == 1 {
		return 0
	}
	const golden = 0x9e3779b97f4a7c15
	a := ep.Addr().As16()
	hi, lo := binary.LittleEndian.Uint64(a[:8]), binary.LittleEndian.Uint64(a[8:])
	h := (hi*golden ^ lo) * golden
	h = (h ^ uint64(ep.Port())) * golden
	return int((h >> 32) % uint64(len(s.workers)))
}

// worker finds the session of each data packet of its endpoints (one
// registry lookup), authenticates, decrypts and decodes it, and appends the
// inputs to the service's batcher, once per chunk. Each runs on its own
// goroutine (run), except the inline worker, which the receive loop drives.
type worker struct {
	s       *Service
	in      chan *chunk   // chunks to handle, in order; closed by Run after the receive loop ends
	barrier chan struct{} // capacity 1: a barrier chunk was handled
	ins     []sessInput   // inputs decoded from the current chunk (or read), not yet committed
}

// sessInput is a decoded input of a session, waiting for commit.
type sessInput struct {
	id uint64
	in input
}

// newWorker makes a worker whose queue holds chunks chunks (all of them, so
// that handing one over never blocks) and whose chunks or reads carry at most
// maxPackets datagrams.
func newWorker(s *Service, chunks, maxPackets int) *worker {
	return &worker{
		s:       s,
		in:      make(chan *chunk, chunks),
		barrier: make(chan struct{}, 1),
		ins:     make([]sessInput, 0, maxPackets),
	}
}

// run handles chunks until in is closed and drained.
func (w *worker) run() {
	for c := range w.in {
		// One clock read per chunk: its datagrams arrived together.
		now := w.s.mono()
		for i := range c.pkts {
			q := &c.pkts[i]
			w.handleData(c.data[q.off:q.end], q.from, now)
		}
		w.commit()
		if f := w.s.afterChunk; f != nil && len(c.pkts) > 0 {
			f(len(c.pkts))
		}
		if c.barrier != nil {
			c.barrier <- struct{}{}
		}
		c.reset()
		w.s.free <- c // never blocks: free holds every chunk
	}
}

// commit appends the decoded inputs to the batcher, under one lock
// acquisition for all of them.
func (w *worker) commit() {
	if len(w.ins) == 0 {
		return
	}
	if n := w.s.batch.addAll(w.ins); n < len(w.ins) {
		w.s.m.dropped[dropOverload].Add(float64(len(w.ins) - n))
	}
	clear(w.ins)
	w.ins = w.ins[:0]
}
