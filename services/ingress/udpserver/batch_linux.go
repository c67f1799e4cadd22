//go:build linux && (amd64 || arm64)

package udpserver

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"unsafe"
)

// mmsghdr is struct mmsghdr of recvmmsg(2) on 64-bit Linux.
type mmsghdr struct {
	hdr syscall.Msghdr
	len uint32
	_   [4]byte
}

// sockaddrSize fits both sockaddr_in (16 bytes) and sockaddr_in6 (28).
const sockaddrSize = syscall.SizeofSockaddrInet6

// mmsgReader reads up to len(hs) datagrams per recvmmsg(2) call. Every array
// the kernel reads or writes is allocated once, in prepare; the Go heap does
// not move objects, and the reader keeps them referenced, so the pointers in
// hs stay valid.
type mmsgReader struct {
	rc    syscall.RawConn
	hs    []mmsghdr
	iovs  []syscall.Iovec
	names [][sockaddrSize]byte

	// Results of the last recv call, passed out of the RawConn.Read callback.
	n     int
	errno syscall.Errno
	recvF func(fd uintptr) bool // r.recv, bound once so that read does not allocate a closure
}

// newBatchReader returns a recvmmsg reader for conn, or nil if the socket's
// RawConn is unavailable.
func newBatchReader(conn *net.UDPConn, n int) reader {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	r := &mmsgReader{
		rc:    rc,
		hs:    make([]mmsghdr, n),
		iovs:  make([]syscall.Iovec, n),
		names: make([][sockaddrSize]byte, n),
	}
	r.recvF = r.recv
	return r
}

func (r *mmsgReader) prepare(msgs []message) {
	for i := range r.hs {
		r.iovs[i].Base = &msgs[i].buf[0]
		r.iovs[i].SetLen(len(msgs[i].buf))
		h := &r.hs[i].hdr
		h.Name = &r.names[i][0]
		h.Iov = &r.iovs[i]
		h.Iovlen = 1
	}
}

func (r *mmsgReader) read(msgs []message) (int, error) {
	for i := range r.hs {
		// The kernel overwrites these per call.
		r.hs[i].hdr.Namelen = sockaddrSize
		r.hs[i].hdr.Flags = 0
	}
	r.n, r.errno = 0, 0
	if err := r.rc.Read(r.recvF); err != nil {
		return 0, err
	}
	if r.errno != 0 {
		return 0, r.errno
	}
	for i := range r.n {
		msgs[i].n = int(r.hs[i].len)
		msgs[i].from = decodeSockaddr(&r.names[i], r.hs[i].hdr.Namelen)
	}
	return r.n, nil
}

// recv is the RawConn.Read callback: false asks the poller to wait until the
// socket is readable and call again.
func (r *mmsgReader) recv(fd uintptr) bool {
	var done bool
	r.n, r.errno, done = mmsgCall(syscall.SYS_RECVMMSG, fd, &r.hs[0], len(r.hs))
	return done
}

// mmsgCall makes one recvmmsg or sendmmsg system call (trap) on fd with the
// first k headers from hs, retrying when a signal interrupts it, as a
// RawConn callback wants it: done is false when the socket is not ready
// (EAGAIN); otherwise n datagrams went through, or none and errno says why.
func mmsgCall(trap, fd uintptr, hs *mmsghdr, k int) (n int, errno syscall.Errno, done bool) {
	for {
		r, _, e := syscall.Syscall6(trap, fd, uintptr(unsafe.Pointer(hs)), uintptr(k), 0, 0, 0)
		switch e {
		case 0:
			return int(r), 0, true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return 0, 0, false
		default:
			return 0, e, true
		}
	}
}

// decodeSockaddr reads a sockaddr_in or sockaddr_in6 as the kernel wrote it:
// the family in host order, the port and address in network order. An
// unknown family or a short name gives the zero AddrPort, which no session
// is bound to.
func decodeSockaddr(b *[sockaddrSize]byte, namelen uint32) netip.AddrPort {
	port := binary.BigEndian.Uint16(b[2:4])
	switch binary.NativeEndian.Uint16(b[0:2]) {
	case syscall.AF_INET:
		if namelen < syscall.SizeofSockaddrInet4 {
			return netip.AddrPort{}
		}
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[4:8])), port)
	case syscall.AF_INET6:
		if namelen < syscall.SizeofSockaddrInet6 {
			return netip.AddrPort{}
		}
		a := netip.AddrFrom16([16]byte(b[8:24]))
		if a.Is4In6() {
			return netip.AddrPortFrom(a.Unmap(), port)
		}
		if scope := binary.NativeEndian.Uint32(b[24:28]); scope != 0 && a.IsLinkLocalUnicast() {
			a = a.WithZone(strconv.FormatUint(uint64(scope), 10))
		}
		return netip.AddrPortFrom(a, port)
	}
	return netip.AddrPort{}
}
