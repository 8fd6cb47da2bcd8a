package main

import (
	"encoding/xml"
	"fmt"
	"io"
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
	for _, v := range []float64{30, 40, 33} {
		res.addAtMost(areaSidecar, "weft-proxy CPU per request", "µs", v, targetCPUPerRequest)
	}
	res.failed[areaDNS] = "CoreDNS exploded\nwith details"
	res.add(areaApply, "sequential: total", "s", 1.5)
	md := report{sizes: fullSizes(), results: res, areas: map[string]bool{"api": true}, listeners: []string{"api-addr", "dns-addr"}}.markdown()
	if strings.Contains(md, "%!") {
		t.Errorf("report has a formatting error:\n%s", md)
	}
	for _, want := range []string{
		"(`--api-addr`, `--dns-addr`)",
		"bin/weftd --data-dir $D --api-addr 127.0.0.1:7780 --dns-addr 127.0.0.1:0 &",
		"| 64 writers: acknowledged writes/s | writes/s | 2,100 | 1,500 – 2,500 | ≥ 2,000: **met** |",
		"| weft-proxy CPU per request | µs | 33.0 | 30.0 – 40.0 | ≤ 35: **met** |",
		"do not edit by hand",
		"| Sustained durable writes | 64 writers: acknowledged writes/s | ≥ 2,000 writes/s | 2,100 writes/s (1,500 – 2,500) | **met** (1 of 3 rounds missed) |",
		"| Sidecar | weft-proxy CPU per request | ≤ 35 µs | 33.0 µs (30.0 – 40.0) | **met** (1 of 3 rounds missed) |",
		"| DNS | — | — | — | **not measured**: the run failed (below) |",
		"- DNS: CoreDNS exploded",
		"--stats-addr '' --ready-addr ''",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func TestTargetMet(t *testing.T) {
	tests := []struct {
		t    target
		v    float64
		want bool
	}{
		{target{value: 0.8}, 0.8, true},
		{target{value: 0.8}, 0.79, false},
		{target{atMost: true, value: 35}, 35, true},
		{target{atMost: true, value: 35}, 35.1, false},
	}
	for _, tt := range tests {
		if got := tt.t.met(tt.v); got != tt.want {
			t.Errorf("%+v.met(%v) = %v, want %v", tt.t, tt.v, got, tt.want)
		}
	}
}

func TestRenderMatrix(t *testing.T) {
	res := newResults()
	m := res.matrix(areaSidecar, "Side by side", column{"req/s", "req/s"}, column{"× direct", "×"})
	for _, v := range []float64{100, 300, 200} {
		m.add("direct", "req/s", v)
		m.add("nginx", "req/s", v/2)
		m.add("nginx", "× direct", 0.5)
	}
	if again := res.matrix(areaSidecar, "Side by side"); again != m {
		t.Fatal("matrix made a second table of the same title")
	}
	var lines []string
	renderMatrix(func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) }, m)
	want := []string{
		"| Side by side | req/s (req/s) | × direct |",
		"| --- | ---: | ---: |",
		"| direct | 200 (100 – 300) | — |",
		"| nginx | 100 (50.0 – 150) | × 0.50 (0.50 – 0.50) |",
		"",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("renderMatrix:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestChartSVG(t *testing.T) {
	c := chart{title: "Requests & more", unit: "µs", target: 35, targetLabel: "target 35 µs", bars: []bar{
		{label: "nginx", value: 19, lo: 18, hi: 21},
		{label: "weft-proxy <x>", value: 40, lo: 38, hi: 45, weft: true},
	}}
	svg := c.svg()
	// Well-formed XML, escaped text.
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, svg)
		}
	}
	for _, want := range []string{"Requests &amp; more", "weft-proxy &lt;x&gt;", "#2b7bb9", "stroke-dasharray", ">40.0<"} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %q:\n%s", want, svg)
		}
	}
}

func TestChartsFromResults(t *testing.T) {
	res := newResults()
	m := res.matrix(areaSidecar, "Side by side", column{colRatio64, "×"}, column{colCPU, "µs"})
	m.add(subjDirect, colRatio64, 1)
	m.add(subjNginx, colRatio64, 0.6)
	m.add(subjNginx, colCPU, 19)
	m.add(subjWeft, colRatio64, 0.5)
	m.add(subjWeft, colCPU, 30)
	files := map[string]chart{}
	for _, c := range (report{sizes: quickSizes(), results: res}).charts() {
		files[c.file] = c
	}
	if c := files["sidecar-throughput.svg"]; len(c.bars) != 3 || !c.bars[2].weft {
		t.Errorf("throughput chart bars = %+v, want direct, nginx, weft-proxy (weft's highlighted)", c.bars)
	}
	if c := files["sidecar-cpu.svg"]; len(c.bars) != 2 || c.target != targetCPUPerRequest {
		t.Errorf("cpu chart = %+v, want nginx and weft-proxy with the target", c)
	}
	if _, ok := files["dns-cluster-qps.svg"]; ok {
		t.Error("a chart without figures was made")
	}
}

func TestAddedRatio(t *testing.T) {
	b := &bench{res: newResults()}
	b.addedRatio(areaMesh, 1, "two hops ÷ nginx", "p99", 300, 100, 2)
	b.addedRatio(areaMesh, 2, "two hops ÷ nginx", "p99", 300, -50, 2)
	rows := b.res.rows[areaMesh]
	if len(rows) != 1 || len(rows[0].values) != 1 || rows[0].values[0] != 3 || !rows[0].target.atMost {
		t.Fatalf("rows = %+v, want one value, 3, with an at-most target", rows)
	}
	if n := b.res.notes[areaMesh]; len(n) != 1 || !strings.Contains(n[0], "Round 2") {
		t.Errorf("notes = %q, want one about round 2", n)
	}
}
