package cputime_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/ecs-realm/realm/libs/testutil/cputime"
	"github.com/ecs-realm/realm/libs/testutil/wait"
)

// TestProcessGrowsWithWork checks that Process reads something and that
// it grows while the process works (no amount is asserted: how much CPU a
// loop gets depends on the machine's load).
func TestProcessGrowsWithWork(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("Process reads getrusage, Unix only")
	}
	before := cputime.Process()
	if before <= 0 {
		t.Fatalf("Process = %v, want > 0", before)
	}
	sum := 0
	wait.For(t, 30*time.Second, "the process CPU time to grow while working", func() bool {
		for i := range 1_000_000 {
			sum += i
		}
		return cputime.Process() > before
	})
	if sum == 0 {
		t.Fatal("the work was optimised away")
	}
}

func BenchmarkReport(b *testing.B) {
	start := cputime.Process()
	for b.Loop() {
		_ = cputime.Process()
	}
	cputime.Report(b, start)
}
