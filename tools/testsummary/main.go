// Command testsummary reads `go test -json` events on stdin, prints what a
// person needs from them (each package's result, the output of every failed
// test) and ends with one plain line, "N passed, N failed, N skipped",
// counting individual tests and subtests. It exits 1 when a test or a
// package failed, so it can stand at the end of a pipeline.
//
//	go test -json ./... | go run ./tools/testsummary
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

func main() {
	s, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	fmt.Println(s.line())
	if !s.ok() {
		os.Exit(1)
	}
}

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type summary struct {
	passed, failed, skipped int
	failedPackages          int
}

func (s summary) ok() bool { return s.failed == 0 && s.failedPackages == 0 }

func (s summary) line() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.passed, s.failed+s.failedPackages, s.skipped)
}

// summarize counts test results and writes package results and the output of
// failed tests to w. A package that fails without a failing test (a build
// error, a panic in TestMain, a leak found by goleak) counts as one failure.
func summarize(r io.Reader, w io.Writer) (summary, error) {
	var s summary
	output := map[string][]string{} // package/test -> its output lines, until it ends
	failedTests := map[string]int{} // package -> failed tests seen
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			// Not an event (e.g. a build error printed by go test): pass it on.
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "output":
			output[key] = append(output[key], e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				pkgResult(w, &s, e, output[key], failedTests[e.Package])
			} else {
				switch e.Action {
				case "pass":
					s.passed++
				case "skip":
					s.skipped++
				case "fail":
					s.failed++
					failedTests[e.Package]++
					fmt.Fprintf(w, "--- FAIL: %s %s (%.2fs)\n", e.Package, e.Test, e.Elapsed)
					for _, o := range output[key] {
						fmt.Fprint(w, "    ", o)
					}
				}
			}
			delete(output, key)
		}
	}
	return s, sc.Err()
}

func pkgResult(w io.Writer, s *summary, e event, out []string, failedTests int) {
	switch e.Action {
	case "pass":
		fmt.Fprintf(w, "ok   %s (%.1fs)\n", e.Package, e.Elapsed)
	case "skip":
		fmt.Fprintf(w, "--   %s (no tests)\n", e.Package)
	case "fail":
		fmt.Fprintf(w, "FAIL %s (%.1fs)\n", e.Package, e.Elapsed)
		if failedTests == 0 {
			s.failedPackages++
			for _, o := range out {
				fmt.Fprint(w, "    ", o)
			}
		}
	}
}
