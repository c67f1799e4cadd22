package udpserver

import "sync/atomic"

// Stats are a Server's counters since Listen. They are monotonic, so they map
// directly onto Prometheus counters (prometheus.NewCounterFunc).
type Stats struct {
	PacketsIn   uint64 // datagrams received, oversize ones included
	BytesIn     uint64 // bytes received
	Reads       uint64 // successful read system calls (PacketsIn/Reads is the mean batch)
	Oversize    uint64 // datagrams dropped for exceeding Config.MaxPacketSize
	ReadErrors  uint64 // transient read errors skipped by the loop
	PacketsOut  uint64 // datagrams sent by WriteTo and WriteBatch
	BytesOut    uint64 // bytes sent by WriteTo and WriteBatch
	WriteErrors uint64 // failed WriteTo calls and messages WriteBatch did not send
}

// counters are the atomics behind Stats. The receive side adds once per read,
// not once per datagram.
type counters struct {
	packetsIn, bytesIn, reads, oversize, readErrors atomic.Uint64
	packetsOut, bytesOut, writeErrors               atomic.Uint64
}

// Stats returns the current counters. Each is read atomically; together they
// are not one consistent snapshot.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		PacketsIn:   c.packetsIn.Load(),
		BytesIn:     c.bytesIn.Load(),
		Reads:       c.reads.Load(),
		Oversize:    c.oversize.Load(),
		ReadErrors:  c.readErrors.Load(),
		PacketsOut:  c.packetsOut.Load(),
		BytesOut:    c.bytesOut.Load(),
		WriteErrors: c.writeErrors.Load(),
	}
}
