package udptest

import (
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-realm/realm/libs/testutil/cputime"
)

// packetHandler is udpserver.Handler, restated so that this package does not
// import udpserver (whose own tests use it).
type packetHandler interface {
	HandlePacket(p []byte, from netip.AddrPort)
}

// batchEnder is the extra method of udpserver.BatchHandler.
type batchEnder interface {
	EndBatch()
}

// Drain measures the cost of a receive loop and its handler apart from the
// cost of sending: it parks the loop, lets the senders fill the socket's
// receive buffer, then times how long the loop takes to empty it.
//
// Wrap the handler under test with NewDrain (or NewDrainDone) and serve the
// wrapper. A datagram from the marker address parks the loop inside
// HandlePacket until the measurement releases it; every other datagram goes
// to the wrapped handler and counts as drained when HandlePacket returns (or,
// with NewDrainDone, when the caller reports it with Done). Drain is a
// udpserver.BatchHandler: it passes EndBatch on to the wrapped handler if
// that has the method.
type Drain struct {
	next     packetHandler
	end      batchEnder // next's EndBatch, or nil
	marker   netip.AddrPort
	external bool // counted by Done, not by HandlePacket

	parked  chan struct{}
	release chan struct{}

	count  atomic.Uint64 // datagrams drained
	target atomic.Uint64 // count at which to signal done; 0 = none
	doneAt atomic.Int64  // time.Now().UnixNano() when count reached target
	done   chan struct{}
}

// NewDrain wraps next; datagrams from marker park the loop. A datagram is
// drained when next.HandlePacket returns.
func NewDrain(next packetHandler, marker netip.AddrPort) *Drain {
	d := &Drain{
		next:    next,
		marker:  marker,
		parked:  make(chan struct{}),
		release: make(chan struct{}),
		done:    make(chan struct{}, 1),
	}
	d.end, _ = next.(batchEnder)
	return d
}

// NewDrainDone is NewDrain for a handler that finishes its work on other
// goroutines: a datagram is drained when the caller says so with Done.
func NewDrainDone(next packetHandler, marker netip.AddrPort) *Drain {
	d := NewDrain(next, marker)
	d.external = true
	return d
}

// HandlePacket implements udpserver.Handler.
func (d *Drain) HandlePacket(p []byte, from netip.AddrPort) {
	if from == d.marker {
		d.parked <- struct{}{}
		<-d.release
		return
	}
	d.next.HandlePacket(p, from)
	if !d.external {
		d.Done(1)
	}
}

// EndBatch implements udpserver.BatchHandler.
func (d *Drain) EndBatch() {
	if d.end != nil {
		d.end.EndBatch()
	}
}

// Done reports n more datagrams drained. It is safe for concurrent use.
func (d *Drain) Done(n int) {
	c := d.count.Add(uint64(n))
	if t := d.target.Load(); t != 0 && c >= t && c-uint64(n) < t {
		d.doneAt.Store(time.Now().UnixNano())
		d.done <- struct{}{}
	}
}

// Count returns how many datagrams were drained.
func (d *Drain) Count() uint64 { return d.count.Load() }

// Result is the measurement of one Round.
type Result struct {
	N    int           // datagrams drained
	Wall time.Duration // from the release of the loop to the last datagram drained
	CPU  time.Duration // CPU time of the whole process over about the same interval (0 where unknown)
}

// Round is one measurement: mark parks the loop (it sends one datagram from
// the marker address), fill queues the datagrams and returns how many it
// sent; Round then releases the loop and measures how long the loop took to
// drain all of them, in wall time and in the process's CPU time. The caller
// must choose a fill that the socket buffer holds, or Round fails after
// timeout.
func (d *Drain) Round(mark func() error, fill func() int, timeout time.Duration) (Result, error) {
	if err := mark(); err != nil {
		return Result{}, fmt.Errorf("udptest: mark: %w", err)
	}
	select {
	case <-d.parked:
	case <-time.After(timeout):
		return Result{}, fmt.Errorf("udptest: receive loop did not park")
	}
	n := fill()
	d.target.Store(d.count.Load() + uint64(n))
	cpu0 := cputime.Process()
	start := time.Now()
	d.release <- struct{}{}
	if n == 0 {
		return Result{}, nil
	}
	select {
	case <-d.done:
	case <-time.After(timeout):
		return Result{}, fmt.Errorf("udptest: %d of %d datagrams arrived (socket buffer too small?)",
			d.count.Load()-(d.target.Load()-uint64(n)), n)
	}
	var cpu time.Duration
	if cpu1 := cputime.Process(); cpu0 != 0 && cpu1 != 0 {
		cpu = cpu1 - cpu0
	}
	return Result{N: n, Wall: time.Duration(d.doneAt.Load() - start.UnixNano()), CPU: cpu}, nil
}

// DrainRound is how many small datagrams one round queues: well below what
// a 4 MiB socket receive buffer holds on loopback (each datagram costs about
// 1 KiB of buffer accounting).
const DrainRound = 2000

// RunDrain runs rounds until b.N datagrams were drained, timing only the
// draining: ns/op is the receive cost of one datagram in wall time and
// allocs/op its allocations. fill(k) must queue exactly k datagrams (k <=
// perRound). It reports pkts/s (wall), cpu-ns/pkt (the CPU time the whole
// process spent per datagram, on every core) and cpus (cpu-ns over wall-ns:
// how many cores the drain kept busy on average), and returns pkts/s.
func RunDrain(b *testing.B, d *Drain, mark func() error, perRound int, fill func(k int)) float64 {
	b.Helper()
	b.ReportAllocs()
	b.ResetTimer()
	b.StopTimer()
	var total int
	var wall, cpu time.Duration
	for total < b.N {
		k := min(perRound, b.N-total)
		var timed bool
		r, err := d.Round(mark, func() int {
			fill(k)
			b.StartTimer()
			timed = true
			return k
		}, 10*time.Second)
		if timed {
			b.StopTimer()
		}
		if err != nil {
			b.Fatal(err)
		}
		total += r.N
		wall += r.Wall
		cpu += r.CPU
	}
	rate := float64(total) / wall.Seconds()
	b.ReportMetric(rate, "pkts/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(total), "cpu-ns/pkt")
		b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cpus")
	}
	return rate
}
