package controllers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func nodeFixture(ready corev1.ConditionStatus, heartbeat time.Time, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n", CreationTimestamp: metav1.NewTime(t0)},
		Spec:       corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: ready, LastHeartbeatTime: metav1.NewTime(heartbeat)},
			{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, LastHeartbeatTime: metav1.NewTime(heartbeat)},
		}},
	}
}

func taintKeys(ts []corev1.Taint) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Key+":"+string(t.Effect))
	}
	return out
}

func TestDecideNode(t *testing.T) {
	grace := 40 * time.Second
	hb := t0
	// First sight: a full grace period from now, whatever the heartbeat says.
	d := decideNode(nodeFixture(corev1.ConditionTrue, hb), nodeHealth{}, t0.Add(time.Hour), grace)
	if d.Status != nil || d.TaintsChanged || d.Ready != corev1.ConditionTrue {
		t.Fatalf("first sight: %+v", d)
	}
	h := d.Health
	// Heartbeat unchanged within the grace period: nothing.
	d = decideNode(nodeFixture(corev1.ConditionTrue, hb), h, h.Probe.Add(30*time.Second), grace)
	if d.Status != nil || d.TaintsChanged {
		t.Fatalf("within grace: %+v", d)
	}
	// Past it: Unknown, unreachable taints with a time on NoExecute.
	now := h.Probe.Add(41 * time.Second)
	d = decideNode(nodeFixture(corev1.ConditionTrue, hb), h, now, grace)
	if d.Status == nil || !d.BecameUnknown || d.Ready != corev1.ConditionUnknown {
		t.Fatalf("past grace: %+v", d)
	}
	for _, c := range d.Status.Conditions {
		if c.Status != corev1.ConditionUnknown || c.Reason != "NodeStatusUnknown" || c.Message != "Kubelet stopped posting node status." {
			t.Errorf("condition %s: %+v", c.Type, c)
		}
	}
	if got := taintKeys(d.Taints); len(got) != 2 || got[0] != corev1.TaintNodeUnreachable+":NoSchedule" || got[1] != corev1.TaintNodeUnreachable+":NoExecute" {
		t.Errorf("taints %v", got)
	}
	if d.Taints[1].TimeAdded == nil || !d.Taints[1].TimeAdded.Time.Equal(now) {
		t.Errorf("NoExecute taint time %v", d.Taints[1].TimeAdded)
	}
	// The agent is back: a new heartbeat, Ready → taints removed, others kept.
	custom := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	back := nodeFixture(corev1.ConditionTrue, hb.Add(time.Minute), custom, unreachableNoSchedule, unreachableNoExecute)
	d = decideNode(back, h, now.Add(time.Second), grace)
	if got := taintKeys(d.Taints); !d.TaintsChanged || len(got) != 1 || got[0] != "dedicated:NoSchedule" {
		t.Errorf("back: %v", got)
	}
	// The agent says NotReady: the not-ready taints.
	d = decideNode(nodeFixture(corev1.ConditionFalse, hb.Add(2*time.Minute)), h, now.Add(2*time.Second), grace)
	if got := taintKeys(d.Taints); len(got) != 2 || got[0] != corev1.TaintNodeNotReady+":NoSchedule" {
		t.Errorf("not ready: %v", got)
	}
}

func TestPodEviction(t *testing.T) {
	taint := unreachableNoExecute
	taint.TimeAdded = new(metav1.NewTime(t0))
	pod := func(tols ...corev1.Toleration) *corev1.Pod {
		p := makePod("p").obj()
		p.Spec.Tolerations = tols
		return p
	}
	for _, tc := range []struct {
		name  string
		pod   *corev1.Pod
		at    time.Time
		evict bool
	}{
		{"no toleration: the controller's timeout", pod(), t0.Add(5 * time.Minute), true},
		{"toleration with seconds", pod(corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64(30))}), t0.Add(30 * time.Second), true},
		{"toleration forever", pod(corev1.Toleration{Operator: corev1.TolerationOpExists}), time.Time{}, false},
		{"toleration of another taint", pod(corev1.Toleration{Key: "other", Operator: corev1.TolerationOpExists}), t0.Add(5 * time.Minute), true},
	} {
		at, evict := podEviction(tc.pod, taint, 5*time.Minute)
		if evict != tc.evict || !at.Equal(tc.at) {
			t.Errorf("%s: %v %v, want %v %v", tc.name, at, evict, tc.at, tc.evict)
		}
	}
}
