// Package client is the Go client of a Realm server: it speaks both planes of
// docs/PROTOCOL.md, the TLS control plane of the login service and the UDP
// data plane of an ingress. The load generator and the end-to-end tests use
// it; a game client written in Go can too.
//
// # Flow
//
//	conn, _ := client.Dial(ctx, client.Config{LoginAddr: "127.0.0.1:7777", CAFile: "ca.pem"})
//	defer conn.Close()
//	sess, _ := conn.Login(ctx, "alice", "correct horse")
//	udp, _ := sess.JoinUDP(ctx)         // handshake with the first ingress that answers
//	udp.SendInput(&realmv1.PlayerInput{InputSequence: 1, Move: ...})
//	for s := range udp.Snapshots() { ... }
//	conn.Logout(ctx)
//
// A Conn is one TLS connection and at most one logged-in Session. While it is
// open it pings the server when idle (Config.PingInterval) and refreshes the
// session's connect token before it expires (Config.RefreshBefore), so a
// later re-handshake (UDP.Rebind) still has a valid token. Done and Err say
// when and why the connection ended: a *KickError carries the server's
// CloseReason (REPLACED, SHUTDOWN, ...), ErrLoggedOut follows Logout,
// ErrClosed follows Close, ErrDisconnected wraps a dropped connection. A
// request the server refuses returns a *ServerError with the ErrorCode.
//
// A UDP is one handshaken data-plane socket of a Session. Its inputs are
// sealed with the client-to-server key and a sequence shared with the
// handshakes (one wire.Sequence per session, across sockets); it sends a
// keep-alive when no packet left for Config.KeepAliveInterval; its snapshots
// are opened with the server-to-client key, checked against one replay window
// per session, and delivered on a bounded channel that drops the oldest
// snapshot when the reader falls behind (newest wins: a game never wants a
// stale snapshot queued) — or, with Config.OnSnapshot, handed undecoded to a
// callback on the socket's reader goroutine (for processes that play many
// sessions, like the load generator). Rebind moves the session to a fresh local socket, as
// a NAT rebinding or a network change would. When nothing authentic arrives
// for Config.SilenceTimeout, a UDP handshakes again from its socket by
// itself: an ingress that restarted has forgotten the binding and drops the
// client's packets until then. Every ack carries a challenge that the UDP
// echoes in a KeepAlive from the socket the ack came on (and again every
// keep-alive tick until a snapshot arrives there): the ingress sends
// snapshots only to an endpoint that proved it receives there
// (Stats.ConfirmsSent; docs/PROTOCOL.md §2, return routability).
//
// # Costs and limits
//
// A Conn runs two goroutines (frame reader, keeper for pings and token
// refresh); a UDP runs one per socket (reader) plus one keep-alive ticker, so a
// client costs four goroutines and two file descriptors. SendInput allocates
// nothing; each delivered snapshot is one decoded realmv1.Snapshot (about 3.4 µs
// and 56 allocations with 16 nearby entities; through OnSnapshot, 0.3 µs and
// none: BenchmarkReceiveSnapshot). Nothing is
// logged per packet: UDP.Stats counts sent, received, dropped and rejected
// packets instead. Every blocking call takes a context; Close stops every
// goroutine the package started and waits for them.
//
// The client trusts the ingress addresses the login server sends and only
// accepts UDP packets from the ingress it handshook with (the socket is
// connected), authenticated with the session key and inside the replay window.
package client
