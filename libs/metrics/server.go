package metrics

import (
	"context"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"net/http/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// ErrStarted is returned by Start when the server was already started.
var ErrStarted = errors.New("metrics: server already started")

// HTTP timeouts of the endpoint: generous for scrapers, bounded for idle or
// slow clients.
const (
	readHeaderTimeout = 5 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
)

// Server serves /metrics, /healthz and /readyz. Create it with NewServer.
type Server struct {
	addr string
	log  *zap.Logger
	mux  *http.ServeMux

	mu     sync.Mutex // guards the fields below
	checks []check    // in registration order
	srv    *http.Server
	ln     net.Listener
	done   chan struct{} // closed when Serve returns
}

type check struct {
	name string
	fn   func() error
}

// NewServer returns a server that will listen on addr ("host:port"; "" means
// disabled) and expose gatherer on /metrics (nil means
// prometheus.DefaultGatherer). log may be nil (no logging).
func NewServer(addr string, gatherer prometheus.Gatherer, log *zap.Logger) *Server {
	if gatherer == nil {
		gatherer = prometheus.DefaultGatherer
	}
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{addr: addr, log: log, mux: http.NewServeMux()}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{
		ErrorLog:      stdLog(log.Named("promhttp")),
		ErrorHandling: promhttp.ContinueOnError,
	}))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	s.mux.HandleFunc("GET /readyz", s.serveReady)
	return s
}

// EnableProfiling also serves Go's runtime profiles (net/http/pprof) under
// /debug/pprof/, e.g. `go tool pprof http://<addr>/debug/pprof/profile`.
// Off unless called: profiles reveal internals and cost CPU while taken, so
// enable it only on an address that is not public. Call it before Start.
func (s *Server) EnableProfiling() {
	s.mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	s.mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	s.mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	s.mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	s.mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// AddReadiness registers a readiness check: /readyz fails while check returns
// an error. A check registered again under the same name replaces the old one.
// Safe to call at any time, also while serving.
func (s *Server) AddReadiness(name string, fn func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.checks {
		if s.checks[i].name == name {
			s.checks[i].fn = fn
			return
		}
	}
	s.checks = append(s.checks, check{name: name, fn: fn})
}

// Ready runs every readiness check and returns the failures joined, each
// wrapped with its check's name; nil when all pass.
func (s *Server) Ready() error {
	s.mu.Lock()
	checks := slices.Clone(s.checks)
	s.mu.Unlock()
	var errs []error
	for _, c := range checks {
		if err := c.fn(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Server) serveReady(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.Ready(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		var b strings.Builder
		b.WriteString("not ready\n")
		b.WriteString(err.Error())
		b.WriteString("\n")
		_, _ = w.Write([]byte(b.String()))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// Handler returns the server's routes, for mounting elsewhere or testing.
func (s *Server) Handler() http.Handler { return s.mux }

// Start listens on the address and serves in a goroutine until Shutdown. It
// returns once the listener is bound (see Addr), or the listen error. With
// an empty address it does nothing.
func (s *Server) Start() error {
	if s.addr == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return ErrStarted
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("metrics: listen: %w", err)
	}
	srv := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: readHeaderTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          stdLog(s.log.Named("http")),
	}
	done := make(chan struct{})
	s.srv, s.ln, s.done = srv, ln, done
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics server stopped", zap.Error(err))
		}
	}()
	s.log.Info("metrics server listening", zap.Stringer("addr", ln.Addr()))
	return nil
}

// Addr returns the bound address after Start ("" before, or when disabled).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Shutdown stops accepting, waits for in-flight requests until ctx ends, and
// returns once the serving goroutine has exited. It is a no-op if the server
// was never started.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	err := srv.Shutdown(ctx)
	if err != nil {
		// Deadline passed with requests in flight: cut them off.
		_ = srv.Close()
	}
	<-done
	if err != nil {
		return fmt.Errorf("metrics: shutdown: %w", err)
	}
	return nil
}

// stdLog adapts log for net/http and promhttp, whose messages are warnings.
func stdLog(log *zap.Logger) *stdlog.Logger {
	l, err := zap.NewStdLogAt(log, zapcore.WarnLevel)
	if err != nil { // only for invalid levels
		return zap.NewStdLog(log)
	}
	return l
}
