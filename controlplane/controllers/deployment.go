package controllers

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// deploymentController rolls Deployments out through ReplicaSets, as
// kube-controller-manager's deployment controller.
type deploymentController struct {
	c                              *client.Client
	deployments, replicaSets, pods cache.SharedIndexInformer
	rec                            eventRecorder
	now                            func() time.Time
	loop                           *loop
	dKind, rsKind                  *api.Kind
}

func newDeploymentController(cfg Config, inf *informers, rec *recorder) *deploymentController {
	dc := &deploymentController{
		c: cfg.Client, deployments: inf.deployments, replicaSets: inf.replicaSets, pods: inf.pods,
		rec: rec.For("deployment-controller"), now: cfg.Now,
		dKind: api.LookupName("deployments"), rsKind: api.LookupName("replicasets"),
	}
	dc.loop = newLoop(DeploymentName, cfg.Workers, cfg.Log, dc.reconcile)
	_, _ = dc.deployments.AddEventHandler(dc.loop.handlers())
	onRS := func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		rs, ok := obj.(*appsv1.ReplicaSet)
		if !ok {
			return
		}
		if ref := metav1.GetControllerOf(rs); ref != nil {
			if ref.Kind == "Deployment" {
				dc.loop.queue.Add(rs.Namespace + "/" + ref.Name)
			}
			return
		}
		dc.enqueueMatching(rs)
	}
	_, _ = dc.replicaSets.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: onRS,
		UpdateFunc: func(o, n any) {
			if or, ok := o.(*appsv1.ReplicaSet); ok {
				if nr, ok := n.(*appsv1.ReplicaSet); ok && !reflect.DeepEqual(or.OwnerReferences, nr.OwnerReferences) {
					onRS(o)
				}
			}
			onRS(n)
		},
		DeleteFunc: onRS,
	})
	// Recreate waits for the old pods to be gone.
	_, _ = dc.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = t.Obj
		}
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return
		}
		ref := metav1.GetControllerOf(p)
		if ref == nil || ref.Kind != "ReplicaSet" {
			return
		}
		o, exists, _ := dc.replicaSets.GetIndexer().GetByKey(p.Namespace + "/" + ref.Name)
		if !exists {
			return
		}
		if dref := metav1.GetControllerOf(o.(*appsv1.ReplicaSet)); dref != nil && dref.Kind == "Deployment" {
			dc.loop.queue.Add(p.Namespace + "/" + dref.Name)
		}
	}})
	return dc
}

func (dc *deploymentController) enqueueMatching(rs *appsv1.ReplicaSet) {
	objs, _ := dc.deployments.GetIndexer().ByIndex(cache.NamespaceIndex, rs.Namespace)
	for _, o := range objs {
		d := o.(*appsv1.Deployment)
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(rs.Labels)) {
			dc.loop.queue.Add(d.Namespace + "/" + d.Name)
		}
	}
}

func (dc *deploymentController) reconcile(ctx context.Context, key string) (time.Duration, error) {
	obj, exists, err := dc.deployments.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return 0, err
	}
	d := obj.(*appsv1.Deployment).DeepCopy()
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || sel.Empty() {
		dc.rec.Eventf(d, corev1.EventTypeWarning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			_, err := dc.c.UpdateStatus(ctx, d)
			return 0, err
		}
		return 0, nil
	}
	rsList, err := dc.claimReplicaSets(ctx, d, sel)
	if err != nil {
		return 0, err
	}
	if d.DeletionTimestamp != nil {
		newRS, oldRSs, err := dc.allReplicaSets(ctx, d, rsList, false)
		if err != nil {
			return 0, err
		}
		return dc.syncStatus(ctx, d, append(oldRSs, newRS), newRS, false)
	}
	if err := dc.checkPaused(ctx, d); err != nil {
		return 0, err
	}
	if d.Spec.Paused {
		return dc.syncScale(ctx, d, rsList)
	}
	if isScalingEvent(d, rsList) {
		return dc.syncScale(ctx, d, rsList)
	}
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return dc.rolloutRecreate(ctx, d, rsList)
	}
	return dc.rolloutRolling(ctx, d, rsList)
}

// claimReplicaSets adopts orphans the selector matches and releases those
// that stopped matching; it returns copies of the owned ReplicaSets.
func (dc *deploymentController) claimReplicaSets(ctx context.Context, d *appsv1.Deployment, sel labels.Selector) ([]*appsv1.ReplicaSet, error) {
	objs, err := dc.replicaSets.GetIndexer().ByIndex(cache.NamespaceIndex, d.Namespace)
	if err != nil {
		return nil, err
	}
	all := make([]*appsv1.ReplicaSet, 0, len(objs))
	for _, o := range objs {
		all = append(all, o.(*appsv1.ReplicaSet).DeepCopy())
	}
	cl := claimObjects(d.UID, sel, d.DeletionTimestamp == nil, all)
	return adoptAndRelease(ctx, dc.c, d, dc.dKind, cl)
}

func (dc *deploymentController) checkPaused(ctx context.Context, d *appsv1.Deployment) error {
	if !hasProgressDeadline(d) {
		return nil
	}
	cond := getDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
	if cond != nil && cond.Reason == ReasonTimedOut {
		return nil
	}
	paused := cond != nil && cond.Reason == ReasonPaused
	switch {
	case d.Spec.Paused && !paused:
		setDeploymentCondition(&d.Status, newDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonPaused, "Deployment is paused", dc.now()))
	case !d.Spec.Paused && paused:
		setDeploymentCondition(&d.Status, newDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonResumed, "Deployment is resumed", dc.now()))
	default:
		return nil
	}
	return dc.writeStatus(ctx, d)
}

// writeStatus stores d.Status and refreshes d's resourceVersion.
func (dc *deploymentController) writeStatus(ctx context.Context, d *appsv1.Deployment) error {
	out, err := dc.c.UpdateStatus(ctx, d)
	if err != nil {
		return fmt.Errorf("update status of deployment %s: %w", d.Name, err)
	}
	d.ResourceVersion = out.GetResourceVersion()
	return nil
}

// setRevision stores the Deployment's revision annotation.
func (dc *deploymentController) setRevision(ctx context.Context, d *appsv1.Deployment, rev string) error {
	if d.Annotations[RevisionAnnotation] == rev {
		return nil
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[RevisionAnnotation] = rev
	out, _, err := dc.c.Update(ctx, d)
	if err != nil {
		return fmt.Errorf("update revision of deployment %s: %w", d.Name, err)
	}
	d.ResourceVersion = out.GetResourceVersion()
	return nil
}

// allReplicaSets is upstream's getAllReplicaSetsAndSyncRevision: the new
// ReplicaSet (created when create is set and none matches the template;
// its annotations and the Deployment's revision brought up to date) and
// all old ones.
func (dc *deploymentController) allReplicaSets(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	existing := findNewRS(d, rsList)
	oldRSs, _ := findOldRSs(existing, rsList)
	newRevision := maxRevision(oldRSs) + 1
	now := dc.now()
	if existing != nil {
		rs := existing.DeepCopy()
		changed := setNewRSAnnotations(d, rs, newRevision, true)
		if changed || rs.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
			rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			out, _, err := dc.c.Update(ctx, rs)
			if err != nil {
				return nil, nil, fmt.Errorf("update replica set %s: %w", rs.Name, err)
			}
			rs = out.(*appsv1.ReplicaSet)
		}
		if err := dc.setRevision(ctx, d, rs.Annotations[RevisionAnnotation]); err != nil {
			return nil, nil, err
		}
		if hasProgressDeadline(d) && getDeploymentCondition(d.Status, appsv1.DeploymentProgressing) == nil {
			setDeploymentCondition(&d.Status, newDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonFoundNewRS,
				fmt.Sprintf("Found new replica set %q", rs.Name), now))
			if err := dc.writeStatus(ctx, d); err != nil {
				return nil, nil, err
			}
		}
		return rs, oldRSs, nil
	}
	if !create {
		return nil, oldRSs, nil
	}
	replicas := newRSNewReplicas(d, oldRSs, &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Replicas: new(int32(0))}})
	want := newReplicaSet(d, replicas, newRevision, controllerRef(d, dc.dKind))
	out, _, err := dc.c.Create(ctx, want)
	switch {
	case apierrors.IsAlreadyExists(err):
		got, gerr := dc.c.Get(ctx, dc.rsKind, d.Namespace, want.Name)
		if gerr != nil {
			return nil, nil, fmt.Errorf("get replica set %s: %w", want.Name, gerr)
		}
		rs := got.(*appsv1.ReplicaSet)
		if ref := metav1.GetControllerOf(rs); ref != nil && ref.UID == d.UID && equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			return nil, nil, fmt.Errorf("replica set %s exists but is not in the cache yet: %w", rs.Name, errExpectations)
		}
		// A hash collision: bump collisionCount so the next hash differs.
		d.Status.CollisionCount = new(ptrOr(d.Status.CollisionCount, 0) + 1)
		if err := dc.writeStatus(ctx, d); err != nil {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("replica set %s: hash collision, collisionCount now %d: %w", want.Name, *d.Status.CollisionCount, errExpectations)
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", want.Name, err)
		dc.rec.Eventf(d, corev1.EventTypeWarning, ReasonFailedRSCreate, "%s", msg)
		if hasProgressDeadline(d) {
			setDeploymentCondition(&d.Status, newDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonFailedRSCreate, msg, now))
			_ = dc.writeStatus(ctx, d)
		}
		return nil, nil, fmt.Errorf("create replica set %s: %w", want.Name, err)
	}
	rs := out.(*appsv1.ReplicaSet)
	if replicas > 0 {
		dc.rec.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", rs.Name, replicas)
	}
	if err := dc.setRevision(ctx, d, strconv.FormatInt(newRevision, 10)); err != nil {
		return nil, nil, err
	}
	if hasProgressDeadline(d) {
		setDeploymentCondition(&d.Status, newDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewRSCreated,
			fmt.Sprintf("Created new replica set %q", rs.Name), now))
		if err := dc.writeStatus(ctx, d); err != nil {
			return nil, nil, err
		}
	}
	return rs, oldRSs, nil
}

func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// apply makes the planned scale changes, recording ScalingReplicaSet
// events, and returns the ReplicaSets as they are now.
func (dc *deploymentController) apply(ctx context.Context, d *appsv1.Deployment, rss []*appsv1.ReplicaSet, changes []scaleChange, touchActive bool) ([]*appsv1.ReplicaSet, error) {
	to := map[string]int32{}
	for _, ch := range changes {
		to[ch.Name] = ch.To
	}
	out := make([]*appsv1.ReplicaSet, len(rss))
	copy(out, rss)
	for i, rs := range out {
		if rs == nil {
			continue
		}
		n, resize := to[rs.Name]
		if !resize && !(touchActive && replicasOf(rs) > 0) {
			continue
		}
		c := rs.DeepCopy()
		from := replicasOf(c)
		if resize {
			c.Spec.Replicas = new(n)
		}
		annChanged := setReplicasAnnotations(c, deploymentReplicas(d), deploymentReplicas(d)+maxSurge(d))
		if !resize && !annChanged {
			continue
		}
		updated, _, err := dc.c.Update(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("scale replica set %s to %d: %w", c.Name, replicasOf(c), err)
		}
		out[i] = updated.(*appsv1.ReplicaSet)
		if resize && from != n {
			dir := "up"
			if n < from {
				dir = "down"
			}
			dc.rec.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", dir, c.Name, from, n)
		}
	}
	return out, nil
}

// split returns the new ReplicaSet (index 0 of rss when hasNew) and the olds.
func split(rss []*appsv1.ReplicaSet, hasNew bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet) {
	if !hasNew {
		return nil, rss
	}
	return rss[0], rss[1:]
}

func (dc *deploymentController) rolloutRolling(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (time.Duration, error) {
	newRS, oldRSs, err := dc.allReplicaSets(ctx, d, rsList, true)
	if err != nil {
		return 0, err
	}
	changes := planRolling(d, newRS, oldRSs)
	if len(changes) > 0 {
		rss, err := dc.apply(ctx, d, append([]*appsv1.ReplicaSet{newRS}, oldRSs...), changes, false)
		if err != nil {
			return 0, err
		}
		newRS, oldRSs = split(rss, true)
	} else if deploymentComplete(d, &d.Status) {
		if err := dc.cleanup(ctx, d, oldRSs); err != nil {
			return 0, err
		}
	}
	return dc.syncStatus(ctx, d, append([]*appsv1.ReplicaSet{newRS}, oldRSs...), newRS, true)
}

func (dc *deploymentController) rolloutRecreate(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (time.Duration, error) {
	newRS, oldRSs, err := dc.allReplicaSets(ctx, d, rsList, false)
	if err != nil {
		return 0, err
	}
	step := planRecreate(d, newRS, oldRSs, dc.oldPodsRunning(d, oldRSs))
	if step.CreateNewRS {
		newRS, oldRSs, err = dc.allReplicaSets(ctx, d, rsList, true)
		if err != nil {
			return 0, err
		}
		step = planRecreate(d, newRS, oldRSs, false)
	}
	all := append([]*appsv1.ReplicaSet{newRS}, oldRSs...)
	if len(step.Changes) > 0 {
		if all, err = dc.apply(ctx, d, all, step.Changes, false); err != nil {
			return 0, err
		}
		newRS, oldRSs = split(all, true)
	} else if newRS != nil && deploymentComplete(d, &d.Status) {
		if err := dc.cleanup(ctx, d, oldRSs); err != nil {
			return 0, err
		}
	}
	return dc.syncStatus(ctx, d, all, newRS, true)
}

// oldPodsRunning: some pod of an old ReplicaSet has not finished.
func (dc *deploymentController) oldPodsRunning(d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet) bool {
	if sumStatus(oldRSs, statusReplicas) > 0 {
		return true
	}
	old := map[string]bool{}
	for _, rs := range oldRSs {
		old[string(rs.UID)] = true
	}
	objs, _ := dc.pods.GetIndexer().ByIndex(cache.NamespaceIndex, d.Namespace)
	for _, o := range objs {
		p := o.(*corev1.Pod)
		if ref := metav1.GetControllerOf(p); ref != nil && old[string(ref.UID)] &&
			p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded {
			return true
		}
	}
	return false
}

// syncScale handles a paused Deployment or a replica change mid-rollout:
// proportional scaling, no new ReplicaSet.
func (dc *deploymentController) syncScale(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (time.Duration, error) {
	newRS, oldRSs, err := dc.allReplicaSets(ctx, d, rsList, false)
	if err != nil {
		return 0, err
	}
	changes := planProportional(d, newRS, oldRSs)
	all := oldRSs
	if newRS != nil {
		all = append([]*appsv1.ReplicaSet{newRS}, oldRSs...)
	}
	if all, err = dc.apply(ctx, d, all, changes, true); err != nil {
		return 0, err
	}
	newRS, oldRSs = split(all, newRS != nil)
	if d.Spec.Paused {
		if err := dc.cleanup(ctx, d, oldRSs); err != nil {
			return 0, err
		}
	}
	return dc.syncStatus(ctx, d, all, newRS, false)
}

// cleanup deletes old ReplicaSets beyond revisionHistoryLimit.
func (dc *deploymentController) cleanup(ctx context.Context, d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet) error {
	for _, rs := range cleanupCandidates(d, oldRSs) {
		if _, err := dc.c.Delete(ctx, dc.rsKind, rs.Namespace, rs.Name); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete old replica set %s: %w", rs.Name, err)
		}
	}
	return nil
}

func (dc *deploymentController) syncStatus(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, rollout bool) (time.Duration, error) {
	var rss []*appsv1.ReplicaSet
	for _, rs := range all {
		if rs != nil {
			rss = append(rss, rs)
		}
	}
	st, requeue := deploymentStatus(d, rss, newRS, rollout, dc.now())
	if reflect.DeepEqual(d.Status, st) {
		return requeue, nil
	}
	if c := getDeploymentCondition(st, appsv1.DeploymentProgressing); c != nil && c.Reason == ReasonTimedOut {
		if old := getDeploymentCondition(d.Status, appsv1.DeploymentProgressing); old == nil || old.Reason != ReasonTimedOut {
			dc.rec.Eventf(d, corev1.EventTypeWarning, ReasonTimedOut, "Deployment %q has timed out progressing.", d.Name)
		}
	}
	d.Status = st
	return requeue, dc.writeStatus(ctx, d)
}
