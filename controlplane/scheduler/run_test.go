package scheduler_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/apiserver/apiservertest"
	"github.com/weft-mesh/weft/controlplane/scheduler"
	st "github.com/weft-mesh/weft/controlplane/scheduler/schedtest"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

// waitFor polls cond until it holds or the context ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s (last error: %v)", what, lastErr)
		case <-tick.C:
		}
	}
}

func createNode(ctx context.Context, t *testing.T, c *client.Client, n *corev1.Node) {
	t.Helper()
	if _, _, err := c.Create(ctx, n); err != nil {
		t.Fatalf("create node %s: %v", n.Name, err)
	}
}

func listPods(ctx context.Context, c *client.Client) (map[string]*corev1.Pod, error) {
	objs, _, err := c.List(ctx, api.LookupName("pods"), "default", client.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]*corev1.Pod{}
	for _, o := range objs {
		p := o.(*corev1.Pod)
		out[p.Name] = p
	}
	return out, nil
}

func condition(p *corev1.Pod, typ corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == typ {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func TestRunAgainstAPIServer(t *testing.T) {
	srv := apiservertest.Start(t, boltstore.Options{})
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()

	for _, n := range []string{"n1", "n2", "n3"} {
		createNode(ctx, t, c, st.MakeNode().Name(n).Allocatable("4", "8Gi").Obj())
	}
	createNode(ctx, t, c, st.MakeNode().Name("down").Allocatable("64", "256Gi").Ready(corev1.ConditionFalse).Obj())

	runCtx, stop := context.WithCancel(ctx)
	runErr := make(chan error, 1)
	go func() {
		runErr <- scheduler.Run(runCtx, scheduler.Config{
			Client: c, Log: zaptest.NewLogger(t),
			PodInitialBackoff: 20 * time.Millisecond, PodMaxBackoff: 200 * time.Millisecond,
		})
	}()
	defer func() {
		stop()
		select {
		case err := <-runErr:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	}()

	// Six replicas of one owner spread over the three ready nodes.
	yes := true
	owner := []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-5d4f", UID: "0a6b5e3c-8f61-4d0e-9a4e-2f7c1d9b6a11", Controller: &yes}}
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		p := st.MakePod().Name("web-" + n).UID("").CPU("100m").Memory("128Mi").Obj()
		p.OwnerReferences = owner
		if _, _, err := c.Create(ctx, p); err != nil {
			t.Fatalf("create pod: %v", err)
		}
	}
	// A pod other schedulers own is left alone.
	if _, _, err := c.Create(ctx, st.MakePod().Name("other").UID("").SchedulerName("other-scheduler").Obj()); err != nil {
		t.Fatal(err)
	}
	perNode := map[string]int{}
	waitFor(ctx, t, "six bound pods", func() (bool, error) {
		pods, err := listPods(ctx, c)
		if err != nil {
			return false, err
		}
		clear(perNode)
		for name, p := range pods {
			if name != "other" && p.Spec.NodeName != "" {
				perNode[p.Spec.NodeName]++
			}
		}
		return perNode["n1"]+perNode["n2"]+perNode["n3"]+perNode["down"] == 6, nil
	})
	if perNode["down"] != 0 {
		t.Fatalf("the NotReady node got pods: %v", perNode)
	}
	lo, hi := 6, 0
	for _, n := range []string{"n1", "n2", "n3"} {
		lo, hi = min(lo, perNode[n]), max(hi, perNode[n])
	}
	if lo < 1 || hi-lo > 1 {
		t.Fatalf("replicas not spread: %v", perNode)
	}
	pods, err := listPods(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if cond := condition(pods["web-a"], corev1.PodScheduled); cond == nil || cond.Status != corev1.ConditionTrue {
		t.Fatalf("bound pod's PodScheduled: %+v", cond)
	}

	// Too big for any node: Pending with Kubernetes' message and an Event.
	if _, _, err := c.Create(ctx, st.MakePod().Name("big").UID("").CPU("16").Obj()); err != nil {
		t.Fatal(err)
	}
	want := "0/4 nodes are available: 1 node(s) were not ready, 3 Insufficient cpu."
	waitFor(ctx, t, "big to be marked unschedulable", func() (bool, error) {
		obj, err := c.Get(ctx, api.LookupName("pods"), "default", "big")
		if err != nil {
			return false, err
		}
		p := obj.(*corev1.Pod)
		cond := condition(p, corev1.PodScheduled)
		if p.Spec.NodeName != "" {
			t.Fatalf("big was bound to %s", p.Spec.NodeName)
		}
		return cond != nil && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable && cond.Message == want &&
			p.Status.Phase == corev1.PodPending, nil
	})
	waitFor(ctx, t, "a FailedScheduling event", func() (bool, error) {
		objs, _, err := c.List(ctx, api.LookupName("events"), "default", client.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, o := range objs {
			ev := o.(*corev1.Event)
			if ev.InvolvedObject.Name == "big" && ev.Reason == scheduler.EventReasonFailedScheduling && ev.Message == want && ev.Type == corev1.EventTypeWarning {
				return true, nil
			}
		}
		return false, nil
	})

	// A node with room appears: the pod is bound there.
	createNode(ctx, t, c, st.MakeNode().Name("huge").Allocatable("32", "64Gi").Obj())
	waitFor(ctx, t, "big bound to the new node", func() (bool, error) {
		obj, err := c.Get(ctx, api.LookupName("pods"), "default", "big")
		if err != nil {
			return false, err
		}
		return obj.(*corev1.Pod).Spec.NodeName == "huge", nil
	})

	pods, err = listPods(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range pods {
		if p.Spec.NodeName == "down" {
			t.Errorf("pod %s on the NotReady node", name)
		}
	}
	if n := pods["other"].Spec.NodeName; n != "" {
		t.Errorf("another scheduler's pod was bound to %s", n)
	}
}
