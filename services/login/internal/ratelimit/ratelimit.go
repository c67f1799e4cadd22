package ratelimit

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ErrBadConfig is returned by New for a negative or non-finite setting.
var ErrBadConfig = errors.New("ratelimit: bad config")

// Config configures a Limiter. The zero value means the defaults.
type Config struct {
	// Rate is the sustained number of attempts per second per address.
	// Zero means 1 attempt per second.
	Rate float64
	// Burst is how many attempts an address may make at once. Zero means 10.
	Burst int
	// MaxEntries bounds the number of addresses tracked. Zero means 100000.
	MaxEntries int
	// SweepInterval is the least time between two sweeps of idle entries.
	// Zero means 1 minute.
	SweepInterval time.Duration
}

func (c *Config) fill() error {
	if c.Rate == 0 {
		c.Rate = 1
	}
	if c.Burst == 0 {
		c.Burst = 10
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = 100000
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = time.Minute
	}
	if !(c.Rate > 0 && c.Rate <= 1e9) || c.Burst < 1 || c.MaxEntries < 1 || c.SweepInterval < 0 {
		return fmt.Errorf("%w: rate %v burst %d max entries %d sweep %v",
			ErrBadConfig, c.Rate, c.Burst, c.MaxEntries, c.SweepInterval)
	}
	return nil
}

// Limiter is a map of token buckets keyed by client address. It is safe for
// concurrent use.
type Limiter struct {
	rate      rate.Limit
	burst     int
	max       int
	sweepEach time.Duration
	idleAfter time.Duration // Burst / Rate: a bucket idle this long is full again

	mu        sync.Mutex // guards the fields below
	entries   map[netip.Addr]*entry
	lastSweep time.Time
}

type entry struct {
	lim  *rate.Limiter
	last time.Time // last Allow for this address
}

// New returns a Limiter for cfg.
func New(cfg Config) (*Limiter, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	return &Limiter{
		rate:      rate.Limit(cfg.Rate),
		burst:     cfg.Burst,
		max:       cfg.MaxEntries,
		sweepEach: cfg.SweepInterval,
		idleAfter: time.Duration(float64(cfg.Burst) / cfg.Rate * float64(time.Second)),
		entries:   make(map[netip.Addr]*entry),
	}, nil
}

// Allow takes one token from addr's bucket at time now and reports whether
// there was one.
func (l *Limiter) Allow(addr netip.Addr, now time.Time) bool {
	key := Key(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.sweepEach {
		l.sweepLocked(now)
	}
	e := l.entries[key]
	if e == nil {
		if len(l.entries) >= l.max {
			for k := range l.entries { // an arbitrary entry: see the package doc
				delete(l.entries, k)
				break
			}
		}
		e = &entry{lim: rate.NewLimiter(l.rate, l.burst)}
		l.entries[key] = e
	}
	e.last = now
	return e.lim.AllowN(now, 1)
}

// Len returns the number of addresses tracked.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// sweepLocked drops the entries whose bucket has refilled completely.
func (l *Limiter) sweepLocked(now time.Time) {
	l.lastSweep = now
	for k, e := range l.entries {
		if now.Sub(e.last) >= l.idleAfter {
			delete(l.entries, k)
		}
	}
}

// Key returns the address that addr is limited as: itself for IPv4 (an
// IPv4-mapped IPv6 address is unmapped first), its /64 prefix for IPv6.
// The zone is dropped.
func Key(addr netip.Addr) netip.Addr {
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		p, err := addr.Prefix(64)
		if err == nil {
			return p.Addr()
		}
	}
	return addr
}
