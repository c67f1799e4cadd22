package frame

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"google.golang.org/protobuf/proto"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

func sampleMessages() []proto.Message {
	return []proto.Message{
		&realmv1.ClientMessage{RequestId: 1, Body: &realmv1.ClientMessage_Login{Login: &realmv1.LoginRequest{Name: "alice", Password: "correct horse"}}},
		&realmv1.ClientMessage{}, // empty: a zero-length frame
		&realmv1.ClientMessage{RequestId: 1 << 60, Body: &realmv1.ClientMessage_Ping{Ping: &realmv1.Ping{}}},
		&realmv1.ServerMessage{RequestId: 9, Body: &realmv1.ServerMessage_Login{Login: &realmv1.LoginResponse{
			SessionId: 42, ConnectToken: bytes.Repeat([]byte{7}, 200), IngressAddrs: []string{"127.0.0.1:7777"},
		}}},
		// Larger than the Reader's kept buffer.
		&realmv1.ServerMessage{Body: &realmv1.ServerMessage_Login{Login: &realmv1.LoginResponse{ConnectToken: bytes.Repeat([]byte{1}, keepSize+100)}}},
		// Exactly MaxSize bytes of payload.
		exactSize(MaxSize),
	}
}

// exactSize returns a message whose encoding is exactly n bytes.
func exactSize(n int) *realmv1.ServerMessage {
	m := &realmv1.ServerMessage{Body: &realmv1.ServerMessage_Login{Login: &realmv1.LoginResponse{}}}
	login := m.GetLogin()
	for pad := n; pad >= 0; pad-- {
		login.ConnectToken = make([]byte, pad)
		if s := proto.Size(m); s == n {
			return m
		} else if s < n {
			break
		}
	}
	panic("cannot build exact size message")
}

func newLike(m proto.Message) proto.Message { return m.ProtoReflect().New().Interface() }

// countingWriter counts Write calls.
type countingWriter struct {
	bytes.Buffer
	calls int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.calls++
	return w.Buffer.Write(p)
}

func TestRoundTrip(t *testing.T) {
	var w countingWriter
	var buf []byte
	msgs := sampleMessages()
	for i, m := range msgs {
		before := w.Len()
		var err error
		buf, err = Write(&w, m, buf)
		if err != nil {
			t.Fatalf("Write #%d: %v", i, err)
		}
		if got, want := w.Len()-before, HeaderSize+proto.Size(m); got != want {
			t.Fatalf("frame #%d is %d bytes, want %d", i, got, want)
		}
	}
	if w.calls != len(msgs) {
		t.Fatalf("%d Write calls for %d frames", w.calls, len(msgs))
	}
	for _, name := range []string{"whole", "one byte at a time"} {
		t.Run(name, func(t *testing.T) {
			var src io.Reader = bytes.NewReader(w.Bytes())
			if name != "whole" {
				src = iotest.OneByteReader(src)
			}
			r := NewReader(src)
			for i, want := range msgs {
				got := newLike(want)
				if err := r.Read(got); err != nil {
					t.Fatalf("Read #%d: %v", i, err)
				}
				if !proto.Equal(got, want) {
					t.Fatalf("frame #%d: got %v, want %v", i, got, want)
				}
			}
			if err := r.Read(&realmv1.ClientMessage{}); err != io.EOF {
				t.Fatalf("after last frame: err = %v, want io.EOF", err)
			}
		})
	}
}

func TestTruncatedPrefixes(t *testing.T) {
	for i, m := range sampleMessages()[:4] {
		full, err := Write(io.Discard, m, nil)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(full); n++ {
			r := NewReader(bytes.NewReader(full[:n]))
			err := r.Read(newLike(m))
			want := io.ErrUnexpectedEOF
			if n == 0 {
				want = io.EOF
			}
			if err != want {
				t.Fatalf("message %d, prefix %d/%d: err = %v, want %v", i, n, len(full), err, want)
			}
		}
	}
}

func TestTooLarge(t *testing.T) {
	t.Run("read", func(t *testing.T) {
		var in bytes.Buffer
		var hdr [HeaderSize]byte
		binary.BigEndian.PutUint32(hdr[:], MaxSize+1)
		in.Write(hdr[:])
		in.Write(make([]byte, MaxSize+1))
		src := bytes.NewReader(in.Bytes())
		err := NewReader(src).Read(&realmv1.ClientMessage{})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
		if src.Len() != MaxSize+1 {
			t.Fatalf("reader consumed %d body bytes, want 0", MaxSize+1-src.Len())
		}
	})
	t.Run("read max uint32", func(t *testing.T) {
		err := NewReader(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff})).Read(&realmv1.ClientMessage{})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
	t.Run("write", func(t *testing.T) {
		var w countingWriter
		buf, err := Write(&w, exactSize(MaxSize+1), nil)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
		if w.calls != 0 || buf != nil {
			t.Fatalf("oversize write: %d calls, buffer grown to %d", w.calls, cap(buf))
		}
	})
}

func TestMalformedKeepsSync(t *testing.T) {
	var in bytes.Buffer
	in.Write([]byte{0, 0, 0, 3, 0xff, 0xff, 0xff}) // invalid tag/varint
	good := &realmv1.ClientMessage{RequestId: 5}
	if _, err := Write(&in, good, nil); err != nil {
		t.Fatal(err)
	}
	r := NewReader(&in)
	if err := r.Read(&realmv1.ClientMessage{}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	got := &realmv1.ClientMessage{}
	if err := r.Read(got); err != nil || !proto.Equal(got, good) {
		t.Fatalf("frame after malformed: %v, %v", got, err)
	}
}

func TestReaderError(t *testing.T) {
	boom := errors.New("boom")
	err := NewReader(iotest.ErrReader(boom)).Read(&realmv1.ClientMessage{})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

func TestWriteError(t *testing.T) {
	boom := errors.New("boom")
	_, err := Write(errWriter{boom}, &realmv1.ClientMessage{RequestId: 1}, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestAllocs(t *testing.T) {
	m := &realmv1.SessionClosed{SessionId: 1, AccountId: 2, Reason: 1, ClosedUnixMs: 3}
	buf, err := Write(io.Discard, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { buf, _ = Write(io.Discard, m, buf) }); n != 0 {
		t.Errorf("Write allocates %v times per frame, want 0", n)
	}
	src := bytes.NewReader(buf)
	r := NewReader(src)
	into := &realmv1.SessionClosed{}
	if n := testing.AllocsPerRun(100, func() {
		src.Reset(buf)
		if err := r.Read(into); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Read of a scalar message allocates %v times per frame, want 0", n)
	}
}
