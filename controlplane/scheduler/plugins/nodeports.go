package plugins

import (
	"context"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// ErrReasonNodePorts is the reason for a node where a requested host port
// is taken.
const ErrReasonNodePorts = "node(s) didn't have free ports for the requested pod ports"

// NodePorts rejects nodes where a hostPort the pod asks for is in use.
type NodePorts struct{}

var (
	_ framework.PreFilterPlugin   = (*NodePorts)(nil)
	_ framework.FilterPlugin      = (*NodePorts)(nil)
	_ framework.EnqueueExtensions = (*NodePorts)(nil)
)

// Name implements framework.Plugin.
func (*NodePorts) Name() string { return NodePortsName }

// PreFilter implements framework.PreFilterPlugin.
func (*NodePorts) PreFilter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo) *framework.Status {
	if len(pod.HostPorts) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Filter implements framework.FilterPlugin.
func (*NodePorts) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	for _, p := range pod.HostPorts {
		if ni.UsedPorts.CheckConflict(p.HostIP, string(p.Protocol), p.HostPort) {
			return framework.NewStatus(framework.Unschedulable, ErrReasonNodePorts)
		}
	}
	return nil
}

// EventsToRegister implements framework.EnqueueExtensions.
func (*NodePorts) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.AssignedPod, ActionType: framework.Delete},
		{Resource: framework.Node, ActionType: framework.Add},
	}
}
