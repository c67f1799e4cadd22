package realm_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/client"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	"github.com/ecs-realm/realm/libs/testutil/realmtest"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/login/login"
	"github.com/ecs-realm/realm/services/realm/realm"
)

// testConfig is a realm on random loopback ports with test costs, its data
// in dir.
func testConfig(dir string) realm.Config {
	cfg := realm.Config{
		DataDir:     dir,
		NATSPort:    bus.RandomPort,
		MetricsAddr: "127.0.0.1:0",
		Login: login.Config{
			Listen:    "127.0.0.1:0",
			ArgonTime: 1, ArgonMemoryKiB: 64, ArgonThreads: 1,
			LoginRate: 1000, LoginBurst: 1000,
		},
	}
	cfg.Ingress.Listen = "127.0.0.1:0"
	cfg.World.WorldSize = 30
	return cfg
}

// running is a realm whose Run is in progress.
type running struct {
	*realm.Realm
	cancel context.CancelFunc
	done   chan error
}

// start creates the realm and runs it until stop or the end of the test.
func start(t *testing.T, cfg realm.Config) *running {
	t.Helper()
	r, err := realm.New(cfg, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rr := &running{Realm: r, cancel: cancel, done: make(chan error, 1)}
	go func() { rr.done <- r.Run(ctx) }()
	t.Cleanup(func() { _ = rr.stop() })
	return rr
}

// stop cancels Run and returns its result; it may be called again.
func (r *running) stop() error {
	r.cancel()
	err, ok := <-r.done
	if ok {
		close(r.done)
	}
	return err
}

// play logs a player in, joins UDP, sends an input and waits for a
// snapshot that shows it applied. The input is sent again with every
// snapshot until then: the first may reach the world before the player's
// endpoint.bound (NATS does not order the two subjects) and be dropped.
func play(t *testing.T, r *realm.Realm, name string) *client.Conn {
	t.Helper()
	ctx := realmtest.Context(t)
	c, err := client.Dial(ctx, client.Config{LoginAddr: r.DialLoginAddr(), CAFile: r.CAFile()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := c.Register(ctx, name, "password-"+name); err != nil && client.CodeOf(err) != realmv1.ErrorCode_ERROR_CODE_NAME_TAKEN {
		t.Fatal(err)
	}
	s, err := c.Login(ctx, name, "password-"+name)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.JoinUDP(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for {
		if err := u.SendInput(&realmv1.PlayerInput{InputSequence: 1, Move: &realmv1.Vec2{X: 1}}); err != nil {
			t.Fatal(err)
		}
		snap := realmtest.Recv(t, "a snapshot", u.Snapshots())
		if snap.Msg.GetLastInputSequence() == 1 && snap.Msg.GetSelf().GetSessionId() == s.SessionID {
			return c
		}
	}
}

func TestRealmServesPlayers(t *testing.T) {
	r := start(t, testConfig(t.TempDir()))
	c := play(t, r.Realm, "alice")
	realmtest.WaitFor(t, "readiness", func() bool { return r.Ready() == nil })

	for _, path := range []string{"/readyz", "/healthz", "/metrics"} {
		resp, err := http.Get("http://" + r.MetricsAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d %s", path, resp.StatusCode, body)
		}
		if path == "/metrics" {
			for _, want := range []string{"realm_login_", "realm_ingress_", "realm_world_", "go_goroutines"} {
				if !bytes.Contains(body, []byte(want)) {
					t.Errorf("/metrics has no %s metric", want)
				}
			}
		}
	}

	if err := r.stop(); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	realmtest.WaitClosed(t, "the client to be kicked", c.Done())
	var kick *client.KickError
	if err := c.Err(); !errors.As(err, &kick) || kick.Reason != realmv1.CloseReason_CLOSE_REASON_SHUTDOWN {
		t.Errorf("client ended with %v, want a SHUTDOWN kick", err)
	}
	if err := r.Run(context.Background()); !errors.Is(err, realm.ErrRunTwice) {
		t.Errorf("second Run = %v, want ErrRunTwice", err)
	}
}

// TestRealmRestartKeepsData: the token key, the certificate and the
// accounts survive a restart on the same data directory.
func TestRealmRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	r := start(t, testConfig(dir))
	if !r.KeyCreated() || r.TokenKeyFile() != filepath.Join(dir, realm.TokenKeyFile) {
		t.Errorf("first start: key file %q, created %v", r.TokenKeyFile(), r.KeyCreated())
	}
	fi, err := os.Stat(r.TokenKeyFile())
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("token key file mode %v, want 0600", perm)
	}
	key, ca := r.TokenKey(), readFile(t, r.CAFile())
	play(t, r.Realm, "bob")
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}

	r = start(t, testConfig(dir))
	if r.KeyCreated() || r.TokenKey() != key {
		t.Errorf("restart: key created %v, same key %v", r.KeyCreated(), r.TokenKey() == key)
	}
	if !bytes.Equal(readFile(t, r.CAFile()), ca) {
		t.Error("restart made a new CA")
	}
	ctx := realmtest.Context(t)
	c, err := client.Dial(ctx, client.Config{LoginAddr: r.DialLoginAddr(), CAFile: r.CAFile()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Register(ctx, "bob", "password-bob"); client.CodeOf(err) != realmv1.ErrorCode_ERROR_CODE_NAME_TAKEN {
		t.Errorf("registering bob again = %v, want NAME_TAKEN (the account is kept)", err)
	}
	play(t, r.Realm, "bob") // and logs in with its password
}

// TestRealmExternalNATS: with NATSURL the realm starts no server and uses
// the given one.
func TestRealmExternalNATS(t *testing.T) {
	_, url := natstest.Start(t)
	cfg := testConfig(t.TempDir())
	cfg.NATSURL = url
	cfg.IngressPublicAddrs = []string{"localhost:7778"} // advertised as is
	key, err := wire.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg.TokenKey = key
	r := start(t, cfg)
	if r.Embedded() || r.NATSURL() != url {
		t.Errorf("embedded %v, url %q, want the external %q", r.Embedded(), r.NATSURL(), url)
	}
	if r.TokenKeyFile() != "" || r.TokenKey() != key {
		t.Errorf("key file %q: the configured key must be used", r.TokenKeyFile())
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, realm.TokenKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was written: %v", err)
	}
	if got := r.IngressPublicAddrs(); len(got) != 1 || got[0] != "localhost:7778" {
		t.Errorf("IngressPublicAddrs = %v", got)
	}
	// The advertised address is not where ingress listens, so play would
	// not get through: check the control plane only.
	ctx := realmtest.Context(t)
	c, err := client.Dial(ctx, client.Config{LoginAddr: r.DialLoginAddr(), CAFile: r.CAFile()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Register(ctx, "carol", "password-carol"); err != nil {
		t.Fatal(err)
	}
	s, err := c.Login(ctx, "carol", "password-carol")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.IngressAddrs) != 1 || s.IngressAddrs[0] != "localhost:7778" || s.TickRateHz != realm.DefaultTickRate {
		t.Errorf("session: ingress %v, tick rate %d", s.IngressAddrs, s.TickRateHz)
	}
}

func TestNewErrors(t *testing.T) {
	taken := start(t, testConfig(t.TempDir()))
	tests := []struct {
		name string
		cfg  func(*realm.Config)
		want error
	}{
		{"tick rate", func(c *realm.Config) { c.TickRate = 5000 }, realm.ErrConfig},
		{"public address", func(c *realm.Config) { c.IngressPublicAddrs = []string{"nohost"} }, realm.ErrConfig},
		{"public port", func(c *realm.Config) { c.IngressPublicAddrs = []string{"host:0"} }, realm.ErrConfig},
		{"nats port", func(c *realm.Config) { c.NATSPort = 70000 }, realm.ErrConfig},
		{"login config", func(c *realm.Config) { c.Login.Replicas = 9 }, login.ErrConfig},
		{"bad key file", func(c *realm.Config) {
			c.TokenKeyFile = filepath.Join(c.DataDir, "bad.key")
			if err := os.WriteFile(c.TokenKeyFile, []byte("not hex"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, wire.ErrInvalidKey},
		// Fails after NATS, world and ingress started: New must release them.
		{"login port taken", func(c *realm.Config) { c.Login.Listen = taken.LoginAddr().String() }, nil},
		// Fails last, with every service constructed.
		{"metrics port taken", func(c *realm.Config) { c.MetricsAddr = taken.MetricsAddr() }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t.TempDir())
			tc.cfg(&cfg)
			r, err := realm.New(cfg, nil)
			if err == nil {
				_ = r.Run(canceled())
				t.Fatal("New succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("New = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestReadyAfterRun: /readyz passes while the realm runs and fails, naming
// NATS, once Run has shut it down.
func TestReadyAfterRun(t *testing.T) {
	r, err := realm.New(testConfig(t.TempDir()), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- r.Run(ctx) }()
	realmtest.WaitFor(t, "readiness", func() bool { return r.Ready() == nil })
	cancel()
	if err := realmtest.Recv(t, "Run to return", done); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if err := r.Ready(); err == nil || !strings.Contains(err.Error(), "nats") {
		t.Errorf("Ready after shutdown = %v, want a nats failure", err)
	}
}

func TestWriteSummary(t *testing.T) {
	r := start(t, testConfig(t.TempDir()))
	var b strings.Builder
	if err := r.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		r.DialLoginAddr(), r.IngressAddr().String(), r.NATSURL(), r.CAFile(), r.MetricsAddr(), r.TokenKeyFile(),
		"go run ./tools/loadgen --login-addr " + r.DialLoginAddr() + " --ca-file " + r.CAFile(),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "--login-rate") {
		t.Errorf("summary suggests --login-rate although the rate is high:\n%s", out)
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
