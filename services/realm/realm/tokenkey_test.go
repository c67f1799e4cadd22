package realm_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/realm/realm"
)

func TestLoadOrCreateKey(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sub", "token.key")
	key, created, err := realm.LoadOrCreateKey(file)
	if err != nil || !created || key == (wire.Key{}) {
		t.Fatalf("first call = %v, created %v, %v", key, created, err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("mode %v, want 0600", perm)
	}
	if b, _ := os.ReadFile(file); string(b) != key.Hex()+"\n" {
		t.Errorf("file holds %q, want the hex key and a newline", b)
	}
	again, created, err := realm.LoadOrCreateKey(file)
	if err != nil || created || again != key {
		t.Errorf("second call: same key %v, created %v, %v", again == key, created, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key (no temporary file left)", len(entries))
	}
}

func TestLoadOrCreateKeyErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		want    error
	}{
		{"not hex", "zz", wire.ErrInvalidKey},
		{"short", "abcd", wire.ErrInvalidKey},
		{"zero key", "0000000000000000000000000000000000000000000000000000000000000000", wire.ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name)
			if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, err := realm.LoadOrCreateKey(file); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if b, _ := os.ReadFile(file); string(b) != tc.content {
				t.Error("a bad key file was overwritten")
			}
		})
	}
	// A directory where the file should be: neither read nor replaced.
	if _, _, err := realm.LoadOrCreateKey(dir); err == nil {
		t.Error("a directory was accepted as key file")
	}
}

// TestLoadOrCreateKeyConcurrent: processes starting together on one data
// directory agree on one key.
func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token.key")
	const n = 8
	keys := make([]wire.Key, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], _, errs[i] = realm.LoadOrCreateKey(file) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || keys[i] != keys[0] {
			t.Errorf("caller %d: same key %v, %v", i, keys[i] == keys[0], errs[i])
		}
	}
}
