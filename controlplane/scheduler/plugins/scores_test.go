package plugins_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/controlplane/scheduler/plugins"
	st "github.com/weft-mesh/weft/controlplane/scheduler/schedtest"
)

func TestLeastAllocated(t *testing.T) {
	nodes := []*corev1.Node{
		st.MakeNode().Name("empty").Allocatable("4", "4Gi").Obj(),
		st.MakeNode().Name("half").Allocatable("4", "4Gi").Obj(),
		st.MakeNode().Name("over").Allocatable("1", "1Gi").Obj(),
	}
	bound := []*corev1.Pod{st.MakePod().Name("b").Node("half").CPU("2").Memory("2Gi").Obj()}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want map[string]int64
	}{
		// empty: cpu (4000-1000)/4000 = 75, mem (4-1)/4 = 75.
		// half: cpu (4000-3000)/4000 = 25, mem 25.
		// over: cpu 0 (1000 of 1000 → 0), mem 0.
		{"1 cpu 1Gi", st.MakePod().Name("p").CPU("1").Memory("1Gi").Obj(), map[string]int64{"empty": 75, "half": 25, "over": 0}},
		// Defaults for a pod with no requests: 100m and 200Mi.
		// empty: cpu 3900/4000 → 97, mem (4096-200)/4096 → 95; (97+95)/2 = 96.
		{"no requests count at the defaults", st.MakePod().Name("p").Obj(), map[string]int64{"empty": 96}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkScores(t, runScore(t, plugins.LeastAllocatedName, tc.pod, nodes, bound...), tc.want)
		})
	}
}

func TestBalancedAllocation(t *testing.T) {
	nodes := []*corev1.Node{
		st.MakeNode().Name("cpu-heavy").Allocatable("4", "4Gi").Obj(),
		st.MakeNode().Name("balanced").Allocatable("4", "4Gi").Obj(),
	}
	bound := []*corev1.Pod{
		st.MakePod().Name("c").Node("cpu-heavy").CPU("2").Obj(),
		st.MakePod().Name("b").Node("balanced").CPU("1").Memory("1Gi").Obj(),
	}
	// Pod 1 cpu, 1Gi. cpu-heavy: cpu 3/4, mem 1/4 → σ = 0.25 → 75.
	// balanced: 2/4 and 2/4 → 100.
	got := runScore(t, plugins.BalancedAllocationName, st.MakePod().Name("p").CPU("1").Memory("1Gi").Obj(), nodes, bound...)
	checkScores(t, got, map[string]int64{"cpu-heavy": 75, "balanced": 100})
}

func TestSelectorSpread(t *testing.T) {
	nodes := []*corev1.Node{
		st.MakeNode().Name("n1").Obj(),
		st.MakeNode().Name("n2").Obj(),
		st.MakeNode().Name("n3").Obj(),
	}
	bound := []*corev1.Pod{
		st.MakePod().Name("r1").Owner("rs-1").Node("n1").Obj(),
		st.MakePod().Name("r2").Owner("rs-1").Node("n1").Obj(),
		st.MakePod().Name("r3").Owner("rs-1").Node("n2").Obj(),
		st.MakePod().Name("other").Owner("rs-2").Node("n3").Obj(),
	}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want map[string]int64
	}{
		// Counts 2, 1, 0 of max 2 → 0, 50, 100.
		{"replica of rs-1", st.MakePod().Name("p").Owner("rs-1").Obj(), map[string]int64{"n1": 0, "n2": 50, "n3": 100}},
		{"first replica of rs-3", st.MakePod().Name("p").Owner("rs-3").Obj(), map[string]int64{"n1": 100, "n2": 100, "n3": 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkScores(t, runScore(t, plugins.SelectorSpreadName, tc.pod, nodes, bound...), tc.want)
		})
	}
	t.Run("zones weigh two thirds", func(t *testing.T) {
		zoned := []*corev1.Node{
			st.MakeNode().Name("a1").Zone("a").Obj(),
			st.MakeNode().Name("a2").Zone("a").Obj(),
			st.MakeNode().Name("b1").Zone("b").Obj(),
		}
		pods := []*corev1.Pod{st.MakePod().Name("r1").Owner("rs-1").Node("a1").Obj()}
		// a1: node 0, zone 0 → 0. a2: node 100, zone 0 → 33. b1: 100.
		got := runScore(t, plugins.SelectorSpreadName, st.MakePod().Name("p").Owner("rs-1").Obj(), zoned, pods...)
		checkScores(t, got, map[string]int64{"a1": 0, "a2": 33, "b1": 100})
	})
}

func TestNodeAffinityScore(t *testing.T) {
	nodes := []*corev1.Node{
		st.MakeNode().Name("ssd-a").Label("disk", "ssd").Zone("a").Obj(),
		st.MakeNode().Name("ssd-b").Label("disk", "ssd").Zone("b").Obj(),
		st.MakeNode().Name("hdd-a").Label("disk", "hdd").Zone("a").Obj(),
	}
	pod := st.MakePod().Name("p").
		PreferredNodeTerm(80, st.NodeTerm(st.Expr("disk", corev1.NodeSelectorOpIn, "ssd"))).
		PreferredNodeTerm(20, st.NodeTerm(st.Expr(corev1.LabelTopologyZone, corev1.NodeSelectorOpIn, "a"))).Obj()
	// ssd-a 100, ssd-b 80, hdd-a 20, scaled by the highest (100).
	checkScores(t, runScore(t, plugins.NodeAffinityName, pod, nodes), map[string]int64{"ssd-a": 100, "ssd-b": 80, "hdd-a": 20})
}

func TestTaintTolerationScore(t *testing.T) {
	nodes := []*corev1.Node{
		st.MakeNode().Name("clean").Obj(),
		st.MakeNode().Name("one").Taint("a", "", corev1.TaintEffectPreferNoSchedule).Obj(),
		st.MakeNode().Name("two").Taint("a", "", corev1.TaintEffectPreferNoSchedule).Taint("b", "", corev1.TaintEffectPreferNoSchedule).Obj(),
	}
	checkScores(t, runScore(t, plugins.TaintTolerationName, st.MakePod().Name("p").Obj(), nodes),
		map[string]int64{"clean": 100, "one": 50, "two": 0})
	tolerant := st.MakePod().Name("p").Toleration("a", corev1.TolerationOpExists, "", corev1.TaintEffectPreferNoSchedule).Obj()
	checkScores(t, runScore(t, plugins.TaintTolerationName, tolerant, nodes),
		map[string]int64{"clean": 100, "one": 100, "two": 0})
}

func TestInterPodAffinityScore(t *testing.T) {
	host := corev1.LabelHostname
	zone := corev1.LabelTopologyZone
	nodes := []*corev1.Node{
		st.MakeNode().Name("a1").Zone("a").Obj(),
		st.MakeNode().Name("a2").Zone("a").Obj(),
		st.MakeNode().Name("b1").Zone("b").Obj(),
	}
	cache := st.MakePod().Name("cache").Label("app", "cache").Node("a1").Obj()
	for _, tc := range []struct {
		name  string
		pod   *corev1.Pod
		bound []*corev1.Pod
		want  map[string]int64
	}{
		{"preferred affinity by zone", st.MakePod().Name("p").PreferredPodAffinity(10, st.Term(zone, "app", "cache")).Obj(),
			[]*corev1.Pod{cache}, map[string]int64{"a1": 100, "a2": 100, "b1": 0}},
		{"preferred anti-affinity by host", st.MakePod().Name("p").PreferredPodAntiAffinity(10, st.Term(host, "app", "cache")).Obj(),
			[]*corev1.Pod{cache}, map[string]int64{"a1": 0, "a2": 100, "b1": 100}},
		{"existing pod prefers us", st.MakePod().Name("p").Label("app", "web").Obj(),
			[]*corev1.Pod{st.MakePod().Name("c").Node("b1").PreferredPodAffinity(5, st.Term(host, "app", "web")).Obj()},
			map[string]int64{"a1": 0, "a2": 0, "b1": 100}},
		{"existing pod's required affinity attracts", st.MakePod().Name("p").Label("app", "web").Obj(),
			[]*corev1.Pod{st.MakePod().Name("c").Node("a2").PodAffinity(st.Term(host, "app", "web")).Obj()},
			map[string]int64{"a1": 0, "a2": 100, "b1": 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkScores(t, runScore(t, plugins.InterPodAffinityName, tc.pod, nodes, tc.bound...), tc.want)
		})
	}
}
