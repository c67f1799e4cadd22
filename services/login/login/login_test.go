package login_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/frame"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/login/login"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, natstest.IgnoreServerTicker()) }

func TestRegisterLoginLogout(t *testing.T) {
	e := newEnv(t)
	ev := e.subscribe(t)
	in := e.start(t, nil)
	c := in.dial(t)

	id := c.mustRegister("Alice", password)
	if id == 0 {
		t.Fatal("account id 0")
	}
	before := time.Now()
	lr := c.mustLogin("alice", password) // names ignore case
	if lr.GetAccountId() != id || lr.GetSessionId() == 0 {
		t.Fatalf("login: account %d session %d, want account %d", lr.GetAccountId(), lr.GetSessionId(), id)
	}
	if len(lr.GetClientToServerKey()) != wire.KeySize || len(lr.GetServerToClientKey()) != wire.KeySize ||
		bytes.Equal(lr.GetClientToServerKey(), lr.GetServerToClientKey()) {
		t.Fatal("bad session keys")
	}
	if got := lr.GetIngressAddrs(); len(got) != 1 || got[0] != "127.0.0.1:7778" || lr.GetTickRateHz() != 30 {
		t.Fatalf("ingress %v tick %d", got, lr.GetTickRateHz())
	}
	tok := openToken(t, e.key, lr.GetConnectToken())
	if tok.SessionID != lr.GetSessionId() || tok.AccountID != id ||
		!bytes.Equal(tok.ClientKey[:], lr.GetClientToServerKey()) || !bytes.Equal(tok.ServerKey[:], lr.GetServerToClientKey()) {
		t.Fatalf("token %+v does not match the login response", tok)
	}
	if exp := time.UnixMilli(lr.GetTokenExpiresUnixMs()); !tok.Expires.Equal(exp) ||
		exp.Before(before.Add(login.DefaultTokenTTL-time.Second)) || exp.After(time.Now().Add(login.DefaultTokenTTL)) {
		t.Fatalf("token expires %v (response %v), want about now + %v", tok.Expires, exp, login.DefaultTokenTTL)
	}
	if r := c.ping(); r.GetPong().GetClientTimeUnixNs() != 12345 || r.GetPong().GetServerTimeUnixNs() < before.UnixNano() {
		t.Fatalf("pong %v", r)
	}

	if r := c.request(&realmv1.ClientMessage{Body: &realmv1.ClientMessage_Logout{Logout: &realmv1.LogoutRequest{}}}); r.GetLogout() == nil {
		t.Fatalf("logout: %v", r)
	}
	c.expectEOF()

	op := ev.openedOf(t, lr.GetSessionId())
	if op.GetAccountId() != id || op.GetAccountName() != "Alice" || op.GetLoginId() != in.ID() ||
		op.GetOpenedUnixMs() < before.UnixMilli() {
		t.Fatalf("SessionOpened %v", op)
	}
	cl := ev.closedOf(t, lr.GetSessionId())
	if len(cl) != 1 || cl[0].GetReason() != realmv1.CloseReason_CLOSE_REASON_LOGOUT || cl[0].GetAccountId() != id ||
		cl[0].GetLoginId() != in.ID() || cl[0].GetClosedUnixMs() < op.GetOpenedUnixMs() {
		t.Fatalf("SessionClosed %v", cl)
	}
	waitFor(t, "session gauge back to 0", func() bool { return in.metric(t, "realm_login_sessions_open") == 0 })
	if n := in.metric(t, "realm_login_logins_total", "result", "ok"); n != 1 {
		t.Fatalf("logins ok = %v", n)
	}
	if n := in.metric(t, "realm_login_registrations_total", "result", "ok"); n != 1 {
		t.Fatalf("registrations ok = %v", n)
	}
}

func openToken(t testing.TB, key wire.Key, token []byte) wire.ConnectToken {
	t.Helper()
	codec, err := wire.NewTokenCodec(key)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := codec.Open(token, time.Now())
	if err != nil {
		t.Fatalf("open token: %v", err)
	}
	return tok
}

// TestNoEnumeration: a wrong password and an unknown name are answered
// identically.
func TestNoEnumeration(t *testing.T) {
	e := newEnv(t)
	in := e.start(t, nil)
	c := in.dial(t)
	c.mustRegister("Known", password)
	wrong := c.login("Known", "wrong password")
	unknown := c.login("Unknown", password)
	for _, r := range []*realmv1.ServerMessage{wrong, unknown} {
		if r.GetError().GetCode() != realmv1.ErrorCode_ERROR_CODE_INVALID_CREDENTIALS {
			t.Fatalf("got %v, want INVALID_CREDENTIALS", r)
		}
	}
	if wrong.GetError().GetMessage() != unknown.GetError().GetMessage() {
		t.Fatalf("messages differ: %q vs %q", wrong.GetError().GetMessage(), unknown.GetError().GetMessage())
	}
	c.mustPing() // the connection stays open
}

func TestRequestErrors(t *testing.T) {
	e := newEnv(t)
	in := e.start(t, nil)
	setup := in.dial(t)
	setup.mustRegister("Taken", password)

	type step func(c *client) *realmv1.ServerMessage
	logout := func(c *client) *realmv1.ServerMessage {
		return c.request(&realmv1.ClientMessage{Body: &realmv1.ClientMessage_Logout{Logout: &realmv1.LogoutRequest{}}})
	}
	refresh := func(c *client) *realmv1.ServerMessage {
		return c.request(&realmv1.ClientMessage{Body: &realmv1.ClientMessage_RefreshToken{RefreshToken: &realmv1.RefreshTokenRequest{}}})
	}
	tests := []struct {
		name   string
		before step // nil: nothing
		do     step
		want   realmv1.ErrorCode
	}{
		{"name too short", nil, func(c *client) *realmv1.ServerMessage { return c.register("ab", password) }, realmv1.ErrorCode_ERROR_CODE_INVALID_NAME},
		{"name with space", nil, func(c *client) *realmv1.ServerMessage { return c.register("a b c", password) }, realmv1.ErrorCode_ERROR_CODE_INVALID_NAME},
		{"password too short", nil, func(c *client) *realmv1.ServerMessage { return c.register("Shorty", "1234567") }, realmv1.ErrorCode_ERROR_CODE_INVALID_PASSWORD},
		{"password too long", nil, func(c *client) *realmv1.ServerMessage {
			return c.register("Longy", string(make([]byte, 129)))
		}, realmv1.ErrorCode_ERROR_CODE_INVALID_PASSWORD},
		{"name taken ignoring case", nil, func(c *client) *realmv1.ServerMessage { return c.register("TAKEN", password) }, realmv1.ErrorCode_ERROR_CODE_NAME_TAKEN},
		{"refresh before login", nil, refresh, realmv1.ErrorCode_ERROR_CODE_NOT_LOGGED_IN},
		{"logout before login", nil, logout, realmv1.ErrorCode_ERROR_CODE_NOT_LOGGED_IN},
		{"login twice", func(c *client) *realmv1.ServerMessage { return c.login("Taken", password) },
			func(c *client) *realmv1.ServerMessage { return c.login("Taken", password) }, realmv1.ErrorCode_ERROR_CODE_ALREADY_LOGGED_IN},
		{"register after login", func(c *client) *realmv1.ServerMessage { return c.login("Taken", password) },
			func(c *client) *realmv1.ServerMessage { return c.register("Another", password) }, realmv1.ErrorCode_ERROR_CODE_ALREADY_LOGGED_IN},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := in.dial(t)
			c.t = t
			if tc.before != nil {
				if r := tc.before(c); r.GetError() != nil {
					t.Fatalf("before: %v", r)
				}
			}
			if r := tc.do(c); r.GetError().GetCode() != tc.want {
				t.Fatalf("got %v, want %v", r, tc.want)
			}
			c.mustPing() // none of these closes the connection
			c.close()
		})
	}
}

// TestSecondLoginKicks: a second login of an account kicks the first,
// on the same instance and across two instances sharing NATS.
func TestSecondLoginKicks(t *testing.T) {
	e := newEnv(t)
	ev := e.subscribe(t)
	a := e.start(t, func(c *login.Config) { c.ID = "login-a" })
	b := e.start(t, func(c *login.Config) { c.ID = "login-b" })
	a.dial(t).mustRegister("Player1", password)

	tests := []struct {
		name          string
		first, second *instance
	}{
		{"same instance", a, a},
		{"other instance", a, b},
		{"back again", b, a},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := tc.first.dial(t)
			first.t = t
			lr1 := first.mustLogin("Player1", password)
			second := tc.second.dial(t)
			second.t = t
			lr2 := second.mustLogin("Player1", password)
			if lr1.GetSessionId() == lr2.GetSessionId() {
				t.Fatal("two logins share a session id")
			}
			first.expectKick(realmv1.CloseReason_CLOSE_REASON_REPLACED)
			second.mustPing()
			cl := ev.closedOf(t, lr1.GetSessionId())
			if len(cl) != 1 || cl[0].GetReason() != realmv1.CloseReason_CLOSE_REASON_REPLACED || cl[0].GetLoginId() != tc.first.ID() {
				t.Fatalf("SessionClosed of the first: %v", cl)
			}
			second.close()
			ev.closedOf(t, lr2.GetSessionId())
		})
	}
}

// TestSimultaneousLogins: logins of one account racing on two instances
// leave exactly one session, the one presence names, and kick the other.
func TestSimultaneousLogins(t *testing.T) {
	e := newEnv(t)
	ev := e.subscribe(t)
	a := e.start(t, func(c *login.Config) { c.ID = "login-a" })
	b := e.start(t, func(c *login.Config) { c.ID = "login-b" })
	reg := a.dial(t)
	const rounds = 5
	for r := range rounds {
		reg.mustRegister(fmt.Sprintf("Racer%d", r), password)
	}
	js, err := e.connect(t).JetStream()
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(context.Background(), "realm_presence")
	if err != nil {
		t.Fatal(err)
	}
	for r := range rounds {
		t.Run(strconv.Itoa(r), func(t *testing.T) {
			name := fmt.Sprintf("Racer%d", r)
			clients := []*client{a.dial(t), b.dial(t)}
			resp := make([]*realmv1.LoginResponse, 2)
			var wg sync.WaitGroup
			for _, c := range clients {
				c.t = t
				wg.Go(func() {
					c.next++
					c.send(&realmv1.ClientMessage{RequestId: c.next, Body: &realmv1.ClientMessage_Login{
						Login: &realmv1.LoginRequest{Name: name, Password: password},
					}})
				})
			}
			wg.Wait()
			for i, c := range clients {
				m := c.mustRead()
				if m.GetLogin() == nil {
					t.Fatalf("client %d: %v", i, m)
				}
				resp[i] = m.GetLogin()
			}
			// Presence names the winner; the other one is kicked.
			entry, err := kv.Get(context.Background(), strconv.FormatUint(resp[0].GetAccountId(), 10))
			if err != nil {
				t.Fatal(err)
			}
			live := binary.BigEndian.Uint64(entry.Value()[1:9])
			winner := -1
			for i := range resp {
				if resp[i].GetSessionId() == live {
					winner = i
				}
			}
			if winner < 0 {
				t.Fatalf("presence names session %d, neither %d nor %d", live, resp[0].GetSessionId(), resp[1].GetSessionId())
			}
			loser := 1 - winner
			clients[loser].expectKick(realmv1.CloseReason_CLOSE_REASON_REPLACED)
			cl := ev.closedOf(t, resp[loser].GetSessionId())
			if cl[0].GetReason() != realmv1.CloseReason_CLOSE_REASON_REPLACED {
				t.Fatalf("loser closed with %v", cl[0].GetReason())
			}
			// The winner survives: it still answers, and its presence entry
			// and SessionOpened are the last word.
			clients[winner].mustPing()
			ev.mu.Lock()
			for _, m := range ev.closed {
				if m.GetSessionId() == resp[winner].GetSessionId() {
					t.Errorf("winner closed: %v", m)
				}
			}
			ev.mu.Unlock()
			clients[winner].close()
			ev.closedOf(t, resp[winner].GetSessionId())
		})
	}
}

func TestRefreshToken(t *testing.T) {
	e := newEnv(t)
	in := e.start(t, func(c *login.Config) { c.TokenTTL = time.Minute })
	c := in.dial(t)
	c.mustRegister("Refresher", password)
	lr := c.mustLogin("Refresher", password)
	first := openToken(t, e.key, lr.GetConnectToken())
	// Let the clock pass the first expiry's millisecond.
	waitFor(t, "the clock to move", func() bool { return time.Now().Add(time.Minute).After(first.Expires.Add(time.Millisecond)) })

	r := c.request(&realmv1.ClientMessage{Body: &realmv1.ClientMessage_RefreshToken{RefreshToken: &realmv1.RefreshTokenRequest{}}})
	rt := r.GetRefreshToken()
	if rt == nil {
		t.Fatalf("refresh: %v", r)
	}
	second := openToken(t, e.key, rt.GetConnectToken())
	if second.SessionID != first.SessionID || second.AccountID != first.AccountID ||
		second.ClientKey != first.ClientKey || second.ServerKey != first.ServerKey {
		t.Fatalf("refreshed token %+v differs from %+v beyond expiry", second, first)
	}
	if !second.Expires.After(first.Expires) || second.Expires.UnixMilli() != rt.GetTokenExpiresUnixMs() {
		t.Fatalf("expiry %v (response %d), first %v", second.Expires, rt.GetTokenExpiresUnixMs(), first.Expires)
	}
	if bytes.Equal(rt.GetConnectToken(), lr.GetConnectToken()) {
		t.Fatal("same token bytes")
	}
	// A token sealed with another key does not open.
	other, _ := wire.NewKey()
	codec, _ := wire.NewTokenCodec(other)
	if _, err := codec.Open(rt.GetConnectToken(), time.Now()); !errors.Is(err, wire.ErrTokenInvalid) {
		t.Fatalf("opened with another key: %v", err)
	}
	if n := in.metric(t, "realm_login_token_refreshes_total"); n != 1 {
		t.Fatalf("refreshes = %v", n)
	}
}

// TestBadFrames: a malformed, oversized or unexpected frame gets an Error
// and close_notify on that connection only.
func TestBadFrames(t *testing.T) {
	e := newEnv(t)
	ev := e.subscribe(t)
	in := e.start(t, nil)
	bystander := in.dial(t)
	bystander.mustRegister("Bystander", password)
	bystander.mustLogin("Bystander", password)
	in.dial(t).mustRegister("Victim", password)

	unexpected, _ := proto.Marshal(&realmv1.ClientMessage{RequestId: 7})
	unknownField := protoAppendUnknown(t, 99) // a field this server does not know
	tests := []struct {
		name     string
		raw      []byte // written as is
		code     realmv1.ErrorCode
		reqID    uint64
		kind     string
		loggedIn bool
	}{
		{"malformed", rawFrame([]byte{0x0a, 0xff}), realmv1.ErrorCode_ERROR_CODE_MALFORMED_FRAME, 0, "malformed", false},
		{"too large", binary.BigEndian.AppendUint32(nil, frame.MaxSize+1), realmv1.ErrorCode_ERROR_CODE_FRAME_TOO_LARGE, 0, "too_large", false},
		{"empty body", rawFrame(unexpected), realmv1.ErrorCode_ERROR_CODE_UNEXPECTED_MESSAGE, 7, "unexpected", false},
		{"unknown body", rawFrame(unknownField), realmv1.ErrorCode_ERROR_CODE_UNEXPECTED_MESSAGE, 0, "unexpected", false},
		{"malformed after login", rawFrame([]byte{0xff}), realmv1.ErrorCode_ERROR_CODE_MALFORMED_FRAME, 0, "malformed", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := in.dial(t)
			c.t = t
			var session uint64
			if tc.loggedIn {
				session = c.mustLogin("Victim", password).GetSessionId()
			}
			before := in.metric(t, "realm_login_frame_errors_total", "kind", tc.kind)
			if _, err := c.tc.Write(tc.raw); err != nil {
				t.Fatal(err)
			}
			c.expectError(tc.code, tc.reqID)
			c.expectEOF()
			if tc.loggedIn {
				cl := ev.closedOf(t, session)
				if cl[0].GetReason() != realmv1.CloseReason_CLOSE_REASON_PROTOCOL_ERROR {
					t.Fatalf("closed with %v", cl[0].GetReason())
				}
			}
			if n := in.metric(t, "realm_login_frame_errors_total", "kind", tc.kind); n != before+1 {
				t.Fatalf("frame errors %s = %v, want %v", tc.kind, n, before+1)
			}
			bystander.mustPing()
		})
	}
}

func rawFrame(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// protoAppendUnknown encodes a ClientMessage carrying only field num (an
// empty length-delimited value), as a newer client might send.
func protoAppendUnknown(t *testing.T, num int) []byte {
	t.Helper()
	tag := byte(num<<3 | 2)
	if num >= 16 {
		return []byte{tag | 0x80, byte(num >> 4), 0}
	}
	return []byte{tag, 0}
}

func TestHandshakeTimeout(t *testing.T) {
	e := newEnv(t)
	in := e.start(t, func(c *login.Config) { c.HandshakeTimeout = 200 * time.Millisecond })
	raw, err := net.Dial("tcp", in.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	waitFor(t, "the connection to be counted", func() bool { return in.metric(t, "realm_login_connections_open") == 1 })
	_ = raw.SetReadDeadline(time.Now().Add(waitTimeout))
	n, err := raw.Read(make([]byte, 1))
	if n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("silent connection: read %d, %v; want closed by the server", n, err)
	}
	waitFor(t, "the connection to be freed", func() bool { return in.metric(t, "realm_login_connections_open") == 0 })
	if n := in.metric(t, "realm_login_tls_handshakes_total", "result", "timeout"); n != 1 {
		t.Fatalf("handshake timeouts = %v", n)
	}
	in.dial(t).mustPing() // the listener still works
}

func TestTLSVersions(t *testing.T) {
	e := newEnv(t)
	strict := e.start(t, nil)
	lax := e.start(t, func(c *login.Config) { c.AllowTLS12 = true })
	tests := []struct {
		name    string
		in      *instance
		version uint16
		ok      bool
	}{
		{"1.3 by default", strict, tls.VersionTLS13, true},
		{"1.2 refused by default", strict, tls.VersionTLS12, false},
		{"1.1 refused by default", strict, tls.VersionTLS11, false},
		{"1.2 with the flag", lax, tls.VersionTLS12, true},
		{"1.1 refused with the flag", lax, tls.VersionTLS11, false},
		{"1.3 with the flag", lax, tls.VersionTLS13, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conf := tc.in.tls.Clone()
			conf.MinVersion, conf.MaxVersion = tc.version, tc.version
			c, err := tryDial(t, tc.in.Addr().String(), conf)
			if !tc.ok {
				if err == nil {
					t.Fatalf("TLS %x accepted", tc.version)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v := c.tc.ConnectionState().Version; v != tc.version {
				t.Fatalf("negotiated %x", v)
			}
			c.mustPing()
		})
	}
}

// TestSessionClosedReasons: every way a logged-in connection ends publishes
// exactly one SessionClosed with its reason.
func TestSessionClosedReasons(t *testing.T) {
	e := newEnv(t)
	ev := e.subscribe(t)
	in := e.start(t, nil)
	idle := e.start(t, func(c *login.Config) { c.IdleTimeout = 300 * time.Millisecond })
	setup := in.dial(t)
	for _, n := range []string{"Logout", "Drop", "Reset", "Idle", "Kicked"} {
		setup.mustRegister(n, password)
	}
	setup.close()

	tests := []struct {
		name   string
		in     *instance
		end    func(t *testing.T, c *client)
		reason realmv1.CloseReason
	}{
		{"Logout", in, func(t *testing.T, c *client) {
			c.request(&realmv1.ClientMessage{Body: &realmv1.ClientMessage_Logout{Logout: &realmv1.LogoutRequest{}}})
			c.expectEOF()
		}, realmv1.CloseReason_CLOSE_REASON_LOGOUT},
		{"Drop", in, func(t *testing.T, c *client) { c.close() }, realmv1.CloseReason_CLOSE_REASON_DISCONNECTED},
		{"Reset", in, func(t *testing.T, c *client) {
			_ = c.raw.(*net.TCPConn).SetLinger(0)
			_ = c.raw.Close()
		}, realmv1.CloseReason_CLOSE_REASON_DISCONNECTED},
		{"Idle", idle, func(t *testing.T, c *client) {
			c.expectKick(realmv1.CloseReason_CLOSE_REASON_IDLE_TIMEOUT)
		}, realmv1.CloseReason_CLOSE_REASON_IDLE_TIMEOUT},
		{"Kicked", in, func(t *testing.T, c *client) {
			in.dial(t).mustLogin("Kicked", password)
			c.expectKick(realmv1.CloseReason_CLOSE_REASON_REPLACED)
		}, realmv1.CloseReason_CLOSE_REASON_REPLACED},
	}
	var sessions []uint64
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.in.dial(t)
			c.t = t
			lr := c.mustLogin(tc.name, password)
			sessions = append(sessions, lr.GetSessionId())
			op := ev.openedOf(t, lr.GetSessionId())
			if op.GetAccountId() != lr.GetAccountId() || op.GetAccountName() != tc.name || op.GetLoginId() != tc.in.ID() {
				t.Fatalf("SessionOpened %v", op)
			}
			tc.end(t, c)
			cl := ev.closedOf(t, lr.GetSessionId())
			if cl[0].GetReason() != tc.reason || cl[0].GetAccountId() != lr.GetAccountId() || cl[0].GetLoginId() != tc.in.ID() {
				t.Fatalf("SessionClosed %v, want reason %v", cl[0], tc.reason)
			}
		})
	}

	// Exactly once: a last session's event comes after any duplicate
	// of the earlier ones (one publisher connection keeps its order).
	last := in.dial(t)
	last.mustRegister("Sentinel", password)
	lr := last.mustLogin("Sentinel", password)
	last.close()
	ev.closedOf(t, lr.GetSessionId())
	idle.stop(t) // its sessions publish on its own connection: stop it to flush
	ev.mu.Lock()
	defer ev.mu.Unlock()
	count := map[uint64]int{}
	for _, m := range ev.closed {
		count[m.GetSessionId()]++
	}
	for _, s := range sessions {
		if count[s] != 1 {
			t.Errorf("session %d: %d SessionClosed events", s, count[s])
		}
	}
}

// TestShutdown: stopping the service kicks every client with SHUTDOWN and
// close_notify (an alert record, then a clean io.EOF), and publishes the
// sessions' SessionClosed.
func TestShutdown(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		t.Run(tls.VersionName(version), func(t *testing.T) {
			e := newEnv(t)
			ev := e.subscribe(t)
			in := e.start(t, func(c *login.Config) { c.AllowTLS12 = true })
			conf := in.tls.Clone()
			conf.MinVersion, conf.MaxVersion = version, version
			player := dial(t, in.Addr().String(), conf)
			player.mustRegister("Player", password)
			lr := player.mustLogin("Player", password)
			anon := dial(t, in.Addr().String(), conf)
			anon.mustPing()

			stopped := make(chan struct{})
			go func() {
				defer close(stopped)
				in.stop(t)
			}()
			for _, c := range []*client{player, anon} {
				c.expectKick(realmv1.CloseReason_CLOSE_REASON_SHUTDOWN)
				rec, ok := c.rec.last()
				// TLS 1.2 shows alerts as content type 21; TLS 1.3 hides
				// them in type 23 with 19 bytes: 2 of alert, 1 of inner
				// type, 16 of tag (a frame is at least 21).
				isAlert := rec.typ == 21 || version == tls.VersionTLS13 && rec.typ == 23 && rec.n == 19
				if !ok || !isAlert {
					t.Fatalf("last record %+v: not a close_notify alert", rec)
				}
			}
			<-stopped
			cl := ev.closedOf(t, lr.GetSessionId())
			if cl[0].GetReason() != realmv1.CloseReason_CLOSE_REASON_SHUTDOWN {
				t.Fatalf("closed with %v", cl[0].GetReason())
			}
			if err := in.Ready(); !errors.Is(err, login.ErrStopped) {
				t.Fatalf("Ready after stop = %v", err)
			}
		})
	}
}

// TestAccountsSurviveRestart: register, restart the service and the NATS
// server on the same store, log in.
func TestAccountsSurviveRestart(t *testing.T) {
	e := newEnv(t)
	first := e.start(t, nil)
	c := first.dial(t)
	id := c.mustRegister("Durable", password)
	c.close()
	first.stop(t)

	e.srv = natstest.Restart(t, e.srv)
	second := e.start(t, nil)
	c = second.dial(t)
	if lr := c.mustLogin("Durable", password); lr.GetAccountId() != id {
		t.Fatalf("account id %d after restart, want %d", lr.GetAccountId(), id)
	}
	if r := second.dial(t).register("durable", password); r.GetError().GetCode() != realmv1.ErrorCode_ERROR_CODE_NAME_TAKEN {
		t.Fatalf("re-register after restart: %v", r)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t)
	in := e.start(t, func(c *login.Config) {
		c.LoginRate = 0.001 // one token per 1000 s: none comes back during the test
		c.LoginBurst = 3
	})
	c := in.dial(t)
	c.mustRegister("Limited", password) // 1
	for range 2 {                       // 2, 3
		if r := c.login("Limited", "wrong password"); r.GetError().GetCode() != realmv1.ErrorCode_ERROR_CODE_INVALID_CREDENTIALS {
			t.Fatalf("got %v", r)
		}
	}
	if r := c.login("Limited", password); r.GetError().GetCode() != realmv1.ErrorCode_ERROR_CODE_RATE_LIMITED {
		t.Fatalf("4th attempt: %v, want RATE_LIMITED", r)
	}
	// Per address, not per connection; register counts too.
	other := in.dial(t)
	if r := other.register("Another", password); r.GetError().GetCode() != realmv1.ErrorCode_ERROR_CODE_RATE_LIMITED {
		t.Fatalf("register from the same address: %v, want RATE_LIMITED", r)
	}
	c.mustPing() // the connection stays open
	if n := in.metric(t, "realm_login_logins_total", "result", "rate_limited"); n != 1 {
		t.Fatalf("rate limited logins = %v", n)
	}
}

func TestMaxConnections(t *testing.T) {
	e := newEnv(t)
	in := e.start(t, func(c *login.Config) { c.MaxConnections = 1 })
	first := in.dial(t)
	first.mustPing()
	busy := in.dial(t)
	busy.expectError(realmv1.ErrorCode_ERROR_CODE_SERVER_BUSY, 0)
	busy.expectEOF()
	first.mustPing()
	first.close()
	waitFor(t, "the slot to free", func() bool { return in.metric(t, "realm_login_connections_open") == 0 })
	in.dial(t).mustPing()
	if n := in.metric(t, "realm_login_connections_rejected_total", "reason", "busy"); n != 1 {
		t.Fatalf("busy rejections = %v", n)
	}
	if err := in.Run(context.Background()); !errors.Is(err, login.ErrRunTwice) {
		t.Fatalf("second Run = %v, want ErrRunTwice", err)
	}
}

// TestSlowConsumer: a client that sends without reading fills its write
// queue and is disconnected; others are not affected.
func TestSlowConsumer(t *testing.T) {
	e := newEnv(t)
	ev := e.subscribe(t)
	in := e.start(t, func(c *login.Config) { c.WriteQueue = 4 })
	other := in.dial(t)
	other.mustRegister("Slow", password)

	raw, err := net.Dial("tcp", in.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	_ = raw.(*net.TCPConn).SetReadBuffer(4096) // fill up quickly
	slow := &client{t: t, raw: raw, tc: tls.Client(raw, in.tls)}
	slow.fr = frame.NewReader(slow.tc)
	lr := slow.mustLogin("Slow", password)

	// Pipeline pings without reading, in large writes, until the server
	// gives up on us.
	var batch []byte
	for range 1024 {
		_, _ = frame.Write(bytesAppender{&batch}, &realmv1.ClientMessage{Body: &realmv1.ClientMessage_Ping{Ping: &realmv1.Ping{}}}, nil)
	}
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for {
			_ = slow.tc.SetWriteDeadline(time.Now().Add(waitTimeout))
			if _, err := slow.tc.Write(batch); err != nil {
				return
			}
		}
	}()
	waitFor(t, "the slow consumer kick", func() bool {
		return in.metric(t, "realm_login_kicks_total", "reason", "slow_consumer") == 1
	})
	cl := ev.closedOf(t, lr.GetSessionId())
	if cl[0].GetReason() != realmv1.CloseReason_CLOSE_REASON_SLOW_CONSUMER {
		t.Fatalf("closed with %v", cl[0].GetReason())
	}
	<-sent // the server closed the connection, so writes fail
	other.mustPing()
}

// bytesAppender lets frame.Write append to a byte slice.
type bytesAppender struct{ b *[]byte }

func (a bytesAppender) Write(p []byte) (int, error) {
	*a.b = append(*a.b, p...)
	return len(p), nil
}

func TestReady(t *testing.T) {
	e := newEnv(t)
	in := e.start(t, nil)
	if err := in.Ready(); err != nil {
		t.Fatalf("Ready = %v", err)
	}
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
	waitFor(t, "not ready without NATS", func() bool { return in.Ready() != nil })
	e.srv = natstest.Restart(t, e.srv)
	waitFor(t, "ready after NATS is back", func() bool { return in.Ready() == nil })
	// The restarted server lost the presence watch's consumer: the service
	// resumes the watch on a new one rather than wait for nats.go to notice
	// (about ten seconds of missed heartbeats).
	waitFor(t, "the presence watch resumed", func() bool {
		return in.metric(t, "realm_login_presence_watch_resumes_total") == 1
	})
	c := in.dial(t)
	c.mustRegister("Phoenix", password)
	c.mustLogin("Phoenix", password)
	// The presence watch survived the restart: a second login kicks.
	start := time.Now()
	in.dial(t).mustLogin("Phoenix", password)
	c.expectKick(realmv1.CloseReason_CLOSE_REASON_REPLACED)
	t.Logf("kick after NATS restart took %v", time.Since(start))
	in.stop(t) // before the restarted server's cleanup stops it
}

func TestConfigErrors(t *testing.T) {
	key, _ := wire.NewKey()
	tests := []struct {
		name string
		cfg  login.Config
	}{
		{"no token key", login.Config{}},
		{"bad id", login.Config{TokenKey: key, ID: "a.b"}},
		{"cert without key", login.Config{TokenKey: key, CertFile: "cert.pem"}},
		{"partial argon", login.Config{TokenKey: key, ArgonTime: 3}},
		{"negative timeout", login.Config{TokenKey: key, IdleTimeout: -time.Second}},
		{"bad ingress address", login.Config{TokenKey: key, IngressAddrs: []string{"nowhere"}}},
		{"replicas", login.Config{TokenKey: key, Replicas: 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := login.New(tc.cfg, nil, nil); !errors.Is(err, login.ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
		})
	}
}
