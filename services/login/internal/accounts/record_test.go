package accounts

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func sampleRecord() Record {
	return Record{
		ID:      0x0102030405060708,
		Name:    "Alice_01",
		Created: time.UnixMilli(1_700_000_000_123),
		Params:  Params{Time: 3, MemoryKiB: 1024, Threads: 4},
		Salt:    bytes.Repeat([]byte{0xaa}, SaltSize),
		Hash:    bytes.Repeat([]byte{0xbb}, HashSize),
	}
}

func TestRecordRoundTrip(t *testing.T) {
	r := sampleRecord()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := recordFixedSize + SaltSize + HashSize + len(r.Name); len(b) != want {
		t.Fatalf("encoded %d bytes, want %d", len(b), want)
	}
	var got Record
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got.ID != r.ID || got.Name != r.Name || !got.Created.Equal(r.Created) || got.Params != r.Params ||
		!bytes.Equal(got.Salt, r.Salt) || !bytes.Equal(got.Hash, r.Hash) {
		t.Fatalf("round trip: got %+v, want %+v", got, r)
	}
	// Decoded slices are copies.
	b[27] ^= 0xff
	if got.Salt[0] != 0xaa {
		t.Fatal("salt aliases the input")
	}
}

func TestRecordLayout(t *testing.T) {
	r := sampleRecord()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{1, 1, 2, 3, 4, 5, 6, 7, 8}
	if !bytes.Equal(b[:9], want) {
		t.Fatalf("version and id = % x, want % x", b[:9], want)
	}
	if b[25] != 4 || b[26] != SaltSize {
		t.Fatalf("threads %d, salt length %d", b[25], b[26])
	}
}

func TestRecordTruncated(t *testing.T) {
	r := sampleRecord()
	b, err := r.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(b) {
		var got Record
		if err := got.UnmarshalBinary(b[:n]); !errors.Is(err, ErrBadRecord) {
			t.Fatalf("prefix of %d bytes: err = %v, want ErrBadRecord", n, err)
		}
	}
	var got Record
	if err := got.UnmarshalBinary(append(b, 0)); !errors.Is(err, ErrBadRecord) {
		t.Fatalf("trailing byte: err = %v, want ErrBadRecord", err)
	}
}

func TestRecordInvalid(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(b []byte)
	}{
		{"version 2", func(b []byte) { b[0] = 2 }},
		{"id 0", func(b []byte) { copy(b[1:9], make([]byte, 8)) }},
		{"time 0", func(b []byte) { copy(b[17:21], []byte{0, 0, 0, 0}) }},
		{"threads 0", func(b []byte) { b[25] = 0 }},
		{"memory huge", func(b []byte) { copy(b[21:25], []byte{0xff, 0xff, 0xff, 0xff}) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleRecord()
			b, err := r.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(b)
			var got Record
			if err := got.UnmarshalBinary(b); !errors.Is(err, ErrBadRecord) {
				t.Fatalf("err = %v, want ErrBadRecord", err)
			}
		})
	}
}

func TestRecordMarshalRejects(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(r *Record)
	}{
		{"id 0", func(r *Record) { r.ID = 0 }},
		{"long name", func(r *Record) { r.Name = string(bytes.Repeat([]byte{'a'}, 256)) }},
		{"bad params", func(r *Record) { r.Params.Threads = 0 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := sampleRecord()
			tc.mutate(&r)
			if _, err := r.MarshalBinary(); !errors.Is(err, ErrBadRecord) {
				t.Fatalf("err = %v, want ErrBadRecord", err)
			}
		})
	}
}

func FuzzRecord(f *testing.F) {
	r := sampleRecord()
	b, _ := r.MarshalBinary()
	f.Add(b)
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, in []byte) {
		var r Record
		if r.UnmarshalBinary(in) != nil {
			return
		}
		out, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
		if !bytes.Equal(in, out) {
			t.Fatalf("re-encoded % x, want % x", out, in)
		}
	})
}
