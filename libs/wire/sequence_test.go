package wire

import (
	"sync"
	"testing"
	"time"
)

func TestSequence(t *testing.T) {
	now := time.Unix(1_700_000_000, 123)
	s := NewSequence(now)
	for i := range uint64(3) {
		if got, want := s.Next(), uint64(now.UnixNano())+i; got != want {
			t.Fatalf("Next #%d = %d, want %d", i, got, want)
		}
	}
	// A sender restarted later starts above everything the first one sent
	// at up to one packet per nanosecond.
	later := NewSequence(now.Add(time.Microsecond))
	if a, b := s.Next(), later.Next(); b <= a {
		t.Fatalf("restarted sequence %d not above %d", b, a)
	}
}

func TestSequenceConcurrent(t *testing.T) {
	s := NewSequence(time.Unix(0, 0))
	const workers, each = 4, 10_000
	var mu sync.Mutex
	seen := make(map[uint64]bool, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			got := make([]uint64, each)
			for i := range got {
				got[i] = s.Next()
			}
			mu.Lock()
			defer mu.Unlock()
			for _, v := range got {
				if seen[v] {
					t.Errorf("sequence %d handed out twice", v)
				}
				seen[v] = true
			}
		})
	}
	wg.Wait()
	if len(seen) != workers*each {
		t.Fatalf("%d distinct sequences, want %d", len(seen), workers*each)
	}
}
