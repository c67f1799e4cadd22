package client

import "sync/atomic"

// Stats counts a UDP's packets since JoinUDP, across Rebinds.
type Stats struct {
	HandshakesSent uint64 // handshake requests, retries included
	InputsSent     uint64
	KeepAlivesSent uint64
	SendErrors     uint64 // packets the socket refused (for example after an ICMP unreachable)
	// ConfirmsSent counts KeepAlives echoing a handshake's challenge
	// (return routability), resends included; not in KeepAlivesSent.
	ConfirmsSent uint64

	// SilenceHandshakes counts the handshakes started because nothing
	// arrived for Config.SilenceTimeout (see there).
	SilenceHandshakes uint64

	AcksReceived      uint64 // authenticated handshake acks
	SnapshotsReceived uint64 // authenticated snapshots (decoded, unless Config.OnSnapshot takes them raw)
	// SnapshotsDropped counts snapshots displaced from a full Snapshots
	// channel by newer ones: the reader fell behind.
	SnapshotsDropped uint64
	// Replayed counts authentic-looking packets the replay window refused
	// (duplicates, or 256 or more sequences too old); they are not opened.
	Replayed uint64
	// Rejected counts packets dropped as malformed, of a type a client does
	// not receive, failing authentication, or not decoding.
	Rejected uint64
	// ReadErrors counts transient socket errors (ICMP port or host
	// unreachable reported on the connected socket).
	ReadErrors uint64
}

// counters is the live, atomically updated form of Stats.
type counters struct {
	handshakesSent, inputsSent, keepAlivesSent, sendErrors      atomic.Uint64
	silenceHandshakes, confirmsSent                             atomic.Uint64
	acks, snapshots, snapshotsDropped, replayed, rejected, rerr atomic.Uint64
}

func (c *counters) load() Stats {
	return Stats{
		HandshakesSent:    c.handshakesSent.Load(),
		InputsSent:        c.inputsSent.Load(),
		KeepAlivesSent:    c.keepAlivesSent.Load(),
		SendErrors:        c.sendErrors.Load(),
		ConfirmsSent:      c.confirmsSent.Load(),
		SilenceHandshakes: c.silenceHandshakes.Load(),
		AcksReceived:      c.acks.Load(),
		SnapshotsReceived: c.snapshots.Load(),
		SnapshotsDropped:  c.snapshotsDropped.Load(),
		Replayed:          c.replayed.Load(),
		Rejected:          c.rejected.Load(),
		ReadErrors:        c.rerr.Load(),
	}
}
