// Package cputime measures the CPU time a benchmark uses, beside its wall
// clock. On a machine shared with other work, wall-clock ns/op counts time
// spent waiting for a core; CPU time per op does not. With one goroutine
// working it is the op's latency on an idle core; with several, their sum.
//
// It is test-only (testonly in Bazel).
package cputime

import (
	"testing"
	"time"
)

// Report reports the process CPU time used since start (a Process reading
// taken before the benchmark loop), per op, as the "cpu-ns/op" metric. It
// reports nothing where Process cannot be read.
func Report(b *testing.B, start time.Duration) {
	if start == 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(Process()-start)/float64(b.N), "cpu-ns/op")
}
