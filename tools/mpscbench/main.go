// Command mpscbench runs the libs/mpsc benchmarks and prints them as one
// table: a row per number of producers (and a "single" row for push and pop on
// one goroutine), the ns per item of each implementation, their allocations
// per item, and the ratio of the queue's time to the buffered channel's.
//
// From the repository root:
//
//	go run ./tools/mpscbench                     # runs go test -bench, 1s per benchmark
//	go run ./tools/mpscbench -benchtime 200ms -count 3
//	go test -run '^$' -bench . -benchmem ./libs/mpsc | go run ./tools/mpscbench -in -
//
// Without -in it runs
// `go test -run '^$' -bench <bench> -benchmem -benchtime <benchtime> -count <count> <pkg>`,
// copies that output to stderr as it arrives, and prints the table on stdout.
// With -in it reads saved `go test -bench` output from a file ("-" is stdin)
// instead. With -count above 1, each cell is the median of the runs.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mpscbench:", err)
		os.Exit(1)
	}
}

func run() error {
	in := flag.String("in", "", `read "go test -bench" output from this file ("-" for stdin) instead of running the benchmarks`)
	bench := flag.String("bench", ".", "benchmark regexp passed to go test")
	benchtime := flag.String("benchtime", "1s", "-benchtime passed to go test")
	count := flag.Int("count", 1, "-count passed to go test")
	pkg := flag.String("pkg", "github.com/ecs-realm/realm/libs/mpsc", "package holding the benchmarks")
	flag.Parse()

	var out []byte
	switch *in {
	case "":
		var err error
		if out, err = runBenchmarks(*pkg, *bench, *benchtime, *count); err != nil {
			return err
		}
	case "-":
		var err error
		if out, err = io.ReadAll(os.Stdin); err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
	default:
		var err error
		if out, err = os.ReadFile(*in); err != nil {
			return err
		}
	}
	results, err := parse(bytes.NewReader(out))
	if err != nil {
		return err
	}
	return format(os.Stdout, results)
}

// runBenchmarks runs go test and returns its output, which it also copies to
// stderr so that a long run shows progress.
func runBenchmarks(pkg, bench, benchtime string, count int) ([]byte, error) {
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", bench, "-benchmem",
		"-benchtime", benchtime, "-count", fmt.Sprint(count), pkg)
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, os.Stderr)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return nil, fmt.Errorf("go test failed: %w", err)
		}
		return nil, fmt.Errorf("run go test: %w", err)
	}
	return buf.Bytes(), nil
}
