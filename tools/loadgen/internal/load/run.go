package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"

	"github.com/ecs-realm/realm/libs/client"
)

// runner is the state of one run, shared by its players.
type runner struct {
	cfg       Config
	clientCfg client.Config

	// Live counters, read by the progress line.
	connected atomic.Int64  // players on the UDP plane right now
	joined    atomic.Int64  // players that ever completed the handshake
	inputs    atomic.Uint64 // inputs sent successfully
	snapshots atomic.Uint64 // snapshots read by players

	// Totals added by each player when it ends.
	acked, snapExpected, snapReceived atomic.Uint64

	// window collects latencies of the current second; the progress loop
	// swaps it and merges the previous one into latency a second later,
	// when no player can still be recording into it.
	window                    atomic.Pointer[Histogram]
	pending                   *Histogram // owned by the progress loop, then by Run
	latency                   Histogram
	connect, login, handshake Histogram

	errs *errorCounts
}

// Run simulates cfg.Players players: each registers (or, when the name is
// taken, just logs in), handshakes, sends inputs at cfg.Rate with a
// wandering movement and reads its snapshots, until cfg.Duration has passed
// since the start or ctx ends. Players then drain for cfg.Drain, log out, and
// Run returns the report. Failures of players are counted in the report;
// Run's error is only for a bad Config.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	r := &runner{
		cfg: cfg,
		clientCfg: client.Config{
			LoginAddr:        cfg.LoginAddr,
			TLS:              cfg.TLS,
			Logger:           cfg.Logger,
			HandshakeTimeout: cfg.HandshakeTimeout,
			// Each player sets OnSnapshot: snapshots are read on the
			// socket's reader goroutine, not queued.
		},
		errs: newErrorCounts(),
	}
	r.window.Store(new(Histogram))

	runCtx := ctx
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	start := time.Now()
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go r.progress(start, stopProgress, progressDone)

	var wg sync.WaitGroup
	ramp := rate.NewLimiter(rate.Limit(cfg.Ramp), 1)
	for i := range cfg.Players {
		if ramp.Wait(runCtx) != nil {
			break // the run ends before this player could start
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.player(runCtx, i)
		}()
	}
	<-runCtx.Done()
	elapsed := time.Since(start)
	wg.Wait()
	close(stopProgress)
	<-progressDone
	if r.pending != nil {
		r.latency.Merge(r.pending)
	}
	r.latency.Merge(r.window.Load())
	return r.report(elapsed), nil
}

// progress prints the status line once per second and rotates the latency
// window, until stop is closed.
func (r *runner) progress(start time.Time, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := start
	var lastIn, lastSnap uint64
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			w := r.window.Swap(new(Histogram))
			if r.pending != nil {
				r.latency.Merge(r.pending)
			}
			r.pending = w
			in, snap := r.inputs.Load(), r.snapshots.Load()
			secs := now.Sub(last).Seconds()
			if r.cfg.Progress != nil {
				line := progressLine(now.Sub(start), r.connected.Load(), r.cfg.Players,
					float64(in-lastIn)/secs, float64(snap-lastSnap)/secs,
					w.Quantile(0.5), w.Quantile(0.99), r.errs.total.Load())
				fmt.Fprintln(r.cfg.Progress, line)
			}
			last, lastIn, lastSnap = now, in, snap
		}
	}
}

// fail counts a player's error, unless it only says that the run ended.
func (r *runner) fail(ctx context.Context, stage string, err error) {
	if err == nil || errors.Is(err, context.Canceled) || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		return
	}
	r.cfg.Logger.Debug("player error", zap.String("stage", stage), zap.Error(err))
	r.errs.add(stage, err)
}

// report assembles the final Report.
func (r *runner) report(elapsed time.Duration) *Report {
	secs := max(elapsed.Seconds(), 1e-9)
	errs, samples := r.errs.snapshot()
	return &Report{
		Players:           r.cfg.Players,
		Joined:            int(r.joined.Load()),
		ElapsedSeconds:    elapsed.Seconds(),
		RateHz:            r.cfg.Rate,
		InputsSent:        r.inputs.Load(),
		InputsAcked:       r.acked.Load(),
		InputsPerSec:      float64(r.inputs.Load()) / secs,
		SnapshotsExpected: r.snapExpected.Load(),
		SnapshotsReceived: r.snapReceived.Load(),
		SnapshotsPerSec:   float64(r.snapReceived.Load()) / secs,
		Latency:           distOf(&r.latency),
		Connect:           distOf(&r.connect),
		Login:             distOf(&r.login),
		Handshake:         distOf(&r.handshake),
		Errors:            errs,
		ErrorSamples:      samples,
	}
}
