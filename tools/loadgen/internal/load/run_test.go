package load

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ecs-realm/realm/libs/testutil/realmtest"
)

func TestRunAgainstRealm(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{})
	const players = 4
	cfg := Config{
		LoginAddr: r.LoginAddr(), CAFile: r.CAFile, Players: players, NamePrefix: "lt",
		Duration: 2 * time.Second, Ramp: 50, Rate: 20, Drain: 500 * time.Millisecond,
	}
	runs := []struct {
		name    string
		timeout time.Duration // of the context: as a SIGINT, with Duration 0
	}{
		{name: "registers new accounts"},
		{name: "logs existing accounts in, until interrupted", timeout: 2 * time.Second},
	}
	for _, tc := range runs {
		t.Run(tc.name, func(t *testing.T) {
			var progress bytes.Buffer
			cfg := cfg
			cfg.Progress = &progress
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			if tc.timeout > 0 {
				cfg.Duration = 0
				ctx, cancel = context.WithTimeout(context.Background(), tc.timeout)
			}
			defer cancel()
			rep, err := Run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var text bytes.Buffer
			if err := rep.WriteText(&text); err != nil {
				t.Fatal(err)
			}
			t.Logf("report:\n%s", text.String())

			if rep.Joined != players || rep.Login.Count != players || rep.Handshake.Count != players || rep.Connect.Count != players {
				t.Errorf("joined %d, logins %d, handshakes %d, connects %d; want %d each", rep.Joined, rep.Login.Count, rep.Handshake.Count, rep.Connect.Count, players)
			}
			if len(rep.Errors) != 0 {
				t.Errorf("errors: %v %v", rep.Errors, rep.ErrorSamples)
			}
			if rep.InputsSent == 0 {
				t.Error("no input sent")
			}
			if rep.SnapshotsReceived == 0 || rep.InputsAcked == 0 || rep.Latency.Count == 0 {
				t.Errorf("snapshots %d, acked %d, latency samples %d: want some of each", rep.SnapshotsReceived, rep.InputsAcked, rep.Latency.Count)
			}
			if rep.InputsAcked > rep.InputsSent {
				t.Errorf("%d inputs acknowledged of %d sent", rep.InputsAcked, rep.InputsSent)
			}
			if !strings.Contains(progress.String(), "players ") {
				t.Errorf("no progress line: %q", progress.String())
			}
		})
	}
}
