// Package ratelimit limits login and register attempts per client address.
//
// # Why
//
// Password guessing is cheap for the attacker and expensive for us (one
// argon2id hash per attempt). A token bucket per client address
// (golang.org/x/time/rate) caps how fast one address can guess, while normal
// players, who log in once, never notice it.
//
// # Keys
//
// IPv4 addresses (and IPv4-mapped IPv6) are limited one by one. IPv6
// addresses are limited per /64 prefix: a single host usually owns a whole
// /64 and could otherwise rotate through 2^64 source addresses.
//
// # Memory
//
// The map of limiters cannot grow without bound. An entry idle for as long as
// its bucket needs to refill completely (Burst / Rate) is equivalent to a
// fresh one, so it is dropped without changing any decision; a sweep does that
// at most once per Config.SweepInterval, on the caller's goroutine. When the
// map still holds Config.MaxEntries addresses, an arbitrary entry is evicted
// to make room: that address's bucket starts full again, which only someone
// controlling more than MaxEntries addresses can exploit, and such an
// attacker is not stopped by a per-address limit anyway.
//
// # Cost
//
// Allow is one mutex-guarded map lookup plus the token bucket's arithmetic,
// and a sweep of the whole map at most once per SweepInterval;
// it allocates only for a new address. Each entry costs about 150 bytes.
package ratelimit
