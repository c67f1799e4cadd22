package ratelimit

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Unix(1_700_000_000, 0)

func TestAllowBurstThenRate(t *testing.T) {
	l, err := New(Config{Rate: 2, Burst: 3})
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("192.0.2.1")
	for i := range 3 {
		if !l.Allow(a, t0) {
			t.Fatalf("attempt %d of the burst denied", i)
		}
	}
	if l.Allow(a, t0) {
		t.Fatal("attempt past the burst allowed")
	}
	if !l.Allow(netip.MustParseAddr("192.0.2.2"), t0) {
		t.Fatal("another address was limited")
	}
	// 2 per second: one token back after 500 ms.
	if !l.Allow(a, t0.Add(500*time.Millisecond)) {
		t.Fatal("refilled token denied")
	}
	if l.Allow(a, t0.Add(500*time.Millisecond)) {
		t.Fatal("second token allowed before refill")
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ipv4", "203.0.113.7", "203.0.113.7"},
		{"mapped ipv4", "::ffff:203.0.113.7", "203.0.113.7"},
		{"ipv6 to /64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"},
		{"ipv6 zone dropped", "fe80::1%eth0", "fe80::"},
		{"loopback v6", "::1", "::"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Key(netip.MustParseAddr(tc.in)); got != netip.MustParseAddr(tc.want) {
				t.Fatalf("Key(%s) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestIPv6SharesPrefixBucket(t *testing.T) {
	l, err := New(Config{Rate: 1, Burst: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !l.Allow(netip.MustParseAddr("2001:db8::1"), t0) {
		t.Fatal("first attempt denied")
	}
	if l.Allow(netip.MustParseAddr("2001:db8::2"), t0) {
		t.Fatal("another address of the same /64 got its own bucket")
	}
}

func TestIdleEntriesAreSwept(t *testing.T) {
	l, err := New(Config{Rate: 1, Burst: 2, SweepInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		l.Allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), t0)
	}
	if n := l.Len(); n != 100 {
		t.Fatalf("Len = %d, want 100", n)
	}
	// Burst/Rate = 2s: after that every bucket is full again and may go.
	l.Allow(netip.MustParseAddr("10.1.0.0"), t0.Add(2*time.Second))
	if n := l.Len(); n != 1 {
		t.Fatalf("Len after sweep = %d, want 1", n)
	}
}

func TestSweepKeepsBusyEntries(t *testing.T) {
	l, err := New(Config{Rate: 1, Burst: 2, SweepInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("10.0.0.1")
	l.Allow(a, t0)
	l.Allow(a, t0)
	// 1.5 s later the bucket is not full yet: the sweep must keep it.
	l.Allow(netip.MustParseAddr("10.0.0.2"), t0.Add(1500*time.Millisecond))
	if l.Len() != 2 {
		t.Fatalf("Len = %d, want 2", l.Len())
	}
	if !l.Allow(a, t0.Add(1500*time.Millisecond)) {
		t.Fatal("one token should have refilled")
	}
	if l.Allow(a, t0.Add(1500*time.Millisecond)) {
		t.Fatal("the sweep reset a busy bucket")
	}
}

func TestMaxEntriesBound(t *testing.T) {
	l, err := New(Config{MaxEntries: 50})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		l.Allow(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), t0)
		if n := l.Len(); n > 50 {
			t.Fatalf("Len = %d after %d addresses, want <= 50", n, i+1)
		}
	}
}

func TestBadConfig(t *testing.T) {
	tests := []Config{
		{Rate: -1},
		{Burst: -1},
		{MaxEntries: -3},
		{SweepInterval: -time.Second},
	}
	for _, cfg := range tests {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			if _, err := New(cfg); !errors.Is(err, ErrBadConfig) {
				t.Fatalf("New = %v, want ErrBadConfig", err)
			}
		})
	}
}

func BenchmarkAllow(b *testing.B) {
	l, err := New(Config{Rate: 1e6, Burst: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	addrs := make([]netip.Addr, 1024)
	for i := range addrs {
		addrs[i] = netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
	}
	b.ReportAllocs()
	now := t0
	for i := 0; b.Loop(); i++ {
		l.Allow(addrs[i%len(addrs)], now)
	}
}
