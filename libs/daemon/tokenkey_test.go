package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecs-realm/realm/libs/wire"
)

func TestLoadKey(t *testing.T) {
	key, err := wire.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "token.key")
	if err := os.WriteFile(file, []byte(key.Hex()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, hex, file string
		ok              bool
	}{
		{"flag", key.Hex(), "", true},
		{"file", "", file, true},
		{"both", key.Hex(), file, false},
		{"neither", "", "", false},
		{"bad hex", strings.Repeat("zz", 32), "", false},
		{"missing file", "", filepath.Join(t.TempDir(), "nope"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := TokenKey(tc.hex, tc.file)
			if tc.ok != (err == nil) {
				t.Fatalf("TokenKey err = %v, want ok %v", err, tc.ok)
			}
			if tc.ok && got != key {
				t.Error("TokenKey returned another key")
			}
		})
	}
}
