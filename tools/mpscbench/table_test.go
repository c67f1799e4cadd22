package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/table.golden")

// TestFormatSample formats benchmark output captured from a real run and
// compares it with the expected table.
func TestFormatSample(t *testing.T) {
	in, err := os.ReadFile("testdata/sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	results, err := parse(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 20 {
		t.Fatalf("parsed %d results, want 20", len(results))
	}
	var out bytes.Buffer
	if err := format(&out, results); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("testdata/table.golden", out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/table.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		t.Fatalf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    result
		ok      bool
		wantErr bool
	}{
		{
			name: "mpsc with allocs/item",
			line: "BenchmarkMPSC/impl=queue/producers=4-2  3120013  76.38 ns/op  0.0001167 allocs/item  0 B/op  0 allocs/op",
			want: result{impl: "queue", producers: 4, nsPerOp: 76.38, allocs: 0.0001167},
			ok:   true,
		},
		{
			name: "allocs/op only",
			line: "BenchmarkMPSC/impl=node/producers=8-16  100  97.4 ns/op  16 B/op  1 allocs/op",
			want: result{impl: "node", producers: 8, nsPerOp: 97.4, allocs: 1},
			ok:   true,
		},
		{
			name: "push pop without procs suffix",
			line: "BenchmarkPushPop/impl=chan  6598714  36.26 ns/op",
			want: result{impl: "chan", nsPerOp: 36.26},
			ok:   true,
		},
		{name: "other benchmark", line: "BenchmarkOther-2  10  5 ns/op"},
		{name: "header", line: "goos: linux"},
		{name: "pass", line: "PASS"},
		{name: "bad value", line: "BenchmarkMPSC/impl=queue/producers=4-2  10  x ns/op", wantErr: true},
		{name: "bad producers", line: "BenchmarkMPSC/impl=queue/producers=zero-2  10  5 ns/op", wantErr: true},
		{name: "no producers", line: "BenchmarkMPSC/impl=queue-2  10  5 ns/op", wantErr: true},
		{name: "no impl", line: "BenchmarkPushPop/impl=-2  10  5 ns/op", wantErr: true},
		{name: "no ns/op", line: "BenchmarkPushPop/impl=queue-2  10  5 B/op", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok, err := parseLine(tc.line)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseLine() error = %v, want error %v", err, tc.wantErr)
			}
			if ok != tc.ok || got != tc.want {
				t.Fatalf("parseLine() = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParseNoResults(t *testing.T) {
	_, err := parse(strings.NewReader("goos: linux\nPASS\n"))
	if !errors.Is(err, ErrNoResults) {
		t.Fatalf("parse() error = %v, want ErrNoResults", err)
	}
}

// TestFormatMedian checks that repeated runs (-count) are reduced to their
// median and that a missing cell prints as "-".
func TestFormatMedian(t *testing.T) {
	results := []result{
		{impl: "queue", producers: 2, nsPerOp: 10},
		{impl: "queue", producers: 2, nsPerOp: 30},
		{impl: "queue", producers: 2, nsPerOp: 20},
		{impl: "chan", producers: 2, nsPerOp: 40},
		{impl: "chan", producers: 2, nsPerOp: 60},
		{impl: "queue", producers: 1, nsPerOp: 5},
	}
	var out bytes.Buffer
	if err := format(&out, results); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("table has %d lines, want 3:\n%s", len(lines), out.String())
	}
	if got, want := strings.Fields(lines[1]), []string{"1", "5.0", "-", "0.0000", "-", "-"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("row 1 = %q, want %q", got, want)
	}
	if got, want := strings.Fields(lines[2]), []string{"2", "20.0", "50.0", "0.0000", "0.0000", "0.40"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("row 2 = %q, want %q", got, want)
	}
}
