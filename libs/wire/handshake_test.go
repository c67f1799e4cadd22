package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

func TestHandshakeRoundTrip(t *testing.T) {
	codec := mustTokenCodec(t, testTokenKey)
	token := mustSealToken(t, codec, testToken())
	c2s := NewAEAD(testClientKey)
	dst := make([]byte, 3, 1024)
	copy(dst, "abc")
	for i := range dst[3:cap(dst)] {
		dst[:cap(dst)][3+i] = 0xee // dirty spare capacity must not leak into padding
	}
	p, err := AppendHandshake(dst, c2s, 99, testSessionID, token)
	if err != nil {
		t.Fatal(err)
	}
	if string(p[:3]) != "abc" {
		t.Fatal("AppendHandshake changed dst")
	}
	p = p[3:]
	if len(p) != MinHandshakeSize {
		t.Fatalf("len = %d, want %d", len(p), MinHandshakeSize)
	}
	// The body is what proto.Marshal makes of the message.
	want, err := proto.Marshal(&realmv1.UdpHandshake{SessionId: testSessionID, ConnectToken: token})
	if err != nil {
		t.Fatal(err)
	}
	l := int(binary.BigEndian.Uint16(p[handshakeLenOff:]))
	if !bytes.Equal(p[handshakeBodyOff:handshakeBodyOff+l], want) {
		t.Fatal("UdpHandshake encoding differs from proto.Marshal")
	}
	hs, aead, err := OpenHandshake(codec, p, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if hs.Seq != 99 || hs.SessionID != testSessionID {
		t.Fatalf("handshake = %+v", hs)
	}
	wantTok := testToken()
	if !hs.Token.Expires.Equal(wantTok.Expires) {
		t.Fatalf("expires = %v", hs.Token.Expires)
	}
	hs.Token.Expires, wantTok.Expires = time.Time{}, time.Time{}
	if hs.Token != wantTok {
		t.Fatalf("token = %+v", hs.Token)
	}
	// The returned AEAD opens the client's data packets.
	in := mustSealPacket(t, c2s, TypeInput, 100, []byte("go"))
	if _, pt, err := OpenPacket(nil, aead, in); err != nil || string(pt) != "go" {
		t.Fatalf("OpenPacket with handshake AEAD = %q, %v", pt, err)
	}
}

func TestHandshakeLargeToken(t *testing.T) {
	c2s := NewAEAD(testClientKey)
	codec := mustTokenCodec(t, testTokenKey)
	// A body too big for 512 bytes grows the request without padding.
	tok := bytes.Repeat([]byte{1}, 600)
	p, err := AppendHandshake(nil, c2s, 1, 5, tok)
	if err != nil {
		t.Fatal(err)
	}
	if want := handshakeBodyOff + udpHandshakeSize(5, tok) + TagSize; len(p) != want {
		t.Fatalf("len = %d, want %d", len(p), want)
	}
	if _, _, err := OpenHandshake(codec, p, testNow); !errors.Is(err, ErrTokenSize) {
		t.Fatalf("err = %v, want ErrTokenSize", err)
	}
	// The largest body that fits, and one byte more.
	for n := 1000; ; n++ {
		p, err := AppendHandshake(nil, c2s, 1, 5, make([]byte, n))
		if errors.Is(err, ErrTooLarge) {
			if udpHandshakeSize(5, make([]byte, n)) <= maxHandshakeBody {
				t.Fatalf("ErrTooLarge for a body that fits (%d)", n)
			}
			break
		}
		if err != nil || len(p) > MaxPacketSize {
			t.Fatalf("token %d: len %d, %v", n, len(p), err)
		}
	}
}

func TestOpenHandshakeErrors(t *testing.T) {
	codec := mustTokenCodec(t, testTokenKey)
	c2s := NewAEAD(testClientKey)
	token := mustSealToken(t, codec, testToken())
	good := mustHandshake(t, 7)

	build := func(sessionID uint64, tok []byte, key Key) []byte {
		p, err := AppendHandshake(nil, NewAEAD(key), 7, sessionID, tok)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// retag recomputes the tag after a change, so that only the change is
	// wrong.
	retag := func(f func(b []byte) []byte) []byte {
		b := f(bytes.Clone(good))
		b = b[:len(b)-TagSize]
		nonce := getNonce(7)
		defer nonces.Put(nonce)
		return c2s.Seal(b, nonce[:], nil, b)
	}
	otherTok := testToken()
	otherTok.SessionID++
	expiredTok := testToken()
	expiredTok.Expires = testNow.Add(-time.Second)
	data := mustSealPacket(t, c2s, TypeInput, 1, make([]byte, 600))

	tests := []struct {
		name string
		in   []byte
		err  error
	}{
		{"empty", nil, ErrTruncated},
		{"unknown type", retag(func(b []byte) []byte { b[0] = 0x7f; return b }), ErrUnknownType},
		{"data packet", data, ErrWrongType},
		{"too small", good[:MinHandshakeSize-1], ErrHandshakeTooSmall},
		{"too large", retag(func(b []byte) []byte { return append(b, make([]byte, MaxPacketSize-len(b)+1)...) }), ErrTooLarge},
		{"length past tag", retag(func(b []byte) []byte { binary.BigEndian.PutUint16(b[9:], 500); return b }), ErrMalformed},
		{"length short", retag(func(b []byte) []byte { binary.BigEndian.PutUint16(b[9:], 10); return b }), ErrMalformed},
		{"nonzero padding", retag(func(b []byte) []byte { b[len(b)-TagSize-1] = 1; return b }), ErrMalformed},
		{"bad protobuf", retag(func(b []byte) []byte { b[handshakeBodyOff] = 0xff; return b }), ErrMalformed},
		{"token truncated", build(testSessionID, token[:TokenSize-1], testClientKey), ErrTokenSize},
		{"token missing", build(testSessionID, nil, testClientKey), ErrTokenSize},
		{"token version", build(testSessionID, append([]byte{2}, token[1:]...), testClientKey), ErrTokenVersion},
		{"token expired", build(testSessionID, mustSealToken(t, codec, expiredTok), testClientKey), ErrTokenExpired},
		{"token forged", build(testSessionID, mustSealToken(t, mustTokenCodec(t, seqKey(0x11)), testToken()), testClientKey), ErrTokenInvalid},
		{"token of another session", build(testSessionID, mustSealToken(t, codec, otherTok), testClientKey), ErrSessionMismatch},
		{"session 0", build(0, token, testClientKey), ErrSessionMismatch},
		{"wrong key", build(testSessionID, token, testServerKey), ErrAuth},
		{"seq changed", func() []byte { b := bytes.Clone(good); b[8] ^= 1; return b }(), ErrAuth},
		// 16 bytes more: the whole old tag becomes padding, nonzero (one
		// byte more left only its first byte there, zero once in 256 runs).
		{"extended (old tag becomes padding)", append(bytes.Clone(good), make([]byte, 16)...), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs, aead, err := OpenHandshake(codec, tc.in, testNow)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if hs != (Handshake{}) || aead != nil {
				t.Fatalf("on error: %+v, %v", hs, aead)
			}
		})
	}
}

func TestOpenHandshakeTruncated(t *testing.T) {
	codec := mustTokenCodec(t, testTokenKey)
	good := mustHandshake(t, 7)
	for n := range len(good) {
		if _, _, err := OpenHandshake(codec, good[:n], testNow); err == nil {
			t.Fatalf("prefix of %d bytes accepted", n)
		}
	}
}

func TestOpenHandshakeBitFlips(t *testing.T) {
	codec := mustTokenCodec(t, testTokenKey)
	good := mustHandshake(t, 7)
	flipEach(good, func(i int, bit uint, b []byte) {
		if _, _, err := OpenHandshake(codec, b, testNow); err == nil {
			t.Errorf("byte %d bit %d flipped: accepted", i, bit)
		}
	})
}

func TestOpenHandshakeRejectAllocs(t *testing.T) {
	codec := mustTokenCodec(t, testTokenKey)
	good := mustHandshake(t, 7)
	l := int(binary.BigEndian.Uint16(good[handshakeLenOff:]))
	forgedToken := bytes.Clone(good)
	forgedToken[handshakeBodyOff+l-1] ^= 1 // last byte of the token's tag
	padded := bytes.Clone(good)
	padded[len(padded)-TagSize-1] = 1
	for _, tc := range []struct {
		name string
		in   []byte
	}{{"forged token", forgedToken}, {"nonzero padding", padded}, {"too small", good[:100]}} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := OpenHandshake(codec, tc.in, testNow); err == nil {
				t.Fatal("accepted")
			}
			if n := testing.AllocsPerRun(100, func() { _, _, _ = OpenHandshake(codec, tc.in, testNow) }); n != 0 {
				t.Fatalf("rejecting allocates %v times", n)
			}
		})
	}
}

// TestParseUDPHandshake checks the hand-written decoder against
// proto.Unmarshal on encodings proto.Marshal never produces.
func TestParseUDPHandshake(t *testing.T) {
	var (
		tag    = protowire.AppendTag
		varint = protowire.AppendVarint
		bytesF = protowire.AppendBytes
	)
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"empty", nil, true},
		{"canonical", appendUDPHandshake(nil, 5, []byte("tok")), true},
		{"reversed order", cat(bytesF(tag(nil, 2, protowire.BytesType), []byte("t")), varint(tag(nil, 1, protowire.VarintType), 9)), true},
		{"repeated field, last wins", cat(varint(tag(nil, 1, protowire.VarintType), 1), varint(tag(nil, 1, protowire.VarintType), 2)), true},
		{"unknown varint", cat(varint(tag(nil, 9, protowire.VarintType), 1), appendUDPHandshake(nil, 5, []byte("tok"))), true},
		{"unknown fixed32", protowire.AppendFixed32(tag(nil, 9, protowire.Fixed32Type), 1), true},
		{"unknown group", tag(tag(nil, 9, protowire.StartGroupType), 9, protowire.EndGroupType), true},
		{"session as fixed64", protowire.AppendFixed64(tag(nil, 1, protowire.Fixed64Type), 1), true},
		{"token as varint", varint(tag(nil, 2, protowire.VarintType), 1), true},
		{"non-minimal varint", cat(tag(nil, 1, protowire.VarintType), []byte{0x85, 0x80, 0x00}), true},
		{"truncated varint", cat(tag(nil, 1, protowire.VarintType), []byte{0x80}), false},
		{"varint overflow", cat(tag(nil, 1, protowire.VarintType), bytes.Repeat([]byte{0xff}, 10), []byte{1}), false},
		{"truncated bytes", cat(tag(nil, 2, protowire.BytesType), []byte{5, 1}), false},
		{"field 0", varint(tag(nil, 0, protowire.VarintType), 1), false},
		{"largest field number", varint(tag(nil, protowire.MaxValidNumber, protowire.VarintType), 1), true},
		{"field number too large", varint(tag(nil, protowire.MaxValidNumber+1, protowire.VarintType), 1), false},
		{"lone end group", tag(nil, 9, protowire.EndGroupType), false},
		{"unterminated group", tag(nil, 9, protowire.StartGroupType), false},
		{"reserved wire type", []byte{0x0f}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sid, tok, ok := parseUDPHandshake(tc.in)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			checkUDPHandshakeLikeProto(t, tc.in, sid, tok, ok)
		})
	}
}

// checkUDPHandshakeLikeProto fails if parseUDPHandshake's result differs from
// proto.Unmarshal's.
func checkUDPHandshakeLikeProto(t *testing.T, in []byte, sid uint64, tok []byte, ok bool) {
	t.Helper()
	var m realmv1.UdpHandshake
	err := proto.Unmarshal(in, &m)
	if ok != (err == nil) {
		t.Fatalf("parseUDPHandshake ok = %v, proto.Unmarshal err = %v", ok, err)
	}
	if ok && (sid != m.GetSessionId() || !bytes.Equal(tok, m.GetConnectToken())) {
		t.Fatalf("parseUDPHandshake = %d %x, proto.Unmarshal = %d %x", sid, tok, m.GetSessionId(), m.GetConnectToken())
	}
}
