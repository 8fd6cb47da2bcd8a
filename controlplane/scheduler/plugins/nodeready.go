package plugins

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// ErrReasonNotReady is the reason for a node whose Ready condition is not
// True.
const ErrReasonNotReady = "node(s) were not ready"

// NodeReady rejects nodes whose Ready condition is missing, False or
// Unknown: nothing would start the pod there.
type NodeReady struct{}

var (
	_ framework.FilterPlugin      = (*NodeReady)(nil)
	_ framework.EnqueueExtensions = (*NodeReady)(nil)
)

// Name implements framework.Plugin.
func (*NodeReady) Name() string { return NodeReadyName }

// Filter implements framework.FilterPlugin.
func (*NodeReady) Filter(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	for _, c := range ni.Node().Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				return nil
			}
			break
		}
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNotReady)
}

// EventsToRegister implements framework.EnqueueExtensions.
func (*NodeReady) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeCondition}}
}
