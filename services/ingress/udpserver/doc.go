// Package udpserver owns one UDP socket: it reads datagrams in a loop and
// hands each to a Handler, and it sends replies with WriteTo or, several at a
// time, WriteBatch. It knows no
// protocol, no flags and no metrics library: the protocol lives behind the
// Handler interface (the seed's IUdpPacketHandler), and the counters are plain
// atomics read with Stats.
//
// # Receive loop
//
// Serve runs the loop on the calling goroutine until Close. One goroutine reads
// and calls the Handler, so a Handler sees one packet at a time and may keep
// per-loop scratch state without locking. The packet slice it receives is a
// reused receive buffer: it is valid only during the call, and the Handler may
// modify it (for example to decrypt in place) but must copy whatever it keeps.
// A BatchHandler is also told where each read ends (EndBatch), so that it can
// do per-read work once per read: hand the read's packets to other
// goroutines in one operation, commit what it decoded, read a clock.
//
// On Linux (amd64, arm64) the loop reads up to Config.BatchSize datagrams per
// system call with recvmmsg(2), through the socket's syscall.RawConn so that
// Go's network poller still parks the goroutine while the socket is empty.
// golang.org/x/net/ipv4.PacketConn.ReadBatch does the same system call, but it
// returns each source address as a freshly allocated *net.UDPAddr (two
// allocations per datagram); this package decodes the kernel's sockaddr into a
// netip.AddrPort instead, which does not allocate. Elsewhere, or with
// BatchSize 1, the loop calls net.UDPConn.ReadMsgUDPAddrPort once per
// datagram, which does not allocate either. The receive benchmarks in this
// package compare the three (bench_test.go); on the reference machine
// recvmmsg was the fastest, see the numbers in docs/services/ingress.md.
//
// In both paths the steady state allocates nothing per datagram: the message
// buffers, the sockaddr buffers and the mmsghdr array are allocated once by
// Listen. Source addresses are canonical: an IPv4 client seen through a
// dual-stack socket is reported as a plain IPv4 address (netip.Addr.Unmap),
// so the same client always maps to the same key. A link-local IPv6 source
// keeps its zone (as the interface index in decimal on the recvmmsg path), and
// that case allocates a string.
//
// # Sending
//
// WriteTo sends one datagram per system call. WriteBatch sends a slice of
// Messages, on Linux (amd64, arm64) up to 64 per sendmmsg(2) call through the
// same RawConn, with the destinations encoded into reused sockaddr buffers
// (pooled per call, so concurrent callers do not share them) and no
// allocation; elsewhere it loops over WriteTo. It saves the system-call entry
// per datagram, not the kernel's per-datagram work (about 13 % per datagram
// on loopback, see docs/services/ingress.md). A datagram the kernel refuses
// is counted in Stats.WriteErrors and skipped, and the rest are still sent.
//
// # Limits
//
// Datagrams larger than Config.MaxPacketSize are dropped (counted in
// Stats.Oversize) rather than delivered truncated. Read errors that concern one
// datagram or a transient shortage (ECONNREFUSED, ENOBUFS, ...) are counted in
// Stats.ReadErrors and the loop goes on; any other read error ends Serve. The
// socket buffers are requested with SO_RCVBUF and SO_SNDBUF; the kernel may
// grant less (Linux caps them at net.core.rmem_max and wmem_max), which
// SocketBuffers reports so the caller can warn.
package udpserver
