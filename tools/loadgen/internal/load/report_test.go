package load

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func testReport() *Report {
	var lat Histogram
	for i := 1; i <= 1000; i++ {
		lat.Record(time.Duration(i) * 10 * time.Microsecond) // 10µs .. 10ms
	}
	return &Report{
		Players: 10, Joined: 9, ElapsedSeconds: 2, RateHz: 20,
		InputsSent: 400, InputsAcked: 396, InputsPerSec: 200,
		SnapshotsExpected: 360, SnapshotsReceived: 351, SnapshotsPerSec: 175.5,
		Latency:      distOf(&lat),
		Errors:       map[string]uint64{"login: RATE_LIMITED": 3, "dial: error": 1},
		ErrorSamples: map[string]string{"login: RATE_LIMITED": "slow down", "dial: error": "refused"},
	}
}

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	if err := testReport().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"10 requested, 9 joined",
		"400 sent (200/s), 396 acknowledged, 4 not (1.00%)",
		"351 received (176/s) of ~360 expected (2.50% missing)",
		"input → snapshot (n=1000): p50 5.11ms  p90 9.18ms  p99 9.96ms  p99.9 10ms  max 10ms  mean 5ms",
		"login       login round trip: no samples",
		"dial: error",
		"e.g. slow down",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "dial: error") > strings.Index(out, "login: RATE_LIMITED") {
		t.Error("error kinds are not sorted")
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	want := testReport()
	if err := want.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"players", "inputs_sent", "latency", "errors", "snapshots_expected"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b.String())
		}
	}
	var got Report
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Latency != want.Latency || got.InputsAcked != want.InputsAcked || got.Errors["dial: error"] != 1 {
		t.Errorf("round trip = %+v, want %+v", got, want)
	}
}

func TestFmtMs(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0.25, "250µs"},
		{1.234, "1.23ms"},
		{45.6, "45.6ms"},
		{1234, "1.23s"},
	}
	for _, tc := range tests {
		if got := fmtMs(tc.v); got != tc.want {
			t.Errorf("fmtMs(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestProgressLine(t *testing.T) {
	got := progressLine(12*time.Second, 98, 100, 1960, 1958.4, 1200*time.Microsecond, 4500*time.Microsecond, 2)
	want := "[   12s] players 98/100  inputs/s 1960  snapshots/s 1958  latency p50 1.2ms p99 4.5ms  errors 2"
	if got != want {
		t.Errorf("progressLine =\n%q, want\n%q", got, want)
	}
}
