package accounts

import (
	"errors"
	"strings"
)

// Name and password rules of docs/PROTOCOL.md §1.
const (
	MinNameLen     = 3
	MaxNameLen     = 32
	MinPasswordLen = 8   // bytes
	MaxPasswordLen = 128 // bytes
)

var (
	// ErrInvalidName means a name is not 3 to 32 characters of [A-Za-z0-9_-].
	ErrInvalidName = errors.New("accounts: invalid name")
	// ErrInvalidPassword means a password is not 8 to 128 bytes long.
	ErrInvalidPassword = errors.New("accounts: invalid password")
)

// ValidateName checks the name rules: 3 to 32 characters of [A-Za-z0-9_-].
func ValidateName(name string) error {
	if len(name) < MinNameLen || len(name) > MaxNameLen {
		return ErrInvalidName
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return ErrInvalidName
		}
	}
	return nil
}

// ValidatePassword checks the password rule: 8 to 128 bytes. Any bytes are
// allowed; the password is hashed as given.
func ValidatePassword(password string) error {
	if len(password) < MinPasswordLen || len(password) > MaxPasswordLen {
		return ErrInvalidPassword
	}
	return nil
}

// nameKey is the bucket key of a valid name: the name in lower case, so that
// names are unique ignoring case.
func nameKey(name string) string {
	return strings.ToLower(name)
}
