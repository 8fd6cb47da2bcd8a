package controllers

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// replicaController runs ReplicaSets, and ReplicationControllers seen as
// ReplicaSets (as upstream, which builds its RC controller from the RS one).
type replicaController struct {
	kind      *api.Kind
	component string
	c         *client.Client
	owners    cache.SharedIndexInformer
	pods      cache.SharedIndexInformer
	exp       *expectations
	rec       eventRecorder
	now       func() time.Time
	loop      *loop
	// asRS views a cached owner as a ReplicaSet (a copy).
	asRS func(obj any) (*appsv1.ReplicaSet, bool)
	// writeStatus stores a new status on the owner.
	writeStatus func(ctx context.Context, rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) error
}

func newReplicaSetController(cfg Config, inf *informers, rec *recorder) *replicaController {
	rc := &replicaController{
		kind: api.LookupName("replicasets"), component: "replicaset-controller",
		c: cfg.Client, owners: inf.replicaSets, pods: inf.pods, exp: newExpectations(cfg.Now), now: cfg.Now,
		asRS: func(obj any) (*appsv1.ReplicaSet, bool) {
			rs, ok := obj.(*appsv1.ReplicaSet)
			if !ok {
				return nil, false
			}
			return rs.DeepCopy(), true
		},
	}
	rc.writeStatus = func(ctx context.Context, rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) error {
		rs.Status = st
		_, err := rc.c.UpdateStatus(ctx, rs)
		return err
	}
	rc.rec = rec.For(rc.component)
	rc.loop = newLoop(ReplicaSetName, cfg.Workers, cfg.Log, rc.reconcile)
	rc.register()
	return rc
}

func newReplicationControllerController(cfg Config, inf *informers, rec *recorder) *replicaController {
	rc := &replicaController{
		kind: api.LookupName("replicationcontrollers"), component: "replication-controller",
		c: cfg.Client, owners: inf.replicationControllers, pods: inf.pods, exp: newExpectations(cfg.Now), now: cfg.Now,
		asRS: func(obj any) (*appsv1.ReplicaSet, bool) {
			rc, ok := obj.(*corev1.ReplicationController)
			if !ok {
				return nil, false
			}
			return rcAsReplicaSet(rc), true
		},
	}
	rc.writeStatus = func(ctx context.Context, rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) error {
		obj, exists, err := rc.owners.GetIndexer().GetByKey(rs.Namespace + "/" + rs.Name)
		if err != nil || !exists {
			return err
		}
		out := obj.(*corev1.ReplicationController).DeepCopy()
		out.Status = corev1.ReplicationControllerStatus{
			Replicas: st.Replicas, FullyLabeledReplicas: st.FullyLabeledReplicas, ReadyReplicas: st.ReadyReplicas,
			AvailableReplicas: st.AvailableReplicas, ObservedGeneration: st.ObservedGeneration,
		}
		for _, c := range st.Conditions {
			out.Status.Conditions = append(out.Status.Conditions, corev1.ReplicationControllerCondition{
				Type: corev1.ReplicationControllerConditionType(c.Type), Status: c.Status,
				LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
			})
		}
		_, err = rc.c.UpdateStatus(ctx, out)
		return err
	}
	rc.rec = rec.For(rc.component)
	rc.loop = newLoop(ReplicationControllerName, cfg.Workers, cfg.Log, rc.reconcile)
	rc.register()
	return rc
}

// rcAsReplicaSet is upstream's conversion of a ReplicationController to the
// ReplicaSet its controller runs.
func rcAsReplicaSet(rc *corev1.ReplicationController) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ReplicaSet"},
		ObjectMeta: *rc.ObjectMeta.DeepCopy(),
		Spec: appsv1.ReplicaSetSpec{
			Replicas: rc.Spec.Replicas, MinReadySeconds: rc.Spec.MinReadySeconds,
			Selector: &metav1.LabelSelector{MatchLabels: rc.Spec.Selector},
		},
		Status: appsv1.ReplicaSetStatus{
			Replicas: rc.Status.Replicas, FullyLabeledReplicas: rc.Status.FullyLabeledReplicas, ReadyReplicas: rc.Status.ReadyReplicas,
			AvailableReplicas: rc.Status.AvailableReplicas, ObservedGeneration: rc.Status.ObservedGeneration,
		},
	}
	if rc.Spec.Template != nil {
		rs.Spec.Template = *rc.Spec.Template.DeepCopy()
	}
	for _, c := range rc.Status.Conditions {
		rs.Status.Conditions = append(rs.Status.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
		})
	}
	return rs
}

// register wires the event handlers: an owner's own changes, and its pods'.
func (rc *replicaController) register() {
	_, _ = rc.owners.AddEventHandler(rc.loop.handlers())
	_, _ = rc.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			p, ok := obj.(*corev1.Pod)
			if !ok {
				return
			}
			if key := rc.ownerKey(p); key != "" {
				rc.exp.created(key, p.Namespace+"/"+p.Name)
				rc.loop.queue.Add(key)
				return
			}
			rc.enqueueMatching(p)
		},
		UpdateFunc: func(o, n any) {
			op, ok1 := o.(*corev1.Pod)
			np, ok2 := n.(*corev1.Pod)
			if !ok1 || !ok2 || op.ResourceVersion == np.ResourceVersion {
				return
			}
			ok, nk := rc.ownerKey(op), rc.ownerKey(np)
			if ok != "" && ok != nk {
				rc.loop.queue.Add(ok)
			}
			if nk != "" {
				rc.loop.queue.Add(nk)
			} else if !reflect.DeepEqual(op.Labels, np.Labels) || ok != "" {
				rc.enqueueMatching(np)
			}
		},
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			p, ok := obj.(*corev1.Pod)
			if !ok {
				return
			}
			if key := rc.ownerKey(p); key != "" {
				rc.exp.deleted(key, p.Namespace+"/"+p.Name)
				rc.loop.queue.Add(key)
			}
		},
	})
}

// ownerKey is the key of the pod's controller when it is of this kind.
func (rc *replicaController) ownerKey(p *corev1.Pod) string {
	ref := metav1.GetControllerOf(p)
	if ref == nil || ref.Kind != rc.kind.Kind {
		return ""
	}
	return p.Namespace + "/" + ref.Name
}

// enqueueMatching enqueues the owners whose selector matches an orphan pod.
func (rc *replicaController) enqueueMatching(p *corev1.Pod) {
	objs, _ := rc.owners.GetIndexer().ByIndex(cache.NamespaceIndex, p.Namespace)
	for _, o := range objs {
		rs, ok := rc.asRS(o)
		if !ok {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(p.Labels)) {
			rc.loop.queue.Add(rs.Namespace + "/" + rs.Name)
		}
	}
}

func (rc *replicaController) reconcile(ctx context.Context, key string) (time.Duration, error) {
	obj, exists, err := rc.owners.GetIndexer().GetByKey(key)
	if err != nil {
		return 0, err
	}
	if !exists {
		rc.exp.forget(key)
		return 0, nil
	}
	rs, _ := rc.asRS(obj)
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil || sel.Empty() {
		rc.rec.Eventf(obj.(api.Object), corev1.EventTypeWarning, "InvalidSelector", "invalid selector: %v", err)
		return 0, nil
	}
	pods, err := activePodsIn(rc.pods, rs.Namespace)
	if err != nil {
		return 0, err
	}
	cl := claimObjects(rs.UID, sel, rs.DeletionTimestamp == nil, pods)
	owned, err := adoptAndRelease(ctx, rc.c, obj.(api.Object), rc.kind, cl)
	if err != nil {
		return 0, err
	}
	satisfied := rc.exp.satisfied(key)
	var manageErr error
	var failReason string
	if satisfied && rs.DeletionTimestamp == nil {
		failReason, manageErr = rc.manage(ctx, key, obj.(api.Object), rs, owned)
	}
	st, wait := replicaSetStatus(rs, owned, manageErr, failReason, rc.now())
	if !equalRSStatus(rs.Status, st) {
		if err := rc.writeStatus(ctx, rs, st); err != nil && !apierrors.IsNotFound(err) {
			return 0, fmt.Errorf("update status of %s %s: %w", rc.kind.Kind, key, err)
		}
	}
	if manageErr != nil {
		return 0, manageErr
	}
	if !satisfied {
		wait = minDuration(wait, 5*time.Second)
	}
	return wait, nil
}

func equalRSStatus(a, b appsv1.ReplicaSetStatus) bool {
	if len(a.Conditions) == 0 && len(b.Conditions) == 0 {
		a.Conditions, b.Conditions = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

// activePodsIn lists the active pods of a namespace from the cache.
func activePodsIn(pods cache.SharedIndexInformer, ns string) ([]*corev1.Pod, error) {
	objs, err := pods.GetIndexer().ByIndex(cache.NamespaceIndex, ns)
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok && isPodActive(p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// adoptAndRelease writes a claim's ownerReference changes and returns
// what the owner ends up owning.
func adoptAndRelease[T api.Object](ctx context.Context, c *client.Client, owner api.Object, k *api.Kind, cl claim[T]) ([]T, error) {
	gone := map[string]bool{}
	for _, o := range cl.Adopt {
		n := o.DeepCopyObject().(api.Object)
		n.SetOwnerReferences(append(n.GetOwnerReferences(), controllerRef(owner, k)))
		if _, _, err := c.Update(ctx, n); err != nil {
			if apierrors.IsNotFound(err) {
				gone[o.GetName()] = true
				continue
			}
			return nil, fmt.Errorf("adopt %s: %w", o.GetName(), err)
		}
	}
	for _, o := range cl.Release {
		n := o.DeepCopyObject().(api.Object)
		var refs []metav1.OwnerReference
		for _, r := range n.GetOwnerReferences() {
			if r.UID != owner.GetUID() {
				refs = append(refs, r)
			}
		}
		n.SetOwnerReferences(refs)
		if _, _, err := c.Update(ctx, n); err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("release %s: %w", o.GetName(), err)
		}
	}
	if len(gone) == 0 {
		return cl.Owned, nil
	}
	var owned []T
	for _, o := range cl.Owned {
		if !gone[o.GetName()] {
			owned = append(owned, o)
		}
	}
	return owned, nil
}

// controllerRef is the ownerReference a controller sets on what it creates.
func controllerRef(owner api.Object, k *api.Kind) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion: k.APIVersion(), Kind: k.Kind, Name: owner.GetName(), UID: owner.GetUID(),
		Controller: new(true), BlockOwnerDeletion: new(true),
	}
}

// manage creates or deletes pods to match the replica count. It returns
// the failure reason for the ReplicaFailure condition with the error.
func (rc *replicaController) manage(ctx context.Context, key string, owner api.Object, rs *appsv1.ReplicaSet, owned []*corev1.Pod) (string, error) {
	plan := planReplicas(*rs.Spec.Replicas, owned)
	if plan.Create > 0 {
		ref := controllerRef(owner, rc.kind)
		_, err := slowStartBatch(plan.Create, func() error {
			pod := podFromTemplate(&rs.Spec.Template, rs.Namespace, podNamePrefix(rs.Name), ref)
			pkey := pod.Namespace + "/" + pod.Name
			rc.exp.expectCreate(key, pkey)
			if _, _, err := rc.c.Create(ctx, pod); err != nil {
				rc.exp.created(key, pkey)
				rc.rec.Eventf(owner, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
				return err
			}
			rc.rec.Eventf(owner, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", pod.Name)
			return nil
		})
		if err != nil {
			return "FailedCreate", err
		}
	}
	if len(plan.Delete) > 0 {
		var wg sync.WaitGroup
		errs := make([]error, len(plan.Delete))
		for i, p := range plan.Delete {
			pkey := p.Namespace + "/" + p.Name
			rc.exp.expectDelete(key, pkey)
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := rc.c.Delete(ctx, api.LookupName("pods"), p.Namespace, p.Name)
				if apierrors.IsNotFound(err) {
					rc.exp.deleted(key, pkey)
					return
				}
				if err != nil {
					rc.exp.deleted(key, pkey)
					rc.rec.Eventf(owner, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
					errs[i] = fmt.Errorf("delete pod %s: %w", p.Name, err)
					return
				}
				rc.rec.Eventf(owner, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return "FailedDelete", err
		}
	}
	return "", nil
}

// slowStartBatch calls fn count times in batches of 1, 2, 4, ... run in
// parallel, stopping after the first batch with an error (upstream's
// answer to quotas and admission refusing every pod).
func slowStartBatch(count int, fn func() error) (int, error) {
	done := 0
	for batch := 1; done < count; batch *= 2 {
		n := min(batch, count-done)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = fn()
			}()
		}
		wg.Wait()
		var failed []error
		for _, e := range errs {
			if e != nil {
				failed = append(failed, e)
			}
		}
		done += n - len(failed)
		if len(failed) > 0 {
			return done, errors.Join(failed...)
		}
	}
	return done, nil
}

// podNamePrefix is the generateName upstream uses: the owner's name and a
// dash, shortened so the name with 5 random characters stays a label.
func podNamePrefix(owner string) string {
	const maxPrefix = 63 - 5 - 1
	if len(owner) > maxPrefix {
		owner = owner[:maxPrefix]
	}
	return owner + "-"
}

// podFromTemplate builds a pod of a workload. The name is chosen here, not
// by the server's generateName, so the controller can expect it.
func podFromTemplate(t *corev1.PodTemplateSpec, ns, prefix string, ref metav1.OwnerReference) *corev1.Pod {
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: prefix + utilrand.String(5), GenerateName: prefix, Namespace: ns,
			Labels: copyMap(t.Labels), Annotations: copyMap(t.Annotations),
			OwnerReferences: []metav1.OwnerReference{ref},
		},
		Spec: *t.Spec.DeepCopy(),
	}
	return pod
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
