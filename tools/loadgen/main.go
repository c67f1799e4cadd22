// Command loadgen runs simulated players against a Realm server and reports
// input → snapshot latency, throughput, losses and login costs.
//
//	loadgen --login-addr 127.0.0.1:7777 --ca-file data/tls/ca.pem --players 200 --duration 60s
//
// A progress line goes to stderr once per second, the report to stdout (or
// JSON with --json FILE, "-" for stdout). SIGINT ends the run early, with the
// report; a second SIGINT kills the process.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/ecs-realm/realm/libs/flagenv"
	"github.com/ecs-realm/realm/libs/logging"
	"github.com/ecs-realm/realm/tools/loadgen/internal/load"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run() error {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	var cfg load.Config
	fs.StringVar(&cfg.LoginAddr, "login-addr", "127.0.0.1:7777", "login server TCP host:port")
	fs.StringVar(&cfg.CAFile, "ca-file", "", "PEM CA certificate to trust (empty: system roots)")
	fs.IntVar(&cfg.Players, "players", 10, "simulated players")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "how long to send inputs, ramp-up included (0: until SIGINT)")
	fs.Float64Var(&cfg.Rate, "rate", load.DefaultRate, "inputs per second per player")
	fs.Float64Var(&cfg.Ramp, "ramp", load.DefaultRamp, "logins started per second")
	fs.StringVar(&cfg.NamePrefix, "name-prefix", load.DefaultNamePrefix, "account name prefix (names are prefix + index)")
	fs.StringVar(&cfg.Password, "password", load.DefaultPassword, "password of every simulated account")
	fs.Float64Var(&cfg.SnapshotRate, "snapshot-rate", 0, "snapshots per second a player should get, for the loss count (0: the tick rate from the handshake)")
	fs.DurationVar(&cfg.Drain, "drain", load.DefaultDrain, "how long to wait for the last inputs' snapshots")
	jsonOut := fs.String("json", "", `also write the report as JSON to this file ("-": stdout, the text report then goes to stderr)`)
	quiet := fs.Bool("quiet", false, "no progress line")
	logLevel := fs.String("log-level", "warn", "log level of per-player failures (debug shows each)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	if err := flagenv.Parse(fs, "REALM_LOADGEN", os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}

	log, err := logging.New(logging.Config{Level: *logLevel, Format: logging.FormatConsole})
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	cfg.Logger = log
	if !*quiet {
		cfg.Progress = os.Stderr
	}
	if limit, err := load.RaiseFileLimit(); err != nil || limit < uint64(2*cfg.Players+64) {
		fmt.Fprintf(os.Stderr, "loadgen: warning: open file limit %d may be too low for %d players (%v)\n", limit, cfg.Players, err)
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal kills the process
	}()

	rep, err := load.Run(ctx, cfg)
	if err != nil {
		return err
	}
	var text io.Writer = os.Stdout
	switch *jsonOut {
	case "":
	case "-":
		text = os.Stderr
		if err := rep.WriteJSON(os.Stdout); err != nil {
			return err
		}
	default:
		f, err := os.Create(*jsonOut)
		if err != nil {
			return fmt.Errorf("json report: %w", err)
		}
		if err := rep.WriteJSON(f); err != nil {
			_ = f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("json report: %w", err)
		}
	}
	return rep.WriteText(text)
}
