// Package load is the load generator behind tools/loadgen: many simulated
// players in one process, each speaking both planes through libs/client.
//
// A player registers "<prefix><index>" (or logs in when the name is taken),
// handshakes over UDP, then sends inputs at a fixed rate with a wandering
// movement (Wander) and reads its snapshots. Logins start at a configurable
// rate (Config.Ramp), since each costs the server an argon2 hash, and a
// RATE_LIMITED answer is retried with a jittered backoff. At the end players
// stop sending, drain the snapshots of their last inputs, and log out.
//
// Latency is measured from an input's send time to the receive time of the
// first snapshot whose last_input_sequence reaches it: each player keeps the
// send times of its last 256 inputs in a fixed ring (sendLog), and samples
// go into a log-bucketed Histogram (fixed 15 KiB, mergeable, at most 3.1%
// relative error), so memory does not grow with the run's length or rate.
//
// Snapshots are not queued or decoded whole: each player reads the head of
// its snapshots (parseHead: the acknowledged input and its own position) on
// the client's socket reader goroutine (client.Config.OnSnapshot), a twentieth
// of the CPU of a full decode and no allocation.
//
// Costs: per player one goroutine here (its input ticker) plus the
// client's, one TCP and one UDP socket (see RaiseFileLimit), and a few KiB
// of state. The socket system calls dominate the CPU profile; on a loaded
// machine the generator's own scheduling delay shows in the latency, so run
// it on another host than the server for serious measurements.
package load
