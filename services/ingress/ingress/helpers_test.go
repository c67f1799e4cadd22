package ingress

import (
	"context"
	"crypto/cipher"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	"github.com/ecs-realm/realm/libs/testutil/wait"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// waitTimeout bounds every wait for a condition in these tests.
const waitTimeout = 10 * time.Second

// silence is how long a test listens to conclude that nothing was sent.
const silence = 200 * time.Millisecond

// pipelines are the two shapes of the data path that tests run on: the
// receive loop doing all the work (Config.Workers -1), and workers beside it.
var pipelines = []struct {
	name    string
	workers int
}{
	{"inline", -1},
	{"workers", 2},
}

// env is a running ingress Service on 127.0.0.1 with an embedded NATS
// server, a token codec with the service's key, and an observer connection.
type env struct {
	t      testing.TB
	svc    *Service
	nc     *bus.Conn // the service's connection
	obs    *bus.Conn // the test's connection
	tokens *wire.TokenCodec
	reg    *prometheus.Registry
	stop   func() error // cancels Run and returns its result; idempotent
}

// newEnv starts a service with cfg (Listen, TokenKey and Registerer are
// filled in) and stops it in t.Cleanup, checking that Run returned nil.
func newEnv(t testing.TB, cfg Config) *env {
	return newEnvPrepared(t, cfg, nil)
}

// newEnvPrepared is newEnv with prepare called on the service between New
// and Run (nil: not called), to wrap its handler or set test hooks.
func newEnvPrepared(t testing.TB, cfg Config, prepare func(s *Service)) *env {
	t.Helper()
	_, url := natstest.Start(t)
	connect := func(name string) *bus.Conn {
		c, err := bus.Connect(url, bus.Options{Name: name})
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(c.Close)
		return c
	}
	e := &env{t: t, nc: connect("ingress"), obs: connect("observer"), reg: prometheus.NewRegistry()}
	key, err := wire.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	e.tokens, err = wire.NewTokenCodec(key)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = "127.0.0.1:0"
	cfg.TokenKey = key
	cfg.Registerer = e.reg
	e.svc, err = New(cfg, e.nc, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if prepare != nil {
		prepare(e.svc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.svc.Run(ctx) }()
	var once sync.Once
	var runErr error
	e.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(waitTimeout):
				runErr = errors.New("Run did not return")
			}
		})
		return runErr
	}
	t.Cleanup(func() {
		if err := e.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return e
}

// testLogger logs through t when REALM_TEST_LOG is set, and nowhere otherwise.
func testLogger(t testing.TB) *zap.Logger {
	if os.Getenv("REALM_TEST_LOG") != "" {
		return zaptest.NewLogger(t)
	}
	return zap.NewNop()
}

// events subscribes the observer to subject and returns the decoded
// messages as a channel.
func events[T any, M bus.Message[T]](e *env, subject string) <-chan M {
	e.t.Helper()
	ch := make(chan M, 1024)
	sub, err := bus.Subscribe(e.obs, subject, func(m M) { ch <- m })
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := e.obs.FlushTimeout(waitTimeout); err != nil {
		e.t.Fatal(err)
	}
	return ch
}

// next returns the next message from ch or fails.
func next[M any](t testing.TB, ch <-chan M, what string) M {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(waitTimeout):
		t.Fatalf("no %s", what)
		var zero M
		return zero
	}
}

// nothingBefore checks that the next message on ch, published by the service
// connection on the same subject, is the marker: that the service published
// nothing else on that subject before it. NATS keeps one publisher's order.
func nothingBefore(t testing.TB, e *env, subject string, ch <-chan *realmv1.EndpointBound, what string) {
	t.Helper()
	const markerID = "marker"
	if err := e.nc.Publish(subject, &realmv1.EndpointBound{IngressId: markerID}); err != nil {
		t.Fatal(err)
	}
	if m := next(t, ch, "marker"); m.GetIngressId() != markerID {
		t.Errorf("%s: unexpected event %v", what, m)
	}
}

// counter reads a counter.
func counter(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// waitFor polls cond until it holds, failing t after waitTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	wait.For(t, waitTimeout, what, cond)
}

// client is a game client's UDP side: a socket and its session's secrets.
type client struct {
	t       testing.TB
	e       *env
	conn    *net.UDPConn
	id      uint64 // session id
	account uint64
	token   []byte
	tok     wire.ConnectToken
	c2s     cipher.AEAD
	s2c     cipher.AEAD
	seq     *wire.Sequence
	replay  wire.ReplayWindow    // server-to-client
	in      *realmv1.PlayerInput // reused by appendInput
}

// newClient makes a session (as login would) and a client socket for it.
func (e *env) newClient(id uint64) *client {
	e.t.Helper()
	ck, _ := wire.NewKey()
	sk, _ := wire.NewKey()
	tok := wire.ConnectToken{SessionID: id, AccountID: id + 1000, Expires: time.Now().Add(time.Hour), ClientKey: ck, ServerKey: sk}
	c := e.clientWith(tok)
	return c
}

// clientWith makes a client socket for the session of tok, sealing tok with
// the service's token key.
func (e *env) clientWith(tok wire.ConnectToken) *client {
	e.t.Helper()
	sealed, err := e.tokens.Seal(nil, tok)
	if err != nil {
		e.t.Fatal(err)
	}
	c := &client{
		t: e.t, e: e, id: tok.SessionID, account: tok.AccountID, token: sealed, tok: tok,
		c2s: wire.NewAEAD(tok.ClientKey), s2c: wire.NewAEAD(tok.ServerKey), seq: wire.NewSequence(time.Now()),
	}
	c.conn = e.socket()
	return c
}

// socket opens a client UDP socket closed in t.Cleanup.
func (e *env) socket() *net.UDPConn {
	e.t.Helper()
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// sibling is a second socket for the same session (the client's NAT
// rebinding), sharing keys and sequence counter.
func (c *client) sibling() *client {
	s := *c
	s.replay = wire.ReplayWindow{}
	s.in = nil
	s.conn = c.e.socket()
	return &s
}

func (c *client) addr() netip.AddrPort { return c.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// handshakePacket builds a handshake request with a fresh sequence.
func (c *client) handshakePacket() []byte {
	c.t.Helper()
	p, err := wire.AppendHandshake(nil, c.c2s, c.seq.Next(), c.id, c.token)
	if err != nil {
		c.t.Fatal(err)
	}
	return p
}

// dataPacket seals a data packet with a fresh sequence.
func (c *client) dataPacket(typ wire.PacketType, m proto.Message) []byte {
	c.t.Helper()
	var plain []byte
	if m != nil {
		var err error
		if plain, err = proto.Marshal(m); err != nil {
			c.t.Fatal(err)
		}
	}
	p, err := wire.SealPacket(nil, c.c2s, typ, c.seq.Next(), plain)
	if err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *client) inputPacket(n uint64) []byte {
	return c.appendInput(nil, n)
}

// appendInput appends a sealed Input packet carrying input n to dst. With
// room in dst it allocates nothing (for benchmarks).
func (c *client) appendInput(dst []byte, n uint64) []byte {
	var plain [64]byte
	if c.in == nil {
		c.in = &realmv1.PlayerInput{Move: &realmv1.Vec2{X: 1, Y: -0.5}}
	}
	c.in.InputSequence, c.in.ClientTick = n, 2*n
	pt, err := proto.MarshalOptions{}.MarshalAppend(plain[:0], c.in)
	if err != nil {
		c.t.Fatal(err)
	}
	p, err := wire.SealPacket(dst, c.c2s, wire.TypeInput, c.seq.Next(), pt)
	if err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *client) send(p []byte) {
	c.t.Helper()
	if _, err := c.conn.WriteToUDPAddrPort(p, c.e.svc.Addr()); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next datagram from the service, or an error after d.
func (c *client) read(d time.Duration) ([]byte, error) {
	buf := make([]byte, 2048)
	_ = c.conn.SetReadDeadline(time.Now().Add(d))
	n, from, err := c.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil, err
	}
	if from != c.e.svc.Addr() {
		return nil, errors.New("datagram from a stranger")
	}
	return buf[:n], nil
}

// open reads the next packet and opens it with the server-to-client key,
// checking its type and the replay window.
func (c *client) open(typ wire.PacketType, m proto.Message) {
	c.t.Helper()
	p, err := c.read(waitTimeout)
	if err != nil {
		c.t.Fatalf("no %v packet: %v", typ, err)
	}
	h, plain, err := wire.OpenPacket(nil, c.s2c, p)
	if err != nil {
		c.t.Fatalf("open %v: %v", typ, err)
	}
	if h.Type != typ {
		c.t.Fatalf("got a %v packet, want %v", h.Type, typ)
	}
	if err := c.replay.Accept(h.Seq); err != nil {
		c.t.Fatalf("server sequence: %v", err)
	}
	if err := proto.Unmarshal(plain, m); err != nil {
		c.t.Fatalf("decode %v: %v", typ, err)
	}
}

// handshake sends a fresh handshake, reads the verified ack, echoes its
// challenge and waits until the service has confirmed the endpoint: then
// snapshots for the session come to c. It returns the ack.
func (c *client) handshake() *realmv1.HandshakeAck {
	c.t.Helper()
	ack := c.handshakeOnly()
	c.echo(ack.GetChallenge())
	waitFor(c.t, "the endpoint to be confirmed", func() bool {
		st, ep, ok := c.e.svc.reg.Bound(c.id)
		return ok && ep == c.addr() && st.confirmed.Load()
	})
	return ack
}

// handshakeOnly sends a fresh handshake and returns the verified ack,
// without echoing its challenge.
func (c *client) handshakeOnly() *realmv1.HandshakeAck {
	c.t.Helper()
	c.send(c.handshakePacket())
	ack := new(realmv1.HandshakeAck)
	c.open(wire.TypeHandshakeAck, ack)
	if len(ack.GetChallenge()) != challengeSize {
		c.t.Fatalf("ack challenge of %d bytes, want %d", len(ack.GetChallenge()), challengeSize)
	}
	return ack
}

// echo sends a KeepAlive echoing challenge.
func (c *client) echo(challenge []byte) {
	c.t.Helper()
	c.send(c.dataPacket(wire.TypeKeepAlive, &realmv1.KeepAlive{Challenge: challenge}))
}

// expectSilence checks that nothing arrives for a while.
func (c *client) expectSilence(what string) {
	c.t.Helper()
	if p, err := c.read(silence); err == nil {
		c.t.Errorf("%s: got a %d-byte reply, want none", what, len(p))
	}
}
