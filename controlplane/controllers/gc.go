package controllers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// ownerUIDIndex indexes objects by the UIDs of their owners.
const ownerUIDIndex = "metadata.ownerReferences.uid"

// gcDependentKinds are the kinds the garbage collector deletes when their
// owners are gone (background propagation, as upstream's default).
var gcDependentKinds = []string{
	"pods", "replicasets", "replicationcontrollers", "deployments", "services", "endpoints", "endpointslices",
	"configmaps", "secrets", "horizontalpodautoscalers",
}

// garbageCollector deletes objects all of whose owners are gone and drops
// the ownerReferences of owners that are gone from objects that keep
// others. It reacts to deletions and re-checks everything periodically
// (owners of kinds it does not watch).
type garbageCollector struct {
	c          *client.Client
	inf        *informers
	dependents map[string]cache.SharedIndexInformer // by resource
	loop       *loop
	period     time.Duration
	log        *zap.Logger
}

func newGarbageCollector(cfg Config, inf *informers) (*garbageCollector, error) {
	g := &garbageCollector{c: cfg.Client, inf: inf, dependents: map[string]cache.SharedIndexInformer{}, period: cfg.GCResyncPeriod, log: cfg.Log.Named(GarbageCollectorName)}
	g.loop = newLoop(GarbageCollectorName, cfg.Workers, cfg.Log, g.reconcile)
	for _, res := range gcDependentKinds {
		i := inf.byResource(res)
		if i == nil {
			i = client.NewInformer(cfg.Client, api.LookupName(res), "", client.ListOptions{})
			inf.extra[res] = i
			inf.all = append(inf.all, i)
		}
		if err := i.AddIndexers(cache.Indexers{ownerUIDIndex: func(obj any) ([]string, error) {
			m, err := metaOf(obj)
			if err != nil {
				return nil, nil
			}
			var out []string
			for _, r := range m.GetOwnerReferences() {
				out = append(out, string(r.UID))
			}
			return out, nil
		}}); err != nil {
			return nil, fmt.Errorf("garbage collector index on %s: %w", res, err)
		}
		g.dependents[res] = i
		res := res
		enqueue := func(obj any) {
			if m, err := metaOf(obj); err == nil && len(m.GetOwnerReferences()) > 0 {
				g.loop.queue.Add(gcKey(res, m))
			}
		}
		_, _ = i.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: enqueue, UpdateFunc: func(_, n any) { enqueue(n) }})
	}
	// Any deletion may orphan dependents.
	for _, i := range inf.all {
		_, _ = i.AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
			if m, err := metaOf(obj); err == nil {
				g.enqueueDependents(m.GetUID())
			}
		}})
	}
	return g, nil
}

func metaOf(obj any) (metav1.Object, error) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no metadata", obj)
	}
	return m, nil
}

func gcKey(resource string, m metav1.Object) string {
	return resource + "|" + m.GetNamespace() + "/" + m.GetName()
}

func (g *garbageCollector) enqueueDependents(uid types.UID) {
	for res, i := range g.dependents {
		objs, _ := i.GetIndexer().ByIndex(ownerUIDIndex, string(uid))
		for _, o := range objs {
			if m, err := metaOf(o); err == nil {
				g.loop.queue.Add(gcKey(res, m))
			}
		}
	}
}

// resync re-checks every object with owners each period.
func (g *garbageCollector) resync(ctx context.Context) {
	t := time.NewTicker(g.period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for res, i := range g.dependents {
				for _, o := range i.GetIndexer().List() {
					if m, err := metaOf(o); err == nil && len(m.GetOwnerReferences()) > 0 {
						g.loop.queue.Add(gcKey(res, m))
					}
				}
			}
		}
	}
}

// ownerGone reports whether the owner an ownerReference names is gone:
// absent, or replaced by another object of the same name (another UID).
// The cache answers "present"; "absent" is confirmed with a live read, so
// an owner the cache has not seen yet is never taken for gone.
func (g *garbageCollector) ownerGone(ctx context.Context, ns string, ref metav1.OwnerReference) (bool, error) {
	k, err := api.LookupKind(ref.APIVersion, ref.Kind)
	if err != nil {
		return false, nil // a kind Weft does not serve: leave it alone
	}
	if !k.Namespaced {
		ns = ""
	}
	if i := g.inf.byResource(k.Resource); i != nil {
		key := ref.Name
		if ns != "" {
			key = ns + "/" + ref.Name
		}
		if o, ok, _ := i.GetIndexer().GetByKey(key); ok {
			if m, err := metaOf(o); err == nil && m.GetUID() == ref.UID {
				return false, nil
			}
		}
	}
	obj, err := g.c.Get(ctx, k, ns, ref.Name)
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("get owner %s %s: %w", ref.Kind, ref.Name, err)
	}
	return obj.GetUID() != ref.UID, nil
}

func (g *garbageCollector) reconcile(ctx context.Context, key string) (time.Duration, error) {
	res, nsName, ok := strings.Cut(key, "|")
	i := g.dependents[res]
	if !ok || i == nil {
		return 0, nil
	}
	obj, exists, err := i.GetIndexer().GetByKey(strings.TrimPrefix(nsName, "/"))
	if err != nil || !exists {
		return 0, err
	}
	m, err := metaOf(obj)
	if err != nil {
		return 0, nil
	}
	refs := m.GetOwnerReferences()
	if len(refs) == 0 {
		return 0, nil
	}
	var keep []metav1.OwnerReference
	for _, r := range refs {
		gone, err := g.ownerGone(ctx, m.GetNamespace(), r)
		if err != nil {
			return 0, err
		}
		if !gone {
			keep = append(keep, r)
		}
	}
	k := api.LookupName(res)
	switch {
	case len(keep) == len(refs):
		return 0, nil
	case len(keep) == 0:
		g.log.Info("deleting an object whose owners are gone", zap.String("kind", k.Kind), zap.String("object", nsName))
		if _, err := g.c.Delete(ctx, k, m.GetNamespace(), m.GetName()); err != nil && !apierrors.IsNotFound(err) {
			return 0, fmt.Errorf("delete %s %s: %w", k.Kind, nsName, err)
		}
	default:
		upd := obj.(api.Object).DeepCopyObject().(api.Object)
		upd.SetOwnerReferences(keep)
		if _, _, err := g.c.Update(ctx, upd); err != nil && !apierrors.IsNotFound(err) {
			return 0, fmt.Errorf("drop gone owners of %s %s: %w", k.Kind, nsName, err)
		}
	}
	return 0, nil
}
