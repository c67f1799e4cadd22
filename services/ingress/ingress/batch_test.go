package ingress

import (
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// collector records what a batcher publishes.
type collector struct {
	t      *testing.T
	mu     sync.Mutex
	counts []int
	seqs   []uint64 // input sequences in publication order
}

func (c *collector) publish(p []byte, n int) {
	var m realmv1.InputBatch
	if err := proto.Unmarshal(p, &m); err != nil {
		c.t.Errorf("batch does not decode: %v", err)
	}
	if m.GetIngressId() != "ing-1" || len(m.GetInputs()) != n {
		c.t.Errorf("batch %q of %d inputs, told %d", m.GetIngressId(), len(m.GetInputs()), n)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts = append(c.counts, n)
	for _, in := range m.GetInputs() {
		if in.GetSessionId() != in.GetInput().GetInputSequence() {
			c.t.Errorf("input %v: session and sequence differ", in)
		}
		c.seqs = append(c.seqs, in.GetInput().GetInputSequence())
	}
}

func TestBatcher(t *testing.T) {
	c := &collector{t: t}
	b := newBatcher("ing-1", 3, c.publish)
	b.flush(true) // nothing pending: nothing published
	for i := uint64(1); i <= 7; i++ {
		if !b.add(i, &input{seq: i}) {
			t.Fatalf("input %d refused", i)
		}
	}
	select {
	case <-b.kick:
	default:
		t.Error("full batches queued without a kick")
	}
	if b.pending() != 7 {
		t.Errorf("pending = %d, want 7", b.pending())
	}
	b.flush(false) // full batches only
	if len(c.counts) != 2 || b.pending() != 1 {
		t.Errorf("flush(false) published %v, left %d; want two batches of 3, 1 left", c.counts, b.pending())
	}
	b.flush(true)
	if len(c.counts) != 3 || c.counts[2] != 1 || b.pending() != 0 {
		t.Errorf("published %v, want 3, 3, 1", c.counts)
	}
	for i, s := range c.seqs {
		if s != uint64(i+1) {
			t.Fatalf("published order %v", c.seqs)
		}
	}
}

func TestBatcherOverload(t *testing.T) {
	c := &collector{t: t}
	b := newBatcher("ing-1", 1, c.publish)
	accepted := 0
	for i := uint64(1); i <= maxQueuedBatches+5; i++ {
		if b.add(i, &input{seq: i}) {
			accepted++
		}
	}
	// maxQueuedBatches queued, one more in the current batch, the rest refused.
	if accepted != maxQueuedBatches+1 {
		t.Errorf("accepted %d inputs, want %d", accepted, maxQueuedBatches+1)
	}
	b.flush(false)
	if len(c.seqs) != accepted || b.pending() != 0 {
		t.Errorf("published %d inputs, %d pending; want %d, 0", len(c.seqs), b.pending(), accepted)
	}
	if !b.add(1000, &input{seq: 1000}) {
		t.Error("input refused after the queue drained")
	}
}

func TestBatcherConcurrentFlush(t *testing.T) {
	c := &collector{t: t}
	b := newBatcher("ing-1", 4, c.publish)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-b.kick:
				b.flush(false)
			default:
				b.flush(true)
			}
		}
	})
	for i := uint64(1); i <= 5000; i++ {
		for !b.add(i, &input{seq: i}) {
			// The publisher fell behind: try again (a test, not the loop).
		}
	}
	close(done)
	wg.Wait()
	b.flush(true)
	if len(c.seqs) != 5000 {
		t.Fatalf("published %d inputs, want 5000", len(c.seqs))
	}
	for i, s := range c.seqs {
		if s != uint64(i+1) {
			t.Fatalf("input %d published at position %d", s, i)
		}
	}
}
