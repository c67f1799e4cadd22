package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// Seeds for f.Add come from the same generators as the committed corpus in
// testdata/fuzz (see corpus_test.go).

// isOneOf fails t unless err is nil or one of errs.
func isOneOf(t *testing.T, err error, errs ...error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, e := range errs {
		if err == e { // bare sentinels, never wrapped on these paths
			return
		}
	}
	t.Fatalf("undocumented error %v", err)
}

// FuzzOpenPacket opens arbitrary bytes as a client-to-server data packet.
// Whatever it accepts must re-seal to the same bytes; it also seals the input
// as a plaintext and opens it again.
func FuzzOpenPacket(f *testing.F) {
	for _, s := range packetSeeds(f) {
		f.Add(s.args[0].([]byte))
	}
	c2s, s2c := NewAEAD(testClientKey), NewAEAD(testServerKey)
	f.Fuzz(func(t *testing.T, packet []byte) {
		h, pt, err := OpenPacket(nil, c2s, packet)
		isOneOf(t, err, ErrTruncated, ErrTooLarge, ErrUnknownType, ErrWrongType, ErrAuth)
		if err == nil {
			if ph, err := ParseHeader(packet); err != nil || ph != h {
				t.Fatalf("ParseHeader = %+v, %v; OpenPacket header %+v", ph, err, h)
			}
			again, err := SealPacket(nil, c2s, h.Type, h.Seq, pt)
			if err != nil || !bytes.Equal(again, packet) {
				t.Fatalf("re-seal differs: %v", err)
			}
			if _, _, err := OpenPacket(nil, s2c, packet); err != ErrAuth {
				t.Fatalf("opened with the other direction's key: %v", err)
			}
		}
		// The input as a plaintext: type from the first byte.
		if len(packet) == 0 {
			return
		}
		typ, seq := PacketType(packet[0]%8), uint64(len(packet))<<32|uint64(packet[0])
		sealed, err := SealPacket(nil, s2c, typ, seq, packet[1:])
		isOneOf(t, err, ErrWrongType, ErrUnknownType, ErrTooLarge)
		if err != nil {
			return
		}
		h, pt, err = OpenPacket(nil, s2c, sealed)
		if err != nil || h != (Header{typ, seq}) || !bytes.Equal(pt, packet[1:]) {
			t.Fatalf("round trip: %+v, %v", h, err)
		}
	})
}

// FuzzOpenToken opens arbitrary bytes as a connect token at an arbitrary
// time. Whatever it accepts must be unexpired and re-seal to the same bytes.
func FuzzOpenToken(f *testing.F) {
	for _, s := range tokenSeeds(f) {
		f.Add(s.args[0].([]byte), s.args[1].(int64))
	}
	codec := mustTokenCodec(f, testTokenKey)
	f.Fuzz(func(t *testing.T, sealed []byte, nowMs int64) {
		tok, err := codec.Open(sealed, time.UnixMilli(nowMs))
		isOneOf(t, err, ErrTokenSize, ErrTokenVersion, ErrTokenExpired, ErrTokenInvalid)
		if err != nil {
			if tok != (ConnectToken{}) {
				t.Fatalf("token on error: %+v", tok)
			}
			return
		}
		if tok.Expires.UnixMilli() <= nowMs {
			t.Fatalf("accepted a token expired at %v at %d", tok.Expires, nowMs)
		}
		var nonce [chacha20poly1305.NonceSizeX]byte
		copy(nonce[:], sealed[tokenNonceOff:])
		again, err := codec.sealWithNonce(nil, tok, &nonce)
		if err != nil || !bytes.Equal(again, sealed) {
			t.Fatalf("re-seal differs: %v", err)
		}
	})
}

// FuzzReplayWindow runs an operation list against the map model. Each
// operation is a control byte (bit 0: Accept rather than Check; bits 1-2: how
// the sequence is given) and its operand:
//
//	0: 8 bytes, absolute
//	1: 2 bytes, ahead of the highest accepted
//	2: 2 bytes, behind the highest accepted
//	3: 1 byte, signed, relative to the previous sequence
func FuzzReplayWindow(f *testing.F) {
	for _, s := range replaySeeds() {
		f.Add(s.args[0].([]byte))
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		var w ReplayWindow
		var m replayModel
		var prev uint64
		for len(ops) > 0 {
			ctl := ops[0]
			ops = ops[1:]
			var seq uint64
			switch ctl >> 1 & 3 {
			case 0:
				if len(ops) < 8 {
					return
				}
				seq, ops = binary.BigEndian.Uint64(ops), ops[8:]
			case 1, 2:
				if len(ops) < 2 {
					return
				}
				d := uint64(binary.BigEndian.Uint16(ops))
				ops = ops[2:]
				if ctl>>1&3 == 1 {
					seq = m.top + d
				} else {
					seq = m.top - d
				}
			case 3:
				if len(ops) < 1 {
					return
				}
				seq, ops = prev+uint64(int64(int8(ops[0]))), ops[1:]
			}
			replayStep(t, &w, &m, ctl&1 == 1, seq)
			prev = seq
		}
	})
}

// FuzzOpenHandshake opens arbitrary bytes as a handshake request, then again
// after recomputing the tag with the seed tokens' client key, so that
// mutations of the length, the padding and the UdpHandshake reach every check.
func FuzzOpenHandshake(f *testing.F) {
	for _, s := range handshakeSeeds(f) {
		f.Add(s.args[0].([]byte))
	}
	codec := mustTokenCodec(f, testTokenKey)
	c2s := NewAEAD(testClientKey)
	documented := []error{
		ErrTruncated, ErrUnknownType, ErrWrongType, ErrHandshakeTooSmall, ErrTooLarge, ErrMalformed,
		ErrTokenSize, ErrTokenVersion, ErrTokenExpired, ErrTokenInvalid, ErrSessionMismatch, ErrAuth,
	}
	check := func(t *testing.T, packet []byte) (Handshake, error) {
		hs, aead, err := OpenHandshake(codec, packet, testNow)
		isOneOf(t, err, documented...)
		if err != nil {
			if hs != (Handshake{}) || aead != nil {
				t.Fatalf("result on error: %+v", hs)
			}
			return hs, err
		}
		h, _ := ParseHeader(packet)
		if hs.Seq != h.Seq || hs.SessionID != hs.Token.SessionID || hs.SessionID == 0 {
			t.Fatalf("inconsistent handshake %+v for header %+v", hs, h)
		}
		// The canonical re-encoding of what was accepted is accepted alike.
		sid, token, _ := parseUDPHandshake(packet[handshakeBodyOff : handshakeBodyOff+int(binary.BigEndian.Uint16(packet[handshakeLenOff:]))])
		again, err := AppendHandshake(nil, aead, hs.Seq, sid, token)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if hs2, _, err := OpenHandshake(codec, again, testNow); err != nil || hs2 != hs {
			t.Fatalf("re-encoded handshake: %+v, %v", hs2, err)
		}
		return hs, nil
	}
	f.Fuzz(func(t *testing.T, packet []byte) {
		if _, err := check(t, packet); err == nil && len(packet) > 0 {
			// Accepted as is: any single change must be rejected.
			b := bytes.Clone(packet)
			b[len(b)/2] ^= 0x10
			if _, _, err := OpenHandshake(codec, b, testNow); err == nil {
				t.Fatal("accepted after a change")
			}
		}
		// The body decoder agrees with proto.Unmarshal.
		if len(packet) >= handshakeBodyOff {
			end := handshakeBodyOff + int(binary.BigEndian.Uint16(packet[handshakeLenOff:]))
			if end <= len(packet) {
				body := packet[handshakeBodyOff:end]
				sid, tok, ok := parseUDPHandshake(body)
				checkUDPHandshakeLikeProto(t, body, sid, tok, ok)
			}
		}
		// Retagged: the tag is right for testClientKey, so only the other
		// checks can fail, and never with ErrAuth unless the token is not a
		// testClientKey token (which would take forging a token).
		h, err := ParseHeader(packet)
		if err != nil || len(packet) < TagSize+HeaderSize {
			return
		}
		b := bytes.Clone(packet[:len(packet)-TagSize])
		nonce := getNonce(h.Seq)
		b = c2s.Seal(b, nonce[:], nil, b)
		nonces.Put(nonce)
		if _, err := check(t, b); errors.Is(err, ErrAuth) {
			t.Fatal("retagged request failed authentication")
		}
	})
}
