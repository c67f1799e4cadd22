package wire

// ReplayWindowSize is how many sequences below the highest accepted one a
// ReplayWindow remembers.
const ReplayWindowSize = 256

// replayWords is the ring of bitmap words: one more than the window needs, so
// that a whole word can be cleared when the window slides into it while the
// other words still cover ReplayWindowSize sequences.
const replayWords = ReplayWindowSize/64 + 1

// ReplayWindow rejects sequences seen before or too old to tell. The zero
// value is an empty window. It is not safe for concurrent use.
type ReplayWindow struct {
	top  uint64              // highest accepted sequence; meaningful when any
	any  bool                // whether a sequence was accepted
	bits [replayWords]uint64 // bit seq%64 of word (seq/64)%replayWords: seq was accepted
}

// Check reports whether seq would be accepted, without changing the window:
// ErrTooOld if it is ReplayWindowSize or more below the highest accepted
// sequence, ErrReplayed if it was accepted already, nil otherwise. Call it
// before opening a packet, so a replay costs no decryption.
func (w *ReplayWindow) Check(seq uint64) error {
	if !w.any || seq > w.top {
		return nil
	}
	if w.top-seq >= ReplayWindowSize {
		return ErrTooOld
	}
	if w.bits[(seq/64)%replayWords]&(1<<(seq%64)) != 0 {
		return ErrReplayed
	}
	return nil
}

// Accept records seq as seen, after its packet was authenticated. It checks
// again first and returns Check's error without recording anything, so two
// copies of one packet opened concurrently are still accepted once.
func (w *ReplayWindow) Accept(seq uint64) error {
	if err := w.Check(seq); err != nil {
		return err
	}
	if !w.any || seq > w.top {
		// Slide: clear the words the window moves into.
		cur, next := w.top/64, seq/64
		if !w.any || next-cur >= replayWords {
			w.bits = [replayWords]uint64{}
		} else {
			for i := cur + 1; i <= next; i++ {
				w.bits[i%replayWords] = 0
			}
		}
		w.top, w.any = seq, true
	}
	w.bits[(seq/64)%replayWords] |= 1 << (seq % 64)
	return nil
}

// Highest returns the highest accepted sequence, and false if none was.
func (w *ReplayWindow) Highest() (uint64, bool) { return w.top, w.any }
