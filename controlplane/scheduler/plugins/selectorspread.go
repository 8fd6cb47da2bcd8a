package plugins

import (
	"context"

	"k8s.io/apimachinery/pkg/types"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// zoneWeighting is how much the zone spread counts against the node
// spread when nodes carry zone labels, as kube-scheduler's SelectorSpread.
const zoneWeighting float64 = 2.0 / 3.0

// SelectorSpread spreads one owner's replicas: it prefers nodes (and
// zones) holding fewer pods of the pod's controller (its controller
// ownerReference: a ReplicaSet, a ReplicationController, …).
type SelectorSpread struct{}

var (
	_ framework.PreScorePlugin  = (*SelectorSpread)(nil)
	_ framework.ScorePlugin     = (*SelectorSpread)(nil)
	_ framework.ScoreNormalizer = (*SelectorSpread)(nil)
)

// Name implements framework.Plugin.
func (*SelectorSpread) Name() string { return SelectorSpreadName }

const spreadStateKey framework.StateKey = SelectorSpreadName

type spreadState struct {
	owner types.UID
	nodes []*framework.NodeInfo // the nodes scored, in order
}

// PreScore implements framework.PreScorePlugin: nothing to spread for a
// pod without a controller.
func (*SelectorSpread) PreScore(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, nodes []*framework.NodeInfo) *framework.Status {
	if pod.ControllerUID == "" {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(spreadStateKey, &spreadState{owner: pod.ControllerUID, nodes: nodes})
	return nil
}

// Score implements framework.ScorePlugin: the number of the owner's pods
// on the node (fewer is better after NormalizeScore).
func (*SelectorSpread) Score(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, ni *framework.NodeInfo) (int64, *framework.Status) {
	s, err := framework.ReadState[*spreadState](state, spreadStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	return int64(ni.OwnerCount(s.owner)), nil
}

// NormalizeScore implements framework.ScoreNormalizer.
func (*SelectorSpread) NormalizeScore(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, scores framework.NodeScoreList) *framework.Status {
	s, err := framework.ReadState[*spreadState](state, spreadStateKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	var maxNode, maxZone int64
	var byZone map[string]int64
	for i, sc := range scores {
		maxNode = max(maxNode, sc.Score)
		if z := s.nodes[i].Zone; z != "" {
			if byZone == nil {
				byZone = map[string]int64{}
			}
			byZone[z] += sc.Score
		}
	}
	for _, c := range byZone {
		maxZone = max(maxZone, c)
	}
	for i := range scores {
		f := float64(framework.MaxNodeScore)
		if maxNode > 0 {
			f = float64(framework.MaxNodeScore) * float64(maxNode-scores[i].Score) / float64(maxNode)
		}
		if z := s.nodes[i].Zone; len(byZone) > 0 && z != "" {
			zs := float64(framework.MaxNodeScore)
			if maxZone > 0 {
				zs = float64(framework.MaxNodeScore) * float64(maxZone-byZone[z]) / float64(maxZone)
			}
			f = f*(1-zoneWeighting) + zoneWeighting*zs
		}
		scores[i].Score = int64(f)
	}
	return nil
}
