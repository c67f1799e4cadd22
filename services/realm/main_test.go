package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/ecs-realm/realm/libs/client"
	"github.com/ecs-realm/realm/libs/testutil/realmtest"
	"github.com/ecs-realm/realm/services/realm/realm"

	"github.com/ecs-realm/realm/libs/testutil/natstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, natstest.IgnoreServerTicker()) }

func TestParseFlagsDefaults(t *testing.T) {
	cfg, logCfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"data dir", cfg.DataDir, realm.DefaultDataDir},
		{"nats url", cfg.NATSURL, ""},
		{"nats port", cfg.NATSPort, 4222},
		{"login listen", cfg.Login.Listen, "127.0.0.1:7777"},
		{"ingress listen", cfg.Ingress.Listen, "127.0.0.1:7778"},
		{"metrics", cfg.MetricsAddr, "127.0.0.1:9100"},
		{"tick rate", cfg.TickRate, 20},
		{"argon memory", cfg.Login.ArgonMemoryKiB, uint32(64 << 10)},
		{"login rate", cfg.Login.LoginRate, 1.0},
		{"replicas", cfg.Login.Replicas, 1},
		{"world size", cfg.World.WorldSize, 1000.0},
		{"log format", logCfg.Format, "console"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	const hexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, cfg realm.Config)
		wantErr string
	}{
		{name: "environment fallback", env: map[string]string{"REALM_LOGIN_RATE": "500", "REALM_INGRESS_PUBLIC_ADDR": "a:1, b:2"},
			check: func(t *testing.T, cfg realm.Config) {
				if cfg.Login.LoginRate != 500 || strings.Join(cfg.IngressPublicAddrs, "|") != "a:1|b:2" {
					t.Errorf("login rate %v, public %q", cfg.Login.LoginRate, cfg.IngressPublicAddrs)
				}
			}},
		{name: "flag beats environment", args: []string{"--tick-rate", "30"}, env: map[string]string{"REALM_TICK_RATE": "10"},
			check: func(t *testing.T, cfg realm.Config) {
				if cfg.TickRate != 30 {
					t.Errorf("tick rate %d", cfg.TickRate)
				}
			}},
		{name: "dev fast hash", args: []string{"--dev-fast-hash"},
			check: func(t *testing.T, cfg realm.Config) {
				if l := cfg.Login; l.ArgonTime != 1 || l.ArgonMemoryKiB != 64 || l.ArgonThreads != 1 {
					t.Errorf("argon %d/%d/%d", l.ArgonTime, l.ArgonMemoryKiB, l.ArgonThreads)
				}
			}},
		{name: "token key", args: []string{"--token-key", hexKey},
			check: func(t *testing.T, cfg realm.Config) {
				if cfg.TokenKey.Hex() != hexKey {
					t.Error("token key not set")
				}
			}},
		{name: "fast hash and argon", args: []string{"--dev-fast-hash", "--argon-time", "3"}, wantErr: "exclude"},
		{name: "fast hash and argon from env", args: []string{"--dev-fast-hash"}, env: map[string]string{"REALM_ARGON_THREADS": "4"}, wantErr: "exclude"},
		{name: "argon threads", args: []string{"--argon-threads", "0"}, wantErr: "argon-threads"},
		{name: "key and key file", args: []string{"--token-key", hexKey, "--token-key-file", "k"}, wantErr: "only one"},
		{name: "bad key", args: []string{"--token-key", "xyz"}, wantErr: "--token-key"},
		{name: "bad env", env: map[string]string{"REALM_NATS_PORT": "many"}, wantErr: "REALM_NATS_PORT"},
		{name: "extra argument", args: []string{"serve"}, wantErr: "unexpected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, _, err := parseFlags(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg)
		})
	}
}

func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, io.Discard, &out); err != nil {
		t.Fatalf("run -h = %v", err)
	}
	for _, want := range []string{"-login-listen", "REALM_LOGIN_LISTEN", "-dev-fast-hash", "-nats-url"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	if _, _, err := parseFlags([]string{"-h"}, io.Discard); err != flag.ErrHelp {
		t.Errorf("parseFlags -h = %v", err)
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and polling readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRun runs the binary's run as main does, logs a client in with what the
// summary prints, and stops it as a signal would: run returns nil (exit 0).
func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{
			"--data-dir", dir, "--nats-port", "-1", "--metrics-addr", "",
			"--login-listen", "127.0.0.1:0", "--ingress-listen", "127.0.0.1:0",
			"--dev-fast-hash", "--log-level", "error",
		}, &out, io.Discard)
	}()
	re := regexp.MustCompile(`--login-addr (\S+) --ca-file (\S+)`)
	var m []string
	realmtest.WaitFor(t, "the summary", func() bool {
		m = re.FindStringSubmatch(out.String())
		return m != nil
	})
	c, err := client.Dial(realmtest.Context(t), client.Config{LoginAddr: m[1], CAFile: m[2]})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Register(realmtest.Context(t), "dave", "password-dave"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := realmtest.Recv(t, "run to return", done); err != nil {
		t.Fatalf("run = %v, want nil", err)
	}
	if !strings.Contains(out.String(), "--login-rate 1000") {
		t.Errorf("summary does not suggest raising the login rate:\n%s", out.String())
	}
}
