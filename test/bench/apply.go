package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// benchApply applies sz.applyObjects new objects (ConfigMaps, Services and
// Deployments in turn) the way `weftctl apply` does, first from one client
// one at a time, then from sz.applyClients clients at once, each into a
// fresh namespace so that every apply creates.
func (b *bench) benchApply(ctx context.Context, round int) error {
	n := b.sz.applyObjects
	c := b.clients(1)[0]

	ns := fmt.Sprintf("bench-r%d-apply-seq", round)
	if err := createNamespace(ctx, c, ns); err != nil {
		return err
	}
	objs := applyMix(ns, n)
	start := time.Now()
	for _, obj := range objs {
		if err := applyOne(ctx, c, obj); err != nil {
			return err
		}
	}
	b.recordApply(fmt.Sprintf("sequential, 1 client, %s objects", count(n)), n, time.Since(start))

	ns = fmt.Sprintf("bench-r%d-apply-par", round)
	if err := createNamespace(ctx, c, ns); err != nil {
		return err
	}
	objs = applyMix(ns, n)
	clients := b.clients(b.sz.applyClients)
	var next atomic.Int64
	start = time.Now()
	err := parallel(len(clients), func(i int) error {
		for j := next.Add(1) - 1; j < int64(n); j = next.Add(1) - 1 {
			if err := applyOne(ctx, clients[i], objs[j]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	b.recordApply(fmt.Sprintf("%d concurrent clients, %s objects", len(clients), count(n)), n, time.Since(start))
	return nil
}

func applyOne(ctx context.Context, c *client.Client, obj api.Object) error {
	_, resp, err := c.Apply(ctx, obj)
	if err != nil {
		return fmt.Errorf("apply %s %s/%s: %w", api.KindOf(obj).Kind, obj.GetNamespace(), obj.GetName(), err)
	}
	if resp.ApplyResult != "created" {
		return fmt.Errorf("apply %s/%s: result %q, want created", obj.GetNamespace(), obj.GetName(), resp.ApplyResult)
	}
	return nil
}

func (b *bench) recordApply(what string, n int, took time.Duration) {
	b.res.add(areaApply, what+": total", "s", took.Seconds())
	b.res.add(areaApply, what+": rate", "objects/s", float64(n)/took.Seconds())
}
