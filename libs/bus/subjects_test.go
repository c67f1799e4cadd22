package bus_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ecs-realm/realm/libs/bus"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"ingress-1", true},
		{"A_b-9", true},
		{strings.Repeat("x", bus.MaxIDLen), true},
		{"", false},
		{strings.Repeat("x", bus.MaxIDLen+1), false},
		{"a.b", false},
		{"a*", false},
		{">", false},
		{"a b", false},
		{"é", false},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			err := bus.ValidID(tc.id)
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, bus.ErrBadID)) {
				t.Fatalf("ValidID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
			}
		})
	}
}

func TestIngressOutSubject(t *testing.T) {
	if got := bus.IngressOutSubject("ingress-1"); got != "realm.ingress.ingress-1.out" {
		t.Fatalf("got %q", got)
	}
}
