package frame

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// FuzzReader feeds arbitrary bytes to a Reader. Every frame it accepts must
// re-encode with Write and read back equal; every error must be one of the
// documented ones; nothing may panic.
func FuzzReader(f *testing.F) {
	for _, m := range sampleMessages()[:4] {
		b, err := Write(io.Discard, m, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 3, 0xff, 0xff, 0xff})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data))
		var buf []byte
		for {
			m := &realmv1.ClientMessage{}
			err := r.Read(m)
			switch {
			case err == nil:
			case err == io.EOF, err == io.ErrUnexpectedEOF, errors.Is(err, ErrTooLarge), errors.Is(err, ErrMalformed):
				return
			default:
				t.Fatalf("undocumented error: %v", err)
			}
			var out bytes.Buffer
			buf, err = Write(&out, m, buf)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			again := &realmv1.ClientMessage{}
			if err := NewReader(&out).Read(again); err != nil {
				t.Fatalf("re-read: %v", err)
			}
			if !proto.Equal(m, again) {
				t.Fatalf("round trip: %v != %v", m, again)
			}
		}
	})
}
