package main

import (
	"reflect"
	"testing"
)

func TestParseBenchLine(t *testing.T) {
	tests := []struct {
		line string
		want benchLine
		ok   bool
	}{
		{
			line: "BenchmarkCreateSerial-2   \t    2000\t   2511003 ns/op\t       398.2 writes/s\t         1.000 writes/commit\n",
			want: benchLine{name: "BenchmarkCreateSerial", procs: 2, iterations: 2000, metrics: []benchMetric{
				{2511003, "ns/op"}, {398.2, "writes/s"}, {1, "writes/commit"},
			}},
			ok: true,
		},
		{
			line: "BenchmarkList10000 \t 10 \t 12345678 ns/op",
			want: benchLine{name: "BenchmarkList10000", iterations: 10, metrics: []benchMetric{{12345678, "ns/op"}}},
			ok:   true,
		},
		{line: "goos: linux", ok: false},
		{line: "PASS", ok: false},
		{line: "BenchmarkX-2 --- FAIL: something", ok: false},
		{line: "ok  \tgithub.com/weft-mesh/weft/controlplane/store/bbolt\t12.3s", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, ok := parseBenchLine(tt.line)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestQuoteArgs(t *testing.T) {
	got := quoteArgs([]string{"test", "-run", "^$", "-bench", "."})
	want := []string{"test", "-run", "'^$'", "-bench", "."}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("quoteArgs = %q, want %q", got, want)
	}
}
