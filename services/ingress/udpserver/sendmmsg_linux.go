//go:build linux && (amd64 || arm64)

package udpserver

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// writeBatchMax is the most datagrams per sendmmsg(2) call (the kernel
// accepts up to UIO_MAXIOV, 1024): larger batches take several calls.
const writeBatchMax = 64

// batchWriter sends datagrams with sendmmsg(2) through the socket's
// syscall.RawConn, so that Go's poller parks the goroutine while the send
// buffer is full. WriteBatch may run on several goroutines at once, so the
// arrays the kernel reads live in a pooled mmsgScratch per call.
type batchWriter struct {
	rc     syscall.RawConn
	family int // AF_INET or AF_INET6, from getsockname
	pool   sync.Pool
}

// mmsgScratch is one call's mmsghdr array with its iovecs and sockaddrs. The
// pointers in hs point into the scratch itself and into the caller's
// buffers, which the scratch drops (clear) before going back to the pool.
type mmsgScratch struct {
	hs    [writeBatchMax]mmsghdr
	iovs  [writeBatchMax]syscall.Iovec
	names [writeBatchMax][sockaddrSize]byte

	// The call's length and results, passed in and out of the RawConn.Write
	// callback.
	k     int
	n     int
	errno syscall.Errno
	sendF func(fd uintptr) bool // sc.send, bound once so that write does not allocate a closure
}

// newBatchWriter returns a sendmmsg writer for conn, or nil if the socket's
// RawConn or its address family is unavailable.
func newBatchWriter(conn *net.UDPConn) *batchWriter {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	family := 0
	if cerr := rc.Control(func(fd uintptr) {
		sa, err := syscall.Getsockname(int(fd))
		if err != nil {
			return
		}
		switch sa.(type) {
		case *syscall.SockaddrInet4:
			family = syscall.AF_INET
		case *syscall.SockaddrInet6:
			family = syscall.AF_INET6
		}
	}); cerr != nil || family == 0 {
		return nil
	}
	w := &batchWriter{rc: rc, family: family}
	w.pool.New = func() any {
		sc := new(mmsgScratch)
		sc.sendF = sc.send
		return sc
	}
	return w
}

func (w *batchWriter) write(s *Server, msgs []Message) (int, error) {
	sc := w.pool.Get().(*mmsgScratch)
	defer w.pool.Put(sc)
	sent := 0
	var first error
	fail := func(err error) {
		if first == nil {
			first = err
		}
	}
	for len(msgs) > 0 {
		k := 0
		for k < len(msgs) && k < writeBatchMax {
			m := &msgs[k]
			namelen, ok := encodeSockaddr(&sc.names[k], m.Addr, w.family)
			if !ok {
				break
			}
			h := &sc.hs[k].hdr
			h.Name = &sc.names[k][0]
			h.Namelen = namelen
			if len(m.Buf) > 0 {
				sc.iovs[k].Base = &m.Buf[0]
				sc.iovs[k].SetLen(len(m.Buf))
				h.Iov = &sc.iovs[k]
				h.Iovlen = 1
			} else {
				h.Iov = nil
				h.Iovlen = 0
			}
			h.Flags = 0
			k++
		}
		if k == 0 {
			// The kernel could not be given this address: WriteTo resolves
			// what it can (a named zone) and reports the rest.
			if err := s.WriteTo(msgs[0].Buf, msgs[0].Addr); err != nil {
				fail(err)
			} else {
				sent++
			}
			msgs = msgs[1:]
			continue
		}
		sc.k, sc.n, sc.errno = k, 0, 0
		err := w.rc.Write(sc.sendF)
		clear(sc.iovs[:k]) // drop the references to the caller's buffers
		if err != nil {
			// The socket is closed: nothing more can be sent.
			s.stats.writeErrors.Add(uint64(len(msgs)))
			fail(fmt.Errorf("udpserver: write batch: %w", err))
			return sent, first
		}
		if sc.errno != 0 {
			// sendmmsg reports an error only when the first datagram fails:
			// skip it, send the others.
			s.stats.writeErrors.Add(1)
			fail(writeErr(msgs[0].Addr, sc.errno))
			msgs = msgs[1:]
			continue
		}
		var bytes uint64
		for i := range sc.n {
			bytes += uint64(sc.hs[i].len)
		}
		s.stats.packetsOut.Add(uint64(sc.n))
		s.stats.bytesOut.Add(bytes)
		sent += sc.n
		msgs = msgs[sc.n:]
	}
	return sent, first
}

// send is the RawConn.Write callback: false asks the poller to wait until
// the socket is writable and call again. A partial send (n < k) returns:
// the caller sends the rest in its next call, where the first unsent
// datagram's error, if any, is reported.
func (sc *mmsgScratch) send(fd uintptr) bool {
	var done bool
	sc.n, sc.errno, done = mmsgCall(unix.SYS_SENDMMSG, fd, &sc.hs[0], sc.k)
	return done
}

// encodeSockaddr writes ap as the sockaddr of a socket of family (the
// inverse of decodeSockaddr): an IPv4 address as sockaddr_in on an IPv4
// socket and IPv4-mapped on an IPv6 one. It returns false for what it cannot
// express: an invalid address, IPv6 on an IPv4 socket, or a zone that is not
// an interface index.
func encodeSockaddr(b *[sockaddrSize]byte, ap netip.AddrPort, family int) (uint32, bool) {
	a := ap.Addr()
	switch family {
	case syscall.AF_INET:
		a = a.Unmap()
		if !a.Is4() {
			return 0, false
		}
		*b = [sockaddrSize]byte{}
		binary.NativeEndian.PutUint16(b[0:2], syscall.AF_INET)
		binary.BigEndian.PutUint16(b[2:4], ap.Port())
		ip := a.As4()
		copy(b[4:8], ip[:])
		return syscall.SizeofSockaddrInet4, true
	case syscall.AF_INET6:
		if !a.IsValid() {
			return 0, false
		}
		var scope uint64
		if z := a.Zone(); z != "" {
			v, err := strconv.ParseUint(z, 10, 32)
			if err != nil {
				return 0, false
			}
			scope = v
		}
		*b = [sockaddrSize]byte{}
		binary.NativeEndian.PutUint16(b[0:2], syscall.AF_INET6)
		binary.BigEndian.PutUint16(b[2:4], ap.Port())
		ip := a.As16() // IPv4 as ::ffff:a.b.c.d
		copy(b[8:24], ip[:])
		binary.NativeEndian.PutUint32(b[24:28], uint32(scope))
		return syscall.SizeofSockaddrInet6, true
	}
	return 0, false
}
