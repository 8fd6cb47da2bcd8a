package controllers

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nodeHealth is what the node lifecycle controller remembers of a node:
// the last heartbeat it saw and when (by its own clock) it saw it change.
// Judging by the local time of change, as upstream, keeps clock skew
// between agents and the control plane out of the decision, and gives a
// node a full grace period after a control-plane restart.
type nodeHealth struct {
	Heartbeat metav1.Time
	Probe     time.Time
}

// nodeDecision is what to do to one node.
type nodeDecision struct {
	Health nodeHealth
	// Status is the node's new status when it must change (conditions
	// marked Unknown), else nil.
	Status *corev1.NodeStatus
	// Taints is the node's new taint list when it must change, else nil.
	Taints []corev1.Taint
	// TaintsChanged says Taints is to be written (it may be empty).
	TaintsChanged bool
	// Ready is the node's readiness after the decision: True, False or Unknown.
	Ready corev1.ConditionStatus
	// BecameUnknown: this decision marks the node unreachable.
	BecameUnknown bool
}

// The taints upstream puts on unreachable and not-ready nodes.
var (
	unreachableNoSchedule = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoSchedule}
	unreachableNoExecute  = corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	notReadyNoSchedule    = corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}
	notReadyNoExecute     = corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
)

func nodeCondition(st *corev1.NodeStatus, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

// decideNode is upstream's tryUpdateNodeHealth plus the taint part of
// doNoExecuteTaintingPass: a node whose heartbeat has not changed for the
// grace period gets Ready (and the agent's other conditions) Unknown; an
// Unknown node carries the unreachable taints, a NotReady node the
// not-ready taints, a Ready node neither.
func decideNode(n *corev1.Node, prev nodeHealth, now time.Time, grace time.Duration) nodeDecision {
	d := nodeDecision{Health: prev}
	ready := nodeCondition(&n.Status, corev1.NodeReady)
	hb := n.CreationTimestamp
	if ready != nil && !ready.LastHeartbeatTime.IsZero() {
		hb = ready.LastHeartbeatTime
	}
	if prev.Probe.IsZero() || !hb.Equal(&prev.Heartbeat) {
		d.Health = nodeHealth{Heartbeat: hb, Probe: now}
	}
	status := corev1.ConditionUnknown
	if ready != nil {
		status = ready.Status
	}
	if now.After(d.Health.Probe.Add(grace)) && (ready == nil || ready.Status != corev1.ConditionUnknown) {
		st := n.Status.DeepCopy()
		t := metav1.NewTime(now)
		if ready == nil {
			st.Conditions = append(st.Conditions, corev1.NodeCondition{
				Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusNeverUpdated",
				Message: "Kubelet never posted node status.", LastHeartbeatTime: n.CreationTimestamp, LastTransitionTime: t,
			})
		}
		for i := range st.Conditions {
			c := &st.Conditions[i]
			switch c.Type {
			case corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure:
			default:
				continue
			}
			if c.Status == corev1.ConditionUnknown {
				continue
			}
			c.Status, c.Reason, c.Message, c.LastTransitionTime = corev1.ConditionUnknown, "NodeStatusUnknown", "Kubelet stopped posting node status.", t
		}
		d.Status, d.BecameUnknown, status = st, true, corev1.ConditionUnknown
	}
	d.Ready = status

	var want []corev1.Taint
	switch status {
	case corev1.ConditionUnknown:
		want = []corev1.Taint{unreachableNoSchedule, unreachableNoExecute}
	case corev1.ConditionFalse:
		want = []corev1.Taint{notReadyNoSchedule, notReadyNoExecute}
	}
	taints, changed := reconcileTaints(n.Spec.Taints, want, now)
	d.Taints, d.TaintsChanged = taints, changed
	return d
}

// reconcileTaints makes the lifecycle taints of a node exactly want,
// keeping every other taint and the timeAdded of those already there.
func reconcileTaints(cur, want []corev1.Taint, now time.Time) ([]corev1.Taint, bool) {
	managed := func(t corev1.Taint) bool {
		return t.Key == corev1.TaintNodeUnreachable || t.Key == corev1.TaintNodeNotReady
	}
	wanted := func(t corev1.Taint) bool {
		for _, w := range want {
			if w.Key == t.Key && w.Effect == t.Effect {
				return true
			}
		}
		return false
	}
	var out []corev1.Taint
	changed := false
	for _, t := range cur {
		if managed(t) && !wanted(t) {
			changed = true
			continue
		}
		out = append(out, t)
	}
	for _, w := range want {
		found := false
		for _, t := range cur {
			if t.Key == w.Key && t.Effect == w.Effect {
				found = true
			}
		}
		if !found {
			if w.Effect == corev1.TaintEffectNoExecute {
				w.TimeAdded = new(metav1.NewTime(now))
			}
			out = append(out, w)
			changed = true
		}
	}
	return out, changed
}

// podEviction says whether and when a pod on a node with the NoExecute
// taint is evicted: at the taint's time plus the pod's tolerationSeconds
// for it, never when it tolerates the taint without limit, else after the
// controller's pod eviction timeout.
func podEviction(p *corev1.Pod, taint corev1.Taint, timeout time.Duration) (time.Time, bool) {
	added := time.Time{}
	if taint.TimeAdded != nil {
		added = taint.TimeAdded.Time
	}
	for _, tol := range p.Spec.Tolerations {
		if !tolerates(tol, taint) {
			continue
		}
		if tol.TolerationSeconds == nil {
			return time.Time{}, false
		}
		return added.Add(time.Duration(max(*tol.TolerationSeconds, 0)) * time.Second), true
	}
	return added.Add(timeout), true
}

// tolerates is Toleration.ToleratesTaint without comparison operators.
func tolerates(tol corev1.Toleration, t corev1.Taint) bool {
	if tol.Effect != "" && tol.Effect != t.Effect {
		return false
	}
	if tol.Key != "" && tol.Key != t.Key {
		return false
	}
	switch tol.Operator {
	case "", corev1.TolerationOpEqual:
		return tol.Value == t.Value
	case corev1.TolerationOpExists:
		return true
	}
	return false
}
