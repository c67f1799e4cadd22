package wire

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestTokenRoundTrip(t *testing.T) {
	c := mustTokenCodec(t, testTokenKey)
	want := testToken()
	want.Expires = time.UnixMilli(testExpires.UnixMilli() + 1).Add(123 * time.Microsecond) // sub-ms part is dropped
	prefix := []byte("prefix")
	sealed, err := c.Seal(prefix, want)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != len(prefix)+TokenSize {
		t.Fatalf("sealed %d bytes, want %d", len(sealed)-len(prefix), TokenSize)
	}
	if !bytes.Equal(sealed[:len(prefix)], []byte("prefix")) {
		t.Fatal("Seal changed dst")
	}
	tok := sealed[len(prefix):]
	if tok[0] != TokenVersion {
		t.Fatalf("version byte %d", tok[0])
	}
	if bytes.Contains(tok, testClientKey[:8]) || bytes.Contains(tok, testServerKey[:8]) {
		t.Fatal("sealed token contains a key in the clear")
	}
	copyOf := bytes.Clone(tok)
	got, err := c.Open(tok, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tok, copyOf) {
		t.Fatal("Open modified its input")
	}
	want.Expires = want.Expires.Truncate(time.Millisecond)
	if !got.Expires.Equal(want.Expires) {
		t.Fatalf("expires %v, want %v", got.Expires, want.Expires)
	}
	got.Expires, want.Expires = time.Time{}, time.Time{}
	if got != want {
		t.Fatalf("Open = %+v, want %+v", got, want)
	}
	again, err := c.Seal(nil, testToken())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again[tokenNonceOff:], tok[tokenNonceOff:]) {
		t.Fatal("two seals produced the same nonce and ciphertext")
	}
}

func TestTokenOpenErrors(t *testing.T) {
	c := mustTokenCodec(t, testTokenKey)
	good := mustSealToken(t, c, testToken())
	other := mustTokenCodec(t, seqKey(0x11))
	with := func(f func(b []byte)) []byte {
		b := bytes.Clone(good)
		f(b)
		return b
	}
	tests := []struct {
		name  string
		codec *TokenCodec
		in    []byte
		now   time.Time
		err   error
	}{
		{"empty", c, nil, testNow, ErrTokenSize},
		{"one byte long", c, append(bytes.Clone(good), 0), testNow, ErrTokenSize},
		{"version 0", c, with(func(b []byte) { b[0] = 0 }), testNow, ErrTokenVersion},
		{"version 2", c, with(func(b []byte) { b[0] = 2 }), testNow, ErrTokenVersion},
		{"expired exactly", c, good, testExpires, ErrTokenExpired},
		{"expired", c, good, testExpires.Add(time.Hour), ErrTokenExpired},
		{"before 1970", c, good, time.Unix(-1, 0), ErrTokenExpired},
		{"wrong key", other, good, testNow, ErrTokenInvalid},
		{"expiry moved", c, with(func(b []byte) { b[8]++ }), testNow, ErrTokenInvalid},
		{"nonce changed", c, with(func(b []byte) { b[tokenNonceOff] ^= 1 }), testNow, ErrTokenInvalid},
		{"tag changed", c, with(func(b []byte) { b[TokenSize-1] ^= 0x80 }), testNow, ErrTokenInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.codec.Open(tc.in, tc.now)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got != (ConnectToken{}) {
				t.Fatalf("non-zero token on error: %+v", got)
			}
		})
	}
	// One millisecond before the expiry is still valid.
	if _, err := c.Open(good, testExpires.Add(-time.Millisecond)); err != nil {
		t.Fatalf("token rejected 1ms before expiry: %v", err)
	}
}

func TestTokenTruncated(t *testing.T) {
	c := mustTokenCodec(t, testTokenKey)
	good := mustSealToken(t, c, testToken())
	for n := range len(good) {
		if _, err := c.Open(good[:n], testNow); !errors.Is(err, ErrTokenSize) {
			t.Fatalf("prefix of %d bytes: err = %v, want ErrTokenSize", n, err)
		}
	}
}

func TestTokenBitFlips(t *testing.T) {
	c := mustTokenCodec(t, testTokenKey)
	good := mustSealToken(t, c, testToken())
	flipEach(good, func(i int, bit uint, b []byte) {
		if _, err := c.Open(b, testNow); err == nil {
			t.Errorf("byte %d bit %d flipped: accepted", i, bit)
		}
	})
}

func TestTokenSealErrors(t *testing.T) {
	c := mustTokenCodec(t, testTokenKey)
	tests := []struct {
		name string
		tok  func(*ConnectToken)
		err  error
	}{
		{"session 0", func(t *ConnectToken) { t.SessionID = 0 }, ErrZeroSession},
		{"expiry before 1970", func(t *ConnectToken) { t.Expires = time.Unix(-10, 0) }, ErrTokenExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := testToken()
			tc.tok(&tok)
			dst := []byte("keep")
			out, err := c.Seal(dst, tok)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if string(out) != "keep" {
				t.Fatalf("dst changed on error: %q", out)
			}
		})
	}
	if _, err := NewTokenCodec(Key{}); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("NewTokenCodec(zero key) err = %v, want ErrInvalidKey", err)
	}
}

func TestTokenOpenAllocs(t *testing.T) {
	c := mustTokenCodec(t, testTokenKey)
	good := mustSealToken(t, c, testToken())
	bad := bytes.Clone(good)
	bad[40] ^= 1
	for _, tc := range []struct {
		name string
		in   []byte
	}{{"valid", good}, {"forged", bad}} {
		t.Run(tc.name, func(t *testing.T) {
			if n := testing.AllocsPerRun(100, func() { _, _ = c.Open(tc.in, testNow) }); n != 0 {
				t.Fatalf("Open allocates %v times", n)
			}
		})
	}
}
