package world

import (
	"testing"
	"time"
)

func TestNextTick(t *testing.T) {
	const period = 50 * time.Millisecond
	due := time.Unix(1000, 0)
	tests := []struct {
		name        string
		now         time.Time
		wantNext    time.Time
		wantOverrun bool
	}{
		{name: "on time", now: due.Add(10 * time.Millisecond), wantNext: due.Add(period)},
		{name: "just in time", now: due.Add(period - time.Nanosecond), wantNext: due.Add(period)},
		{name: "exactly one period is an overrun", now: due.Add(period), wantNext: due.Add(period), wantOverrun: true},
		{name: "long overrun starts at once, no catch-up", now: due.Add(7 * period / 2), wantNext: due.Add(7 * period / 2), wantOverrun: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			next, overrun := nextTick(due, tc.now, period)
			if !next.Equal(tc.wantNext) || overrun != tc.wantOverrun {
				t.Fatalf("nextTick = %v, %v; want %v, %v", next.Sub(due), overrun, tc.wantNext.Sub(due), tc.wantOverrun)
			}
		})
	}
}
