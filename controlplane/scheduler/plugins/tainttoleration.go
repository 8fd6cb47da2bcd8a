package plugins

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// TaintToleration rejects nodes with a NoSchedule or NoExecute taint the
// pod does not tolerate, and scores down nodes with PreferNoSchedule
// taints it does not tolerate.
type TaintToleration struct{}

var (
	_ framework.FilterPlugin      = (*TaintToleration)(nil)
	_ framework.PreScorePlugin    = (*TaintToleration)(nil)
	_ framework.ScorePlugin       = (*TaintToleration)(nil)
	_ framework.ScoreNormalizer   = (*TaintToleration)(nil)
	_ framework.EnqueueExtensions = (*TaintToleration)(nil)
)

// Name implements framework.Plugin.
func (*TaintToleration) Name() string { return TaintTolerationName }

// Filter implements framework.FilterPlugin.
func (*TaintToleration) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	taints := ni.Node().Spec.Taints
	for i := range taints {
		t := &taints[i]
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		if !toleratesTaint(pod.Pod.Spec.Tolerations, t) {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable,
				fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value))
		}
	}
	return nil
}

// EventsToRegister implements framework.EnqueueExtensions.
func (*TaintToleration) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeTaint}}
}

const taintStateKey framework.StateKey = TaintTolerationName

// PreScore implements framework.PreScorePlugin: it keeps the tolerations
// that can tolerate PreferNoSchedule taints.
func (*TaintToleration) PreScore(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, nodes []*framework.NodeInfo) *framework.Status {
	var tols []corev1.Toleration
	for _, t := range pod.Pod.Spec.Tolerations {
		if t.Effect == "" || t.Effect == corev1.TaintEffectPreferNoSchedule {
			tols = append(tols, t)
		}
	}
	state.Write(taintStateKey, tols)
	return nil
}

// Score implements framework.ScorePlugin: the number of PreferNoSchedule
// taints not tolerated (fewer is better after NormalizeScore).
func (*TaintToleration) Score(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, ni *framework.NodeInfo) (int64, *framework.Status) {
	taints := ni.Node().Spec.Taints
	if len(taints) == 0 {
		return 0, nil
	}
	tols, err := framework.ReadState[[]corev1.Toleration](state, taintStateKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	var n int64
	for i := range taints {
		if taints[i].Effect == corev1.TaintEffectPreferNoSchedule && !toleratesTaint(tols, &taints[i]) {
			n++
		}
	}
	return n, nil
}

// NormalizeScore implements framework.ScoreNormalizer.
func (*TaintToleration) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores framework.NodeScoreList) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, true, scores)
	return nil
}

// toleratesTaint says whether a toleration in the list matches the taint,
// with Kubernetes' rules: an empty effect matches every effect, an empty
// key with Exists matches every taint, Equal (the default) compares
// values.
func toleratesTaint(tols []corev1.Toleration, taint *corev1.Taint) bool {
	for i := range tols {
		t := &tols[i]
		if t.Effect != "" && t.Effect != taint.Effect {
			continue
		}
		if t.Key != "" && t.Key != taint.Key {
			continue
		}
		switch t.Operator {
		case corev1.TolerationOpExists:
			return true
		case "", corev1.TolerationOpEqual:
			if t.Value == taint.Value {
				return true
			}
		}
	}
	return false
}
