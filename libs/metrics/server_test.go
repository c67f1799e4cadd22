package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"
)

func start(t *testing.T, reg prometheus.Gatherer) (*Server, string) {
	t.Helper()
	s := NewServer("127.0.0.1:0", reg, zaptest.NewLogger(t))
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return s, "http://" + s.Addr()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestEndpoints(t *testing.T) {
	reg := prometheus.NewRegistry()
	drops := prometheus.NewCounter(prometheus.CounterOpts{Name: "realm_test_drops_total", Help: "test"})
	reg.MustRegister(drops)
	drops.Add(3)
	s, base := start(t, reg)

	var natsUp, dbUp atomic.Bool
	s.AddReadiness("nats", func() error {
		if !natsUp.Load() {
			return errors.New("disconnected")
		}
		return nil
	})
	s.AddReadiness("db", func() error {
		if !dbUp.Load() {
			return errors.New("no leader")
		}
		return nil
	})

	code, body := get(t, base+"/metrics")
	if code != 200 || !strings.Contains(body, "realm_test_drops_total 3") {
		t.Fatalf("/metrics: %d %q", code, body)
	}
	if code, _ := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}

	tests := []struct {
		name      string
		nats, db  bool
		wantCode  int
		wantIn    []string
		wantNotIn []string
	}{
		{"both failing", false, false, 503, []string{"nats: disconnected", "db: no leader"}, nil},
		{"one failing", true, false, 503, []string{"db: no leader"}, []string{"nats"}},
		{"all passing", true, true, 200, []string{"ok"}, []string{"db", "nats"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			natsUp.Store(tc.nats)
			dbUp.Store(tc.db)
			code, body := get(t, base+"/readyz")
			if code != tc.wantCode {
				t.Fatalf("/readyz = %d %q, want %d", code, body, tc.wantCode)
			}
			for _, w := range tc.wantIn {
				if !strings.Contains(body, w) {
					t.Errorf("/readyz body %q lacks %q", body, w)
				}
			}
			for _, w := range tc.wantNotIn {
				if strings.Contains(body, w) {
					t.Errorf("/readyz body %q mentions %q", body, w)
				}
			}
		})
	}

	// Re-registering a name replaces the check.
	s.AddReadiness("db", func() error { return errors.New("replaced") })
	if code, body := get(t, base+"/readyz"); code != 503 || !strings.Contains(body, "db: replaced") || strings.Count(body, "db:") != 1 {
		t.Fatalf("after replace: %d %q", code, body)
	}
	if code, _ := get(t, base+"/nope"); code != 404 {
		t.Fatalf("/nope: %d, want 404", code)
	}
}

func TestReadyWithoutChecks(t *testing.T) {
	_, base := start(t, prometheus.NewRegistry())
	if code, body := get(t, base+"/readyz"); code != 200 || body != "ok\n" {
		t.Fatalf("/readyz: %d %q", code, body)
	}
}

func TestDisabled(t *testing.T) {
	s := NewServer("", nil, nil)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if s.Addr() != "" {
		t.Fatalf("Addr = %q, want empty", s.Addr())
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestStartErrors(t *testing.T) {
	s, _ := start(t, nil)
	if err := s.Start(); !errors.Is(err, ErrStarted) {
		t.Fatalf("second Start: %v, want ErrStarted", err)
	}
	other := NewServer(s.Addr(), nil, nil) // port taken
	if err := other.Start(); err == nil {
		_ = other.Shutdown(context.Background())
		t.Fatal("Start on a bound port succeeded")
	}
}

func TestShutdownStopsServing(t *testing.T) {
	s := NewServer("127.0.0.1:0", prometheus.NewRegistry(), nil)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 2 * time.Second}
	if resp, err := c.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatal("server still answers after Shutdown")
	}
}

func TestProfiling(t *testing.T) {
	_, off := start(t, prometheus.NewRegistry())
	if code, _ := get(t, off+"/debug/pprof/cmdline"); code != http.StatusNotFound {
		t.Errorf("profiling not enabled: /debug/pprof/cmdline = %d, want 404", code)
	}

	s := NewServer("127.0.0.1:0", prometheus.NewRegistry(), zaptest.NewLogger(t))
	s.EnableProfiling()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	code, body := get(t, "http://"+s.Addr()+"/debug/pprof/")
	if code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/ = %d %q, want 200 with the profile index", code, body)
	}
}
