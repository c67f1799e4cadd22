package login_test

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/frame"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	"github.com/ecs-realm/realm/libs/testutil/wait"
	"github.com/ecs-realm/realm/libs/tlsconfig"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/login/login"
)

// waitTimeout bounds every wait of these tests; a healthy run needs a
// fraction of it.
const waitTimeout = 15 * time.Second

const password = "correct horse battery"

// env is one embedded NATS server, a token key and a data directory shared
// by the login instances of a test.
type env struct {
	srv     *server.Server
	url     string
	key     wire.Key
	dataDir string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	srv, url := natstest.Start(t)
	key, err := wire.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, url: url, key: key, dataDir: t.TempDir()}
}

func (e *env) connect(t testing.TB) *bus.Conn {
	t.Helper()
	nc, err := bus.Connect(e.url, bus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// instance is a running login Service.
type instance struct {
	*login.Service
	reg    *prometheus.Registry
	nc     *bus.Conn
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	tls    *tls.Config // a client config trusting the dev CA, with a session cache
}

// config is the base configuration of test instances: loopback, a cheap
// hash, generous rate limits.
func (e *env) config() login.Config {
	return login.Config{
		Listen:         "127.0.0.1:0",
		DataDir:        e.dataDir,
		TokenKey:       e.key,
		IngressAddrs:   []string{"127.0.0.1:7778"},
		TickRateHz:     30,
		ArgonTime:      1,
		ArgonMemoryKiB: 64,
		ArgonThreads:   1,
		LoginRate:      1000,
		LoginBurst:     1000,
	}
}

// start runs a login instance on its own NATS connection; mutate adjusts
// the config. It is stopped in t.Cleanup.
func (e *env) start(t testing.TB, mutate func(*login.Config)) *instance {
	t.Helper()
	cfg := e.config()
	if mutate != nil {
		mutate(&cfg)
	}
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	nc := e.connect(t)
	log := zap.NewNop() // benchmarks: no per-login logs
	if _, bench := t.(*testing.B); !bench {
		log = zaptest.NewLogger(t)
	}
	s, err := login.New(cfg, nc, log)
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{Service: s, reg: reg, nc: nc, done: make(chan error, 1)}
	in.tls, err = tlsconfig.Client(s.DevCAFile(), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in.cancel = cancel
	go func() { in.done <- s.Run(ctx) }()
	t.Cleanup(func() { in.stop(t) })
	return in
}

// stop cancels Run and waits for it to return.
func (in *instance) stop(t testing.TB) {
	t.Helper()
	in.once.Do(func() {
		in.cancel()
		select {
		case err := <-in.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Error("Run did not return after cancel")
		}
	})
}

// metric returns the value of a counter or gauge in in's registry (0 if
// absent); labels are name, value pairs.
func (in *instance) metric(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := in.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// waitFor polls cond until it holds, failing t after waitTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	wait.For(t, waitTimeout, what, cond)
}

// client is a minimal test client of the TLS control plane (the real client
// library lives in libs/client).
type client struct {
	t    testing.TB
	raw  net.Conn
	tc   *tls.Conn
	fr   *frame.Reader
	buf  []byte
	next uint64
	rec  *recordSniffer
}

// dial connects and completes the TLS handshake with conf.
func dial(t testing.TB, addr string, conf *tls.Config) *client {
	t.Helper()
	c, err := tryDial(t, addr, conf)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tryDial(t testing.TB, addr string, conf *tls.Config) (*client, error) {
	raw, err := net.DialTimeout("tcp", addr, waitTimeout)
	if err != nil {
		return nil, err
	}
	rec := &recordSniffer{Conn: raw}
	tc := tls.Client(rec, conf)
	_ = tc.SetDeadline(time.Now().Add(waitTimeout))
	if err := tc.Handshake(); err != nil {
		_ = raw.Close()
		return nil, err
	}
	c := &client{t: t, raw: raw, tc: tc, fr: frame.NewReader(tc), rec: rec}
	t.Cleanup(func() { _ = raw.Close() })
	return c, nil
}

func (in *instance) dial(t testing.TB) *client {
	t.Helper()
	return dial(t, in.Addr().String(), in.tls)
}

// send writes m as one frame.
func (c *client) send(m *realmv1.ClientMessage) {
	c.t.Helper()
	var err error
	_ = c.tc.SetWriteDeadline(time.Now().Add(waitTimeout))
	if c.buf, err = frame.Write(c.tc, m, c.buf); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// read reads the next frame (waitTimeout at most).
func (c *client) read() (*realmv1.ServerMessage, error) {
	_ = c.tc.SetReadDeadline(time.Now().Add(waitTimeout))
	m := new(realmv1.ServerMessage)
	if err := c.fr.Read(m); err != nil {
		return nil, err
	}
	return m, nil
}

func (c *client) mustRead() *realmv1.ServerMessage {
	c.t.Helper()
	m, err := c.read()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// request sends m with the next request id and returns the reply, which
// must echo the id.
func (c *client) request(m *realmv1.ClientMessage) *realmv1.ServerMessage {
	c.t.Helper()
	c.next++
	m.RequestId = c.next
	c.send(m)
	r := c.mustRead()
	if r.GetRequestId() != c.next {
		c.t.Fatalf("reply %v has request id %d, want %d", r, r.GetRequestId(), c.next)
	}
	return r
}

func (c *client) register(name, pw string) *realmv1.ServerMessage {
	c.t.Helper()
	return c.request(&realmv1.ClientMessage{Body: &realmv1.ClientMessage_Register{
		Register: &realmv1.RegisterRequest{Name: name, Password: pw},
	}})
}

func (c *client) login(name, pw string) *realmv1.ServerMessage {
	c.t.Helper()
	return c.request(&realmv1.ClientMessage{Body: &realmv1.ClientMessage_Login{
		Login: &realmv1.LoginRequest{Name: name, Password: pw},
	}})
}

// mustLogin logs in and returns the LoginResponse.
func (c *client) mustLogin(name, pw string) *realmv1.LoginResponse {
	c.t.Helper()
	r := c.login(name, pw)
	if r.GetLogin() == nil {
		c.t.Fatalf("login %s: %v", name, r)
	}
	return r.GetLogin()
}

func (c *client) mustRegister(name, pw string) uint64 {
	c.t.Helper()
	r := c.register(name, pw)
	if r.GetRegister() == nil {
		c.t.Fatalf("register %s: %v", name, r)
	}
	return r.GetRegister().GetAccountId()
}

func (c *client) ping() *realmv1.ServerMessage {
	c.t.Helper()
	return c.request(&realmv1.ClientMessage{Body: &realmv1.ClientMessage_Ping{
		Ping: &realmv1.Ping{ClientTimeUnixNs: 12345},
	}})
}

// mustPing checks that the connection still answers.
func (c *client) mustPing() {
	c.t.Helper()
	if r := c.ping(); r.GetPong().GetClientTimeUnixNs() != 12345 {
		c.t.Fatalf("ping: %v", r)
	}
}

// expectEOF reads the end of the stream: io.EOF, cleanly at a frame
// boundary. Then it answers with its own close_notify, as a client should.
func (c *client) expectEOF() {
	c.t.Helper()
	m, err := c.read()
	if !errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		c.t.Fatalf("read = %v, %v; want io.EOF", m, err)
	}
	c.close()
}

// expectKick reads Kick{reason} (request id 0) and then the end of stream.
func (c *client) expectKick(reason realmv1.CloseReason) {
	c.t.Helper()
	m := c.mustRead()
	if m.GetKick().GetReason() != reason || m.GetRequestId() != 0 {
		c.t.Fatalf("got %v, want Kick{%v}", m, reason)
	}
	c.expectEOF()
}

// expectError reads Error{code} with request id reqID.
func (c *client) expectError(code realmv1.ErrorCode, reqID uint64) *realmv1.Error {
	c.t.Helper()
	m := c.mustRead()
	if m.GetError().GetCode() != code || m.GetRequestId() != reqID {
		c.t.Fatalf("got %v, want Error{%v} for request %d", m, code, reqID)
	}
	return m.GetError()
}

// close sends close_notify and closes.
func (c *client) close() { _ = c.tc.Close() }

// recordSniffer notes the header of every TLS record the client receives,
// so a test can tell a close_notify alert from a bare TCP close.
type recordSniffer struct {
	net.Conn
	mu      sync.Mutex
	pending []byte   // bytes of an incomplete record header
	skip    int      // body bytes of the current record still to skip
	records []record // headers seen
}

type record struct {
	typ byte
	n   int
}

func (r *recordSniffer) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	r.mu.Lock()
	defer r.mu.Unlock()
	b := p[:n]
	for len(b) > 0 {
		if r.skip > 0 {
			k := min(r.skip, len(b))
			r.skip -= k
			b = b[k:]
			continue
		}
		need := 5 - len(r.pending)
		k := min(need, len(b))
		r.pending = append(r.pending, b[:k]...)
		b = b[k:]
		if len(r.pending) == 5 {
			rec := record{typ: r.pending[0], n: int(binary.BigEndian.Uint16(r.pending[3:5]))}
			r.records = append(r.records, rec)
			r.skip = rec.n
			r.pending = r.pending[:0]
		}
	}
	return n, err
}

// last returns the last record header received.
func (r *recordSniffer) last() (record, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.records) == 0 {
		return record{}, false
	}
	return r.records[len(r.records)-1], true
}

// events collects the session events published on NATS.
type events struct {
	mu     sync.Mutex
	opened []*realmv1.SessionOpened
	closed []*realmv1.SessionClosed
}

func (e *env) subscribe(t testing.TB) *events {
	t.Helper()
	nc := e.connect(t)
	ev := &events{}
	if _, err := bus.Subscribe(nc, bus.SubjectSessionOpened, func(m *realmv1.SessionOpened) {
		ev.mu.Lock()
		ev.opened = append(ev.opened, m)
		ev.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := bus.Subscribe(nc, bus.SubjectSessionClosed, func(m *realmv1.SessionClosed) {
		ev.mu.Lock()
		ev.closed = append(ev.closed, m)
		ev.mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	// Make sure the subscriptions are in place before anything publishes.
	if err := nc.FlushTimeout(waitTimeout); err != nil {
		t.Fatal(err)
	}
	return ev
}

// closedOf waits for the SessionClosed events of session and returns them.
func (ev *events) closedOf(t testing.TB, session uint64) []*realmv1.SessionClosed {
	t.Helper()
	var out []*realmv1.SessionClosed
	waitFor(t, "session closed event", func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		out = out[:0]
		for _, m := range ev.closed {
			if m.GetSessionId() == session {
				out = append(out, m)
			}
		}
		return len(out) > 0
	})
	return out
}

// openedOf waits for the SessionOpened event of session.
func (ev *events) openedOf(t testing.TB, session uint64) *realmv1.SessionOpened {
	t.Helper()
	var out *realmv1.SessionOpened
	waitFor(t, "session opened event", func() bool {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		for _, m := range ev.opened {
			if m.GetSessionId() == session {
				out = m
				return true
			}
		}
		return false
	})
	return out
}
