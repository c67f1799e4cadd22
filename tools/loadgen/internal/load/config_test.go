package load

import (
	"cmp"
	"errors"
	"testing"
	"time"
)

func TestConfigResolve(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{name: "defaults", cfg: Config{LoginAddr: "x:1"}},
		{name: "no address", cfg: Config{}, wantErr: true},
		{name: "negative players", cfg: Config{LoginAddr: "x:1", Players: -1}, wantErr: true},
		{name: "prefix with a dot", cfg: Config{LoginAddr: "x:1", NamePrefix: "a.b"}, wantErr: true},
		{name: "names too short", cfg: Config{LoginAddr: "x:1", NamePrefix: "a"}, wantErr: true},
		{name: "names too long", cfg: Config{LoginAddr: "x:1", NamePrefix: "abcdefghijklmnopqrstuvwxyz01234", Players: 20}, wantErr: true},
		{name: "long prefix that fits", cfg: Config{LoginAddr: "x:1", NamePrefix: "abcdefghijklmnopqrstuvwxyz0123", Players: 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cfg.resolve()
			if tc.wantErr {
				if !errors.Is(err, ErrBadConfig) {
					t.Fatalf("resolve = %v, want ErrBadConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Players < 1 || got.Rate != cmp.Or(tc.cfg.Rate, DefaultRate) || got.Drain != time.Second || got.TLS == nil || got.Logger == nil {
				t.Errorf("resolved = %+v", got)
			}
		})
	}
}

func TestRaiseFileLimit(t *testing.T) {
	limit, err := RaiseFileLimit()
	if err != nil {
		t.Fatal(err)
	}
	if limit == 0 {
		t.Error("file limit 0")
	}
	again, err := RaiseFileLimit()
	if err != nil || again != limit {
		t.Errorf("second call = %d, %v; want %d (idempotent)", again, err, limit)
	}
}
