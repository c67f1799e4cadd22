package client

import (
	"bytes"
	"context"
	"crypto/cipher"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/testutil/wait"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// waitFor polls cond until it holds, failing t after 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	wait.For(t, 10*time.Second, what, cond)
}

// seen is one packet the test ingress accepted.
type seen struct {
	from  netip.AddrPort
	typ   wire.PacketType
	seq   uint64
	input *realmv1.PlayerInput // for TypeInput
	echo  []byte               // for TypeKeepAlive: the challenge it echoes
}

// udpServer is the smallest ingress the data plane needs: a real UDP socket
// that verifies handshakes with libs/wire exactly as the ingress does,
// answers them with a sealed ack, and opens data packets with the session key
// behind a replay window. It exists for the client's unit tests; the
// integration tests run the real services.
type udpServer struct {
	t      testing.TB
	conn   *net.UDPConn
	tokens *wire.TokenCodec
	seq    *wire.Sequence // server-to-client sequence
	done   chan struct{}

	mu      sync.Mutex // guards the fields below
	ignore  int        // handshakes to leave unanswered
	silent  bool       // answer no handshake at all
	sink    bool       // drop data packets unopened (benchmarks)
	packets []seen
	s2c     cipher.AEAD
	c2s     cipher.AEAD
	window  wire.ReplayWindow
	client  netip.AddrPort // the bound endpoint
	// challenge, if set, is sent in every ack (HandshakeAck.challenge).
	challenge []byte
}

func newUDPServer(t testing.TB) *udpServer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	key, err := wire.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := wire.NewTokenCodec(key)
	if err != nil {
		t.Fatal(err)
	}
	s := &udpServer{t: t, conn: conn, tokens: tokens, seq: wire.NewSequence(time.Now()), done: make(chan struct{})}
	go s.run()
	t.Cleanup(func() {
		_ = conn.Close()
		<-s.done
	})
	return s
}

func (s *udpServer) addr() string { return s.conn.LocalAddr().String() }

func (s *udpServer) run() {
	defer close(s.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		s.handle(buf[:n], from)
	}
}

func (s *udpServer) handle(pkt []byte, from netip.AddrPort) {
	h, err := wire.ParseHeader(pkt)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if h.Type == wire.TypeHandshake {
		hs, c2s, err := wire.OpenHandshake(s.tokens, pkt, time.Now())
		if err != nil || s.window.Accept(hs.Seq) != nil {
			return
		}
		s.packets = append(s.packets, seen{from: from, typ: h.Type, seq: h.Seq})
		if s.silent || s.ignore > 0 {
			s.ignore--
			return
		}
		s.c2s, s.s2c, s.client = c2s, wire.NewAEAD(hs.Token.ServerKey), from
		ack, _ := proto.Marshal(&realmv1.HandshakeAck{
			SessionId: hs.SessionID, Endpoint: from.String(), TickRateHz: 20, ServerTimeUnixNs: time.Now().UnixNano(),
			Challenge: s.challenge,
		})
		out, err := wire.SealPacket(nil, s.s2c, wire.TypeHandshakeAck, s.seq.Next(), ack)
		if err != nil {
			s.t.Errorf("seal ack: %v", err)
			return
		}
		_, _ = s.conn.WriteToUDPAddrPort(out, from)
		return
	}
	if s.sink || s.c2s == nil || from != s.client || s.window.Check(h.Seq) != nil {
		return // unknown endpoint or replay: dropped as ingress does
	}
	_, plain, err := wire.OpenPacket(nil, s.c2s, pkt)
	if err != nil || s.window.Accept(h.Seq) != nil {
		return
	}
	p := seen{from: from, typ: h.Type, seq: h.Seq}
	switch h.Type {
	case wire.TypeInput:
		p.input = new(realmv1.PlayerInput)
		if err := proto.Unmarshal(plain, p.input); err != nil {
			s.t.Errorf("input does not decode: %v", err)
		}
	case wire.TypeKeepAlive:
		var k realmv1.KeepAlive
		if err := proto.Unmarshal(plain, &k); err != nil {
			s.t.Errorf("keep-alive does not decode: %v", err)
		}
		p.echo = k.GetChallenge()
	}
	s.packets = append(s.packets, p)
}

// set changes the server's behaviour under its lock.
func (s *udpServer) set(f func(s *udpServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// echoes returns the keep-alives that echoed challenge, and from where.
func (s *udpServer) echoes(challenge []byte) []netip.AddrPort {
	var from []netip.AddrPort
	for _, p := range s.seenPackets(wire.TypeKeepAlive) {
		if bytes.Equal(p.echo, challenge) {
			from = append(from, p.from)
		}
	}
	return from
}

// seenPackets returns a copy of the accepted packets of type typ.
func (s *udpServer) seenPackets(typ wire.PacketType) []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []seen
	for _, p := range s.packets {
		if p.typ == typ {
			out = append(out, p)
		}
	}
	return out
}

// sealSnapshot seals a snapshot for the bound client.
func (s *udpServer) sealSnapshot(snap *realmv1.Snapshot) []byte {
	s.t.Helper()
	b, err := proto.Marshal(snap)
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	aead := s.s2c
	s.mu.Unlock()
	out, err := wire.SealPacket(nil, aead, wire.TypeSnapshot, s.seq.Next(), b)
	if err != nil {
		s.t.Fatal(err)
	}
	return out
}

// sendRaw sends bytes to the bound client.
func (s *udpServer) sendRaw(b []byte) {
	s.t.Helper()
	s.mu.Lock()
	to := s.client
	s.mu.Unlock()
	if _, err := s.conn.WriteToUDPAddrPort(b, to); err != nil {
		s.t.Fatal(err)
	}
}

// session makes a Session as Login would, with a token the server opens,
// on a Conn that has no TLS connection (its Close must not be called).
func (s *udpServer) session(cfg Config, ingress ...string) *Session {
	s.t.Helper()
	cfg.LoginAddr = "127.0.0.1:1"
	cfg, err := cfg.resolve()
	if err != nil {
		s.t.Fatal(err)
	}
	c := &Conn{cfg: cfg, log: cfg.Logger, done: make(chan struct{}), readDone: make(chan struct{}),
		pending: map[uint64]chan *realmv1.ServerMessage{}, udps: map[*UDP]struct{}{}, reschedule: make(chan struct{}, 1)}
	c2s, _ := wire.NewKey()
	s2c, _ := wire.NewKey()
	expires := time.Now().Add(time.Hour)
	tok, err := s.tokens.Seal(nil, wire.ConnectToken{SessionID: 42, AccountID: 7, Expires: expires, ClientKey: c2s, ServerKey: s2c})
	if err != nil {
		s.t.Fatal(err)
	}
	if len(ingress) == 0 {
		ingress = []string{s.addr()}
	}
	sess, err := newSession(c, &realmv1.LoginResponse{
		AccountId: 7, SessionId: 42, ConnectToken: tok, TokenExpiresUnixMs: expires.UnixMilli(),
		ClientToServerKey: c2s[:], ServerToClientKey: s2c[:], IngressAddrs: ingress, TickRateHz: 20,
	}, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	c.sess = sess
	return sess
}

// join joins the test server and closes the UDP at cleanup.
func join(t testing.TB, sess *Session) *UDP {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u, err := sess.JoinUDP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = u.Close() })
	return u
}

// deadAddr returns a UDP address on which nothing listens.
func deadAddr(t testing.TB) string {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatal(err)
	}
	return addr
}
