package realm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ecs-realm/realm/libs/wire"
)

// LoadOrCreateKey returns the token key stored in file as 64 hex digits (as
// wire.Key.Hex writes it, a trailing newline allowed). When the file does not
// exist it creates it, and its directory (0700), with a new random key,
// readable by the owner only (0600); created reports whether it did. A file
// created concurrently by another process is read, not overwritten.
func LoadOrCreateKey(file string) (key wire.Key, created bool, err error) {
	key, err = readKey(file)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return wire.Key{}, false, fmt.Errorf("token key: %w", err)
	}
	key, err = wire.NewKey()
	if err != nil {
		return wire.Key{}, false, fmt.Errorf("token key: %w", err)
	}
	// Write a temporary file and link it into place: the key file never
	// exists half-written, and a concurrent creator's key wins.
	tmp, err := os.CreateTemp(filepath.Dir(file), ".token-key-*")
	if err != nil {
		return wire.Key{}, false, fmt.Errorf("token key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(key.Hex() + "\n")
	if err := errors.Join(werr, tmp.Chmod(0o600), tmp.Sync(), tmp.Close()); err != nil {
		return wire.Key{}, false, fmt.Errorf("token key: %w", err)
	}
	if err := os.Link(tmp.Name(), file); errors.Is(err, fs.ErrExist) {
		key, err = readKey(file)
		return key, false, err
	} else if err != nil {
		return wire.Key{}, false, fmt.Errorf("token key: %w", err)
	}
	return key, true, nil
}

// readKey reads and parses a key file; a missing file's error wraps
// fs.ErrNotExist.
func readKey(file string) (wire.Key, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return wire.Key{}, fmt.Errorf("token key: %w", err)
	}
	k, err := wire.ParseKey(string(b))
	if err != nil {
		return wire.Key{}, fmt.Errorf("token key %s: %w", file, err)
	}
	return k, nil
}
