package cache

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
	st "github.com/weft-mesh/weft/controlplane/scheduler/schedtest"
)

func requested(t *testing.T, s *Snapshot, node string) int64 {
	t.Helper()
	ni, err := s.Get(node)
	if err != nil {
		t.Fatal(err)
	}
	return ni.Requested.MilliCPU
}

func TestAssumeConfirmForget(t *testing.T) {
	c := New()
	c.AddNode(st.MakeNode().Name("n1").Allocatable("4", "4Gi").Obj())
	snap := NewEmptySnapshot()

	pod := st.MakePod().Name("a").CPU("1").Obj()
	assumed := pod.DeepCopy()
	assumed.Spec.NodeName = "n1"
	if err := c.AssumePod(framework.NewPodInfo(assumed)); err != nil {
		t.Fatal(err)
	}
	if err := c.AssumePod(framework.NewPodInfo(assumed)); !errors.Is(err, ErrPodKnown) {
		t.Fatalf("assume twice: %v", err)
	}
	c.UpdateSnapshot(snap)
	if got := requested(t, snap, "n1"); got != 1000 {
		t.Fatalf("assumed pod not counted: %dm", got)
	}
	// The informer shows the binding: confirmed, counted once.
	if err := c.AddPod(assumed); err != nil {
		t.Fatal(err)
	}
	if c.IsAssumedPod(assumed) {
		t.Fatal("still assumed after the informer saw it")
	}
	c.UpdateSnapshot(snap)
	if got := requested(t, snap, "n1"); got != 1000 {
		t.Fatalf("confirmed pod counted %dm", got)
	}
	// Forget does nothing to a confirmed pod.
	if err := c.ForgetPod(assumed); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	if got := requested(t, snap, "n1"); got != 1000 {
		t.Fatalf("forget removed a confirmed pod: %dm", got)
	}

	// A failed binding: forgotten, room freed.
	b := st.MakePod().Name("b").CPU("2").Node("n1").Obj()
	if err := c.AssumePod(framework.NewPodInfo(b)); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	if got := requested(t, snap, "n1"); got != 3000 {
		t.Fatalf("second assumed pod: %dm", got)
	}
	if err := c.ForgetPod(b); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	if got := requested(t, snap, "n1"); got != 1000 {
		t.Fatalf("after forget: %dm", got)
	}
	if err := c.RemovePod(assumed); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	if got := requested(t, snap, "n1"); got != 0 {
		t.Fatalf("after remove: %dm", got)
	}
}

func TestSnapshotCopiesOnlyChangedNodes(t *testing.T) {
	c := New()
	for _, n := range []string{"a", "b", "c"} {
		c.AddNode(st.MakeNode().Name(n).Obj())
	}
	snap := NewEmptySnapshot()
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 3 {
		t.Fatalf("%d nodes", snap.NumNodes())
	}
	before := map[string]*framework.NodeInfo{}
	gens := map[string]int64{}
	for _, ni := range snap.List() {
		before[ni.Node().Name] = ni
		gens[ni.Node().Name] = ni.Generation
	}
	if err := c.AddPod(st.MakePod().Name("p").Node("b").CPU("1").Obj()); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	for name, ni := range before {
		got, _ := snap.Get(name)
		if got != ni {
			t.Errorf("node %s: NodeInfo pointer changed", name)
		}
		if changed := got.Generation != gens[name]; changed != (name == "b") {
			t.Errorf("node %s: generation changed %v", name, changed)
		}
	}
	// Removing a node drops it from the snapshot.
	c.RemoveNode(st.MakeNode().Name("a").Obj())
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 2 {
		t.Fatalf("after removal: %d nodes", snap.NumNodes())
	}
	if _, err := snap.Get("a"); !errors.Is(err, framework.ErrNodeNotFound) {
		t.Fatalf("removed node: %v", err)
	}
}

func TestPodBeforeItsNode(t *testing.T) {
	c := New()
	if err := c.AddPod(st.MakePod().Name("p").Node("late").CPU("1").Obj()); err != nil {
		t.Fatal(err)
	}
	snap := NewEmptySnapshot()
	c.UpdateSnapshot(snap)
	if snap.NumNodes() != 0 {
		t.Fatal("a node without a Node object is listed")
	}
	c.AddNode(st.MakeNode().Name("late").Obj())
	c.UpdateSnapshot(snap)
	if got := requested(t, snap, "late"); got != 1000 {
		t.Fatalf("pod seen before its node not counted: %dm", got)
	}
}

func TestSnapshotInterleavesZones(t *testing.T) {
	nodes := []*corev1.Node{
		st.MakeNode().Name("a1").Zone("a").Obj(), st.MakeNode().Name("a2").Zone("a").Obj(),
		st.MakeNode().Name("b1").Zone("b").Obj(), st.MakeNode().Name("b2").Zone("b").Obj(),
		st.MakeNode().Name("c1").Zone("c").Obj(),
	}
	s := NewSnapshot(nil, nodes)
	var got []string
	for _, ni := range s.List() {
		got = append(got, ni.Node().Name)
	}
	want := []string{"a1", "b1", "c1", "a2", "b2"}
	if len(got) != len(want) {
		t.Fatalf("order %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

func TestAffinityListsFollowPods(t *testing.T) {
	c := New()
	c.AddNode(st.MakeNode().Name("n").Obj())
	snap := NewEmptySnapshot()
	c.UpdateSnapshot(snap)
	anti := st.MakePod().Name("x").Node("n").PodAntiAffinity(st.Term(corev1.LabelHostname, "app", "x")).Obj()
	if err := c.AddPod(anti); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	if len(snap.HavePodsWithRequiredAntiAffinityList()) != 1 || len(snap.HavePodsWithAffinityList()) != 1 {
		t.Fatal("affinity lists not updated")
	}
	if err := c.RemovePod(anti); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	if len(snap.HavePodsWithRequiredAntiAffinityList()) != 0 {
		t.Fatal("affinity list keeps a removed pod's node")
	}
}
