package main

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
)

// storeBench is the outcome of the store's Go benchmarks.
type storeBench struct {
	command string
	lines   []benchLine
	err     error  // the run failed (the section says so)
	output  string // what go test printed, shown when it failed
}

// benchLine is one parsed result line of `go test -bench`.
type benchLine struct {
	name       string // without the -GOMAXPROCS suffix
	procs      int
	iterations int64
	metrics    []benchMetric // ns/op first, then the custom ones, as printed
}

type benchMetric struct {
	value float64
	unit  string
}

// runStoreBench runs the bbolt store's Go benchmarks at the module root.
func runStoreBench(ctx context.Context, root, benchtime string) storeBench {
	args := []string{"test", "-run", "^$", "-bench", ".", "-benchtime", benchtime, "./controlplane/store/bbolt/"}
	res := storeBench{command: "go " + strings.Join(quoteArgs(args), " ")}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	res.output = string(out)
	res.err = err
	for line := range strings.Lines(res.output) {
		if l, ok := parseBenchLine(line); ok {
			res.lines = append(res.lines, l)
		}
	}
	return res
}

// parseBenchLine parses "BenchmarkName-2  2000  512 ns/op  1953 writes/s".
func parseBenchLine(line string) (benchLine, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
		return benchLine{}, false
	}
	var l benchLine
	l.name = f[0]
	if i := strings.LastIndexByte(f[0], '-'); i > 0 {
		if p, err := strconv.Atoi(f[0][i+1:]); err == nil {
			l.name, l.procs = f[0][:i], p
		}
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return benchLine{}, false
	}
	l.iterations = n
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return benchLine{}, false
		}
		l.metrics = append(l.metrics, benchMetric{value: v, unit: f[i+1]})
	}
	return l, true
}

// quoteArgs single-quotes the arguments a shell would expand.
func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, "^$*? ") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}
