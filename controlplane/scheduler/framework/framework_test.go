package framework_test

import (
	"context"
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
	st "github.com/weft-mesh/weft/controlplane/scheduler/schedtest"
)

func TestStatus(t *testing.T) {
	var nilStatus *framework.Status
	if !nilStatus.IsSuccess() || nilStatus.Code() != framework.Success || nilStatus.AsError() != nil {
		t.Error("nil status is not success")
	}
	s := framework.NewStatus(framework.Unschedulable, "Insufficient cpu", "Insufficient memory").WithPlugin("Fit")
	if !s.IsRejected() || s.Message() != "Insufficient cpu, Insufficient memory" || s.Plugin() != "Fit" {
		t.Errorf("status %v %q %q", s.Code(), s.Message(), s.Plugin())
	}
	base := errors.New("boom")
	if e := framework.AsStatus(base); e.Code() != framework.Error || !errors.Is(e.AsError(), base) {
		t.Errorf("AsStatus: %v %v", e.Code(), e.AsError())
	}
	if framework.NewStatus(framework.Skip).AsError() != nil {
		t.Error("skip is an error")
	}
}

type fakePlugin struct{ name string }

func (p fakePlugin) Name() string { return p.name }
func (p fakePlugin) Filter(context.Context, *framework.CycleState, *framework.PodInfo, *framework.NodeInfo) *framework.Status {
	return nil
}

func factory(name string) framework.Factory {
	return func(framework.Handle) (framework.Plugin, error) { return fakePlugin{name}, nil }
}

func TestRegistryRefusesDuplicates(t *testing.T) {
	r := framework.Registry{}
	if err := r.Register("A", factory("A")); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("A", factory("A")); !errors.Is(err, framework.ErrDuplicatePlugin) {
		t.Fatalf("second Register: %v, want ErrDuplicatePlugin", err)
	}
	if err := r.Merge(framework.Registry{"B": factory("B"), "A": factory("A")}); !errors.Is(err, framework.ErrDuplicatePlugin) {
		t.Fatalf("Merge: %v, want ErrDuplicatePlugin", err)
	}
}

func TestNewChecksProfile(t *testing.T) {
	r := framework.Registry{"F": factory("F")}
	for _, tc := range []struct {
		name string
		p    framework.Profile
	}{
		{"unknown plugin", framework.Profile{Filters: []string{"X"}}},
		{"listed twice", framework.Profile{Filters: []string{"F", "F"}}},
		{"not a score plugin", framework.Profile{Scores: []framework.WeightedPlugin{{Name: "F", Weight: 1}}}},
		{"zero weight", framework.Profile{Scores: []framework.WeightedPlugin{{Name: "F"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := framework.New(r, tc.p, nil); err == nil {
				t.Fatal("New accepted the profile")
			}
		})
	}
	if _, err := framework.New(r, framework.Profile{Filters: []string{"F"}}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestPodRequests(t *testing.T) {
	cpu := corev1.ResourceCPU
	mem := corev1.ResourceMemory
	withOverhead := st.MakePod().Name("p").CPU("100m").Obj()
	withOverhead.Spec.Overhead = corev1.ResourceList{cpu: resource.MustParse("50m")}
	podLevel := st.MakePod().Name("p").CPU("100m").Memory("64Mi").Obj()
	podLevel.Spec.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{cpu: resource.MustParse("1")}}
	for _, tc := range []struct {
		name            string
		pod             *corev1.Pod
		milliCPU, memMi int64
		nzCPU, nzMemMi  int64
	}{
		{"none", st.MakePod().Name("p").Obj(), 0, 0, 100, 200},
		{"one container", st.MakePod().Name("p").CPU("500m").Memory("1Gi").Obj(), 500, 1024, 500, 1024},
		{"containers sum", st.MakePod().Name("p").CPU("500m").Container(map[corev1.ResourceName]string{cpu: "250m"}).Obj(), 750, 0, 750, 400},
		{"init max beats the sum", st.MakePod().Name("p").CPU("100m").
			InitReq(map[corev1.ResourceName]string{cpu: "1", mem: "10Mi"}).
			InitReq(map[corev1.ResourceName]string{cpu: "2"}).Obj(), 2000, 10, 2000, 200},
		{"sum beats a small init", st.MakePod().Name("p").CPU("1").InitReq(map[corev1.ResourceName]string{cpu: "200m"}).Obj(), 1000, 0, 1000, 200},
		{"sidecar runs beside later init containers and the app", st.MakePod().Name("p").CPU("1").
			SidecarReq(map[corev1.ResourceName]string{cpu: "500m"}).
			InitReq(map[corev1.ResourceName]string{cpu: "2"}).Obj(), 2500, 0, 2500, 400},
		{"overhead", withOverhead, 150, 0, 150, 200},
		{"pod-level requests", podLevel, 1000, 64, 1000, 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, nz := framework.PodRequests(tc.pod)
			if r.MilliCPU != tc.milliCPU || r.Memory != tc.memMi<<20 {
				t.Errorf("requests cpu %dm mem %d, want %dm %dMi", r.MilliCPU, r.Memory, tc.milliCPU, tc.memMi)
			}
			if nz.MilliCPU != tc.nzCPU || nz.Memory != tc.nzMemMi<<20 {
				t.Errorf("non-zero cpu %dm mem %d, want %dm %dMi", nz.MilliCPU, nz.Memory, tc.nzCPU, tc.nzMemMi)
			}
		})
	}
}

func TestNodeInfoAddRemove(t *testing.T) {
	ni := framework.NewNodeInfo()
	ni.SetNode(st.MakeNode().Name("n").Allocatable("2", "2Gi").Obj())
	a := framework.NewPodInfo(st.MakePod().Name("a").CPU("500m").HostPort(80).Owner("rs").Node("n").Obj())
	b := framework.NewPodInfo(st.MakePod().Name("b").CPU("250m").Owner("rs").Node("n").Obj())
	ni.AddPod(a)
	ni.AddPod(b)
	if ni.Requested.MilliCPU != 750 || ni.OwnerCount("rs") != 2 || !ni.UsedPorts.CheckConflict("", "TCP", 80) {
		t.Fatalf("after add: cpu %d owners %d", ni.Requested.MilliCPU, ni.OwnerCount("rs"))
	}
	clone := ni.Clone()
	if err := ni.RemovePod(a.Pod); err != nil {
		t.Fatal(err)
	}
	if ni.Requested.MilliCPU != 250 || ni.OwnerCount("rs") != 1 || ni.UsedPorts.CheckConflict("", "TCP", 80) || len(ni.Pods) != 1 {
		t.Fatalf("after remove: cpu %d owners %d pods %d", ni.Requested.MilliCPU, ni.OwnerCount("rs"), len(ni.Pods))
	}
	if clone.Requested.MilliCPU != 750 || clone.OwnerCount("rs") != 2 || !clone.UsedPorts.CheckConflict("", "TCP", 80) || len(clone.Pods) != 2 {
		t.Fatal("the clone changed with the original")
	}
	if err := ni.RemovePod(a.Pod); err == nil {
		t.Fatal("removing a missing pod succeeded")
	}
}

func TestFitErrorMessage(t *testing.T) {
	cpu := framework.NewStatus(framework.Unschedulable, "Insufficient cpu")
	taint := framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint {node.kubernetes.io/unreachable: }")
	for _, tc := range []struct {
		name string
		err  *framework.FitError
		want string
	}{
		{"counts sorted", &framework.FitError{NumAllNodes: 3, Diagnosis: framework.Diagnosis{NodeToStatus: map[string]*framework.Status{
			"a": cpu, "b": cpu, "c": taint}}},
			"0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient cpu."},
		{"several reasons on one node", &framework.FitError{NumAllNodes: 2, Diagnosis: framework.Diagnosis{NodeToStatus: map[string]*framework.Status{
			"a": framework.NewStatus(framework.Unschedulable, "Insufficient cpu", "Insufficient memory"), "b": cpu}}},
			"0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu."},
		{"prefilter", &framework.FitError{NumAllNodes: 5, Diagnosis: framework.Diagnosis{PreFilterMsg: "bad selector",
			NodeToStatus: map[string]*framework.Status{"a": cpu}, UnschedulablePlugins: sets.New("X")}},
			"0/5 nodes are available: bad selector."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestDefaultNormalizeScore(t *testing.T) {
	scores := framework.NodeScoreList{{Name: "a", Score: 0}, {Name: "b", Score: 5}, {Name: "c", Score: 10}}
	framework.DefaultNormalizeScore(100, false, scores)
	if scores[0].Score != 0 || scores[1].Score != 50 || scores[2].Score != 100 {
		t.Errorf("normalize: %v", scores)
	}
	scores = framework.NodeScoreList{{Name: "a", Score: 0}, {Name: "b", Score: 0}}
	framework.DefaultNormalizeScore(100, true, scores)
	if scores[0].Score != 100 || scores[1].Score != 100 {
		t.Errorf("reverse of zeros: %v", scores)
	}
}

func TestHostPortInfo(t *testing.T) {
	var h framework.HostPortInfo
	h.Add("127.0.0.1", "TCP", 80)
	h.Add("", "", 443)
	for _, tc := range []struct {
		ip, proto string
		port      int32
		want      bool
	}{
		{"127.0.0.1", "TCP", 80, true},
		{"127.0.0.2", "TCP", 80, false},
		{"0.0.0.0", "TCP", 80, true},
		{"127.0.0.1", "UDP", 80, false},
		{"10.1.1.1", "TCP", 443, true},
		{"", "UDP", 443, false},
	} {
		if got := h.CheckConflict(tc.ip, tc.proto, tc.port); got != tc.want {
			t.Errorf("CheckConflict(%s %s %d) = %v", tc.ip, tc.proto, tc.port, got)
		}
	}
	h.Remove("0.0.0.0", "TCP", 443)
	if h.CheckConflict("10.1.1.1", "TCP", 443) {
		t.Error("port still taken after Remove")
	}
}
