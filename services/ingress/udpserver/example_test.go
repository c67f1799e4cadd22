package udpserver_test

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/ecs-realm/realm/services/ingress/udpserver"
)

// An echo server: the Handler answers every datagram through the Server's
// WriteTo.
func Example() {
	srv, err := udpserver.Listen("127.0.0.1:0", udpserver.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error, 1)
	go func() {
		done <- srv.Serve(udpserver.HandlerFunc(func(p []byte, from netip.AddrPort) {
			_ = srv.WriteTo(p, from) // p is only valid during the call
		}))
	}()

	client, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(srv.LocalAddr()))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	_, _ = client.Write([]byte("hello"))
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, err := client.Read(buf)
	fmt.Println(string(buf[:n]), err)

	_ = srv.Close()
	fmt.Println(<-done)
	// Output:
	// hello <nil>
	// <nil>
}

// WriteBatch sends several datagrams, with one sendmmsg(2) call per 64 on
// Linux.
func ExampleServer_WriteBatch() {
	srv, err := udpserver.Listen("127.0.0.1:0", udpserver.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	client, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	to := client.LocalAddr().(*net.UDPAddr).AddrPort()

	n, err := srv.WriteBatch([]udpserver.Message{
		{Buf: []byte("one"), Addr: to},
		{Buf: []byte("two"), Addr: to},
	})
	fmt.Println(n, err)
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	for range n {
		k, _, err := client.ReadFromUDPAddrPort(buf)
		fmt.Println(string(buf[:k]), err)
	}
	// Output:
	// 2 <nil>
	// one <nil>
	// two <nil>
}
