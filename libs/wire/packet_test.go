package wire

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"math"
	"testing"
)

func TestPacketRoundTrip(t *testing.T) {
	c2s := NewAEAD(testClientKey)
	tests := []struct {
		name string
		typ  PacketType
		seq  uint64
		pt   []byte
	}{
		{"keepalive empty", TypeKeepAlive, 1, nil},
		{"input", TypeInput, 1 << 60, bytes.Repeat([]byte{7}, 64)},
		{"snapshot max", TypeSnapshot, math.MaxUint64, bytes.Repeat([]byte{9}, MaxPlaintextSize)},
		{"ack seq 0", TypeHandshakeAck, 0, []byte("ack")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := []byte{0xaa, 0xbb}
			p, err := SealPacket(bytes.Clone(prefix), c2s, tc.typ, tc.seq, tc.pt)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p[:2], prefix) {
				t.Fatal("SealPacket changed dst")
			}
			p = p[2:]
			if want := HeaderSize + len(tc.pt) + TagSize; len(p) != want {
				t.Fatalf("len = %d, want %d", len(p), want)
			}
			if len(p) > MaxPacketSize {
				t.Fatalf("len %d > MaxPacketSize", len(p))
			}
			h, err := ParseHeader(p)
			if err != nil || h != (Header{tc.typ, tc.seq}) {
				t.Fatalf("ParseHeader = %+v, %v", h, err)
			}
			got, pt, err := OpenPacket([]byte("x"), c2s, p)
			if err != nil {
				t.Fatal(err)
			}
			if got != h || !bytes.Equal(pt, append([]byte("x"), tc.pt...)) {
				t.Fatalf("OpenPacket = %+v %q", got, pt)
			}
			// In place.
			got, pt, err = OpenPacket(p[HeaderSize:HeaderSize], c2s, p)
			if err != nil || got != h || !bytes.Equal(pt, tc.pt) {
				t.Fatalf("OpenPacket in place = %+v, %v", got, err)
			}
		})
	}
}

func TestSealPacketInPlace(t *testing.T) {
	aead := NewAEAD(testServerKey)
	msg := []byte("snapshot bytes")
	buf := make([]byte, 0, MaxPacketSize)
	pt := append(buf[HeaderSize:HeaderSize], msg...)
	p, err := SealPacket(buf, aead, TypeSnapshot, 9, pt)
	if err != nil {
		t.Fatal(err)
	}
	if &p[0] != &buf[:1][0] {
		t.Fatal("sealed into a new buffer")
	}
	if want := mustSealPacket(t, aead, TypeSnapshot, 9, msg); !bytes.Equal(p, want) {
		t.Fatal("in-place seal differs from a copying seal")
	}
}

func TestOpenPacketErrors(t *testing.T) {
	c2s, s2c := NewAEAD(testClientKey), NewAEAD(testServerKey)
	good := mustSealPacket(t, c2s, TypeInput, 77, []byte("move"))
	with := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	hs := mustHandshake(t, 1)
	tests := []struct {
		name string
		aead cipher.AEAD
		in   []byte
		err  error
	}{
		{"empty", c2s, nil, ErrTruncated},
		{"header only", c2s, good[:HeaderSize], ErrTruncated},
		{"no room for tag", c2s, good[:HeaderSize+TagSize-1], ErrTruncated},
		{"type 0", c2s, with(func(b []byte) []byte { b[0] = 0; return b }), ErrUnknownType},
		{"type 6", c2s, with(func(b []byte) []byte { b[0] = 6; return b }), ErrUnknownType},
		{"handshake", c2s, hs, ErrWrongType},
		{"too large", c2s, append([]byte{byte(TypeInput)}, make([]byte, MaxPacketSize)...), ErrTooLarge},
		{"wrong direction", s2c, good, ErrAuth},
		{"wrong key", NewAEAD(seqKey(0x41)), good, ErrAuth},
		{"type changed", c2s, with(func(b []byte) []byte { b[0] = byte(TypeKeepAlive); return b }), ErrAuth},
		{"seq changed", c2s, with(func(b []byte) []byte { b[8]++; return b }), ErrAuth},
		{"extended", c2s, with(func(b []byte) []byte { return append(b, 0) }), ErrAuth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("dst")
			h, out, err := OpenPacket(dst, tc.aead, tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if h != (Header{}) || string(out) != "dst" {
				t.Fatalf("on error: header %+v, dst %q", h, out)
			}
		})
	}
}

func TestOpenPacketTruncated(t *testing.T) {
	aead := NewAEAD(testClientKey)
	for _, pt := range [][]byte{nil, bytes.Repeat([]byte{1}, 64)} {
		good := mustSealPacket(t, aead, TypeInput, 5, pt)
		for n := range len(good) {
			if _, _, err := OpenPacket(nil, aead, good[:n]); err == nil {
				t.Fatalf("prefix of %d/%d bytes accepted", n, len(good))
			}
		}
	}
}

func TestOpenPacketBitFlips(t *testing.T) {
	aead := NewAEAD(testClientKey)
	good := mustSealPacket(t, aead, TypeInput, 1234567, bytes.Repeat([]byte{3}, 32))
	flipEach(good, func(i int, bit uint, b []byte) {
		if _, _, err := OpenPacket(nil, aead, b); err == nil {
			t.Errorf("byte %d bit %d flipped: accepted", i, bit)
		}
	})
}

func TestSealPacketErrors(t *testing.T) {
	aead := NewAEAD(testClientKey)
	tests := []struct {
		name string
		typ  PacketType
		n    int
		err  error
	}{
		{"handshake", TypeHandshake, 1, ErrWrongType},
		{"type 0", 0, 1, ErrUnknownType},
		{"type 200", 200, 1, ErrUnknownType},
		{"too large", TypeSnapshot, MaxPlaintextSize + 1, ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := SealPacket([]byte("dst"), aead, tc.typ, 1, make([]byte, tc.n))
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if string(out) != "dst" {
				t.Fatalf("dst changed on error: %q", out)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Header
		err  error
	}{
		{"short", []byte{1, 0, 0, 0, 0, 0, 0, 0}, Header{}, ErrTruncated},
		{"handshake", []byte{1, 0, 0, 0, 0, 0, 0, 1, 2}, Header{TypeHandshake, 258}, nil},
		{"keepalive max seq", []byte{5, 255, 255, 255, 255, 255, 255, 255, 255, 9}, Header{TypeKeepAlive, math.MaxUint64}, nil},
		{"unknown", []byte{9, 0, 0, 0, 0, 0, 0, 0, 0}, Header{}, ErrUnknownType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := ParseHeader(tc.in)
			if !errors.Is(err, tc.err) || h != tc.want {
				t.Fatalf("ParseHeader = %+v, %v; want %+v, %v", h, err, tc.want, tc.err)
			}
		})
	}
}

func TestPacketTypeString(t *testing.T) {
	for typ, want := range map[PacketType]string{
		TypeHandshake: "handshake", TypeHandshakeAck: "handshake_ack", TypeInput: "input",
		TypeSnapshot: "snapshot", TypeKeepAlive: "keepalive", 0: "unknown(0)", 77: "unknown(77)",
	} {
		if got := typ.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", uint8(typ), got, want)
		}
	}
}

func TestPacketTypeDirection(t *testing.T) {
	for typ := range PacketType(8) {
		if typ.FromClient() && typ.FromServer() {
			t.Errorf("%v sent by both sides", typ)
		}
		if typ.Valid() != (typ.FromClient() || typ.FromServer()) {
			t.Errorf("%v: valid %v, from client %v, from server %v", typ, typ.Valid(), typ.FromClient(), typ.FromServer())
		}
	}
}

func TestPacketAllocs(t *testing.T) {
	aead := NewAEAD(testClientKey)
	pt := bytes.Repeat([]byte{1}, 64)
	buf := make([]byte, 0, MaxPacketSize)
	p := mustSealPacket(t, aead, TypeInput, 1, pt)
	bad := bytes.Clone(p)
	bad[20] ^= 1
	tests := []struct {
		name string
		fn   func()
	}{
		{"SealPacket", func() { _, _ = SealPacket(buf[:0], aead, TypeInput, 1, pt) }},
		{"OpenPacket", func() { _, _, _ = OpenPacket(buf[:0], aead, p) }},
		{"OpenPacket forged", func() { _, _, _ = OpenPacket(buf[:0], aead, bad) }},
		{"ParseHeader", func() { _, _ = ParseHeader(p) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(200, tc.fn); n != 0 {
				t.Fatalf("%v allocations per run", n)
			}
		})
	}
}
