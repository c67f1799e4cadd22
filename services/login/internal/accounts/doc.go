// Package accounts stores player accounts for the login service: names,
// account ids and argon2id password hashes, in a JetStream key-value bucket.
//
// # Why
//
// Login must prove who a player is without ever keeping a password, and must
// do so identically on every login instance of a cluster. A JetStream KV
// bucket (file storage, replicated as configured) gives every instance the
// same durable view and an atomic Create, so two concurrent registrations of
// one name cannot both succeed.
//
// # Bucket layout
//
// Bucket "realm_accounts" (BucketName), key = the account name in lower case
// (names are unique ignoring case; see ValidateName: 3 to 32 characters of
// [A-Za-z0-9_-], all of them legal in a KV key), value = one Record encoded
// by Record.MarshalBinary, version 1:
//
//	off  len  field
//	  0    1  version = 1
//	  1    8  account id, u64 big-endian, never 0
//	  9    8  created, Unix milliseconds, u64 big-endian
//	 17    4  argon2id time (iterations), u32
//	 21    4  argon2id memory, KiB, u32
//	 25    1  argon2id threads (parallelism), u8
//	 26    1  S: salt length (16 when written by this package)
//	 27    S  salt, random per account
//	  .    1  H: hash length (32 when written by this package)
//	  .    H  argon2id(password, salt, time, memory, threads, H)
//	  .    1  N: name length
//	  .    N  the name as registered (its original case)
//
// Each record carries its own argon2 parameters, so raising the cost in
// Config affects new registrations only and old hashes keep verifying.
// A reader rejects any other version with ErrBadRecord; a future version 2
// can be added beside version 1 without rewriting the bucket.
//
// # Costs and limits
//
// Argon2id is memory-hard on purpose: one hash at the production default
// (DefaultParams: time 1, memory 64 MiB, threads 2) takes 64 MiB of RAM and
// tens of milliseconds of CPU. Every Register and Verify takes a slot of a
// semaphore (Config.MaxConcurrentHashes, default GOMAXPROCS) before hashing,
// so a login storm queues instead of exhausting memory: the peak is about
// MaxConcurrentHashes × memory. Waiting for a slot honours the context.
//
// Register cannot hide whether a name is taken (NAME_TAKEN is its answer);
// it gives that answer before hashing, so probing names costs us little.
// Verify does the same work for an unknown name as for a known one: it hashes
// the password against a dummy record with the configured parameters, and
// compares hashes with subtle.ConstantTimeCompare, so neither timing nor the
// error (always ErrInvalidCredentials) tells whether a name exists. The
// remaining difference is the records' own parameters: an account hashed with
// older, different parameters verifies in a different time than an unknown
// name.
//
// Account ids are random non-zero 64-bit numbers, unique: Register reserves
// the id first with a KV Create of the key "id.<decimal id>" (value: the name
// key; '.' never occurs in a name, so the two key spaces cannot collide) and
// draws another id if that key exists. If the name then turns out to be taken,
// the reservation is deleted again (best effort: a leftover reservation only
// keeps one id unused).
//
// Register is acknowledged only after the record's KV Create was stored by
// JetStream (with Replicas > 1: by a quorum), so an answered registration
// survives a restart of the service and of the NATS server.
package accounts
