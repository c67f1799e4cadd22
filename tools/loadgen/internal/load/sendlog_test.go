package load

import (
	"testing"
	"time"
)

func TestSendLog(t *testing.T) {
	var l sendLog
	base := time.Unix(1000, 0)
	for seq := uint64(1); seq <= 300; seq++ {
		l.put(seq, base.Add(time.Duration(seq)*time.Millisecond))
	}
	tests := []struct {
		name string
		seq  uint64
		ok   bool
	}{
		{"newest", 300, true},
		{"oldest remembered", 300 - sendLogSize + 1, true},
		{"overwritten", 300 - sendLogSize, false},
		{"never sent", 301, false},
		{"zero", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at, ok := l.get(tc.seq)
			if ok != tc.ok {
				t.Fatalf("get(%d) ok = %v, want %v", tc.seq, ok, tc.ok)
			}
			if ok && !at.Equal(base.Add(time.Duration(tc.seq)*time.Millisecond)) {
				t.Errorf("get(%d) = %v", tc.seq, at)
			}
		})
	}
}
