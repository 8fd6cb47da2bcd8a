package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// listNamespace holds the pods the list measures.
const listNamespace = "bench-list"

// createPods creates sz.pods pods in listNamespace with 64 writers. Pods
// are only stored: nothing schedules or runs them yet.
func (b *bench) createPods(ctx context.Context) error {
	const writers = 64
	if err := createNamespace(ctx, b.clients(1)[0], listNamespace); err != nil {
		return err
	}
	progress("creating %s pods in %s", count(b.sz.pods), listNamespace)
	clients := b.clients(writers)
	var next atomic.Int64
	start := time.Now()
	err := parallel(writers, func(i int) error {
		for j := next.Add(1) - 1; j < int64(b.sz.pods); j = next.Add(1) - 1 {
			name := fmt.Sprintf("pod-%05d", j)
			if _, _, err := clients[i].Create(ctx, pod(listNamespace, name, int(j))); err != nil {
				return fmt.Errorf("create pod %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	took := time.Since(start)
	b.res.add(areaList, fmt.Sprintf("setup, once: create %s pods with %d writers", count(b.sz.pods), writers), "pods/s", float64(b.sz.pods)/took.Seconds())
	return nil
}

// benchList times full lists of the pods, as typed objects (client.List,
// which decodes and checks every item as weftctl does) and as raw JSON
// (the server's part and the transfer), and lists selecting 1% by label.
func (b *bench) benchList(ctx context.Context, _ int) error {
	c := b.clients(1)[0]
	pods := api.LookupName("pods")
	n := b.sz.pods

	var size int
	meter, err := b.w.startCPU()
	if err != nil {
		return err
	}
	full, err := sample(ctx, b.sz.fullLists, b.sz.fullListBudget, func() error {
		items, _, err := c.List(ctx, pods, listNamespace, client.ListOptions{})
		if err == nil && len(items) != n {
			err = fmt.Errorf("listed %d pods, want %d", len(items), n)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("list pods: %w", err)
	}
	weftdCPU, selfCPU, err := meter.stop()
	if err != nil {
		return err
	}
	raw, err := sample(ctx, b.sz.fullLists, b.sz.fullListBudget/2, func() error {
		body, err := c.Raw(ctx, client.Path(pods, listNamespace, ""))
		size = len(body)
		return err
	})
	if err != nil {
		return fmt.Errorf("list pods (raw): %w", err)
	}
	selector := "bucket=07"
	selected, err := sample(ctx, b.sz.selectedLists, b.sz.selectedBudget, func() error {
		items, _, err := c.List(ctx, pods, listNamespace, client.ListOptions{LabelSelector: selector})
		if err == nil && len(items) != n/100 {
			err = fmt.Errorf("listed %d pods with %s, want %d", len(items), selector, n/100)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("list pods with %s: %w", selector, err)
	}

	what := fmt.Sprintf("full list of %s pods, client.List", count(n))
	b.recordLatency(areaList, what, full)
	b.res.add(areaList, what+": weftd CPU per list", "ms", micros(weftdCPU)/1000/float64(len(full)))
	b.res.add(areaList, what+": harness CPU per list (client decoding)", "ms", micros(selfCPU)/1000/float64(len(full)))
	b.recordLatency(areaList, fmt.Sprintf("full list of %s pods, raw JSON (%.1f MiB, no client decoding)", count(n), float64(size)/(1<<20)), raw)
	b.recordLatency(areaList, fmt.Sprintf("label-selected list (%s, %s of %s pods), client.List", selector, count(n/100), count(n)), selected)
	return nil
}

// sample calls fn up to limit times, stopping early when budget is spent
// (but not before 3 calls), and returns how long each call took.
func sample(ctx context.Context, limit int, budget time.Duration, fn func() error) ([]time.Duration, error) {
	var out []time.Duration
	start := time.Now()
	for len(out) < limit && (len(out) < 3 || time.Since(start) < budget) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		out = append(out, time.Since(t))
	}
	return out, nil
}

// recordLatency records p50 and p99 of samples, naming how many there were.
func (b *bench) recordLatency(area, what string, samples []time.Duration) {
	ms := millis(samples)
	b.res.add(area, what+": p50", "ms", percentile(ms, 50))
	b.res.add(area, what+": p99", "ms", percentile(ms, 99))
	b.res.samples(area, what, len(samples))
}
