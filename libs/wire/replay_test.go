package wire

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// replayModel is the obvious replay window: a set of every accepted sequence.
type replayModel struct {
	seen map[uint64]bool
	top  uint64
	any  bool
}

func (m *replayModel) check(seq uint64) error {
	if m.any && seq <= m.top && m.top-seq >= ReplayWindowSize {
		return ErrTooOld
	}
	if m.seen[seq] {
		return ErrReplayed
	}
	return nil
}

func (m *replayModel) accept(seq uint64) error {
	if err := m.check(seq); err != nil {
		return err
	}
	if m.seen == nil {
		m.seen = map[uint64]bool{}
	}
	m.seen[seq] = true
	if !m.any || seq > m.top {
		m.top, m.any = seq, true
	}
	return nil
}

// replayStep applies one operation to both and fails on any difference.
func replayStep(t *testing.T, w *ReplayWindow, m *replayModel, accept bool, seq uint64) {
	t.Helper()
	var got, want error
	if accept {
		got, want = w.Accept(seq), m.accept(seq)
	} else {
		got, want = w.Check(seq), m.check(seq)
	}
	if got != want {
		t.Fatalf("accept=%v seq=%d (top %d): got %v, want %v", accept, seq, m.top, got, want)
	}
	if top, ok := w.Highest(); ok != m.any || top != m.top {
		t.Fatalf("Highest = %d, %v; want %d, %v", top, ok, m.top, m.any)
	}
}

func TestReplayWindow(t *testing.T) {
	const max = math.MaxUint64
	type op struct {
		seq uint64
		err error // from Accept
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"first is accepted, then replayed", []op{{100, nil}, {100, ErrReplayed}}},
		{"seq 0 first", []op{{0, nil}, {0, ErrReplayed}, {1, nil}}},
		{"out of order inside the window", []op{{1000, nil}, {999, nil}, {745, nil}, {999, ErrReplayed}, {745, ErrReplayed}}},
		{"edge of the window", []op{{1000, nil}, {1000 - ReplayWindowSize + 1, nil}, {1000 - ReplayWindowSize, ErrTooOld}}},
		{"too old even if never seen", []op{{5000, nil}, {1, ErrTooOld}}},
		{"below the first, inside the window", []op{{300, nil}, {45, nil}, {44, ErrTooOld}}},
		{"slide by one word at a time", []op{{63, nil}, {64, nil}, {127, nil}, {128, nil}, {63, ErrReplayed}, {64, ErrReplayed}}},
		{"slide clears stale bits", []op{{10, nil}, {10 + 64*5, nil}, {10 + 64*5 - 255, nil}, {10 + 64*4, nil}}},
		{"huge jump forgets everything", []op{{5, nil}, {1 << 62, nil}, {5, ErrTooOld}, {1<<62 - 1, nil}}},
		{"near max", []op{{max - 1, nil}, {max, nil}, {max, ErrReplayed}, {max - 1, ErrReplayed}, {max - 255, nil}, {max - 256, ErrTooOld}}},
		{"from 0 to max", []op{{0, nil}, {max, nil}, {0, ErrTooOld}, {max - 2, nil}}},
		{"near zero", []op{{3, nil}, {0, nil}, {1, nil}, {0, ErrReplayed}, {2, nil}, {255, nil}, {256, nil}, {0, ErrTooOld}, {1, ErrReplayed}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w ReplayWindow
			var m replayModel
			for i, o := range tc.ops {
				if err := w.Check(o.seq); err != o.err {
					t.Fatalf("op %d: Check(%d) = %v, want %v", i, o.seq, err, o.err)
				}
				if err := w.Accept(o.seq); err != o.err {
					t.Fatalf("op %d: Accept(%d) = %v, want %v", i, o.seq, err, o.err)
				}
				if err := m.accept(o.seq); err != o.err {
					t.Fatalf("op %d: model disagrees with the table: %v", i, err)
				}
			}
		})
	}
}

func TestReplayWindowCheckDoesNotAdvance(t *testing.T) {
	var w ReplayWindow
	if err := w.Accept(10); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := w.Check(10_000); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Accept(9); err != nil {
		t.Fatalf("Check advanced the window: %v", err)
	}
	if top, _ := w.Highest(); top != 10 {
		t.Fatalf("Highest = %d", top)
	}
}

// TestReplayWindowModel runs random sequences around a moving top against
// the model.
func TestReplayWindowModel(t *testing.T) {
	for _, base := range []uint64{0, 1 << 40, math.MaxUint64 - 2000} {
		r := rand.New(rand.NewPCG(1, base))
		var w ReplayWindow
		var m replayModel
		cur := base
		for range 200_000 {
			var seq uint64
			switch r.IntN(10) {
			case 0, 1, 2, 3: // just ahead
				seq = cur + uint64(r.IntN(70))
			case 4, 5, 6: // inside or just outside the window
				seq = cur - uint64(r.IntN(ReplayWindowSize+70))
			case 7: // a jump of a few words
				seq = cur + uint64(r.IntN(64*8))
			case 8:
				seq = m.top
			default:
				seq = cur - ReplayWindowSize + uint64(r.IntN(3)) - 1
			}
			if base > math.MaxUint64-4000 && seq < base-1000 {
				seq = math.MaxUint64 - uint64(r.IntN(300)) // stay near the top end
			}
			replayStep(t, &w, &m, r.IntN(3) != 0, seq)
			if m.any && m.top > cur {
				cur = m.top
			}
		}
	}
}

func TestReplayWindowErrorsAreDistinct(t *testing.T) {
	if errors.Is(ErrReplayed, ErrTooOld) || errors.Is(ErrTooOld, ErrReplayed) {
		t.Fatal("replay errors are not distinct")
	}
}

func TestReplayWindowAllocs(t *testing.T) {
	var w ReplayWindow
	seq := uint64(1)
	if n := testing.AllocsPerRun(1000, func() { _ = w.Check(seq); _ = w.Accept(seq); seq += 3 }); n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}
