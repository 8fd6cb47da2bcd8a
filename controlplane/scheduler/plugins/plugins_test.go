package plugins_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
	"github.com/weft-mesh/weft/controlplane/scheduler/internal/cache"
	"github.com/weft-mesh/weft/controlplane/scheduler/plugins"
)

// snapshotHandle serves a fixed snapshot to plugins.
type snapshotHandle struct{ s *cache.Snapshot }

func (h snapshotHandle) SnapshotSharedLister() framework.SharedLister { return h.s }

// filterResult is what a test expects of one node.
type filterResult struct {
	code    framework.Code
	reasons []string
}

// runFilter runs one filter plugin (its PreFilter first) for pod on every
// node, over a snapshot of nodes and the bound pods, and returns each
// node's result by name.
func runFilter(t *testing.T, name string, pod *corev1.Pod, nodes []*corev1.Node, bound ...*corev1.Pod) map[string]filterResult {
	t.Helper()
	snap := cache.NewSnapshot(bound, nodes)
	fwk, err := framework.New(plugins.NewRegistry(), framework.Profile{Filters: []string{name}}, snapshotHandle{snap})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	state := framework.NewCycleState()
	pi := framework.NewPodInfo(pod)
	out := map[string]filterResult{}
	if st := fwk.RunPreFilterPlugins(ctx, state, pi); !st.IsSuccess() {
		for _, n := range nodes {
			out[n.Name] = filterResult{st.Code(), st.Reasons()}
		}
		return out
	}
	for _, ni := range snap.List() {
		st := fwk.RunFilterPlugins(ctx, state, pi, ni)
		if st.Code() == framework.Error {
			t.Fatalf("filter %s on %s: %v", name, ni.Node().Name, st.AsError())
		}
		if !st.IsSuccess() && st.Plugin() != name {
			t.Fatalf("status plugin %q, want %q", st.Plugin(), name)
		}
		out[ni.Node().Name] = filterResult{st.Code(), st.Reasons()}
	}
	return out
}

// runScore runs one score plugin (its PreScore first) over all nodes and
// returns the normalized, unweighted scores by node name.
func runScore(t *testing.T, name string, pod *corev1.Pod, nodes []*corev1.Node, bound ...*corev1.Pod) map[string]int64 {
	t.Helper()
	snap := cache.NewSnapshot(bound, nodes)
	fwk, err := framework.New(plugins.NewRegistry(), framework.Profile{Scores: []framework.WeightedPlugin{{Name: name, Weight: 1}}}, snapshotHandle{snap})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	state := framework.NewCycleState()
	pi := framework.NewPodInfo(pod)
	list := snap.List()
	if st := fwk.RunPreScorePlugins(ctx, state, pi, list); !st.IsSuccess() {
		t.Fatalf("prescore: %v", st.AsError())
	}
	scores, st := fwk.RunScorePlugins(ctx, state, pi, list)
	if !st.IsSuccess() {
		t.Fatalf("score: %v", st.AsError())
	}
	out := map[string]int64{}
	for _, s := range scores {
		out[s.Name] = s.Score
	}
	return out
}

func ok() filterResult { return filterResult{code: framework.Success} }

func rejected(code framework.Code, reasons ...string) filterResult {
	return filterResult{code: code, reasons: reasons}
}

func checkFilter(t *testing.T, got, want map[string]filterResult) {
	t.Helper()
	for node, w := range want {
		g := got[node]
		if g.code != w.code || !equalStrings(g.reasons, w.reasons) {
			t.Errorf("node %s: got %v %q, want %v %q", node, g.code, g.reasons, w.code, w.reasons)
		}
	}
}

func checkScores(t *testing.T, got, want map[string]int64) {
	t.Helper()
	for node, w := range want {
		if got[node] != w {
			t.Errorf("node %s: score %d, want %d (all: %v)", node, got[node], w, got)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRegistryHasEveryPlugin(t *testing.T) {
	r := plugins.NewRegistry()
	for _, n := range []string{
		plugins.NodeUnschedulableName, plugins.NodeNameName, plugins.TaintTolerationName, plugins.NodeReadyName,
		plugins.NodeAffinityName, plugins.NodePortsName, plugins.NodeResourcesFitName, plugins.InterPodAffinityName,
		plugins.LeastAllocatedName, plugins.BalancedAllocationName, plugins.SelectorSpreadName,
	} {
		if _, ok := r[n]; !ok {
			t.Errorf("registry lacks %s", n)
		}
	}
	if err := r.Register(plugins.NodeReadyName, r[plugins.NodeReadyName]); err == nil {
		t.Error("registering a built-in name again succeeded")
	}
}
