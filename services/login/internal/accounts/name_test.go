package accounts

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"min length", "abc", true},
		{"max length", strings.Repeat("a", MaxNameLen), true},
		{"all classes", "Az09_-", true},
		{"too short", "ab", false},
		{"too long", strings.Repeat("a", MaxNameLen+1), false},
		{"space", "ab c", false},
		{"dot", "a.bc", false},
		{"non-ascii", "héllo", false},
		{"empty", "", false},
		{"wildcard", "ab*>", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateName(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ValidateName(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidName) {
				t.Fatalf("err = %v, want ErrInvalidName", err)
			}
		})
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"min", strings.Repeat("x", MinPasswordLen), true},
		{"max", strings.Repeat("x", MaxPasswordLen), true},
		{"short", strings.Repeat("x", MinPasswordLen-1), false},
		{"long", strings.Repeat("x", MaxPasswordLen+1), false},
		{"multibyte counts bytes", strings.Repeat("é", 4), true}, // 8 bytes
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidatePassword(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("ValidatePassword(%q) = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPassword) {
				t.Fatalf("err = %v, want ErrInvalidPassword", err)
			}
		})
	}
}
