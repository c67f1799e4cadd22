package snapshot

import "google.golang.org/protobuf/encoding/protowire"

// Tags of realm.v1.SnapshotBatch and realm.v1.SessionSnapshot.
const (
	tagBatchTick     = byte(1<<3 | protowire.VarintType) // SnapshotBatch.server_tick
	tagBatchSnapshot = byte(2<<3 | protowire.BytesType)  // SnapshotBatch.snapshots
	tagSessionID     = byte(1<<3 | protowire.VarintType) // SessionSnapshot.session_id
	tagSessionBytes  = byte(2<<3 | protowire.BytesType)  // SessionSnapshot.snapshot
)

// A SnapshotBatch is AppendBatchHeader followed by any number of
// SessionSnapshot records, each AppendSessionHeader followed by exactly
// snapshotLen bytes of one encoded Snapshot. The snapshot bytes can thus be
// written straight into the batch, once their size is known.

// BatchHeaderSize returns the size of what AppendBatchHeader writes.
func BatchHeaderSize(tick uint64) int { return varintFieldSize(tick) }

// AppendBatchHeader appends SnapshotBatch.server_tick.
func AppendBatchHeader(dst []byte, tick uint64) []byte {
	return appendVarintField(dst, tagBatchTick, tick)
}

// SessionSize returns the full size of one SnapshotBatch.snapshots record
// for a snapshot of snapshotLen bytes: AppendSessionHeader's bytes plus
// snapshotLen.
func SessionSize(sessionID uint64, snapshotLen int) int {
	body := sessionBodySize(sessionID, snapshotLen)
	return 1 + protowire.SizeVarint(uint64(body)) + body
}

// AppendSessionHeader appends the start of one SnapshotBatch.snapshots
// record (a SessionSnapshot) up to its snapshot field's length: the caller
// appends the snapshotLen bytes of the encoded Snapshot next.
func AppendSessionHeader(dst []byte, sessionID uint64, snapshotLen int) []byte {
	dst = append(dst, tagBatchSnapshot)
	dst = protowire.AppendVarint(dst, uint64(sessionBodySize(sessionID, snapshotLen)))
	dst = appendVarintField(dst, tagSessionID, sessionID)
	if snapshotLen == 0 {
		return dst
	}
	dst = append(dst, tagSessionBytes)
	return protowire.AppendVarint(dst, uint64(snapshotLen))
}

// sessionBodySize is the size of a SessionSnapshot's body. Like
// proto.Marshal, an empty snapshot field is left out (proto3 bytes).
func sessionBodySize(sessionID uint64, snapshotLen int) int {
	return varintFieldSize(sessionID) + bytesFieldSize(snapshotLen)
}

func bytesFieldSize(n int) int {
	if n == 0 {
		return 0
	}
	return 1 + protowire.SizeVarint(uint64(n)) + n
}
