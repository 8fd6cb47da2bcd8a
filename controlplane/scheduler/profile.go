package scheduler

import (
	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
	"github.com/weft-mesh/weft/controlplane/scheduler/plugins"
)

// DefaultProfile is the one place that says which plugins the scheduler
// runs, in what order, and how the scores weigh (kube-scheduler's default
// weights where it has the plugin).
//
// Filter order decides the reason a node shows when several filters would
// reject it: the first one wins, so cordons, taints and readiness come
// before resources.
func DefaultProfile() framework.Profile {
	return framework.Profile{
		Filters: []string{
			plugins.NodeUnschedulableName,
			plugins.NodeNameName,
			plugins.TaintTolerationName,
			plugins.NodeReadyName,
			plugins.NodeAffinityName,
			plugins.NodePortsName,
			plugins.NodeResourcesFitName,
			plugins.InterPodAffinityName,
		},
		Scores: []framework.WeightedPlugin{
			{Name: plugins.LeastAllocatedName, Weight: 1},
			{Name: plugins.BalancedAllocationName, Weight: 1},
			{Name: plugins.SelectorSpreadName, Weight: 2},
			{Name: plugins.NodeAffinityName, Weight: 2},
			{Name: plugins.InterPodAffinityName, Weight: 2},
			{Name: plugins.TaintTolerationName, Weight: 3},
		},
	}
}
