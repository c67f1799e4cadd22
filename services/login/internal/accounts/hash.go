package accounts

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// Sizes of what Register writes.
const (
	SaltSize = 16 // bytes of random salt per account
	HashSize = 32 // bytes of argon2id output
)

// Bounds on argon2id parameters, read from configuration or from a stored
// record: they keep a corrupt record from asking for terabytes of memory.
const (
	MaxTime      = 64      // iterations
	MaxMemoryKiB = 4 << 20 // 4 GiB
)

// ErrBadParams means argon2id parameters are out of range: time 1..MaxTime,
// threads at least 1, memory 8×threads..MaxMemoryKiB KiB.
var ErrBadParams = errors.New("accounts: bad argon2id parameters")

// Params are argon2id cost parameters.
type Params struct {
	Time      uint32 // iterations over the memory
	MemoryKiB uint32 // memory, in KiB
	Threads   uint8  // parallelism
}

// DefaultParams is the production cost: one pass over 64 MiB with two lanes
// (the second recommended option of RFC 9106, section 4). It costs 64 MiB of
// RAM and tens of milliseconds of CPU per hash.
var DefaultParams = Params{Time: 1, MemoryKiB: 64 << 10, Threads: 2}

// TestParams is a cheap cost for tests and load runs (time 1, 64 KiB,
// 1 thread). Never use it in production.
var TestParams = Params{Time: 1, MemoryKiB: 64, Threads: 1}

func (p Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > MaxTime:
		return fmt.Errorf("%w: time %d", ErrBadParams, p.Time)
	case p.Threads < 1:
		return fmt.Errorf("%w: threads %d", ErrBadParams, p.Threads)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > MaxMemoryKiB:
		return fmt.Errorf("%w: memory %d KiB", ErrBadParams, p.MemoryKiB)
	}
	return nil
}

// hasher runs argon2id under a counting semaphore.
type hasher struct {
	slots chan struct{} // one token per hash allowed to run
}

func newHasher(maxConcurrent int) *hasher {
	return &hasher{slots: make(chan struct{}, maxConcurrent)}
}

// hash waits for a slot (or ctx) and computes argon2id(password, salt, p)
// with n bytes of output.
func (h *hasher) hash(ctx context.Context, password, salt []byte, p Params, n int) ([]byte, error) {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for hash slot: %w", ctx.Err())
	}
	defer func() { <-h.slots }()
	return argon2.IDKey(password, salt, p.Time, p.MemoryKiB, p.Threads, uint32(n)), nil
}

// verify hashes password with r's salt and parameters and compares the result
// with r.Hash in constant time.
func (h *hasher) verify(ctx context.Context, r *Record, password []byte) (bool, error) {
	got, err := h.hash(ctx, password, r.Salt, r.Params, len(r.Hash))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, r.Hash) == 1, nil
}
