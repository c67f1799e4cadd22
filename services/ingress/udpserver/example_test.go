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
