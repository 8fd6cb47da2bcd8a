package plugins_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
	"github.com/weft-mesh/weft/controlplane/scheduler/plugins"
	st "github.com/weft-mesh/weft/controlplane/scheduler/schedtest"
)

const (
	unresolvable = framework.UnschedulableAndUnresolvable
	unsched      = framework.Unschedulable
)

func TestNodeUnschedulable(t *testing.T) {
	cordoned := st.MakeNode().Name("cordoned").Unschedulable().Obj()
	open := st.MakeNode().Name("open").Obj()
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want map[string]filterResult
	}{
		{"cordoned node refused", st.MakePod().Name("p").Obj(), map[string]filterResult{
			"cordoned": rejected(unresolvable, plugins.ErrReasonUnschedulable), "open": ok()}},
		{"toleration of the unschedulable taint", st.MakePod().Name("p").Toleration(corev1.TaintNodeUnschedulable, corev1.TolerationOpExists, "", corev1.TaintEffectNoSchedule).Obj(),
			map[string]filterResult{"cordoned": ok(), "open": ok()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkFilter(t, runFilter(t, plugins.NodeUnschedulableName, tc.pod, []*corev1.Node{cordoned, open}), tc.want)
		})
	}
}

func TestNodeReady(t *testing.T) {
	nodes := []*corev1.Node{
		st.MakeNode().Name("ready").Obj(),
		st.MakeNode().Name("notready").Ready(corev1.ConditionFalse).Obj(),
		st.MakeNode().Name("unknown").Ready(corev1.ConditionUnknown).Obj(),
		st.MakeNode().Name("nocondition").NoConditions().Obj(),
	}
	notReady := rejected(unresolvable, plugins.ErrReasonNotReady)
	checkFilter(t, runFilter(t, plugins.NodeReadyName, st.MakePod().Name("p").Obj(), nodes), map[string]filterResult{
		"ready": ok(), "notready": notReady, "unknown": notReady, "nocondition": notReady,
	})
}

func TestNodeName(t *testing.T) {
	nodes := []*corev1.Node{st.MakeNode().Name("a").Obj(), st.MakeNode().Name("b").Obj()}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want map[string]filterResult
	}{
		{"no node name", st.MakePod().Name("p").Obj(), map[string]filterResult{"a": ok(), "b": ok()}},
		{"names a", st.MakePod().Name("p").Node("a").Obj(), map[string]filterResult{"a": ok(), "b": rejected(unresolvable, plugins.ErrReasonNodeName)}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkFilter(t, runFilter(t, plugins.NodeNameName, tc.pod, nodes), tc.want) })
	}
}

func TestTaintTolerationFilter(t *testing.T) {
	nodes := []*corev1.Node{
		st.MakeNode().Name("clean").Obj(),
		st.MakeNode().Name("gpu").Taint("gpu", "true", corev1.TaintEffectNoSchedule).Obj(),
		st.MakeNode().Name("unreachable").Taint(corev1.TaintNodeUnreachable, "", corev1.TaintEffectNoExecute).Obj(),
		st.MakeNode().Name("soft").Taint("soft", "x", corev1.TaintEffectPreferNoSchedule).Obj(),
	}
	gpuTaint := rejected(unresolvable, "node(s) had untolerated taint {gpu: true}")
	unreachable := rejected(unresolvable, "node(s) had untolerated taint {node.kubernetes.io/unreachable: }")
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want map[string]filterResult
	}{
		{"no tolerations", st.MakePod().Name("p").Obj(),
			map[string]filterResult{"clean": ok(), "gpu": gpuTaint, "unreachable": unreachable, "soft": ok()}},
		{"equal toleration", st.MakePod().Name("p").Toleration("gpu", corev1.TolerationOpEqual, "true", corev1.TaintEffectNoSchedule).Obj(),
			map[string]filterResult{"gpu": ok(), "unreachable": unreachable}},
		{"equal toleration, other value", st.MakePod().Name("p").Toleration("gpu", corev1.TolerationOpEqual, "false", corev1.TaintEffectNoSchedule).Obj(),
			map[string]filterResult{"gpu": gpuTaint}},
		{"exists toleration any effect", st.MakePod().Name("p").Toleration("gpu", corev1.TolerationOpExists, "", "").Obj(),
			map[string]filterResult{"gpu": ok()}},
		{"toleration of another effect", st.MakePod().Name("p").Toleration("gpu", corev1.TolerationOpExists, "", corev1.TaintEffectNoExecute).Obj(),
			map[string]filterResult{"gpu": gpuTaint}},
		{"tolerate everything", st.MakePod().Name("p").Toleration("", corev1.TolerationOpExists, "", "").Obj(),
			map[string]filterResult{"clean": ok(), "gpu": ok(), "unreachable": ok(), "soft": ok()}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkFilter(t, runFilter(t, plugins.TaintTolerationName, tc.pod, nodes), tc.want) })
	}
}

func TestNodeAffinityFilter(t *testing.T) {
	nodes := []*corev1.Node{
		st.MakeNode().Name("ssd-a").Label("disk", "ssd").Zone("a").Label("cores", "8").Obj(),
		st.MakeNode().Name("hdd-b").Label("disk", "hdd").Zone("b").Label("cores", "2").Obj(),
		st.MakeNode().Name("bare").Obj(),
	}
	miss := rejected(unresolvable, plugins.ErrReasonNodeAffinity)
	zone := corev1.LabelTopologyZone
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want map[string]filterResult
	}{
		{"nothing required", st.MakePod().Name("p").Obj(), map[string]filterResult{"ssd-a": ok(), "hdd-b": ok(), "bare": ok()}},
		{"nodeSelector", st.MakePod().Name("p").NodeSelector("disk", "ssd").Obj(),
			map[string]filterResult{"ssd-a": ok(), "hdd-b": miss, "bare": miss}},
		{"In", st.MakePod().Name("p").RequiredNodeTerm(st.NodeTerm(st.Expr(zone, corev1.NodeSelectorOpIn, "b", "c"))).Obj(),
			map[string]filterResult{"ssd-a": miss, "hdd-b": ok(), "bare": miss}},
		{"NotIn matches nodes without the label", st.MakePod().Name("p").RequiredNodeTerm(st.NodeTerm(st.Expr("disk", corev1.NodeSelectorOpNotIn, "hdd"))).Obj(),
			map[string]filterResult{"ssd-a": ok(), "hdd-b": miss, "bare": ok()}},
		{"Exists", st.MakePod().Name("p").RequiredNodeTerm(st.NodeTerm(st.Expr("disk", corev1.NodeSelectorOpExists))).Obj(),
			map[string]filterResult{"ssd-a": ok(), "hdd-b": ok(), "bare": miss}},
		{"DoesNotExist", st.MakePod().Name("p").RequiredNodeTerm(st.NodeTerm(st.Expr("disk", corev1.NodeSelectorOpDoesNotExist))).Obj(),
			map[string]filterResult{"ssd-a": miss, "hdd-b": miss, "bare": ok()}},
		{"Gt", st.MakePod().Name("p").RequiredNodeTerm(st.NodeTerm(st.Expr("cores", corev1.NodeSelectorOpGt, "4"))).Obj(),
			map[string]filterResult{"ssd-a": ok(), "hdd-b": miss, "bare": miss}},
		{"Lt", st.MakePod().Name("p").RequiredNodeTerm(st.NodeTerm(st.Expr("cores", corev1.NodeSelectorOpLt, "4"))).Obj(),
			map[string]filterResult{"ssd-a": miss, "hdd-b": ok(), "bare": miss}},
		{"expressions in a term are ANDed", st.MakePod().Name("p").RequiredNodeTerm(st.NodeTerm(
			st.Expr("disk", corev1.NodeSelectorOpIn, "ssd"), st.Expr(zone, corev1.NodeSelectorOpIn, "b"))).Obj(),
			map[string]filterResult{"ssd-a": miss, "hdd-b": miss}},
		{"terms are ORed", st.MakePod().Name("p").
			RequiredNodeTerm(st.NodeTerm(st.Expr("disk", corev1.NodeSelectorOpIn, "ssd"))).
			RequiredNodeTerm(st.NodeTerm(st.Expr(zone, corev1.NodeSelectorOpIn, "b"))).Obj(),
			map[string]filterResult{"ssd-a": ok(), "hdd-b": ok(), "bare": miss}},
		{"matchFields metadata.name", st.MakePod().Name("p").RequiredNodeTerm(corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{
			st.Expr("metadata.name", corev1.NodeSelectorOpIn, "bare")}}).Obj(),
			map[string]filterResult{"ssd-a": miss, "hdd-b": miss, "bare": ok()}},
		{"empty term matches nothing", st.MakePod().Name("p").RequiredNodeTerm(corev1.NodeSelectorTerm{}).Obj(),
			map[string]filterResult{"ssd-a": miss, "hdd-b": miss, "bare": miss}},
		{"selector and affinity both apply", st.MakePod().Name("p").NodeSelector("disk", "ssd").
			RequiredNodeTerm(st.NodeTerm(st.Expr(zone, corev1.NodeSelectorOpIn, "b"))).Obj(),
			map[string]filterResult{"ssd-a": miss, "hdd-b": miss}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkFilter(t, runFilter(t, plugins.NodeAffinityName, tc.pod, nodes), tc.want) })
	}
}

func TestNodePorts(t *testing.T) {
	nodes := []*corev1.Node{st.MakeNode().Name("a").Obj(), st.MakeNode().Name("b").Obj()}
	bound := []*corev1.Pod{
		st.MakePod().Name("web").Node("a").HostPort(8080).Obj(),
		st.MakePod().Name("dns").Node("b").HostPortIP("10.0.0.1", corev1.ProtocolUDP, 53).Obj(),
	}
	taken := rejected(unsched, plugins.ErrReasonNodePorts)
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want map[string]filterResult
	}{
		{"no host ports", st.MakePod().Name("p").Obj(), map[string]filterResult{"a": ok(), "b": ok()}},
		{"same port", st.MakePod().Name("p").HostPort(8080).Obj(), map[string]filterResult{"a": taken, "b": ok()}},
		{"other port", st.MakePod().Name("p").HostPort(8081).Obj(), map[string]filterResult{"a": ok(), "b": ok()}},
		{"wildcard against a specific address", st.MakePod().Name("p").HostPortIP("", corev1.ProtocolUDP, 53).Obj(),
			map[string]filterResult{"a": ok(), "b": taken}},
		{"other address", st.MakePod().Name("p").HostPortIP("10.0.0.2", corev1.ProtocolUDP, 53).Obj(),
			map[string]filterResult{"b": ok()}},
		{"other protocol", st.MakePod().Name("p").HostPortIP("10.0.0.1", corev1.ProtocolTCP, 53).Obj(),
			map[string]filterResult{"b": ok()}},
		{"specific address against a wildcard", st.MakePod().Name("p").HostPortIP("10.0.0.9", corev1.ProtocolTCP, 8080).Obj(),
			map[string]filterResult{"a": taken}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkFilter(t, runFilter(t, plugins.NodePortsName, tc.pod, nodes, bound...), tc.want)
		})
	}
}

func TestNodeResourcesFit(t *testing.T) {
	nodes := []*corev1.Node{
		st.MakeNode().Name("small").Allocatable("1", "1Gi").Obj(),
		st.MakeNode().Name("big").Allocatable("8", "16Gi").Res(map[corev1.ResourceName]string{"example.com/gpu": "1"}).Obj(),
		st.MakeNode().Name("full").Allocatable("8", "16Gi").Pods("1").Obj(),
	}
	bound := []*corev1.Pod{
		st.MakePod().Name("used").Node("small").CPU("600m").Memory("512Mi").Obj(),
		st.MakePod().Name("one").Node("full").Obj(),
	}
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		want map[string]filterResult
	}{
		{"fits", st.MakePod().Name("p").CPU("400m").Memory("512Mi").Obj(),
			map[string]filterResult{"small": ok(), "big": ok(), "full": rejected(unsched, plugins.ErrReasonTooManyPods)}},
		{"cpu", st.MakePod().Name("p").CPU("500m").Obj(),
			map[string]filterResult{"small": rejected(unsched, "Insufficient cpu"), "big": ok()}},
		{"cpu and memory", st.MakePod().Name("p").CPU("2").Memory("2Gi").Obj(),
			map[string]filterResult{"small": rejected(unsched, "Insufficient cpu", "Insufficient memory"), "big": ok(),
				"full": rejected(unsched, plugins.ErrReasonTooManyPods)}},
		{"no requests fit anywhere with room", st.MakePod().Name("p").Obj(),
			map[string]filterResult{"small": ok(), "big": ok()}},
		{"extended resource", st.MakePod().Name("p").Req(map[corev1.ResourceName]string{"example.com/gpu": "1"}).Obj(),
			map[string]filterResult{"small": rejected(unsched, "Insufficient example.com/gpu"), "big": ok()}},
		{"init container larger than the app", st.MakePod().Name("p").CPU("100m").InitReq(map[corev1.ResourceName]string{corev1.ResourceCPU: "500m"}).Obj(),
			map[string]filterResult{"small": rejected(unsched, "Insufficient cpu"), "big": ok()}},
		{"init containers take the max, not the sum", st.MakePod().Name("p").CPU("100m").
			InitReq(map[corev1.ResourceName]string{corev1.ResourceCPU: "300m"}).
			InitReq(map[corev1.ResourceName]string{corev1.ResourceCPU: "300m"}).Obj(),
			map[string]filterResult{"small": ok()}},
		{"sidecar adds to the app", st.MakePod().Name("p").CPU("300m").SidecarReq(map[corev1.ResourceName]string{corev1.ResourceCPU: "200m"}).Obj(),
			map[string]filterResult{"small": rejected(unsched, "Insufficient cpu")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkFilter(t, runFilter(t, plugins.NodeResourcesFitName, tc.pod, nodes, bound...), tc.want)
		})
	}
}

func TestInterPodAffinityFilter(t *testing.T) {
	host := corev1.LabelHostname
	zone := corev1.LabelTopologyZone
	nodes := []*corev1.Node{
		st.MakeNode().Name("a1").Zone("a").Obj(),
		st.MakeNode().Name("a2").Zone("a").Obj(),
		st.MakeNode().Name("b1").Zone("b").Obj(),
		st.MakeNode().Name("nozone").Obj(),
	}
	web := st.MakePod().Name("web-1").Label("app", "web").Node("a1").Obj()
	anti := rejected(unsched, plugins.ErrReasonAntiAffinityRulesNotMatch)
	aff := rejected(unresolvable, plugins.ErrReasonAffinityRulesNotMatch)
	existing := rejected(unsched, plugins.ErrReasonExistingAntiAffinityRulesNotMatch)
	for _, tc := range []struct {
		name  string
		pod   *corev1.Pod
		bound []*corev1.Pod
		want  map[string]filterResult
	}{
		{"no affinity", st.MakePod().Name("p").Obj(), []*corev1.Pod{web},
			map[string]filterResult{"a1": ok(), "a2": ok(), "b1": ok(), "nozone": ok()}},
		{"anti-affinity by hostname", st.MakePod().Name("p").Label("app", "web").PodAntiAffinity(st.Term(host, "app", "web")).Obj(), []*corev1.Pod{web},
			map[string]filterResult{"a1": anti, "a2": ok(), "b1": ok(), "nozone": ok()}},
		{"anti-affinity by zone", st.MakePod().Name("p").PodAntiAffinity(st.Term(zone, "app", "web")).Obj(), []*corev1.Pod{web},
			map[string]filterResult{"a1": anti, "a2": anti, "b1": ok(), "nozone": ok()}},
		{"anti-affinity in another namespace does not match", st.MakePod().Name("p").Namespace("other").PodAntiAffinity(st.Term(host, "app", "web")).Obj(), []*corev1.Pod{web},
			map[string]filterResult{"a1": ok()}},
		{"existing pod's anti-affinity keeps us off its node", st.MakePod().Name("p").Label("app", "db").Obj(),
			[]*corev1.Pod{st.MakePod().Name("lonely").Node("b1").PodAntiAffinity(st.Term(host, "app", "db")).Obj()},
			map[string]filterResult{"a1": ok(), "b1": existing}},
		{"affinity by zone", st.MakePod().Name("p").PodAffinity(st.Term(zone, "app", "web")).Obj(), []*corev1.Pod{web},
			map[string]filterResult{"a1": ok(), "a2": ok(), "b1": aff, "nozone": aff}},
		{"affinity with no match anywhere, pod matches itself", st.MakePod().Name("p").Label("app", "cache").PodAffinity(st.Term(host, "app", "cache")).Obj(), []*corev1.Pod{web},
			map[string]filterResult{"a1": ok(), "b1": ok()}},
		{"affinity with no match anywhere", st.MakePod().Name("p").PodAffinity(st.Term(host, "app", "cache")).Obj(), []*corev1.Pod{web},
			map[string]filterResult{"a1": aff, "b1": aff}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkFilter(t, runFilter(t, plugins.InterPodAffinityName, tc.pod, nodes, tc.bound...), tc.want)
		})
	}
}
