package plugins

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// ErrReasonNodeAffinity is the reason for a node that fails the pod's
// nodeSelector or required node affinity.
const ErrReasonNodeAffinity = "node(s) didn't match Pod's node affinity/selector"

// NodeAffinity keeps a pod to the nodes its spec.nodeSelector and required
// node affinity select, and scores nodes by the weights of the preferred
// node affinity terms they match.
type NodeAffinity struct{}

var (
	_ framework.PreFilterPlugin   = (*NodeAffinity)(nil)
	_ framework.FilterPlugin      = (*NodeAffinity)(nil)
	_ framework.PreScorePlugin    = (*NodeAffinity)(nil)
	_ framework.ScorePlugin       = (*NodeAffinity)(nil)
	_ framework.ScoreNormalizer   = (*NodeAffinity)(nil)
	_ framework.EnqueueExtensions = (*NodeAffinity)(nil)
)

// Name implements framework.Plugin.
func (*NodeAffinity) Name() string { return NodeAffinityName }

const (
	nodeAffinityFilterKey framework.StateKey = NodeAffinityName + "/filter"
	nodeAffinityScoreKey  framework.StateKey = NodeAffinityName + "/score"
)

type requiredNodeAffinity struct {
	labels   map[string]string
	selector *nodeSelector // nil: no required affinity
}

// PreFilter implements framework.PreFilterPlugin.
func (*NodeAffinity) PreFilter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo) *framework.Status {
	spec := &pod.Pod.Spec
	r := &requiredNodeAffinity{labels: spec.NodeSelector}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		r.selector = newNodeSelector(a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
	}
	if len(r.labels) == 0 && r.selector == nil {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(nodeAffinityFilterKey, r)
	return nil
}

// Filter implements framework.FilterPlugin.
func (*NodeAffinity) Filter(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	r, err := framework.ReadState[*requiredNodeAffinity](state, nodeAffinityFilterKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	n := ni.Node()
	for k, v := range r.labels {
		if got, ok := n.Labels[k]; !ok || got != v {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeAffinity)
		}
	}
	if r.selector != nil && !r.selector.matches(n) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeAffinity)
	}
	return nil
}

// EventsToRegister implements framework.EnqueueExtensions.
func (*NodeAffinity) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeLabel}}
}

type preferredTerm struct {
	term   nodeSelectorTerm
	weight int64
}

// PreScore implements framework.PreScorePlugin.
func (*NodeAffinity) PreScore(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	a := pod.Pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || len(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	var terms []preferredTerm
	for _, p := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		if p.Weight == 0 {
			continue
		}
		if t, ok := newNodeSelectorTerm(&p.Preference); ok {
			terms = append(terms, preferredTerm{term: t, weight: int64(p.Weight)})
		}
	}
	state.Write(nodeAffinityScoreKey, terms)
	return nil
}

// Score implements framework.ScorePlugin: the sum of the weights of the
// preferred terms the node matches.
func (*NodeAffinity) Score(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, ni *framework.NodeInfo) (int64, *framework.Status) {
	terms, err := framework.ReadState[[]preferredTerm](state, nodeAffinityScoreKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	return preferredScore(terms, ni.Node()), nil
}

func preferredScore(terms []preferredTerm, n *corev1.Node) int64 {
	var s int64
	for i := range terms {
		if terms[i].term.matches(n) {
			s += terms[i].weight
		}
	}
	return s
}

// NormalizeScore implements framework.ScoreNormalizer.
func (*NodeAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores framework.NodeScoreList) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, false, scores)
	return nil
}
