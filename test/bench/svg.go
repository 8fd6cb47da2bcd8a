package main

import (
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// chart is a horizontal bar chart: one bar per subject, the median with
// a whisker from min to max, and the target as a dashed line.
type chart struct {
	area, file, title, unit string
	bars                    []bar
	target                  float64 // 0: none
	targetLabel             string
}

type bar struct {
	label         string
	value, lo, hi float64
	weft          bool // weft's own bars stand out
}

// barOf summarises a figure's rounds into a bar.
func barOf(label string, values []float64, weft bool) (bar, bool) {
	if len(values) == 0 {
		return bar{}, false
	}
	s := summarize(values)
	return bar{label: label, value: s.Median, lo: s.Min, hi: s.Max, weft: weft}, true
}

// charts are the report's charts, made from its figures.
func (r report) charts() []chart {
	var out []chart
	res := r.results
	matrixChart := func(area, title, col, file, unit string, skip string, tgt float64, tgtLabel string) {
		for _, m := range res.matrices[area] {
			c := chart{area: area, file: file, title: title, unit: unit, target: tgt, targetLabel: tgtLabel}
			for _, s := range m.subjects {
				if s == skip {
					continue
				}
				if b, ok := barOf(s, m.values(s, col), strings.HasPrefix(s, "weft")); ok {
					c.bars = append(c.bars, b)
				}
			}
			if len(c.bars) > 0 {
				out = append(out, c)
			}
		}
	}
	matrixChart(areaSidecar, "Requests/s at 64 connections, × direct (higher is better)", colRatio64, "sidecar-throughput.svg", "× direct", "", 0, "")
	matrixChart(areaSidecar, "Added latency p50 at 1,000 req/s, µs (lower is better)", colP50, "sidecar-latency-p50.svg", "µs", subjDirect, 0, "")
	matrixChart(areaSidecar, "Added latency p99 at 1,000 req/s, µs (lower is better)", colP99, "sidecar-latency-p99.svg", "µs", subjDirect, 0, "")
	matrixChart(areaSidecar, "Proxy CPU per request, µs (lower is better)", colCPU, "sidecar-cpu.svg", "µs", subjDirect, targetCPUPerRequest, "target 35 µs")
	matrixChart(areaSidecar, "Proxy RSS after the load, MB (lower is better)", colRSS, "sidecar-rss.svg", "MB", subjDirect, targetRSS, "target 25 MB")
	matrixChart(areaMesh, "Added latency p50 at 1,000 req/s, µs (lower is better)", colAddP50, "mesh-latency-p50.svg", "µs", subjDirect, 0, "")
	matrixChart(areaMesh, "Added latency p99 at 1,000 req/s, µs (lower is better)", colAddP99, "mesh-latency-p99.svg", "µs", subjDirect, 0, "")

	rowChart := func(area, title, file, unit string, tgt float64, tgtLabel string, picks ...[2]string) {
		c := chart{area: area, file: file, title: title, unit: unit, target: tgt, targetLabel: tgtLabel}
		for _, pick := range picks {
			for _, x := range res.rows[area] {
				if x.name == pick[1] {
					if b, ok := barOf(pick[0], x.values, strings.HasPrefix(pick[0], "weft")); ok {
						c.bars = append(c.bars, b)
					}
				}
			}
		}
		if len(c.bars) > 0 {
			out = append(out, c)
		}
	}
	rowChart(areaXDS, "Push → every proxy ACKed, ms (lower is better)", "xds-push.svg", "ms", 0, "",
		[2]string{"route change: p50 over proxies", xdsRouteP50}, [2]string{"route change: all ACKed", xdsRouteAll},
		[2]string{"endpoint change: p50 over proxies", xdsEndpointP50}, [2]string{"endpoint change: all ACKed", xdsEndpointAll})
	rowChart(areaDNS, "Queries/s, cluster names (higher is better)", "dns-cluster-qps.svg", "queries/s", 0, "",
		[2]string{"weft dns", dnsRow("weft", kindCluster, "queries/s")}, [2]string{"CoreDNS " + corednsVersion, dnsRow("CoreDNS", kindCluster, "queries/s")})
	rowChart(areaDNS, "Queries/s, cached external names (higher is better)", "dns-external-qps.svg", "queries/s", 0, "",
		[2]string{"weft dns", dnsRow("weft", kindExternal, "queries/s")}, [2]string{"CoreDNS " + corednsVersion, dnsRow("CoreDNS", kindExternal, "queries/s")})
	rowChart(areaScheduler, "Pods scheduled per second (higher is better)", "scheduler.svg", "pods/s", schedTarget, "target 1,000",
		[2]string{"weft scheduler", schedRow(r.sizes)})
	for i := range out {
		if out[i].file == "scheduler.svg" {
			out[i].bars = append(out[i].bars, bar{label: "kube-scheduler CI floor", value: 680, lo: 680, hi: 680})
		}
	}
	rowChart(areaWorkloads, "Apply → Ready, one pod with a sidecar, ms (lower is better)", "workloads.svg", "ms", 1000, "target p99 1 s",
		[2]string{"weft p50", wlSeqP50}, [2]string{"weft p99", wlSeqP99})
	return out
}

// svg renders the chart: labels on the left, bars to the right, the
// median written after each bar.
func (c chart) svg() string {
	const (
		width  = 760
		left   = 270 // label column
		right  = 110 // room for the value text
		rowH   = 30
		top    = 44
		bottom = 26
	)
	height := top + rowH*len(c.bars) + bottom
	maxV := c.target
	for _, b := range c.bars {
		maxV = math.Max(maxV, math.Max(b.value, b.hi))
	}
	if maxV <= 0 {
		maxV = 1
	}
	scale := float64(width-left-right) / (maxV * 1.05)
	var s strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&s, format+"\n", args...) }
	w(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="13">`, width, height, width, height)
	w(`<rect width="100%%" height="100%%" fill="#ffffff"/>`)
	w(`<text x="10" y="22" font-size="15" font-weight="bold">%s</text>`, html.EscapeString(c.title))
	for i, b := range c.bars {
		y := top + i*rowH
		x0 := float64(left)
		bw := math.Max(b.value*scale, 0)
		fill := "#9aa5b1"
		if b.weft {
			fill = "#2b7bb9"
		}
		w(`<text x="%d" y="%d" text-anchor="end">%s</text>`, left-8, y+rowH/2+4, html.EscapeString(b.label))
		w(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`, x0, y+5, bw, rowH-10, fill)
		if b.hi > b.lo {
			lo, hi := x0+math.Max(b.lo, 0)*scale, x0+b.hi*scale
			mid := y + rowH/2
			w(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333" stroke-width="1.2"/>`, lo, mid, hi, mid)
			w(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`, lo, mid-5, lo, mid+5)
			w(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`, hi, mid-5, hi, mid+5)
		}
		w(`<text x="%.1f" y="%d">%s</text>`, x0+math.Max(bw, b.hi*scale)+6, y+rowH/2+4, html.EscapeString(num(b.value, c.unit)))
	}
	if c.target > 0 {
		x := float64(left) + c.target*scale
		w(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#c0392b" stroke-dasharray="5,4" stroke-width="1.5"/>`, x, top-4, x, top+rowH*len(c.bars))
		w(`<text x="%.1f" y="%d" fill="#c0392b" font-size="12">%s</text>`, x+4, top+rowH*len(c.bars)+16, html.EscapeString(c.targetLabel))
	}
	w(`<text x="%d" y="%d" fill="#666" font-size="11">median of the rounds; whiskers: min – max</text>`, 10, height-6)
	w(`</svg>`)
	return s.String()
}

// writeCharts writes each chart to dir, replacing the SVGs a previous run
// left there.
func writeCharts(dir string, charts []chart) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.svg"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	for _, c := range charts {
		if err := writeFile(filepath.Join(dir, c.file), []byte(c.svg())); err != nil {
			return err
		}
	}
	return nil
}
