package main

import (
	"math"
	"strings"
	"testing"
)

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 10000: "10,000", 1234567: "1,234,567", -2500: "-2,500"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestNum(t *testing.T) {
	tests := []struct {
		v    float64
		unit string
		want string
	}{
		{1.234, "ms", "1.23"},
		{123.45, "ms", "123"},
		{1482.9, "ms", "1,483"},
		{45.67, "ms", "45.7"},
		{250.4, "µs", "250"},
		{2345.6, "writes/s", "2,346"},
		{45.67, "events/s", "45.7"},
		{12.34, "writes/commit", "12.3"},
		{math.NaN(), "ms", "—"},
	}
	for _, tt := range tests {
		if got := num(tt.v, tt.unit); got != tt.want {
			t.Errorf("num(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}

func TestMarkdownTarget(t *testing.T) {
	res := newResults()
	for _, v := range []float64{1500, 2500, 2100} {
		res.addTarget(areaSustained, "64 writers: acknowledged writes/s", "writes/s", v, writeTarget)
	}
	md := report{sizes: fullSizes(), results: res, listeners: []string{"api-addr", "dns-addr"}}.markdown()
	if strings.Contains(md, "%!") {
		t.Errorf("report has a formatting error:\n%s", md)
	}
	for _, want := range []string{
		"(`--api-addr`, `--dns-addr`)",
		"bin/weftd --data-dir $D --api-addr 127.0.0.1:7780 --dns-addr 127.0.0.1:0 &",
		"| 64 writers: acknowledged writes/s | writes/s | 2,100 | 1,500 – 2,500 | ≥ 2,000: **met** |",
		"do not edit by hand",
		"**Target ≥ 2,000 durable writes/s sustained: met** — 64 writers: median 2,100 (3 rounds: 1,500 – 2,500); 1 of 3 rounds below the target.",
		"not measured yet — comes with the sidecar issue",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
