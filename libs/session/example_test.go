package session_test

import (
	"fmt"
	"net/netip"

	"github.com/ecs-realm/realm/libs/session"
)

// peer is what ingress might keep per session.
type peer struct{ account uint64 }

func Example() {
	r := session.New[*peer]()
	_ = r.Add(7, &peer{account: 100})
	_ = r.Add(8, &peer{account: 200})

	// Session 7's handshake verified from a dual-stack socket.
	home := netip.MustParseAddrPort("[::ffff:198.51.100.1]:5000")
	res, _ := r.Bind(7, home)
	fmt.Println("bound:", res.Changed)

	// Per packet: find the session by source endpoint (either form).
	id, p, ok := r.Lookup(netip.MustParseAddrPort("198.51.100.1:5000"))
	fmt.Println("lookup:", id, p.account, ok)

	// The NAT gave session 7 a new port: the binding moves.
	res, _ = r.Bind(7, netip.MustParseAddrPort("198.51.100.1:5001"))
	fmt.Println("moved from:", res.Previous)

	// Session 8 handshakes from that same endpoint: 7 loses it.
	res, _ = r.Bind(8, netip.MustParseAddrPort("198.51.100.1:5001"))
	fmt.Println("displaced:", res.Displaced)

	// Logout: the session and its endpoint go together.
	_, ep, _ := r.Remove(8)
	_, _, ok = r.Lookup(ep)
	fmt.Println("removed", ep, "still bound:", ok, "sessions:", r.Len())
	// Output:
	// bound: true
	// lookup: 7 100 true
	// moved from: 198.51.100.1:5000
	// displaced: 7
	// removed 198.51.100.1:5001 still bound: false sessions: 1
}
