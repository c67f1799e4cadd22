package client

import (
	"errors"
	"testing"
	"time"

	"github.com/ecs-realm/realm/libs/tlsconfig"
)

func TestConfigResolve(t *testing.T) {
	c, err := Config{LoginAddr: "x:1"}.resolve()
	if err != nil {
		t.Fatal(err)
	}
	if c.TLS == nil || c.Logger == nil || c.HandshakeTimeout != DefaultHandshakeTimeout || c.HandshakeRetry != DefaultHandshakeRetry ||
		c.PingInterval != DefaultPingInterval || c.KeepAliveInterval != DefaultKeepAliveInterval || c.SnapshotBuffer != DefaultSnapshotBuffer {
		t.Errorf("defaults = %+v", c)
	}
	if c, _ := (Config{LoginAddr: "x:1", PingInterval: -1}).resolve(); c.PingInterval >= 0 {
		t.Error("a negative PingInterval must stay negative (disabled)")
	}
	if _, err := (Config{}).resolve(); !errors.Is(err, ErrNoLoginAddr) {
		t.Errorf("no address: %v", err)
	}
	if _, err := (Config{LoginAddr: "x:1", CAFile: t.TempDir() + "/missing.pem"}).resolve(); err == nil {
		t.Error("a missing CA file must fail")
	}
	dev, err := tlsconfig.EnsureDevCert(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := (Config{LoginAddr: "x:1", CAFile: dev.CAFile}).resolve(); err != nil || c.TLS.RootCAs == nil {
		t.Errorf("CA file: %v, roots %v", err, c.TLS.RootCAs)
	}
}

func TestTokenRefreshSchedule(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	tests := []struct {
		name   string
		before time.Duration
		want   time.Duration // after now; -1: never
	}{
		{"default: a quarter of the lifetime before expiry", 0, 45 * time.Minute},
		{"fixed margin", 10 * time.Minute, 50 * time.Minute},
		{"disabled", -1, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Session{conn: &Conn{cfg: Config{RefreshBefore: tc.before}}}
			s.setToken([]byte{1, 2, 3}, now.Add(time.Hour).UnixMilli(), now)
			at := s.refreshAt()
			if tc.want < 0 {
				if !at.IsZero() {
					t.Errorf("refreshAt = %v, want never", at)
				}
				return
			}
			if got := at.Sub(now); got != tc.want {
				t.Errorf("refresh %v after the token, want %v", got, tc.want)
			}
			tok, exp := s.Token()
			if string(tok) != "\x01\x02\x03" || !exp.Equal(now.Add(time.Hour)) {
				t.Errorf("Token = %v, %v", tok, exp)
			}
		})
	}
}
