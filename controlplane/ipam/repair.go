package ipam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/store"
)

// held lists what a Service holds: record keys.
func (a *Allocator) held(svc *corev1.Service) []string {
	var keys []string
	if svc.Spec.Type != corev1.ServiceTypeExternalName {
		for _, ip := range svc.Spec.ClusterIPs {
			if addr, err := netip.ParseAddr(ip); err == nil {
				keys = append(keys, IPPrefix+addr.String())
			}
		}
		if len(svc.Spec.ClusterIPs) == 0 {
			if addr, err := netip.ParseAddr(svc.Spec.ClusterIP); err == nil {
				keys = append(keys, IPPrefix+addr.String())
			}
		}
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			keys = append(keys, PortPrefix+strconv.Itoa(int(p.NodePort)))
		}
	}
	if svc.Spec.HealthCheckNodePort != 0 {
		keys = append(keys, PortPrefix+strconv.Itoa(int(svc.Spec.HealthCheckNodePort)))
	}
	return keys
}

// Repair makes the records match the stored Services (kube-apiserver's
// repair loops): records no Service holds are released once older than
// the grace period, allocations of Services without a record get one,
// and the bitmaps are rebuilt. services must be a fresh, complete list.
func (a *Allocator) Repair(ctx context.Context, services []*corev1.Service) error {
	return a.reload(ctx, services)
}

// reload rebuilds the bitmaps from the records; with services (non-nil)
// it repairs the records first.
func (a *Allocator) reload(ctx context.Context, services []*corev1.Service) error {
	var errs []error
	for _, prefix := range []string{IPPrefix, PortPrefix} {
		kvs, _, err := a.cfg.Store.List(ctx, prefix, store.ListOptions{})
		if err != nil {
			return fmt.Errorf("list allocations: %w", err)
		}
		if services != nil {
			kvs, err = a.repair(ctx, prefix, kvs, services)
			errs = append(errs, err)
		}
		var taken []int
		for _, kv := range kvs {
			v := strings.TrimPrefix(kv.Key, prefix)
			if prefix == IPPrefix {
				if ip, err := netip.ParseAddr(v); err == nil && a.ipOffset(ip) >= 0 {
					taken = append(taken, a.ipOffset(ip))
				}
			} else if n, err := strconv.Atoi(v); err == nil && a.portOffset(int32(n)) >= 0 {
				taken = append(taken, a.portOffset(int32(n)))
			}
		}
		if prefix == IPPrefix {
			a.ips.reset(taken)
		} else {
			a.ports.reset(taken)
		}
	}
	return errors.Join(errs...)
}

// repair fixes one prefix's records and returns those that remain.
func (a *Allocator) repair(ctx context.Context, prefix string, kvs []store.KV, services []*corev1.Service) ([]store.KV, error) {
	holders := map[string]string{} // key → owner
	for _, svc := range services {
		for _, k := range a.held(svc) {
			if strings.HasPrefix(k, prefix) {
				holders[k] = svc.Namespace + "/" + svc.Name
			}
		}
	}
	now := a.cfg.Now()
	var errs []error
	var out []store.KV
	seen := map[string]bool{}
	for _, kv := range kvs {
		seen[kv.Key] = true
		var rec record
		_ = json.Unmarshal(kv.Value, &rec)
		if _, ok := holders[kv.Key]; ok || now.Sub(rec.Touched) < a.cfg.Grace {
			out = append(out, kv)
			continue
		}
		_, err := a.cfg.Store.Delete(ctx, kv.Key, kv.ModRevision)
		switch {
		case err == nil:
			a.cfg.Log.Info("released an allocation no Service holds", zap.String("key", kv.Key), zap.String("owner", rec.owner()))
		case errors.Is(err, store.ErrConflict):
			out = append(out, kv) // touched meanwhile
		case !errors.Is(err, store.ErrNotFound):
			errs = append(errs, fmt.Errorf("release %s: %w", kv.Key, err))
			out = append(out, kv)
		}
	}
	for key, owner := range holders {
		if seen[key] {
			continue
		}
		ns, name, _ := strings.Cut(owner, "/")
		v := strings.TrimPrefix(key, prefix)
		inRange := false
		if prefix == IPPrefix {
			ip, err := netip.ParseAddr(v)
			inRange = err == nil && a.ipOffset(ip) >= 0
		} else {
			n, err := strconv.Atoi(v)
			inRange = err == nil && a.portOffset(int32(n)) >= 0
		}
		if !inRange {
			a.cfg.Log.Warn("a Service holds a value outside the configured range", zap.String("service", owner), zap.String("value", v))
			continue
		}
		b, _ := json.Marshal(record{Namespace: ns, Name: name, Touched: now.UTC()})
		kv, err := a.cfg.Store.Create(ctx, key, b)
		switch {
		case err == nil:
			a.cfg.Log.Info("recorded an allocation a Service held without record", zap.String("key", key), zap.String("owner", owner))
			out = append(out, kv)
		case errors.Is(err, store.ErrExists):
			a.cfg.Log.Warn("a Service holds a value allocated to another", zap.String("key", key), zap.String("service", owner))
		default:
			errs = append(errs, fmt.Errorf("record %s: %w", key, err))
		}
	}
	return out, errors.Join(errs...)
}

// release frees what a deleted Service held, unless the Service exists
// again holding it, or the record was touched within the grace period
// (a re-create of the same name in flight).
func (a *Allocator) release(ctx context.Context, c *client.Client, svc *corev1.Service) error {
	var errs []error
	for _, key := range a.held(svc) {
		kv, err := a.cfg.Store.Get(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var rec record
		if json.Unmarshal(kv.Value, &rec) != nil || rec.owner() != svc.Namespace+"/"+svc.Name || a.cfg.Now().Sub(rec.Touched) < a.cfg.Grace {
			continue
		}
		cur, err := c.Get(ctx, api.LookupName("services"), svc.Namespace, svc.Name)
		if err == nil {
			stillHeld := false
			for _, k := range a.held(cur.(*corev1.Service)) {
				stillHeld = stillHeld || k == key
			}
			if stillHeld {
				continue
			}
		} else if !apierrors.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		if _, err := a.cfg.Store.Delete(ctx, key, kv.ModRevision); err != nil && !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, fmt.Errorf("release %s: %w", key, err))
			continue
		}
		v := strings.TrimPrefix(strings.TrimPrefix(key, IPPrefix), PortPrefix)
		if strings.HasPrefix(key, IPPrefix) {
			if ip, err := netip.ParseAddr(v); err == nil {
				a.ips.set(a.ipOffset(ip), false)
			}
		} else if n, err := strconv.Atoi(v); err == nil {
			a.ports.set(a.portOffset(int32(n)), false)
		}
	}
	return errors.Join(errs...)
}

// Run releases the allocations of deleted Services as their deletions
// are seen, and repairs every RepairInterval (and once at start), until
// ctx is done. c must be an admin client of the same API server.
func (a *Allocator) Run(ctx context.Context, c *client.Client) error {
	inf := client.NewInformer(c, api.LookupName("services"), "", client.ListOptions{})
	deleted := make(chan *corev1.Service, 256)
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		if svc, ok := obj.(*corev1.Service); ok {
			select {
			case deleted <- svc:
			default: // the next repair pass releases it
			}
		}
	}})
	done := make(chan struct{})
	go func() {
		defer close(done)
		inf.Run(ctx.Done())
	}()
	defer func() { <-done }()
	repair := func() {
		objs, _, err := c.List(ctx, api.LookupName("services"), "", client.ListOptions{})
		if err != nil {
			if ctx.Err() == nil {
				a.cfg.Log.Warn("repair: list services", zap.Error(err))
			}
			return
		}
		svcs := make([]*corev1.Service, 0, len(objs))
		for _, o := range objs {
			svcs = append(svcs, o.(*corev1.Service))
		}
		if err := a.Repair(ctx, svcs); err != nil && ctx.Err() == nil {
			a.cfg.Log.Warn("repair allocations", zap.Error(err))
		}
	}
	repair()
	t := time.NewTicker(a.cfg.RepairInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			repair()
		case svc := <-deleted:
			if err := a.release(ctx, c, svc); err != nil && ctx.Err() == nil {
				a.cfg.Log.Warn("release allocations", zap.String("service", svc.Namespace+"/"+svc.Name), zap.Error(err))
			}
		}
	}
}
