package queue

import (
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
	st "github.com/weft-mesh/weft/controlplane/scheduler/schedtest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newQueue(clk *fakeClock) *PriorityQueue {
	return New(Options{
		InitialBackoff: time.Second, MaxBackoff: 10 * time.Second, MaxInUnschedulablePods: time.Minute, Now: clk.Now,
		PluginEvents: map[string][]framework.ClusterEvent{
			"NodeResourcesFit": {{Resource: framework.Node, ActionType: framework.Add}, {Resource: framework.AssignedPod, ActionType: framework.Delete}},
			"TaintToleration":  {{Resource: framework.Node, ActionType: framework.UpdateNodeTaint}},
		},
	})
}

func pop(t *testing.T, q *PriorityQueue) *QueuedPodInfo {
	t.Helper()
	if a, _, _ := q.Lens(); a == 0 {
		t.Fatal("active queue empty")
	}
	e, err := q.Pop()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPriorityThenAge(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	q := newQueue(clk)
	q.Add(st.MakePod().Name("old").Obj())
	clk.Step(time.Second)
	q.Add(st.MakePod().Name("new").Obj())
	q.Add(st.MakePod().Name("urgent").Priority(100).Obj())
	for _, want := range []string{"urgent", "old", "new"} {
		if got := pop(t, q).Pod.Name; got != want {
			t.Fatalf("popped %s, want %s", got, want)
		}
	}
}

func TestUnschedulableMovesOnlyOnHelpfulEvents(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	q := newQueue(clk)
	q.Add(st.MakePod().Name("p").Obj())
	e := pop(t, q)
	cycle := q.SchedulingCycle()
	e.UnschedulablePlugins = sets.New("NodeResourcesFit")
	q.AddUnschedulable(e, nil, cycle)
	if w := q.Where("default/p"); w != "unschedulable" {
		t.Fatalf("pod in %q", w)
	}
	q.MoveAllToActiveOrBackoffQueue(framework.ClusterEvent{Resource: framework.Node, ActionType: framework.UpdateNodeTaint})
	if w := q.Where("default/p"); w != "unschedulable" {
		t.Fatalf("a taint change moved a pod rejected for resources: %q", w)
	}
	q.MoveAllToActiveOrBackoffQueue(framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add})
	if w := q.Where("default/p"); w != "backoff" {
		t.Fatalf("after node add, pod in %q, want backoff (1s not over)", w)
	}
	clk.Step(time.Second)
	q.FlushBackoffQCompleted()
	if w := q.Where("default/p"); w != "active" {
		t.Fatalf("after back-off, pod in %q", w)
	}
}

func TestEventDuringAttemptSendsToBackoff(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	q := newQueue(clk)
	q.Add(st.MakePod().Name("p").Obj())
	e := pop(t, q)
	cycle := q.SchedulingCycle()
	q.MoveAllToActiveOrBackoffQueue(framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add})
	e.UnschedulablePlugins = sets.New("NodeResourcesFit")
	q.AddUnschedulable(e, nil, cycle)
	if w := q.Where("default/p"); w != "backoff" {
		t.Fatalf("pod in %q, want backoff: the node came while it was being scheduled", w)
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	q := newQueue(clk)
	e := &QueuedPodInfo{}
	for attempts, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 30: 10 * time.Second} {
		e.Attempts = attempts
		if got := q.backoffDuration(e); got != want {
			t.Errorf("attempts %d: back-off %s, want %s", attempts, got, want)
		}
	}
}

func TestStatusOnlyUpdateLeavesPodWaiting(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	q := newQueue(clk)
	pod := st.MakePod().Name("p").Obj()
	q.Add(pod)
	e := pop(t, q)
	e.UnschedulablePlugins = sets.New("NodeResourcesFit")
	q.AddUnschedulable(e, nil, q.SchedulingCycle())
	withStatus := pod.DeepCopy()
	withStatus.ResourceVersion = "7"
	withStatus.Status.Conditions = append(withStatus.Status.Conditions, st.MakePod().Obj().Status.Conditions...)
	withStatus.Status.Reason = "x"
	q.Update(pod, withStatus)
	if w := q.Where("default/p"); w != "unschedulable" {
		t.Fatalf("status update moved the pod to %q", w)
	}
	relabeled := withStatus.DeepCopy()
	relabeled.Labels = map[string]string{"a": "b"}
	clk.Step(time.Minute)
	q.Update(withStatus, relabeled)
	if w := q.Where("default/p"); w != "active" {
		t.Fatalf("spec update left the pod in %q", w)
	}
}

func TestErrorGoesToBackoffAndLeftoverFlush(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	q := newQueue(clk)
	q.Add(st.MakePod().Name("err").Obj())
	q.Add(st.MakePod().Name("stuck").Obj())
	e1, e2 := pop(t, q), pop(t, q)
	q.AddUnschedulable(e1, nil, q.SchedulingCycle()) // no plugins: an error
	if w := q.Where("default/" + e1.Pod.Name); w != "backoff" {
		t.Fatalf("errored pod in %q", w)
	}
	e2.UnschedulablePlugins = sets.New("TaintToleration")
	q.AddUnschedulable(e2, nil, q.SchedulingCycle())
	clk.Step(2 * time.Minute)
	q.FlushUnschedulableLeftover()
	if w := q.Where("default/" + e2.Pod.Name); w != "active" {
		t.Fatalf("stuck pod in %q after the leftover flush", w)
	}
}

func TestDeleteAndClose(t *testing.T) {
	q := newQueue(&fakeClock{t: time.Unix(1000, 0)})
	pod := st.MakePod().Name("p").Obj()
	q.Add(pod)
	q.Delete(pod)
	if a, b, u := q.Lens(); a+b+u != 0 {
		t.Fatal("pod still queued after Delete")
	}
	done := make(chan error)
	go func() {
		_, err := q.Pop()
		done <- err
	}()
	q.Close()
	if err := <-done; err != ErrClosed {
		t.Fatalf("Pop after Close: %v", err)
	}
}
