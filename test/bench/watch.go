package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// seen tracks one write: how many watchers still have to see it, and when
// the last one did.
type seen struct {
	remaining atomic.Int32
	last      time.Time     // set by the watcher that brings remaining to 0, before closing all
	all       chan struct{} // closed when every watcher has seen the write
}

// benchWatch starts sz.watchers watchers (each its own client and
// connection) on the pods of a fresh namespace, then
//   - creates sz.watchLatency pods one at a time, waiting each time until
//     every watcher has the event: the time from the create's
//     acknowledgement (and from its start) to the last watcher seeing it;
//   - creates sz.watchBurst pods from sz.watchWriters writers at once: the
//     events delivered per second until every watcher has every event.
func (b *bench) benchWatch(ctx context.Context, round int) error {
	ns := fmt.Sprintf("bench-r%d-watch", round)
	c := b.clients(1)[0]
	if err := createNamespace(ctx, c, ns); err != nil {
		return err
	}
	pods := api.LookupName("pods")
	_, rv, err := c.List(ctx, pods, ns, client.ListOptions{})
	if err != nil {
		return err
	}

	total := b.sz.watchLatency + b.sz.watchBurst
	writes := make([]*seen, total)
	for i := range writes {
		writes[i] = &seen{all: make(chan struct{})}
		writes[i].remaining.Store(int32(b.sz.watchers))
	}
	var delivered atomic.Int64

	wctx, stopWatchers := context.WithCancel(ctx)
	defer stopWatchers()
	streams := make([]<-chan client.Event, b.sz.watchers)
	watchClients := b.clients(b.sz.watchers)
	for i := range streams {
		// Watch returns once weftd has registered the watch.
		if streams[i], err = watchClients[i].Watch(wctx, pods, ns, client.ListOptions{ResourceVersion: rv}); err != nil {
			return fmt.Errorf("start watcher %d: %w", i, err)
		}
	}
	// The first watcher to fail stops the others; watchErr is set before
	// watchDone is closed.
	var watchErr error
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		watchErr = parallel(len(streams), func(i int) error {
			err := readWatch(wctx, streams[i], writes, &delivered)
			if err != nil {
				stopWatchers()
			}
			return err
		})
	}()
	defer func() { stopWatchers(); <-watchDone }()
	await := func(s *seen) error {
		select {
		case <-s.all:
			return nil
		case <-watchDone:
			if watchErr == nil {
				return fmt.Errorf("the watchers stopped")
			}
			return watchErr
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(30 * time.Second):
			return fmt.Errorf("not every watcher saw the event within 30s")
		}
	}

	// Latency: one write at a time.
	var fromAck, fromStart []time.Duration
	for i := range b.sz.watchLatency {
		start := time.Now()
		if _, _, err := c.Create(ctx, pod(ns, podName(i), i)); err != nil {
			return fmt.Errorf("create pod %d: %w", i, err)
		}
		ack := time.Now()
		if err := await(writes[i]); err != nil {
			return fmt.Errorf("pod %d: %w", i, err)
		}
		fromAck = append(fromAck, max(0, writes[i].last.Sub(ack)))
		fromStart = append(fromStart, writes[i].last.Sub(start))
	}

	// Throughput: a burst from several writers.
	clients := b.clients(b.sz.watchWriters)
	before := delivered.Load()
	var next atomic.Int64
	next.Store(int64(b.sz.watchLatency))
	meter, err := b.w.startCPU()
	if err != nil {
		return err
	}
	start := time.Now()
	err = parallel(len(clients), func(w int) error {
		for i := next.Add(1) - 1; i < int64(total); i = next.Add(1) - 1 {
			if _, _, err := clients[w].Create(ctx, pod(ns, podName(int(i)), int(i))); err != nil {
				return fmt.Errorf("create pod %d: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, s := range writes[b.sz.watchLatency:] {
		if err := await(s); err != nil {
			return err
		}
	}
	took := time.Since(start)
	events := float64(delivered.Load() - before)
	weftdCPU, selfCPU, err := meter.stop()
	if err != nil {
		return err
	}

	w := b.sz.watchers
	b.recordLatency(areaWatch, fmt.Sprintf("create acknowledged → all %d watchers have the event", w), fromAck)
	b.recordLatency(areaWatch, fmt.Sprintf("create sent → all %d watchers have the event", w), fromStart)
	what := fmt.Sprintf("burst of %s creates from %d writers → %d watchers", count(b.sz.watchBurst), len(clients), w)
	b.res.add(areaWatch, what+": events delivered", "events/s", events/took.Seconds())
	b.res.add(areaWatch, what+": weftd CPU per event delivered", "µs", micros(weftdCPU)/events)
	b.res.add(areaWatch, what+": harness CPU per event (watchers decoding, writers)", "µs", micros(selfCPU)/events)
	return nil
}

func podName(i int) string { return fmt.Sprintf("w-%06d", i) }

// readWatch counts every event of one watcher against the write it is for.
// It returns nil when ctx ends and an error if the stream fails or ends
// early (a watcher weftd dropped for falling behind) or brings a stranger.
func readWatch(ctx context.Context, events <-chan client.Event, writes []*seen, delivered *atomic.Int64) error {
	for {
		var ev client.Event
		var ok bool
		select {
		case ev, ok = <-events:
		case <-ctx.Done():
			return nil
		}
		switch {
		case !ok && ctx.Err() != nil:
			return nil
		case !ok:
			return fmt.Errorf("a watch stream ended early")
		case ev.Err != nil:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("watch: %w", ev.Err)
		}
		now := time.Now()
		i, err := strconv.Atoi(strings.TrimPrefix(ev.Object.GetName(), "w-"))
		if err != nil || i < 0 || i >= len(writes) || ev.Type != "ADDED" {
			return fmt.Errorf("unexpected watch event %s %s", ev.Type, ev.Object.GetName())
		}
		delivered.Add(1)
		s := writes[i]
		if s.remaining.Add(-1) == 0 {
			s.last = now
			close(s.all)
		}
	}
}
