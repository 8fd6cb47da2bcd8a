package scheduler

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkScheduling reports pods/s of the scheduling loop on in-memory
// nodes (see BenchmarkThroughput). The figure is 1000 nodes,
// 10000 pods: go test -run '^$' -bench 'Scheduling/1000nodes' ./controlplane/scheduler
func BenchmarkScheduling(b *testing.B) {
	for _, tc := range []struct {
		nodes, pods int
		pct         int32
	}{{100, 1000, 0}, {1000, 10000, 0}, {1000, 10000, 100}} {
		name := fmt.Sprintf("%dnodes_%dpods", tc.nodes, tc.pods)
		if tc.pct != 0 {
			name += fmt.Sprintf("_score%dpct", tc.pct)
		}
		b.Run(name, func(b *testing.B) {
			var total float64
			for range b.N {
				r, err := newBenchRun(tc.nodes, tc.pods, tc.pct)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				d, err := r.run(10 * time.Minute)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				total += float64(tc.pods) / d.Seconds()
			}
			b.ReportMetric(total/float64(b.N), "pods/s")
		})
	}
}

func TestBenchmarkThroughputSmall(t *testing.T) {
	pps, err := BenchmarkThroughput(20, 200)
	if err != nil {
		t.Fatal(err)
	}
	if pps <= 0 {
		t.Fatalf("pods/s = %v", pps)
	}
}

// TestBenchmarkSpreads checks that the benchmark's placements are sane:
// every pod bound once, nodes evenly filled.
func TestBenchmarkSpreads(t *testing.T) {
	r, err := newBenchRun(20, 400, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.run(time.Minute); err != nil {
		t.Fatal(err)
	}
	r.s.cache.UpdateSnapshot(r.s.snapshot)
	lo, hi, total := 1<<30, 0, 0
	for _, ni := range r.s.snapshot.List() {
		n := len(ni.Pods)
		lo, hi, total = min(lo, n), max(hi, n), total+n
	}
	if total != 400 || hi-lo > 2 {
		t.Fatalf("%d pods placed, %d to %d per node", total, lo, hi)
	}
}
