package daemon

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// stubService is a real Service implementation for the frame's test: it
// reports not ready until told, and Run returns what it is given.
type stubService struct {
	ready   chan struct{}
	release chan error
}

func (s *stubService) Ready() error {
	select {
	case <-s.ready:
		return nil
	default:
		return errors.New("warming up")
	}
}

func (s *stubService) Run(ctx context.Context) error {
	select {
	case err := <-s.release:
		return err
	case <-ctx.Done():
		return nil
	}
}

func status(t *testing.T, url string) int {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestFrame(t *testing.T) {
	d, err := Start("stub", "127.0.0.1:0", zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + d.MetricsAddr()
	if got := status(t, base+"/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz before the service = %d, want 503", got)
	}
	if got := status(t, base+"/metrics"); got != http.StatusOK {
		t.Errorf("/metrics = %d, want 200", got)
	}
	mfs, err := d.Registry().Gather()
	if err != nil || len(mfs) == 0 {
		t.Fatalf("registry gathers %d families (%v), want the Go and process collectors", len(mfs), err)
	}

	svc := &stubService{ready: make(chan struct{}), release: make(chan error)}
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(svc) }()
	deadline := time.Now().Add(5 * time.Second)
	for status(t, base+"/readyz") != http.StatusServiceUnavailable && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(svc.ready)
	for status(t, base+"/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/readyz never became 200 with a ready service")
		}
		time.Sleep(5 * time.Millisecond)
	}

	want := errors.New("service failed")
	svc.release <- want
	if err := <-runErr; !errors.Is(err, want) {
		t.Errorf("Run = %v, want the service's error", err)
	}
	// Run stopped the metrics server.
	c := &http.Client{Timeout: time.Second}
	if resp, err := c.Get(base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Error("metrics server still answers after Run returned")
	}
}
