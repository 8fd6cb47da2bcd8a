package plugins

import (
	"context"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// ErrReasonNodeName is the reason for a node other than the one the pod
// names.
const ErrReasonNodeName = "node(s) didn't match the requested node name"

// NodeName keeps a pod that names a node (spec.nodeName) to that node.
type NodeName struct{}

var (
	_ framework.PreFilterPlugin   = (*NodeName)(nil)
	_ framework.FilterPlugin      = (*NodeName)(nil)
	_ framework.EnqueueExtensions = (*NodeName)(nil)
)

// Name implements framework.Plugin.
func (*NodeName) Name() string { return NodeNameName }

// PreFilter implements framework.PreFilterPlugin: nothing to check for a
// pod that names no node.
func (*NodeName) PreFilter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo) *framework.Status {
	if pod.Pod.Spec.NodeName == "" {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Filter implements framework.FilterPlugin.
func (*NodeName) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	if n := pod.Pod.Spec.NodeName; n != "" && n != ni.Node().Name {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeName)
	}
	return nil
}

// EventsToRegister implements framework.EnqueueExtensions.
func (*NodeName) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.Node, ActionType: framework.Add}}
}
