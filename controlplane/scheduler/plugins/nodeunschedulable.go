package plugins

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// ErrReasonUnschedulable is the reason for a cordoned node.
const ErrReasonUnschedulable = "node(s) were unschedulable"

// NodeUnschedulable rejects nodes with spec.unschedulable (cordoned),
// unless the pod tolerates the node.kubernetes.io/unschedulable taint.
type NodeUnschedulable struct{}

var (
	_ framework.FilterPlugin      = (*NodeUnschedulable)(nil)
	_ framework.EnqueueExtensions = (*NodeUnschedulable)(nil)
)

// Name implements framework.Plugin.
func (*NodeUnschedulable) Name() string { return NodeUnschedulableName }

var unschedulableTaint = corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}

// Filter implements framework.FilterPlugin.
func (*NodeUnschedulable) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	if !ni.Node().Spec.Unschedulable || toleratesTaint(pod.Pod.Spec.Tolerations, &unschedulableTaint) {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonUnschedulable)
}

// EventsToRegister implements framework.EnqueueExtensions.
func (*NodeUnschedulable) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeSpecUnschedulable | framework.UpdateNodeTaint}}
}
