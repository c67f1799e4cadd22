package wire

import (
	"crypto/cipher"
	"testing"
	"time"
)

// Fixed keys and times, so the committed fuzz corpus stays meaningful.
var (
	testTokenKey  = seqKey(0x10)
	testClientKey = seqKey(0x40)
	testServerKey = seqKey(0x80)
	testNow       = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	testExpires   = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

const (
	testSessionID = 0x1122334455667788
	testAccountID = 42
)

// seqKey returns the key first, first+1, ..., first+31.
func seqKey(first byte) Key {
	var k Key
	for i := range k {
		k[i] = first + byte(i)
	}
	return k
}

func testToken() ConnectToken {
	return ConnectToken{
		SessionID: testSessionID,
		AccountID: testAccountID,
		Expires:   testExpires,
		ClientKey: testClientKey,
		ServerKey: testServerKey,
	}
}

func mustTokenCodec(t testing.TB, k Key) *TokenCodec {
	t.Helper()
	c, err := NewTokenCodec(k)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustSealToken(t testing.TB, c *TokenCodec, tok ConnectToken) []byte {
	t.Helper()
	b, err := c.Seal(nil, tok)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustHandshake returns a valid request for testToken sealed with testTokenKey.
func mustHandshake(t testing.TB, seq uint64) []byte {
	t.Helper()
	tok := mustSealToken(t, mustTokenCodec(t, testTokenKey), testToken())
	b, err := AppendHandshake(nil, NewAEAD(testClientKey), seq, testSessionID, tok)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustSealPacket(t testing.TB, aead cipher.AEAD, typ PacketType, seq uint64, pt []byte) []byte {
	t.Helper()
	b, err := SealPacket(nil, aead, typ, seq, pt)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// flipEach calls fn with a copy of b in which one bit is flipped, for every
// bit of b.
func flipEach(b []byte, fn func(i int, bit uint, flipped []byte)) {
	c := make([]byte, len(b))
	for i := range b {
		for bit := range uint(8) {
			copy(c, b)
			c[i] ^= 1 << bit
			fn(i, bit, c)
		}
	}
}
