package load

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Report is the outcome of a run. Its JSON form (WriteJSON) is stable for
// scripts: durations are milliseconds, rates per second.
type Report struct {
	Players        int     `json:"players"`   // players requested
	Joined         int     `json:"joined"`    // players that completed the UDP handshake
	ElapsedSeconds float64 `json:"elapsed_s"` // from the first login to the end of inputs
	RateHz         float64 `json:"rate_hz"`   // inputs per second per player, as configured

	InputsSent uint64 `json:"inputs_sent"`
	// InputsAcked counts the inputs covered by the last_input_sequence of
	// each player's newest snapshot (the world applied them, or a newer one).
	InputsAcked  uint64  `json:"inputs_acked"`
	InputsPerSec float64 `json:"inputs_per_s"`

	// SnapshotsExpected is each player's tick rate times how long it was
	// joined: an estimate, since the world starts sending a little after
	// the handshake.
	SnapshotsExpected uint64  `json:"snapshots_expected"`
	SnapshotsReceived uint64  `json:"snapshots_received"`
	SnapshotsPerSec   float64 `json:"snapshots_per_s"`

	Latency   Dist `json:"latency"`   // input sent → first snapshot acknowledging it
	Connect   Dist `json:"connect"`   // TCP + TLS handshake
	Login     Dist `json:"login"`     // the LoginRequest round trip (argon2 on the server)
	Handshake Dist `json:"handshake"` // UDP handshake until the ack, retries included

	Errors       map[string]uint64 `json:"errors"`        // by kind
	ErrorSamples map[string]string `json:"error_samples"` // the first message of each kind
}

// Dist summarises a Histogram, in milliseconds.
type Dist struct {
	Count  uint64  `json:"count"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	P99Ms  float64 `json:"p99_ms"`
	P999Ms float64 `json:"p99_9_ms"`
	MaxMs  float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// distOf summarises h.
func distOf(h *Histogram) Dist {
	return Dist{
		Count:  h.Count(),
		MeanMs: ms(h.Mean()),
		P50Ms:  ms(h.Quantile(0.5)),
		P90Ms:  ms(h.Quantile(0.9)),
		P99Ms:  ms(h.Quantile(0.99)),
		P999Ms: ms(h.Quantile(0.999)),
		MaxMs:  ms(h.Max()),
	}
}

// WriteJSON writes the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "players     %d requested, %d joined, %.1fs, %g inputs/s each\n",
		r.Players, r.Joined, r.ElapsedSeconds, r.RateHz)
	fmt.Fprintf(&b, "inputs      %d sent (%.0f/s), %d acknowledged, %d not (%s)\n",
		r.InputsSent, r.InputsPerSec, r.InputsAcked, sub(r.InputsSent, r.InputsAcked), pct(sub(r.InputsSent, r.InputsAcked), r.InputsSent))
	fmt.Fprintf(&b, "snapshots   %d received (%.0f/s) of ~%d expected (%s missing)\n",
		r.SnapshotsReceived, r.SnapshotsPerSec, r.SnapshotsExpected,
		pct(sub(r.SnapshotsExpected, r.SnapshotsReceived), r.SnapshotsExpected))
	writeDist(&b, "latency", "input → snapshot", r.Latency)
	writeDist(&b, "connect", "tcp + tls", r.Connect)
	writeDist(&b, "login", "login round trip", r.Login)
	writeDist(&b, "handshake", "udp handshake", r.Handshake)
	if len(r.Errors) == 0 {
		b.WriteString("errors      none\n")
	} else {
		b.WriteString("errors\n")
		kinds := slices.Sorted(func(yield func(string) bool) {
			for k := range r.Errors {
				if !yield(k) {
					return
				}
			}
		})
		for _, k := range kinds {
			fmt.Fprintf(&b, "  %-32s %8d  e.g. %s\n", k, r.Errors[k], r.ErrorSamples[k])
		}
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func writeDist(b *strings.Builder, name, what string, d Dist) {
	if d.Count == 0 {
		fmt.Fprintf(b, "%-11s %s: no samples\n", name, what)
		return
	}
	fmt.Fprintf(b, "%-11s %s (n=%d): p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  mean %s\n",
		name, what, d.Count, fmtMs(d.P50Ms), fmtMs(d.P90Ms), fmtMs(d.P99Ms), fmtMs(d.P999Ms), fmtMs(d.MaxMs), fmtMs(d.MeanMs))
}

// fmtMs formats milliseconds with three significant digits and a unit.
func fmtMs(v float64) string {
	switch {
	case v < 1:
		return fmt.Sprintf("%.0fµs", v*1000)
	case v < 1000:
		return fmt.Sprintf("%.3gms", v)
	default:
		return fmt.Sprintf("%.3gs", v/1000)
	}
}

func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

func pct(part, whole uint64) string {
	if whole == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(part)/float64(whole))
}

// progressLine is the live status line printed once per second.
func progressLine(elapsed time.Duration, connected int64, players int, inPerSec, snapPerSec float64, p50, p99 time.Duration, errs uint64) string {
	return fmt.Sprintf("[%5.0fs] players %d/%d  inputs/s %.0f  snapshots/s %.0f  latency p50 %s p99 %s  errors %d",
		elapsed.Seconds(), connected, players, inPerSec, snapPerSec, fmtMs(ms(p50)), fmtMs(ms(p99)), errs)
}
