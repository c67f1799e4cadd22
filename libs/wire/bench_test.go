package wire

import (
	"bytes"
	"testing"
)

// The "aead" sub-benchmarks are the baseline: the bare ChaCha20-Poly1305 call
// on the same 64-byte input with a nonce allocated once outside the loop. The
// "wire" ones add the header, the checks and the pooled nonce.

func BenchmarkSealPacket(b *testing.B) {
	aead := NewAEAD(testClientKey)
	pt := bytes.Repeat([]byte{1}, 64)
	buf := make([]byte, 0, MaxPacketSize)
	b.Run("wire", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(pt)))
		for i := 0; b.Loop(); i++ {
			if _, err := SealPacket(buf[:0], aead, TypeInput, uint64(i), pt); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("aead", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(pt)))
		nonce := make([]byte, nonceSize)
		ad := make([]byte, HeaderSize)
		for b.Loop() {
			aead.Seal(buf[:0], nonce, pt, ad)
		}
	})
}

func BenchmarkOpenPacket(b *testing.B) {
	aead := NewAEAD(testClientKey)
	pt := bytes.Repeat([]byte{1}, 64)
	p := mustSealPacket(b, aead, TypeInput, 1, pt)
	buf := make([]byte, 0, MaxPacketSize)
	b.Run("wire", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(pt)))
		for b.Loop() {
			if _, _, err := OpenPacket(buf[:0], aead, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("aead", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(pt)))
		nonce := make([]byte, nonceSize)
		nonce[11] = 1
		for b.Loop() {
			if _, err := aead.Open(buf[:0], nonce, p[HeaderSize:], p[:HeaderSize]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("forged", func(b *testing.B) {
		bad := bytes.Clone(p)
		bad[HeaderSize] ^= 1
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := OpenPacket(buf[:0], aead, bad); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

func BenchmarkToken(b *testing.B) {
	codec := mustTokenCodec(b, testTokenKey)
	tok := testToken()
	buf := make([]byte, 0, TokenSize)
	b.Run("seal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := codec.Seal(buf[:0], tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	sealed := mustSealToken(b, codec, tok)
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := codec.Open(sealed, testNow); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkHandshake(b *testing.B) {
	codec := mustTokenCodec(b, testTokenKey)
	token := mustSealToken(b, codec, testToken())
	c2s := NewAEAD(testClientKey)
	buf := make([]byte, 0, MaxPacketSize)
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := AppendHandshake(buf[:0], c2s, 1, testSessionID, token); err != nil {
				b.Fatal(err)
			}
		}
	})
	p := mustHandshake(b, 1)
	b.Run("open", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := OpenHandshake(codec, p, testNow); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A flood of requests with forged tokens: rejected after the token's
	// XChaCha20-Poly1305 check, the most expensive rejection.
	forged := bytes.Clone(p)
	forged[handshakeBodyOff+20] ^= 1
	b.Run("open_forged_token", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := OpenHandshake(codec, forged, testNow); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

func BenchmarkReplayWindow(b *testing.B) {
	b.ReportAllocs()
	var w ReplayWindow
	for i := uint64(0); b.Loop(); i++ {
		seq := i + i%7*40 // mostly in order, some reordering
		if w.Check(seq) == nil {
			_ = w.Accept(seq)
		}
	}
}
