package snapshot

import "encoding/binary"

// Record is a SessionSnapshot record of a SnapshotBatch being written in one
// pass: BeginRecord writes its start with room for two lengths, the caller
// appends the Snapshot's self and nearby chunks, and EndRecord fills the
// lengths in. The alternative, AppendSessionHeader, needs the snapshot's
// size first, that is a pass over its entities before the one that copies
// them.
type Record struct {
	start   int    // offset of the record in the buffer
	body    int    // offset of the Snapshot bytes
	session uint64 // the record's session id
}

// BeginRecord appends the start of a SessionSnapshot record for session and
// the Snapshot's header (AppendHeader). The caller appends the rest of the
// Snapshot (AppendSelf, then nearby chunks), then calls EndRecord with the
// extended buffer.
func BeginRecord(dst []byte, session, tick, lastInput uint64) ([]byte, Record) {
	rec := Record{start: len(dst), session: session}
	// Both lengths as two-byte varints, the common case (a snapshot of
	// 128 bytes or more); EndRecord moves the snapshot otherwise.
	dst = append(dst, tagBatchSnapshot, 0x80, 0)
	dst = appendVarintField(dst, tagSessionID, session)
	dst = append(dst, tagSessionBytes, 0x80, 0)
	rec.body = len(dst)
	return AppendHeader(dst, tick, lastInput), rec
}

// Size returns the size of the Snapshot written so far into buf, which must
// be the buffer BeginRecord returned, extended.
func (r Record) Size(buf []byte) int { return len(buf) - r.body }

// EndRecord completes the record begun by BeginRecord: dst holds it up to
// the end of its Snapshot. It returns dst, shorter when the lengths take
// other than two bytes (a snapshot under 128 bytes).
func EndRecord(dst []byte, r Record) []byte {
	size := len(dst) - r.body
	body := sessionBodySize(r.session, size)
	if size >= 1<<7 && body < 1<<14 {
		dst[r.body-2], dst[r.body-1] = byte(size)|0x80, byte(size>>7)
		dst[r.start+1], dst[r.start+2] = byte(body)|0x80, byte(body>>7)
		return dst
	}
	var head [3 * (1 + binary.MaxVarintLen64)]byte
	h := AppendSessionHeader(head[:0], r.session, size)
	copy(dst[r.start+len(h):], dst[r.body:])
	copy(dst[r.start:], h)
	return dst[:r.start+len(h)+size]
}
