package controllers

import (
	"fmt"
	"math"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// scaleChange is one ReplicaSet resize decided by a Deployment step.
type scaleChange struct {
	Name     string
	From, To int32
}

func (s scaleChange) String() string { return fmt.Sprintf("%s %d→%d", s.Name, s.From, s.To) }

// rsCopies copies ReplicaSets shallowly with their own replica counts, so
// a plan can resize them step by step without touching the caller's.
func rsCopies(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	out := make([]*appsv1.ReplicaSet, 0, len(rss))
	for _, rs := range rss {
		if rs == nil {
			continue
		}
		c := *rs
		c.Spec.Replicas = new(replicasOf(rs))
		out = append(out, &c)
	}
	return out
}

// plan accumulates scale changes on copies.
type plan struct {
	changes []scaleChange
}

func (p *plan) scale(rs *appsv1.ReplicaSet, to int32) {
	from := replicasOf(rs)
	if from == to {
		return
	}
	p.changes = append(p.changes, scaleChange{Name: rs.Name, From: from, To: to})
	*rs.Spec.Replicas = to
}

// newRSNewReplicas is how far the new ReplicaSet may grow now: under
// RollingUpdate up to replicas+maxSurge pods in total, under Recreate to
// the full count.
func newRSNewReplicas(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	if !isRollingUpdate(d) {
		return deploymentReplicas(d)
	}
	maxTotal := deploymentReplicas(d) + maxSurge(d)
	current := sumReplicas(all)
	if current >= maxTotal {
		return replicasOf(newRS)
	}
	up := min(maxTotal-current, deploymentReplicas(d)-replicasOf(newRS))
	return replicasOf(newRS) + up
}

// planRolling is one step of a RollingUpdate (upstream's rolloutRolling):
// grow the new ReplicaSet within maxSurge; if it cannot grow, shrink old
// ReplicaSets within maxUnavailable — their unhealthy pods first, then
// oldest ReplicaSets first. newRS must not be nil.
func planRolling(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) []scaleChange {
	cp := rsCopies(append([]*appsv1.ReplicaSet{newRS}, oldRSs...))
	newRS, oldRSs = cp[0], cp[1:]
	all := cp
	p := &plan{}
	switch want := deploymentReplicas(d); {
	case replicasOf(newRS) == want:
	case replicasOf(newRS) > want:
		p.scale(newRS, want)
		return p.changes
	default:
		if n := newRSNewReplicas(d, all, newRS); n != replicasOf(newRS) {
			p.scale(newRS, n)
			return p.changes
		}
	}
	reconcileOldReplicaSets(p, d, all, activeRSs(oldRSs), newRS)
	return p.changes
}

func reconcileOldReplicaSets(p *plan, d *appsv1.Deployment, all, oldRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) {
	if sumReplicas(oldRSs) == 0 {
		return
	}
	minAvailable := deploymentReplicas(d) - maxUnavailable(d)
	newUnavailable := replicasOf(newRS) - newRS.Status.AvailableReplicas
	maxScaledDown := sumReplicas(all) - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return
	}
	// Unhealthy replicas of old ReplicaSets go first: they count for
	// nothing, so removing them costs no availability.
	sort.SliceStable(oldRSs, func(i, j int) bool { return createdBefore(oldRSs[i], oldRSs[j]) })
	var cleaned int32
	for _, rs := range oldRSs {
		if cleaned >= maxScaledDown {
			break
		}
		r := replicasOf(rs)
		if r == 0 || r == availableOf(rs) {
			continue
		}
		n := min(maxScaledDown-cleaned, r-availableOf(rs))
		if n <= 0 {
			continue
		}
		p.scale(rs, r-n)
		cleaned += n
	}
	// Then as many available ones as maxUnavailable allows.
	var available int32
	for _, rs := range append(append([]*appsv1.ReplicaSet(nil), oldRSs...), newRS) {
		available += availableOf(rs)
	}
	if available <= minAvailable {
		return
	}
	total := available - minAvailable
	var done int32
	for _, rs := range oldRSs {
		if done >= total {
			break
		}
		r := replicasOf(rs)
		if r == 0 {
			continue
		}
		n := min(r, total-done)
		p.scale(rs, r-n)
		done += n
	}
}

// availableOf is what a ReplicaSet will have available once it matches
// its spec: its status may still count pods a scale-down is about to
// delete, and counting those would let a rollout take too many down.
func availableOf(rs *appsv1.ReplicaSet) int32 {
	return min(rs.Status.AvailableReplicas, replicasOf(rs))
}

func createdBefore(a, b *appsv1.ReplicaSet) bool {
	ta, tb := a.CreationTimestamp, b.CreationTimestamp
	if ta.Equal(&tb) {
		return a.Name < b.Name
	}
	return ta.Before(&tb)
}

// recreateStep is what a Recreate step does.
type recreateStep struct {
	Changes []scaleChange
	// CreateNewRS: all old pods are gone and the new ReplicaSet does not
	// exist yet; create it with the full replica count.
	CreateNewRS bool
}

// planRecreate is one step of a Recreate rollout: scale every old
// ReplicaSet to zero, wait until none of their pods runs, then bring up
// the new one at full size.
func planRecreate(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, oldPodsRunning bool) recreateStep {
	p := &plan{}
	if active := activeRSs(rsCopies(oldRSs)); len(active) > 0 {
		for _, rs := range active {
			p.scale(rs, 0)
		}
		return recreateStep{Changes: p.changes}
	}
	if oldPodsRunning {
		return recreateStep{}
	}
	if newRS == nil {
		return recreateStep{CreateNewRS: true}
	}
	cp := rsCopies([]*appsv1.ReplicaSet{newRS})[0]
	p.scale(cp, deploymentReplicas(d))
	return recreateStep{Changes: p.changes}
}

// isScalingEvent: some active ReplicaSet was sized for another replica
// count of the Deployment (its desired-replicas annotation differs).
func isScalingEvent(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) bool {
	for _, rs := range activeRSs(rss) {
		if want, ok := intAnnotation(rs, DesiredReplicasAnnotation); ok && want != deploymentReplicas(d) {
			return true
		}
	}
	return false
}

// planProportional is upstream's scale(): a Deployment resized in the
// middle of a rollout spreads the change over its active ReplicaSets in
// proportion to their sizes (bigger first when adding, smaller-newer ...
// as upstream's orderings), the leftover to the largest.
func planProportional(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) []scaleChange {
	olds := rsCopies(oldRSs)
	all := olds
	var cNew *appsv1.ReplicaSet
	if newRS != nil {
		cNew = rsCopies([]*appsv1.ReplicaSet{newRS})[0]
		all = append([]*appsv1.ReplicaSet{cNew}, olds...)
	}
	p := &plan{}
	want := deploymentReplicas(d)
	if one := activeOrLatest(cNew, olds); one != nil {
		p.scale(one, want)
		return p.changes
	}
	if saturated(d, cNew) {
		for _, rs := range activeRSs(olds) {
			p.scale(rs, 0)
		}
		return p.changes
	}
	if !isRollingUpdate(d) {
		return nil
	}
	active := activeRSs(all)
	var allowed int32
	if want > 0 {
		allowed = want + maxSurge(d)
	}
	toAdd := allowed - sumReplicas(active)
	switch {
	case toAdd > 0:
		sort.SliceStable(active, func(i, j int) bool { // bigger first, then newer
			if replicasOf(active[i]) != replicasOf(active[j]) {
				return replicasOf(active[i]) > replicasOf(active[j])
			}
			return createdBefore(active[j], active[i])
		})
	case toAdd < 0:
		sort.SliceStable(active, func(i, j int) bool { // bigger first, then older
			if replicasOf(active[i]) != replicasOf(active[j]) {
				return replicasOf(active[i]) > replicasOf(active[j])
			}
			return createdBefore(active[i], active[j])
		})
	default:
		return nil
	}
	sizes := make([]int32, len(active))
	var added int32
	for i, rs := range active {
		prop := proportion(rs, d, toAdd, added)
		sizes[i] = replicasOf(rs) + prop
		added += prop
	}
	if len(active) > 0 {
		sizes[0] = max(sizes[0]+toAdd-added, 0)
	}
	for i, rs := range active {
		p.scale(rs, sizes[i])
	}
	return p.changes
}

func activeOrLatest(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	olds := append([]*appsv1.ReplicaSet(nil), oldRSs...)
	sort.SliceStable(olds, func(i, j int) bool { return createdBefore(olds[j], olds[i]) })
	all := olds
	if newRS != nil {
		all = append([]*appsv1.ReplicaSet{newRS}, olds...)
	}
	active := activeRSs(all)
	switch len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		if len(olds) > 0 {
			return olds[0]
		}
		return nil
	case 1:
		return active[0]
	}
	return nil
}

// saturated: the new ReplicaSet runs the full count, all available.
func saturated(d *appsv1.Deployment, newRS *appsv1.ReplicaSet) bool {
	if newRS == nil {
		return false
	}
	want, ok := intAnnotation(newRS, DesiredReplicasAnnotation)
	return ok && want == deploymentReplicas(d) && replicasOf(newRS) == deploymentReplicas(d) &&
		newRS.Status.AvailableReplicas == deploymentReplicas(d)
}

func proportion(rs *appsv1.ReplicaSet, d *appsv1.Deployment, toAdd, added int32) int32 {
	if replicasOf(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	frac := rsFraction(rs, d)
	allowed := toAdd - added
	if toAdd > 0 {
		return min(frac, allowed)
	}
	return max(frac, allowed)
}

func rsFraction(rs *appsv1.ReplicaSet, d *appsv1.Deployment) int32 {
	if deploymentReplicas(d) == 0 {
		return -replicasOf(rs)
	}
	total := deploymentReplicas(d) + maxSurge(d)
	annotated, ok := intAnnotation(rs, MaxReplicasAnnotation)
	if !ok || annotated == 0 {
		annotated = d.Status.Replicas
	}
	if annotated == 0 {
		return 0
	}
	size := float64(replicasOf(rs)*total) / float64(annotated)
	return int32(math.Round(size)) - replicasOf(rs)
}

// deploymentComplete: every replica updated and available, the latest
// spec observed.
func deploymentComplete(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	r := deploymentReplicas(d)
	return st.UpdatedReplicas == r && st.Replicas == r && st.AvailableReplicas == r && st.ObservedGeneration >= d.Generation
}

// deploymentProgressing: the new status moved forward from the stored one.
func deploymentProgressing(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	old := d.Status
	return st.UpdatedReplicas > old.UpdatedReplicas ||
		st.Replicas-st.UpdatedReplicas < old.Replicas-old.UpdatedReplicas ||
		st.ReadyReplicas > old.ReadyReplicas ||
		st.AvailableReplicas > old.AvailableReplicas
}

// deploymentTimedOut: no progress for progressDeadlineSeconds since the
// Progressing condition was last updated.
func deploymentTimedOut(d *appsv1.Deployment, st *appsv1.DeploymentStatus, now time.Time) bool {
	if !hasProgressDeadline(d) {
		return false
	}
	c := getDeploymentCondition(*st, appsv1.DeploymentProgressing)
	if c == nil || c.Reason == ReasonNewRSAvailable {
		return false
	}
	if c.Reason == ReasonTimedOut {
		return true
	}
	return c.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Before(now)
}

// deploymentStatus computes a Deployment's status from its ReplicaSets.
// With rollout set it also judges progress (the Progressing condition and
// its deadline) as upstream's syncRolloutStatus; requeue is when the
// deadline would pass without news.
func deploymentStatus(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, rollout bool, now time.Time) (st appsv1.DeploymentStatus, requeue time.Duration) {
	available := sumStatus(all, statusAvailable)
	total := sumReplicas(all)
	var updated int32
	if newRS != nil {
		updated = newRS.Status.Replicas
	}
	st = appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            sumStatus(all, statusReplicas),
		UpdatedReplicas:     updated,
		ReadyReplicas:       sumStatus(all, statusReady),
		AvailableReplicas:   available,
		UnavailableReplicas: max(total-available, 0),
		CollisionCount:      d.Status.CollisionCount,
		Conditions:          append([]appsv1.DeploymentCondition(nil), d.Status.Conditions...),
	}
	if available >= deploymentReplicas(d)-maxUnavailable(d) {
		setDeploymentCondition(&st, newDeploymentCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumAvailable, "Deployment has minimum availability.", now))
	} else {
		setDeploymentCondition(&st, newDeploymentCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, ReasonMinimumUnavailable, "Deployment does not have minimum availability.", now))
	}
	if rollout {
		if !hasProgressDeadline(d) {
			removeDeploymentCondition(&st, appsv1.DeploymentProgressing)
		}
		cur := getDeploymentCondition(d.Status, appsv1.DeploymentProgressing)
		complete := st.Replicas == st.UpdatedReplicas && cur != nil && cur.Reason == ReasonNewRSAvailable
		if hasProgressDeadline(d) && !complete {
			name := d.Name
			what := "Deployment"
			if newRS != nil {
				name, what = newRS.Name, "ReplicaSet"
			}
			switch {
			case deploymentComplete(d, &st):
				setDeploymentCondition(&st, newDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewRSAvailable,
					fmt.Sprintf("%s %q has successfully progressed.", what, name), now))
			case deploymentProgressing(d, &st):
				c := newDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonRSUpdated, fmt.Sprintf("%s %q is progressing.", what, name), now)
				if cur != nil {
					if cur.Status == corev1.ConditionTrue {
						c.LastTransitionTime = cur.LastTransitionTime
					}
					removeDeploymentCondition(&st, appsv1.DeploymentProgressing)
				}
				setDeploymentCondition(&st, c)
			case deploymentTimedOut(d, &st, now):
				setDeploymentCondition(&st, newDeploymentCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonTimedOut,
					fmt.Sprintf("%s %q has timed out progressing.", what, name), now))
			}
		}
		if c := getDeploymentCondition(st, appsv1.DeploymentProgressing); c != nil && hasProgressDeadline(d) &&
			c.Reason != ReasonNewRSAvailable && c.Reason != ReasonTimedOut {
			deadline := c.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second)
			requeue = max(deadline.Sub(now), 0) + time.Second
		}
	}
	if f := replicaFailure(all, newRS); f != nil {
		setDeploymentCondition(&st, *f)
	} else {
		removeDeploymentCondition(&st, appsv1.DeploymentReplicaFailure)
	}
	return st, requeue
}

// replicaFailure is the ReplicaFailure condition of the new ReplicaSet,
// else of any, as a Deployment condition.
func replicaFailure(all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) *appsv1.DeploymentCondition {
	conv := func(rs *appsv1.ReplicaSet) *appsv1.DeploymentCondition {
		if rs == nil {
			return nil
		}
		for _, c := range rs.Status.Conditions {
			if c.Type == appsv1.ReplicaSetReplicaFailure {
				return &appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: c.Status,
					LastUpdateTime: c.LastTransitionTime, LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message}
			}
		}
		return nil
	}
	if c := conv(newRS); c != nil {
		return c
	}
	for _, rs := range all {
		if c := conv(rs); c != nil {
			return c
		}
	}
	return nil
}

// cleanupCandidates are the old ReplicaSets beyond revisionHistoryLimit
// that may be deleted: oldest revision first, only those scaled to zero
// with no pods left and their latest spec observed.
func cleanupCandidates(d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	if d.Spec.RevisionHistoryLimit == nil {
		return nil
	}
	var alive []*appsv1.ReplicaSet
	for _, rs := range oldRSs {
		if rs != nil && rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	diff := len(alive) - int(*d.Spec.RevisionHistoryLimit)
	if diff <= 0 {
		return nil
	}
	sort.SliceStable(alive, func(i, j int) bool {
		ri, rj := revision(alive[i]), revision(alive[j])
		if ri != rj {
			return ri < rj
		}
		return createdBefore(alive[i], alive[j])
	})
	var out []*appsv1.ReplicaSet
	for _, rs := range alive[:diff] {
		if rs.Status.Replicas != 0 || replicasOf(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		out = append(out, rs)
	}
	return out
}
