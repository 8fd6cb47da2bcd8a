package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// writeTarget is the benchmark issue's target for durable writes sustained
// with 64 concurrent writers.
const writeTarget = 2000

// benchWriteLatency creates sz.latencySamples ConfigMaps one after the
// other from one client and times each create, acknowledgement included
// (weftd answers once the write is fsynced).
func (b *bench) benchWriteLatency(ctx context.Context, round int) error {
	c := b.clients(1)[0]
	ns := fmt.Sprintf("bench-r%d-latency", round)
	if err := createNamespace(ctx, c, ns); err != nil {
		return err
	}
	const warmup = 20
	lat := make([]time.Duration, 0, b.sz.latencySamples)
	for i := range warmup + b.sz.latencySamples {
		start := time.Now()
		if _, _, err := c.Create(ctx, configMap(ns, fmt.Sprintf("cm-%05d", i))); err != nil {
			return fmt.Errorf("create ConfigMap %d: %w", i, err)
		}
		if i >= warmup {
			lat = append(lat, time.Since(start))
		}
	}
	ms := millis(lat)
	what := fmt.Sprintf("create ConfigMap, sequential (%s samples)", count(len(ms)))
	b.res.add(areaLatency, what+": p50", "ms", percentile(ms, 50))
	b.res.add(areaLatency, what+": p99", "ms", percentile(ms, 99))
	return nil
}

// benchSustained has sz.sustainedWriters clients create ConfigMaps as fast
// as weftd acknowledges them for sz.sustainedFor, first with package client,
// then with plain HTTP requests. Every acknowledged write is durable; the
// rate counts writes acknowledged until the last writer returns. The
// store's commits over the same time give the writes per fsync.
func (b *bench) benchSustained(ctx context.Context, round int) error {
	ns := fmt.Sprintf("bench-r%d-sustained", round)
	if err := createNamespace(ctx, b.clients(1)[0], ns); err != nil {
		return err
	}
	clients := b.clients(b.sz.sustainedWriters)
	err := b.sustain(ctx, fmt.Sprintf("%d concurrent writers for %s, client.Create", len(clients), b.sz.sustainedFor), len(clients),
		func(ctx context.Context, i int, name string) error {
			_, _, err := clients[i].Create(ctx, configMap(ns, name))
			return err
		})
	if err != nil {
		return err
	}

	// The same load from a lean generator, as hey would make it: the body
	// is written once per request from a template and the answer is only
	// read. It tells weftd's share of the figure above from the client's.
	raw := make([]*http.Client, b.sz.sustainedWriters)
	for i := range raw {
		raw[i] = &http.Client{Transport: &http.Transport{}, Timeout: 60 * time.Second}
		defer raw[i].CloseIdleConnections()
	}
	url := b.w.url + client.Path(api.LookupName("configmaps"), ns, "")
	// The same ConfigMap as above, with the name cut out.
	cm := configMap(ns, "@NAME@")
	cm.APIVersion, cm.Kind = "v1", "ConfigMap"
	js, err := json.Marshal(cm)
	if err != nil {
		return err
	}
	before, after, _ := strings.Cut(string(js), "@NAME@")
	return b.sustain(ctx, fmt.Sprintf("%d concurrent writers for %s, plain net/http POST", len(raw), b.sz.sustainedFor), len(raw),
		func(ctx context.Context, i int, name string) error {
			return rawCreate(ctx, raw[i], url, b.w.token, before+"raw-"+name+after)
		})
}

// sustain calls create from n writers in a loop for sz.sustainedFor, each
// call with a new name, and records the writes acknowledged per second, per
// commit of the store, and the CPU time weftd and the harness spent per write.
func (b *bench) sustain(ctx context.Context, what string, n int, create func(ctx context.Context, writer int, name string) error) error {
	commits0, err := b.w.commits()
	if err != nil {
		return fmt.Errorf("read the store's commit count: %w", err)
	}
	meter, err := b.w.startCPU()
	if err != nil {
		return err
	}
	var next, done atomic.Int64
	start := time.Now()
	stopAt := start.Add(b.sz.sustainedFor)
	err = parallel(n, func(i int) error {
		for time.Now().Before(stopAt) && ctx.Err() == nil {
			name := fmt.Sprintf("cm-%07d", next.Add(1))
			if err := create(ctx, i, name); err != nil {
				return fmt.Errorf("create ConfigMap %s: %w", name, err)
			}
			done.Add(1)
		}
		return ctx.Err()
	})
	took := time.Since(start)
	if err != nil {
		return err
	}
	weftdCPU, selfCPU, err := meter.stop()
	if err != nil {
		return err
	}
	commits1, err := b.w.commits()
	if err != nil {
		return fmt.Errorf("read the store's commit count: %w", err)
	}
	writes := float64(done.Load())
	b.res.addTarget(areaSustained, what+": acknowledged writes/s", "writes/s", writes/took.Seconds(), writeTarget)
	b.res.add(areaSustained, what+": writes per commit (fsync)", "writes/commit", writes/float64(max(commits1-commits0, 1)))
	b.res.add(areaSustained, what+": weftd CPU per write", "µs", micros(weftdCPU)/writes)
	b.res.add(areaSustained, what+": harness (load generator) CPU per write", "µs", micros(selfCPU)/writes)
	return nil
}

// rawCreate POSTs body to url and checks for 201 Created.
func rawCreate(ctx context.Context, hc *http.Client, url, token, body string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST %s: %s: %.200s", url, resp.Status, b)
	}
	return nil
}
