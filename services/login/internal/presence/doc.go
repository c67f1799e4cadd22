// Package presence keeps one live session per account across every login
// instance sharing a NATS cluster.
//
// # Why
//
// A player who logs in again (another device, a reconnect after a crash of
// the client) must replace the old session, wherever it lives: the old TLS
// connection may be on another login instance. Presence is therefore shared
// state in a JetStream KV bucket, written only by compare-and-set, and every
// instance watches the bucket to learn that one of its sessions was replaced.
//
// # Bucket layout
//
// Bucket "realm_presence" (BucketName), key = the account id in decimal,
// value (Entry.MarshalBinary, version 1):
//
//	off  len  field
//	  0    1  version = 1
//	  1    8  session id, u64 big-endian, never 0
//	  9    .  login instance id (the rest of the value)
//
// # Protocol
//
// Claim writes the entry for a new session: KV Create when the key is absent
// (or deleted), KV Update with the revision just read otherwise, retried when
// another writer got in between. Every successful claim therefore has a
// revision, and revisions of one key are totally ordered: the last claim is
// the live session.
//
// Watch delivers the later changes of the bucket, in revision order, to
// every instance. The bucket keeps one revision per key, so a change that was
// overwritten before the watch delivered it is skipped: a watcher sees a
// subsequence of the changes that always ends with the latest one of each
// key. The rule built on it therefore looks only at revisions: an instance
// kicks its own session of an account when it sees a change of that account
// with a higher revision than the session's own claim and either a different
// session id or a delete (only the owner deletes its claim, and only at its
// end, so a later delete means a newer session came and went). Comparing
// revisions, not arrival order, makes simultaneous logins on two instances
// race-free: both agree on the order, and exactly the older session is
// kicked. A change that arrives while the local session's own Claim is still
// in flight (its revision not yet known) is remembered by the caller and
// compared once Claim returns; see services/login/login.
//
// Release deletes the entry with the revision of the session's own claim as
// the expected last revision, so it removes the entry only if it is still
// that session's: a session that was replaced leaves its successor alone.
//
// # Costs and limits
//
// One Claim costs one KV read and one KV write (more under contention for the
// same account, at most MaxClaimAttempts rounds); Release one KV write. The
// watch delivers every claim in the cluster to every login instance: at a
// thousand logins a second that is a thousand small messages a second per
// instance, fine for a login tier. Entries of an instance that crashed stay
// until the account logs in again, which simply overwrites them; nothing
// reads them otherwise.
package presence
