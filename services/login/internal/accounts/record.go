package accounts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// RecordVersion is the only record version this package writes and reads.
const RecordVersion = 1

// ErrBadRecord means a stored value is not a valid version-1 Record:
// truncated, trailing bytes, an unknown version, account id 0 or argon2
// parameters out of range.
var ErrBadRecord = errors.New("accounts: bad account record")

// Record is one account as stored in the bucket.
type Record struct {
	ID      uint64    // never 0
	Name    string    // as registered; the key is its lower-case form
	Created time.Time // millisecond precision
	Params  Params    // the argon2id parameters Hash was computed with
	Salt    []byte
	Hash    []byte
}

// recordFixedSize is the size of a record without its salt, hash and name.
const recordFixedSize = 1 + 8 + 8 + 4 + 4 + 1 + 1 + 1 + 1

// MarshalBinary encodes r in the version-1 layout of the package doc.
// It fails with ErrBadRecord if a variable field is longer than 255 bytes or
// the record could not be read back.
func (r *Record) MarshalBinary() ([]byte, error) {
	if len(r.Salt) > 255 || len(r.Hash) > 255 || len(r.Name) > 255 {
		return nil, fmt.Errorf("%w: field longer than 255 bytes", ErrBadRecord)
	}
	if r.ID == 0 {
		return nil, fmt.Errorf("%w: account id 0", ErrBadRecord)
	}
	if err := r.Params.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	b := make([]byte, 0, recordFixedSize+len(r.Salt)+len(r.Hash)+len(r.Name))
	b = append(b, RecordVersion)
	b = binary.BigEndian.AppendUint64(b, r.ID)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Created.UnixMilli()))
	b = binary.BigEndian.AppendUint32(b, r.Params.Time)
	b = binary.BigEndian.AppendUint32(b, r.Params.MemoryKiB)
	b = append(b, r.Params.Threads)
	b = append(b, byte(len(r.Salt)))
	b = append(b, r.Salt...)
	b = append(b, byte(len(r.Hash)))
	b = append(b, r.Hash...)
	b = append(b, byte(len(r.Name)))
	b = append(b, r.Name...)
	return b, nil
}

// UnmarshalBinary decodes a version-1 record. Salt and Hash are copies,
// never aliases of b. Any malformation yields ErrBadRecord.
func (r *Record) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	if v := d.u8(); v != RecordVersion {
		if d.bad {
			return fmt.Errorf("%w: empty", ErrBadRecord)
		}
		return fmt.Errorf("%w: version %d", ErrBadRecord, v)
	}
	var out Record
	out.ID = d.u64()
	out.Created = time.UnixMilli(int64(d.u64()))
	out.Params.Time = d.u32()
	out.Params.MemoryKiB = d.u32()
	out.Params.Threads = d.u8()
	out.Salt = d.bytes()
	out.Hash = d.bytes()
	out.Name = string(d.bytes())
	switch {
	case d.bad:
		return fmt.Errorf("%w: truncated", ErrBadRecord)
	case len(d.b) != 0:
		return fmt.Errorf("%w: %d trailing bytes", ErrBadRecord, len(d.b))
	case out.ID == 0:
		return fmt.Errorf("%w: account id 0", ErrBadRecord)
	case len(out.Hash) == 0:
		return fmt.Errorf("%w: empty hash", ErrBadRecord)
	}
	if err := out.Params.validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRecord, err)
	}
	*r = out
	return nil
}

// decoder reads big-endian fields; after the first short read it returns
// zeros and sets bad, so a caller checks once at the end.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) take(n int) []byte {
	if d.bad || len(d.b) < n {
		d.bad = true
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) u8() uint8 {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if p := d.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if p := d.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

// bytes reads a u8 length and that many bytes, copied.
func (d *decoder) bytes() []byte {
	n := int(d.u8())
	p := d.take(n)
	if p == nil {
		return nil
	}
	return append([]byte(nil), p...)
}
