package main

import (
	"context"
	"fmt"
	"time"

	"github.com/weft-mesh/weft/controlplane/scheduler"
)

// schedTarget is the benchmark issue's target: pods scheduled per second
// with 1,000 nodes and 10,000 pods (kube-scheduler's CI floor is 680).
const schedTarget = 1000

func schedRow(sz sizes) string {
	return fmt.Sprintf("pods scheduled per second, %s nodes, %s pods", count(sz.schedNodes), count(sz.schedPods))
}

// runScheduler runs the scheduler's own throughput benchmark once per
// round, in the harness process (nothing else runs meanwhile).
func (b *bench) runScheduler(ctx context.Context) error {
	for round := 1; round <= b.sz.rounds; round++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		t := time.Now()
		rate, err := scheduler.BenchmarkThroughput(b.sz.schedNodes, b.sz.schedPods)
		if err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		b.res.addTarget(areaScheduler, schedRow(b.sz), "pods/s", rate, schedTarget)
		b.res.add(areaScheduler, "× kube-scheduler's CI floor (680 pods/s)", "× floor", rate/680)
		progress("round %d/%d: scheduler done in %s", round, b.sz.rounds, time.Since(t).Round(10*time.Millisecond))
	}
	return nil
}
