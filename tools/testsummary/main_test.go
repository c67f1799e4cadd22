package main

import (
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	const stream = `{"Action":"run","Package":"p/a","Test":"TestOK"}
{"Action":"output","Package":"p/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"pass","Package":"p/a","Test":"TestOK","Elapsed":0.01}
{"Action":"run","Package":"p/a","Test":"TestBad"}
{"Action":"output","Package":"p/a","Test":"TestBad","Output":"    a_test.go:9: want 2, got 3\n"}
{"Action":"fail","Package":"p/a","Test":"TestBad","Elapsed":0.02}
{"Action":"skip","Package":"p/a","Test":"TestSkipped"}
{"Action":"pass","Package":"p/a","Test":"TestOK/sub"}
{"Action":"fail","Package":"p/a","Elapsed":0.5}
{"Action":"output","Package":"p/b","Output":"goleak: found unexpected goroutines\n"}
{"Action":"fail","Package":"p/b","Elapsed":0.1}
{"Action":"pass","Package":"p/c","Elapsed":0.1}
# p/d
not json: build failed
`
	var out strings.Builder
	s, err := summarize(strings.NewReader(stream), &out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.line(), "2 passed, 2 failed, 1 skipped"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	if s.ok() {
		t.Error("ok() = true with failures")
	}
	for _, want := range []string{
		"--- FAIL: p/a TestBad", "want 2, got 3", // a failed test's output
		"FAIL p/b", "goleak: found unexpected goroutines", // a package failing on its own
		"ok   p/c", "not json: build failed",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "=== RUN   TestOK") {
		t.Error("output of a passing test was printed")
	}
}

func TestSummarizeAllPass(t *testing.T) {
	s, err := summarize(strings.NewReader(`{"Action":"pass","Package":"p","Test":"T"}`+"\n"), &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.ok() || s.line() != "1 passed, 0 failed, 0 skipped" {
		t.Errorf("got %q ok=%v", s.line(), s.ok())
	}
}
