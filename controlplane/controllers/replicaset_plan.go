package controllers

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// burstReplicas bounds the pods one reconcile creates or deletes
// (kube-controller-manager's --concurrent... burstReplicas, 500).
const burstReplicas = 500

// replicaPlan is what a ReplicaSet reconcile does to its pods.
type replicaPlan struct {
	Create int           // pods to create from the template
	Delete []*corev1.Pod // pods to delete, in this order
}

// planReplicas compares the wanted replica count with the active pods a
// ReplicaSet owns: too few → create the difference; too many → delete the
// surplus, the pods kube would delete first (activePodsLess).
func planReplicas(want int32, active []*corev1.Pod) replicaPlan {
	diff := len(active) - int(want)
	switch {
	case diff < 0:
		return replicaPlan{Create: min(-diff, burstReplicas)}
	case diff > 0:
		pods := append([]*corev1.Pod(nil), active...)
		sort.SliceStable(pods, func(i, j int) bool { return activePodsLess(pods[i], pods[j]) })
		return replicaPlan{Delete: pods[:min(diff, burstReplicas)]}
	}
	return replicaPlan{}
}

// claim is the ControllerRefManager's decision for one owner over the
// objects of its namespace: what it owns after adopting the orphans its
// selector matches, the orphans to adopt, and what it owns whose labels no
// longer match (to release).
type claim[T metav1.Object] struct {
	Owned, Adopt, Release []T
}

func claimObjects[T metav1.Object](ownerUID types.UID, selector labels.Selector, canAdopt bool, objs []T) claim[T] {
	var c claim[T]
	for _, o := range objs {
		ref := metav1.GetControllerOf(o)
		matches := selector.Matches(labels.Set(o.GetLabels()))
		switch {
		case ref != nil && ref.UID == ownerUID:
			if matches {
				c.Owned = append(c.Owned, o)
			} else {
				c.Release = append(c.Release, o)
			}
		case ref == nil && matches && canAdopt && o.GetDeletionTimestamp() == nil:
			c.Adopt = append(c.Adopt, o)
			c.Owned = append(c.Owned, o)
		}
	}
	return c
}

// replicaSetStatus computes a ReplicaSet's status from the active pods it
// owns, and how long until a ready pod becomes available (0: none waits).
// manageErr is the error of creating or deleting pods, reported as the
// ReplicaFailure condition.
func replicaSetStatus(rs *appsv1.ReplicaSet, owned []*corev1.Pod, manageErr error, failReason string, now time.Time) (appsv1.ReplicaSetStatus, time.Duration) {
	st := rs.Status
	st.Conditions = append([]appsv1.ReplicaSetCondition(nil), rs.Status.Conditions...)
	templateLabels := labels.Set(rs.Spec.Template.Labels).AsSelectorPreValidated()
	var full, ready, available int32
	var wait time.Duration
	for _, p := range owned {
		if templateLabels.Matches(labels.Set(p.Labels)) {
			full++
		}
		if isPodReady(p) {
			ready++
			ok, in := podAvailable(p, rs.Spec.MinReadySeconds, now)
			if ok {
				available++
			} else {
				wait = minDuration(wait, in)
			}
		}
	}
	st.Replicas = int32(len(owned))
	st.FullyLabeledReplicas = full
	st.ReadyReplicas = ready
	st.AvailableReplicas = available
	st.ObservedGeneration = rs.Generation

	i := -1
	for j, c := range st.Conditions {
		if c.Type == appsv1.ReplicaSetReplicaFailure {
			i = j
		}
	}
	switch {
	case manageErr != nil && i < 0:
		st.Conditions = append(st.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now), Reason: failReason, Message: manageErr.Error(),
		})
	case manageErr == nil && i >= 0:
		st.Conditions = append(st.Conditions[:i], st.Conditions[i+1:]...)
	}
	if len(st.Conditions) == 0 {
		st.Conditions = nil
	}
	return st, wait
}
