package scheduler

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
	"github.com/weft-mesh/weft/controlplane/scheduler/internal/queue"
	st "github.com/weft-mesh/weft/controlplane/scheduler/schedtest"
)

// fakeCluster is a scheduler with in-memory binding and reporting: a
// binding shows up in the cache at once, as the informer would show it.
type fakeCluster struct {
	s *scheduler

	mu       sync.Mutex
	bindings map[string]string // pod → node
	failures map[string]string // pod → last message
	bindErr  error
	gate     chan struct{} // when set, bindings wait for it to close
}

func newFakeCluster(t *testing.T, nodes []*corev1.Node, bound ...*corev1.Pod) *fakeCluster {
	t.Helper()
	fc := &fakeCluster{bindings: map[string]string{}, failures: map[string]string{}}
	s, err := newScheduler(options{
		profile: DefaultProfile(),
		binder:  fc,
		report:  fc,
		queue:   queue.Options{InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond},
		seed:    42,
	})
	if err != nil {
		t.Fatal(err)
	}
	fc.s = s
	for _, n := range nodes {
		s.cache.AddNode(n)
	}
	for _, p := range bound {
		if err := s.cache.AddPod(p); err != nil {
			t.Fatal(err)
		}
	}
	return fc
}

func (fc *fakeCluster) Bind(_ context.Context, ns, name, node string) error {
	if fc.gate != nil {
		<-fc.gate
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if fc.bindErr != nil {
		return fc.bindErr
	}
	fc.bindings[name] = node
	return nil
}

func (fc *fakeCluster) Scheduled(pod *corev1.Pod, node string) {
	bound := pod.DeepCopy()
	bound.Spec.NodeName = node
	_ = fc.s.cache.AddPod(bound)
}

func (fc *fakeCluster) Unschedulable(pod *corev1.Pod, reason, msg string) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.failures[pod.Name] = reason + ": " + msg
}

// schedule runs one cycle for each queued pod and waits for the bindings.
func (fc *fakeCluster) schedule(t *testing.T, pods ...*corev1.Pod) {
	t.Helper()
	for _, p := range pods {
		fc.s.queue.Add(p)
	}
	for range pods {
		if !fc.s.scheduleOne(context.Background()) {
			t.Fatal("queue closed")
		}
	}
	fc.s.bindWG.Wait()
}

func (fc *fakeCluster) perNode() map[string]int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	out := map[string]int{}
	for _, n := range fc.bindings {
		out[n]++
	}
	return out
}

func TestScheduleCycleUnschedulableMessage(t *testing.T) {
	nodes := []*corev1.Node{
		st.MakeNode().Name("n1").Allocatable("1", "4Gi").Obj(),
		st.MakeNode().Name("n2").Allocatable("1", "4Gi").Obj(),
		st.MakeNode().Name("n3").Allocatable("8", "16Gi").Ready(corev1.ConditionUnknown).
			Taint(corev1.TaintNodeUnreachable, "", corev1.TaintEffectNoExecute).Obj(),
	}
	fc := newFakeCluster(t, nodes)
	fc.s.cache.UpdateSnapshot(fc.s.snapshot)
	_, err := fc.s.schedulePod(context.Background(), framework.NewCycleState(), framework.NewPodInfo(st.MakePod().Name("big").CPU("2").Obj()))
	var fitErr *framework.FitError
	if !errors.As(err, &fitErr) {
		t.Fatalf("schedulePod: %v, want a FitError", err)
	}
	want := "0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient cpu."
	if got := err.Error(); got != want {
		t.Fatalf("message\n got %q\nwant %q", got, want)
	}
	if p := fitErr.Diagnosis.UnschedulablePlugins; !p.Has("NodeResourcesFit") || !p.Has("TaintToleration") || p.Len() != 2 {
		t.Fatalf("unschedulable plugins %v", p.UnsortedList())
	}

	// Through the whole cycle: reported, waiting in the queue.
	fc.schedule(t, st.MakePod().Name("big").CPU("2").Obj())
	if got := fc.failures["big"]; got != "Unschedulable: "+want {
		t.Fatalf("reported %q", got)
	}
	if w := fc.s.queue.Where("default/big"); w != "unschedulable" {
		t.Fatalf("pod waits in %q", w)
	}
}

func TestScheduleCycleMessages(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nodes []*corev1.Node
		bound []*corev1.Pod
		pod   *corev1.Pod
		want  string
	}{
		{"no nodes", nil, nil, st.MakePod().Name("p").Obj(), "no nodes available to schedule pods"},
		{"not ready and cordoned",
			[]*corev1.Node{
				st.MakeNode().Name("a").Ready(corev1.ConditionFalse).Obj(),
				st.MakeNode().Name("b").Unschedulable().Obj(),
				st.MakeNode().Name("c").Allocatable("1", "1Gi").Obj(),
			}, nil, st.MakePod().Name("p").Memory("2Gi").Obj(),
			"0/3 nodes are available: 1 Insufficient memory, 1 node(s) were not ready, 1 node(s) were unschedulable."},
		{"selector, ports and pods",
			[]*corev1.Node{
				st.MakeNode().Name("a").Label("disk", "hdd").Obj(),
				st.MakeNode().Name("b").Label("disk", "ssd").Obj(),
				st.MakeNode().Name("c").Label("disk", "ssd").Pods("1").Obj(),
			},
			[]*corev1.Pod{
				st.MakePod().Name("web").Node("b").HostPort(80).Obj(),
				st.MakePod().Name("x").Node("c").Obj(),
			},
			st.MakePod().Name("p").NodeSelector("disk", "ssd").HostPort(80).Obj(),
			"0/3 nodes are available: 1 Too many pods, 1 node(s) didn't have free ports for the requested pod ports, 1 node(s) didn't match Pod's node affinity/selector."},
		{"anti-affinity",
			[]*corev1.Node{st.MakeNode().Name("a").Obj(), st.MakeNode().Name("b").Obj()},
			[]*corev1.Pod{
				st.MakePod().Name("w1").Label("app", "w").Node("a").Obj(),
				st.MakePod().Name("w2").Label("app", "w").Node("b").Obj(),
			},
			st.MakePod().Name("w3").Label("app", "w").PodAntiAffinity(st.Term(corev1.LabelHostname, "app", "w")).Obj(),
			"0/2 nodes are available: 2 node(s) didn't match pod anti-affinity rules."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fc := newFakeCluster(t, tc.nodes, tc.bound...)
			fc.schedule(t, tc.pod)
			if got := fc.failures[tc.pod.Name]; got != "Unschedulable: "+tc.want {
				t.Fatalf("reported\n got %q\nwant %q", got, "Unschedulable: "+tc.want)
			}
		})
	}
}

func TestScheduleSpreadsReplicasAndSkipsNotReady(t *testing.T) {
	nodes := []*corev1.Node{
		st.MakeNode().Name("n1").Allocatable("4", "8Gi").Obj(),
		st.MakeNode().Name("n2").Allocatable("4", "8Gi").Obj(),
		st.MakeNode().Name("n3").Allocatable("4", "8Gi").Obj(),
		st.MakeNode().Name("down").Allocatable("64", "256Gi").Ready(corev1.ConditionFalse).Obj(),
	}
	fc := newFakeCluster(t, nodes)
	var pods []*corev1.Pod
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		pods = append(pods, st.MakePod().Name("web-"+n).Owner("rs-web").CPU("100m").Memory("128Mi").Obj())
	}
	fc.schedule(t, pods...)
	got := fc.perNode()
	if got["n1"] != 2 || got["n2"] != 2 || got["n3"] != 2 || got["down"] != 0 {
		t.Fatalf("placement %v, want two per ready node", got)
	}
}

func TestScheduleCountsAssumedPods(t *testing.T) {
	// One node with room for one pod: the second pod must see the first
	// (assumed, not yet confirmed by an informer).
	nodes := []*corev1.Node{st.MakeNode().Name("n1").Allocatable("1", "1Gi").Obj()}
	fc := newFakeCluster(t, nodes)
	fc.s.queue.Add(st.MakePod().Name("a").CPU("600m").Obj())
	fc.s.queue.Add(st.MakePod().Name("b").CPU("600m").Obj())
	fc.gate = make(chan struct{}) // hold bindings back: "a" stays assumed
	ctx := context.Background()
	fc.s.scheduleOne(ctx)
	fc.s.scheduleOne(ctx)
	close(fc.gate)
	fc.s.bindWG.Wait()
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if len(fc.bindings) != 1 || len(fc.failures) != 1 {
		t.Fatalf("bindings %v failures %v", fc.bindings, fc.failures)
	}
}

func TestBindFailureRequeues(t *testing.T) {
	fc := newFakeCluster(t, []*corev1.Node{st.MakeNode().Name("n1").Allocatable("1", "1Gi").Obj()})
	fc.bindErr = errors.New("connection refused")
	fc.schedule(t, st.MakePod().Name("a").CPU("600m").Obj())
	if got := fc.failures["a"]; got == "" {
		t.Fatal("binding failure not reported")
	}
	if fc.s.cache.HasPod(st.MakePod().Name("a").Obj()) {
		t.Fatal("pod still assumed after its binding failed")
	}
	if w := fc.s.queue.Where("default/a"); w != "backoff" && w != "active" {
		t.Fatalf("pod in %q after a failed binding", w)
	}
}

func TestNodeEventMovesUnschedulablePod(t *testing.T) {
	fc := newFakeCluster(t, []*corev1.Node{st.MakeNode().Name("small").Allocatable("1", "1Gi").Obj()})
	fc.schedule(t, st.MakePod().Name("big").CPU("4").Obj())
	if w := fc.s.queue.Where("default/big"); w != "unschedulable" {
		t.Fatalf("pod in %q", w)
	}
	// A heartbeat changes nothing scheduling reads: the pod stays put.
	old := st.MakeNode().Name("small").Allocatable("1", "1Gi").Obj()
	beat := old.DeepCopy()
	beat.Status.Conditions[0].LastHeartbeatTime.Time = time.Unix(99, 0)
	fc.s.nodeHandlers().OnUpdate(old, beat)
	if w := fc.s.queue.Where("default/big"); w != "unschedulable" {
		t.Fatalf("heartbeat moved the pod to %q", w)
	}
	fc.s.nodeHandlers().OnAdd(st.MakeNode().Name("large").Allocatable("8", "8Gi").Obj(), false)
	if w := fc.s.queue.Where("default/big"); w != "active" && w != "backoff" {
		t.Fatalf("node add left the pod in %q", w)
	}
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	s := &scheduler{}
	for all, want := range map[int]int{10: 10, 99: 99, 100: 100, 1000: 420, 5000: 500, 20000: 1000} {
		if got := s.numFeasibleNodesToFind(all); got != want {
			t.Errorf("%d nodes: %d, want %d", all, got, want)
		}
	}
	s.percentageOfNodesToScore = 100
	if got := s.numFeasibleNodesToFind(1000); got != 1000 {
		t.Errorf("100%%: %d", got)
	}
}

func TestNoNodesWaitsForANode(t *testing.T) {
	fc := newFakeCluster(t, nil)
	fc.schedule(t, st.MakePod().Name("p").Obj())
	if got := fc.failures["p"]; got != "Unschedulable: no nodes available to schedule pods" {
		t.Fatalf("reported %q", got)
	}
	if w := fc.s.queue.Where("default/p"); w != "unschedulable" {
		t.Fatalf("pod in %q, want unschedulable until a node comes", w)
	}
	fc.s.nodeHandlers().OnAdd(st.MakeNode().Name("n1").Obj(), false)
	if w := fc.s.queue.Where("default/p"); w != "active" && w != "backoff" {
		t.Fatalf("node add left the pod in %q", w)
	}
}
