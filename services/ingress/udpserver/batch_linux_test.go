//go:build linux && (amd64 || arm64)

package udpserver

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"testing"
)

const batchSupported = true

func TestDecodeSockaddr(t *testing.T) {
	v4 := func(a [4]byte, port uint16) *[sockaddrSize]byte {
		var b [sockaddrSize]byte
		binary.NativeEndian.PutUint16(b[0:2], syscall.AF_INET)
		binary.BigEndian.PutUint16(b[2:4], port)
		copy(b[4:8], a[:])
		return &b
	}
	v6 := func(a string, port uint16, scope uint32) *[sockaddrSize]byte {
		var b [sockaddrSize]byte
		binary.NativeEndian.PutUint16(b[0:2], syscall.AF_INET6)
		binary.BigEndian.PutUint16(b[2:4], port)
		ip := netip.MustParseAddr(a).As16()
		copy(b[8:24], ip[:])
		binary.NativeEndian.PutUint32(b[24:28], scope)
		return &b
	}
	tests := []struct {
		name    string
		b       *[sockaddrSize]byte
		namelen uint32
		want    netip.AddrPort
	}{
		{"ipv4", v4([4]byte{10, 1, 2, 3}, 40000), syscall.SizeofSockaddrInet4, netip.MustParseAddrPort("10.1.2.3:40000")},
		{"ipv6", v6("2001:db8::1", 443, 0), syscall.SizeofSockaddrInet6, netip.MustParseAddrPort("[2001:db8::1]:443")},
		{"ipv4 mapped", v6("::ffff:192.0.2.7", 9, 0), syscall.SizeofSockaddrInet6, netip.MustParseAddrPort("192.0.2.7:9")},
		{"link local zone", v6("fe80::1", 7, 3), syscall.SizeofSockaddrInet6, netip.AddrPortFrom(netip.MustParseAddr("fe80::1").WithZone("3"), 7)},
		{"short ipv4", v4([4]byte{1, 2, 3, 4}, 1), 4, netip.AddrPort{}},
		{"short ipv6", v6("::1", 1, 0), 16, netip.AddrPort{}},
		{"unknown family", new([sockaddrSize]byte), sockaddrSize, netip.AddrPort{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := decodeSockaddr(tc.b, tc.namelen); got != tc.want {
				t.Errorf("decodeSockaddr = %v, want %v", got, tc.want)
			}
		})
	}
}
