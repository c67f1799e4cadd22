// Package protofields walks the fields of an encoded protobuf message
// without decoding it into Go structs.
//
// Why: a few hot paths read a handful of fields of messages that arrive by
// the thousand per second: the world's input batches (one per ingress flush)
// and the load generator's snapshot heads (one per simulated player per
// tick). proto.Unmarshal allocates every message and sub-message it meets
// and goes through reflection; walking the fields with protowire costs a
// fraction of it and allocates nothing. Callers keep protobuf's rules:
// fields in any order, the last occurrence of a scalar wins, unknown fields
// and groups are skipped.
package protofields

import (
	"errors"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrMalformed is returned by Each for bytes that are not a well-formed
// protobuf message: a bad tag, a truncated value, an unmatched group end.
var ErrMalformed = errors.New("protofields: malformed message")

// Each calls fn for each field of the message encoded in b, in order, with
// its number, wire type and value: x for varint, fixed32 and fixed64
// fields, v (a sub-slice of b) for length-delimited ones. Groups are
// skipped. It stops at the first error fn returns and returns it.
func Each(b []byte, fn func(num protowire.Number, typ protowire.Type, x uint64, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ErrMalformed
		}
		b = b[n:]
		var x uint64
		var v []byte
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var f uint32
			f, n = protowire.ConsumeFixed32(b)
			x = uint64(f)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default: // a group, skipped whole; an end without a start is malformed
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 || typ != protowire.StartGroupType {
				return ErrMalformed
			}
			b = b[n:]
			continue
		}
		if n < 0 {
			return ErrMalformed
		}
		b = b[n:]
		if err := fn(num, typ, x, v); err != nil {
			return err
		}
	}
	return nil
}
