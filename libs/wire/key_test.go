package wire

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	k := seqKey(0xa0)
	tests := []struct {
		name string
		in   string
		want Key
		err  error
	}{
		{"lowercase", k.Hex(), k, nil},
		{"uppercase", strings.ToUpper(k.Hex()), k, nil},
		{"trailing newline", k.Hex() + "\n", k, nil},
		{"empty", "", Key{}, ErrInvalidKey},
		{"short", k.Hex()[:62], Key{}, ErrInvalidKey},
		{"long", k.Hex() + "00", Key{}, ErrInvalidKey},
		{"not hex", "zz" + k.Hex()[2:], Key{}, ErrInvalidKey},
		{"all zeros", strings.Repeat("0", 64), Key{}, ErrInvalidKey},
		{"inner space", k.Hex()[:30] + " " + k.Hex()[31:], Key{}, ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseKey(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if got != tc.want {
				t.Fatalf("key = %x, want %x", got[:], tc.want[:])
			}
		})
	}
}

func TestNewKey(t *testing.T) {
	a, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if a == b || a == (Key{}) {
		t.Fatalf("NewKey returned %x and %x", a[:], b[:])
	}
	back, err := ParseKey(a.Hex())
	if err != nil || back != a {
		t.Fatalf("ParseKey(Hex) = %x, %v; want %x", back[:], err, a[:])
	}
}

func TestKeyRedacted(t *testing.T) {
	k := seqKey(0xa0)
	tok := testToken()
	for _, s := range []string{
		fmt.Sprint(k), fmt.Sprintf("%v", tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok), fmt.Sprintf("%s", k),
	} {
		for _, secret := range []Key{k, tok.ClientKey, tok.ServerKey} {
			if strings.Contains(s, secret.Hex()) || strings.Contains(s, fmt.Sprint(secret[:])) {
				t.Errorf("formatted value leaks a key: %s", s)
			}
		}
	}
}
