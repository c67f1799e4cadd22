package wire

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of every key, in bytes.
const KeySize = 32

// Key is a 32-byte symmetric key: a token key or one direction of a session.
type Key [KeySize]byte

// NewKey returns a key from crypto/rand.
func NewKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return Key{}, fmt.Errorf("new key: %w", err)
	}
	return k, nil
}

// ParseKey parses a key written as 64 hexadecimal characters (either case),
// as Hex writes it; surrounding white space, such as the newline at the end of
// a key file, is ignored. The all-zero key is rejected: it is what an unset
// key looks like. Errors wrap ErrInvalidKey.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	var k Key
	if len(s) != 2*KeySize {
		return Key{}, fmt.Errorf("parse key: %d characters, want %d: %w", len(s), 2*KeySize, ErrInvalidKey)
	}
	if _, err := hex.Decode(k[:], []byte(s)); err != nil {
		return Key{}, fmt.Errorf("parse key: not hexadecimal: %w", ErrInvalidKey)
	}
	if k == (Key{}) {
		return Key{}, fmt.Errorf("parse key: all zeros: %w", ErrInvalidKey)
	}
	return k, nil
}

// Hex returns the key as 64 lowercase hexadecimal characters, the form
// ParseKey reads. It is the only method that reveals the key.
func (k Key) Hex() string { return hex.EncodeToString(k[:]) }

// String redacts the key, so that printing a Key or a ConnectToken (with %v,
// zap.Any, ...) does not leak it. Use Hex to write a key out on purpose.
func (k Key) String() string { return "wire.Key(redacted)" }

// GoString redacts the key like String, for %#v.
func (k Key) GoString() string { return k.String() }

// NewAEAD returns the ChaCha20-Poly1305 AEAD for one direction of one session.
// It is safe for concurrent use.
func NewAEAD(k Key) cipher.AEAD {
	a, err := chacha20poly1305.New(k[:])
	if err != nil {
		// New fails only for a wrong key length (impossible with a Key) or
		// in FIPS 140-only mode, where this protocol cannot run at all.
		panic("wire: " + err.Error())
	}
	return a
}
