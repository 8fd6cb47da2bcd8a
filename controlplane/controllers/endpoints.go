package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// endpointsController keeps the Endpoints and EndpointSlices of every
// Service with a selector: upstream's endpoint and endpointslice
// controllers in one loop, so both always say the same thing.
type endpointsController struct {
	c                                 *client.Client
	services, pods, endpoints, slices cache.SharedIndexInformer
	rec                               eventRecorder
	loop                              *loop
	batch                             time.Duration
	epKind, sliceKind                 *api.Kind
}

func newEndpointsController(cfg Config, inf *informers, rec *recorder) *endpointsController {
	ec := &endpointsController{
		c: cfg.Client, services: inf.services, pods: inf.pods, endpoints: inf.endpoints, slices: inf.endpointSlices,
		rec: rec.For(endpointsSelfName), batch: cfg.EndpointsBatchPeriod,
		epKind: api.LookupName("endpoints"), sliceKind: api.LookupName("endpointslices"),
	}
	ec.loop = newLoop(EndpointsName, cfg.Workers, cfg.Log, ec.reconcile)
	_, _ = ec.services.AddEventHandler(ec.loop.handlers())
	_, _ = ec.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { ec.podChanged(obj) },
		UpdateFunc: func(o, n any) {
			op, ok1 := o.(*corev1.Pod)
			np, ok2 := n.(*corev1.Pod)
			if ok1 && ok2 && op.ResourceVersion == np.ResourceVersion {
				return
			}
			ec.podChanged(o)
			ec.podChanged(n)
		},
		DeleteFunc: func(obj any) { ec.podChanged(obj) },
	})
	// Someone else changing or deleting what we manage: put it back.
	back := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		switch o := obj.(type) {
		case *corev1.Endpoints:
			// Only for Services we manage: Endpoints without a Service may be
			// a user's, applied before their selectorless Service.
			key := o.Namespace + "/" + o.Name
			if s, ok, _ := ec.services.GetIndexer().GetByKey(key); ok && len(s.(*corev1.Service).Spec.Selector) > 0 {
				ec.loop.queue.Add(key)
			}
		case *discoveryv1.EndpointSlice:
			if o.Labels[ManagedByLabel] == ManagedByValue && o.Labels[ServiceNameLabel] != "" {
				ec.loop.queue.Add(o.Namespace + "/" + o.Labels[ServiceNameLabel])
			}
		}
	}
	h := cache.ResourceEventHandlerFuncs{UpdateFunc: func(_, n any) { back(n) }, DeleteFunc: back}
	_, _ = ec.endpoints.AddEventHandler(h)
	_, _ = ec.slices.AddEventHandler(h)
	return ec
}

// podChanged enqueues, after the batch period, every Service of the
// pod's namespace whose selector matches it.
func (ec *endpointsController) podChanged(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	svcs, _ := ec.services.GetIndexer().ByIndex(cache.NamespaceIndex, p.Namespace)
	for _, o := range svcs {
		svc := o.(*corev1.Service)
		if len(svc.Spec.Selector) == 0 {
			continue
		}
		if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(p.Labels)) {
			ec.loop.queue.AddAfter(svc.Namespace+"/"+svc.Name, ec.batch)
		}
	}
}

func (ec *endpointsController) reconcile(ctx context.Context, key string) (time.Duration, error) {
	ns, name := splitKey(key)
	obj, exists, err := ec.services.GetIndexer().GetByKey(key)
	if err != nil {
		return 0, err
	}
	if !exists {
		return 0, ec.cleanup(ctx, ns, name)
	}
	svc := obj.(*corev1.Service)
	if len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName {
		// Endpoints of a Service without selector are the user's.
		return 0, ec.deleteSlices(ctx, ns, name, nil)
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	objs, err := ec.pods.GetIndexer().ByIndex(cache.NamespaceIndex, ns)
	if err != nil {
		return 0, err
	}
	var pods []*corev1.Pod
	for _, o := range objs {
		if p := o.(*corev1.Pod); sel.Matches(labels.Set(p.Labels)) {
			pods = append(pods, p)
		}
	}
	errEP := ec.syncEndpoints(ctx, svc, endpointSubsets(svc, pods))
	errSl := ec.syncSlices(ctx, svc, endpointSlices(svc, pods))
	return 0, errors.Join(errEP, errSl)
}

func (ec *endpointsController) syncEndpoints(ctx context.Context, svc *corev1.Service, subsets []corev1.EndpointSubset) error {
	want := &corev1.Endpoints{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Endpoints"},
		ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace, Labels: endpointsLabels(svc)},
		Subsets:    subsets,
	}
	cur, exists, err := ec.endpoints.GetIndexer().GetByKey(svc.Namespace + "/" + svc.Name)
	if err != nil {
		return err
	}
	if !exists {
		if _, _, err := ec.c.Create(ctx, want); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("endpoints %s/%s: %w", svc.Namespace, svc.Name, errExpectations)
			}
			ec.rec.Eventf(svc, corev1.EventTypeWarning, "FailedToCreateEndpoint", "Failed to create endpoint for service %s/%s: %v", svc.Namespace, svc.Name, err)
			return fmt.Errorf("create endpoints %s/%s: %w", svc.Namespace, svc.Name, err)
		}
		return nil
	}
	ep := cur.(*corev1.Endpoints)
	if apiequality.Semantic.DeepEqual(ep.Subsets, want.Subsets) && apiequality.Semantic.DeepEqual(ep.Labels, want.Labels) {
		return nil
	}
	upd := ep.DeepCopy()
	upd.Subsets, upd.Labels = want.Subsets, want.Labels
	if _, _, err := ec.c.Update(ctx, upd); err != nil {
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			ec.rec.Eventf(svc, corev1.EventTypeWarning, "FailedToUpdateEndpoint", "Failed to update endpoint %s/%s: %v", svc.Namespace, svc.Name, err)
		}
		return fmt.Errorf("update endpoints %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	return nil
}

// managedSlices are the EndpointSlices this controller keeps for a Service.
func (ec *endpointsController) managedSlices(ns, svc string) []*discoveryv1.EndpointSlice {
	objs, _ := ec.slices.GetIndexer().ByIndex(cache.NamespaceIndex, ns)
	var out []*discoveryv1.EndpointSlice
	for _, o := range objs {
		sl := o.(*discoveryv1.EndpointSlice)
		if sl.Labels[ServiceNameLabel] == svc && sl.Labels[ManagedByLabel] == ManagedByValue {
			out = append(out, sl)
		}
	}
	return out
}

func (ec *endpointsController) syncSlices(ctx context.Context, svc *corev1.Service, want []*discoveryv1.EndpointSlice) error {
	have := map[string]*discoveryv1.EndpointSlice{}
	for _, sl := range ec.managedSlices(svc.Namespace, svc.Name) {
		have[sl.Name] = sl
	}
	keep := map[string]bool{}
	var errs []error
	for _, w := range want {
		keep[w.Name] = true
		cur, ok := have[w.Name]
		if !ok {
			if _, _, err := ec.c.Create(ctx, w); err != nil {
				if apierrors.IsAlreadyExists(err) {
					err = errExpectations
				} else {
					ec.rec.Eventf(svc, corev1.EventTypeWarning, "FailedToUpdateEndpointSlices", "Error updating Endpoint Slices for Service %s/%s: %v", svc.Namespace, svc.Name, err)
				}
				errs = append(errs, fmt.Errorf("create endpointslice %s: %w", w.Name, err))
			}
			continue
		}
		if apiequality.Semantic.DeepEqual(cur.Endpoints, w.Endpoints) && apiequality.Semantic.DeepEqual(cur.Ports, w.Ports) &&
			apiequality.Semantic.DeepEqual(cur.Labels, w.Labels) && cur.AddressType == w.AddressType &&
			apiequality.Semantic.DeepEqual(cur.OwnerReferences, w.OwnerReferences) {
			continue
		}
		upd := cur.DeepCopy()
		upd.Endpoints, upd.Ports, upd.Labels, upd.OwnerReferences = w.Endpoints, w.Ports, w.Labels, w.OwnerReferences
		if _, _, err := ec.c.Update(ctx, upd); err != nil {
			errs = append(errs, fmt.Errorf("update endpointslice %s: %w", w.Name, err))
		}
	}
	if err := ec.deleteSlices(ctx, svc.Namespace, svc.Name, keep); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// deleteSlices deletes the Service's managed slices not in keep.
func (ec *endpointsController) deleteSlices(ctx context.Context, ns, svc string, keep map[string]bool) error {
	var errs []error
	for _, sl := range ec.managedSlices(ns, svc) {
		if keep[sl.Name] {
			continue
		}
		if _, err := ec.c.Delete(ctx, ec.sliceKind, ns, sl.Name); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete endpointslice %s: %w", sl.Name, err))
		}
	}
	return errors.Join(errs...)
}

// cleanup removes what a deleted Service had.
func (ec *endpointsController) cleanup(ctx context.Context, ns, name string) error {
	var errs []error
	if _, exists, _ := ec.endpoints.GetIndexer().GetByKey(ns + "/" + name); exists {
		if _, err := ec.c.Delete(ctx, ec.epKind, ns, name); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete endpoints %s/%s: %w", ns, name, err))
		}
	}
	errs = append(errs, ec.deleteSlices(ctx, ns, name, nil))
	return errors.Join(errs...)
}
