package plugins

import (
	"context"
	"math"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// Reasons InterPodAffinity gives.
const (
	ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules"
	ErrReasonAffinityRulesNotMatch             = "node(s) didn't match pod affinity rules"
	ErrReasonAntiAffinityRulesNotMatch         = "node(s) didn't match pod anti-affinity rules"
)

// InterPodAffinity enforces required pod affinity and anti-affinity — the
// incoming pod's terms, and the anti-affinity terms of pods already placed
// that select the incoming pod — over any topology key the nodes carry
// (kubernetes.io/hostname for "not on the same node", a zone label for
// "not in the same zone"). It scores nodes by preferred terms both ways.
type InterPodAffinity struct {
	handle framework.Handle
}

var (
	_ framework.PreFilterPlugin   = (*InterPodAffinity)(nil)
	_ framework.FilterPlugin      = (*InterPodAffinity)(nil)
	_ framework.PreScorePlugin    = (*InterPodAffinity)(nil)
	_ framework.ScorePlugin       = (*InterPodAffinity)(nil)
	_ framework.ScoreNormalizer   = (*InterPodAffinity)(nil)
	_ framework.EnqueueExtensions = (*InterPodAffinity)(nil)
)

// NewInterPodAffinity builds the plugin over the handle's snapshot.
func NewInterPodAffinity(h framework.Handle) (framework.Plugin, error) {
	return &InterPodAffinity{handle: h}, nil
}

// Name implements framework.Plugin.
func (*InterPodAffinity) Name() string { return InterPodAffinityName }

type topologyPair struct{ key, value string }

type topologyCounts map[topologyPair]int64

func (m topologyCounts) update(labels map[string]string, key string, v int64) {
	if tv, ok := labels[key]; ok {
		p := topologyPair{key, tv}
		m[p] += v
		if m[p] == 0 {
			delete(m, p)
		}
	}
}

type affinityFilterState struct {
	// existingAntiAffinity counts, per topology pair, placed pods whose
	// required anti-affinity selects the incoming pod.
	existingAntiAffinity topologyCounts
	// affinity counts placed pods that match all the incoming pod's
	// required affinity terms, per each term's topology pair.
	affinity topologyCounts
	// antiAffinity counts placed pods matching one of the incoming pod's
	// required anti-affinity terms, per that term's topology pair.
	antiAffinity topologyCounts
}

const (
	interPodFilterKey framework.StateKey = InterPodAffinityName + "/filter"
	interPodScoreKey  framework.StateKey = InterPodAffinityName + "/score"
)

func (pl *InterPodAffinity) lister() framework.NodeInfoLister {
	return pl.handle.SnapshotSharedLister().NodeInfos()
}

// PreFilter implements framework.PreFilterPlugin.
func (pl *InterPodAffinity) PreFilter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo) *framework.Status {
	if pod.ParseErr != nil {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, pod.ParseErr.Error())
	}
	withAnti := pl.lister().HavePodsWithRequiredAntiAffinityList()
	if len(pod.RequiredAffinityTerms) == 0 && len(pod.RequiredAntiAffinityTerms) == 0 && len(withAnti) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	s := &affinityFilterState{existingAntiAffinity: topologyCounts{}, affinity: topologyCounts{}, antiAffinity: topologyCounts{}}
	for _, ni := range withAnti {
		labels := ni.Node().Labels
		for _, existing := range ni.PodsWithRequiredAntiAffinity {
			for i := range existing.RequiredAntiAffinityTerms {
				t := &existing.RequiredAntiAffinityTerms[i]
				if t.Matches(pod.Pod) {
					s.existingAntiAffinity.update(labels, t.TopologyKey, 1)
				}
			}
		}
	}
	if len(pod.RequiredAffinityTerms) > 0 || len(pod.RequiredAntiAffinityTerms) > 0 {
		for _, ni := range pl.lister().List() {
			labels := ni.Node().Labels
			for _, existing := range ni.Pods {
				if len(pod.RequiredAffinityTerms) > 0 && matchesAll(pod.RequiredAffinityTerms, existing) {
					for i := range pod.RequiredAffinityTerms {
						s.affinity.update(labels, pod.RequiredAffinityTerms[i].TopologyKey, 1)
					}
				}
				for i := range pod.RequiredAntiAffinityTerms {
					t := &pod.RequiredAntiAffinityTerms[i]
					if t.Matches(existing.Pod) {
						s.antiAffinity.update(labels, t.TopologyKey, 1)
					}
				}
			}
		}
	}
	state.Write(interPodFilterKey, s)
	return nil
}

func matchesAll(terms []framework.AffinityTerm, pi *framework.PodInfo) bool {
	for i := range terms {
		if !terms[i].Matches(pi.Pod) {
			return false
		}
	}
	return true
}

// Filter implements framework.FilterPlugin.
func (pl *InterPodAffinity) Filter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	s, err := framework.ReadState[*affinityFilterState](state, interPodFilterKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	labels := ni.Node().Labels
	if !satisfiesAffinity(s, pod, labels) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonAffinityRulesNotMatch)
	}
	for i := range pod.RequiredAntiAffinityTerms {
		key := pod.RequiredAntiAffinityTerms[i].TopologyKey
		if v, ok := labels[key]; ok && s.antiAffinity[topologyPair{key, v}] > 0 {
			return framework.NewStatus(framework.Unschedulable, ErrReasonAntiAffinityRulesNotMatch)
		}
	}
	if len(s.existingAntiAffinity) > 0 {
		for k, v := range labels {
			if s.existingAntiAffinity[topologyPair{k, v}] > 0 {
				return framework.NewStatus(framework.Unschedulable, ErrReasonExistingAntiAffinityRulesNotMatch)
			}
		}
	}
	return nil
}

// satisfiesAffinity: the node has every term's topology key, and a
// matching pod in each term's topology — or no pod anywhere matches and
// the pod matches its own terms (the first of a group that wants to be
// together).
func satisfiesAffinity(s *affinityFilterState, pod *framework.PodInfo, labels map[string]string) bool {
	exist := true
	for i := range pod.RequiredAffinityTerms {
		key := pod.RequiredAffinityTerms[i].TopologyKey
		v, ok := labels[key]
		if !ok {
			return false
		}
		if s.affinity[topologyPair{key, v}] <= 0 {
			exist = false
		}
	}
	if exist {
		return true
	}
	return len(s.affinity) == 0 && matchesAll(pod.RequiredAffinityTerms, pod)
}

// EventsToRegister implements framework.EnqueueExtensions.
func (*InterPodAffinity) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.AssignedPod, ActionType: framework.All},
		{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeLabel},
	}
}

// topologyScores is, per topology key and value, the summed weights.
type topologyScores map[string]map[string]int64

func (m topologyScores) add(labels map[string]string, key string, w int64) {
	v, ok := labels[key]
	if !ok || w == 0 {
		return
	}
	if m[key] == nil {
		m[key] = map[string]int64{}
	}
	m[key][v] += w
}

// PreScore implements framework.PreScorePlugin: it sums, per topology,
// the weights of preferred terms between the incoming pod and placed
// pods, both ways, plus existing pods' required affinity terms that
// select the incoming pod (weight 1, kube-scheduler's hardPodAffinityWeight).
func (pl *InterPodAffinity) PreScore(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	hasPreferred := len(pod.PreferredAffinityTerms) > 0 || len(pod.PreferredAntiAffinityTerms) > 0
	nodes := pl.lister().HavePodsWithAffinityList()
	if hasPreferred {
		nodes = pl.lister().List()
	}
	if len(nodes) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	scores := topologyScores{}
	for _, ni := range nodes {
		labels := ni.Node().Labels
		if len(labels) == 0 {
			continue
		}
		existingPods := ni.PodsWithAffinity
		if hasPreferred {
			existingPods = ni.Pods
		}
		for _, existing := range existingPods {
			for i := range pod.PreferredAffinityTerms {
				if t := &pod.PreferredAffinityTerms[i]; t.Matches(existing.Pod) {
					scores.add(labels, t.TopologyKey, int64(t.Weight))
				}
			}
			for i := range pod.PreferredAntiAffinityTerms {
				if t := &pod.PreferredAntiAffinityTerms[i]; t.Matches(existing.Pod) {
					scores.add(labels, t.TopologyKey, -int64(t.Weight))
				}
			}
			for i := range existing.RequiredAffinityTerms {
				if t := &existing.RequiredAffinityTerms[i]; t.Matches(pod.Pod) {
					scores.add(labels, t.TopologyKey, defaultHardPodAffinityWeight)
				}
			}
			for i := range existing.PreferredAffinityTerms {
				if t := &existing.PreferredAffinityTerms[i]; t.Matches(pod.Pod) {
					scores.add(labels, t.TopologyKey, int64(t.Weight))
				}
			}
			for i := range existing.PreferredAntiAffinityTerms {
				if t := &existing.PreferredAntiAffinityTerms[i]; t.Matches(pod.Pod) {
					scores.add(labels, t.TopologyKey, -int64(t.Weight))
				}
			}
		}
	}
	if len(scores) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(interPodScoreKey, scores)
	return nil
}

// Score implements framework.ScorePlugin: the node's topologies' sums.
func (pl *InterPodAffinity) Score(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, ni *framework.NodeInfo) (int64, *framework.Status) {
	scores, err := framework.ReadState[topologyScores](state, interPodScoreKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	var s int64
	labels := ni.Node().Labels
	for key, values := range scores {
		if v, ok := labels[key]; ok {
			s += values[v]
		}
	}
	return s, nil
}

// NormalizeScore implements framework.ScoreNormalizer: min–max scaling to
// [0, 100] (sums may be negative).
func (pl *InterPodAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores framework.NodeScoreList) *framework.Status {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, s := range scores {
		lo, hi = min(lo, s.Score), max(hi, s.Score)
	}
	for i := range scores {
		if hi > lo {
			scores[i].Score = framework.MaxNodeScore * (scores[i].Score - lo) / (hi - lo)
		} else {
			scores[i].Score = 0
		}
	}
	return nil
}
