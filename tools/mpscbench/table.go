package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// ErrNoResults means the input held no libs/mpsc benchmark lines.
var ErrNoResults = errors.New("no BenchmarkMPSC or BenchmarkPushPop results in the input")

// result is one benchmark line.
type result struct {
	impl      string  // value of impl=
	producers int     // value of producers=; 0 for BenchmarkPushPop (one goroutine)
	nsPerOp   float64 // one op is one item pushed and popped
	allocs    float64 // allocs/item if reported, else allocs/op
}

// parse reads `go test -bench -benchmem` output and returns the lines of
// BenchmarkMPSC/impl=<impl>/producers=<n> and BenchmarkPushPop/impl=<impl>.
// Other lines are ignored; a matching line whose numbers do not parse is an
// error.
func parse(r io.Reader) ([]result, error) {
	var results []result
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		res, ok, err := parseLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if ok {
			results = append(results, res)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	if len(results) == 0 {
		return nil, ErrNoResults
	}
	return results, nil
}

// parseLine parses one line such as
//
//	BenchmarkMPSC/impl=queue/producers=4-2  1000000  25.3 ns/op  0.0001 allocs/item  0 B/op  0 allocs/op
func parseLine(line string) (result, bool, error) {
	fields := strings.Fields(line)
	if len(fields) < 4 {
		return result{}, false, nil
	}
	var res result
	name := trimProcs(fields[0])
	switch {
	case strings.HasPrefix(name, "BenchmarkMPSC/"):
		for part := range strings.SplitSeq(strings.TrimPrefix(name, "BenchmarkMPSC/"), "/") {
			key, val, _ := strings.Cut(part, "=")
			switch key {
			case "impl":
				res.impl = val
			case "producers":
				n, err := strconv.Atoi(val)
				if err != nil || n < 1 {
					return result{}, false, fmt.Errorf("%s: bad producer count %q", fields[0], val)
				}
				res.producers = n
			}
		}
		if res.producers == 0 {
			return result{}, false, fmt.Errorf("%s: no producers= in name", fields[0])
		}
	case strings.HasPrefix(name, "BenchmarkPushPop/impl="):
		res.impl = strings.TrimPrefix(name, "BenchmarkPushPop/impl=")
	default:
		return result{}, false, nil
	}
	if res.impl == "" {
		return result{}, false, fmt.Errorf("%s: no impl= in name", fields[0])
	}
	var haveNs, haveAllocsPerItem bool
	// fields[1] is the iteration count; then value/unit pairs.
	for i := 2; i+1 < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return result{}, false, fmt.Errorf("%s: bad value %q for %s", fields[0], fields[i], fields[i+1])
		}
		switch fields[i+1] {
		case "ns/op":
			res.nsPerOp, haveNs = v, true
		case "allocs/item":
			res.allocs, haveAllocsPerItem = v, true
		case "allocs/op":
			if !haveAllocsPerItem {
				res.allocs = v
			}
		}
	}
	if !haveNs {
		return result{}, false, fmt.Errorf("%s: no ns/op", fields[0])
	}
	return res, true, nil
}

// trimProcs removes the -GOMAXPROCS suffix go test adds to a benchmark name.
func trimProcs(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name
	}
	if _, err := strconv.Atoi(name[i+1:]); err != nil {
		return name
	}
	return name[:i]
}

// knownImpls fixes the column order; other implementations follow in the
// order they first appear.
var knownImpls = []string{"queue", "chan", "mutex", "node"}

// format writes results as a table. Repeated runs of one benchmark (go test
// -count) are reduced to their median.
func format(w io.Writer, results []result) error {
	impls := slices.Clone(knownImpls)
	type key struct {
		impl      string
		producers int
	}
	ns := map[key][]float64{}
	allocs := map[key][]float64{}
	var rows []int
	seen := map[string]bool{}
	for _, r := range results {
		if !slices.Contains(impls, r.impl) {
			impls = append(impls, r.impl)
		}
		seen[r.impl] = true
		k := key{r.impl, r.producers}
		if _, ok := ns[k]; !ok && !slices.Contains(rows, r.producers) {
			rows = append(rows, r.producers)
		}
		ns[k] = append(ns[k], r.nsPerOp)
		allocs[k] = append(allocs[k], r.allocs)
	}
	impls = slices.DeleteFunc(impls, func(s string) bool { return !seen[s] })
	sort.Ints(rows)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := []string{"producers"}
	for _, impl := range impls {
		header = append(header, impl+" ns/op")
	}
	for _, impl := range impls {
		header = append(header, impl+" allocs/op")
	}
	header = append(header, "queue/chan")
	fmt.Fprintln(tw, strings.Join(header, "\t")+"\t")
	for _, p := range rows {
		cells := []string{rowName(p)}
		for _, impl := range impls {
			cells = append(cells, cell(ns[key{impl, p}], "%.1f"))
		}
		for _, impl := range impls {
			cells = append(cells, cell(allocs[key{impl, p}], "%.4f"))
		}
		q, c := ns[key{"queue", p}], ns[key{"chan", p}]
		if len(q) > 0 && len(c) > 0 && median(c) > 0 {
			cells = append(cells, fmt.Sprintf("%.2f", median(q)/median(c)))
		} else {
			cells = append(cells, "-")
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

func rowName(producers int) string {
	if producers == 0 {
		return "single"
	}
	return strconv.Itoa(producers)
}

func cell(vals []float64, verb string) string {
	if len(vals) == 0 {
		return "-"
	}
	return fmt.Sprintf(verb, median(vals))
}

// median returns the median of vals, which must not be empty.
func median(vals []float64) float64 {
	s := slices.Sorted(slices.Values(vals))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
