package scheduler

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
	st "github.com/weft-mesh/weft/controlplane/scheduler/schedtest"
)

func TestNodeChange(t *testing.T) {
	base := st.MakeNode().Name("n").Allocatable("4", "8Gi").Obj()
	for _, tc := range []struct {
		name   string
		change func(n *corev1.Node)
		want   framework.ActionType
	}{
		{"heartbeat", func(n *corev1.Node) { n.Status.Conditions[0].LastHeartbeatTime = metav1.NewTime(time.Unix(5, 0)) }, 0},
		{"same quantity spelled differently", func(n *corev1.Node) { n.Status.Allocatable[corev1.ResourceCPU] = mustQuantity("4000m") }, 0},
		{"allocatable", func(n *corev1.Node) { n.Status.Allocatable[corev1.ResourceCPU] = mustQuantity("8") }, framework.UpdateNodeAllocatable},
		{"label", func(n *corev1.Node) { n.Labels["disk"] = "ssd" }, framework.UpdateNodeLabel},
		{"taint", func(n *corev1.Node) { n.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}} }, framework.UpdateNodeTaint},
		{"cordon", func(n *corev1.Node) { n.Spec.Unschedulable = true }, framework.UpdateNodeSpecUnschedulable},
		{"ready", func(n *corev1.Node) { n.Status.Conditions[0].Status = corev1.ConditionFalse }, framework.UpdateNodeCondition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := base.DeepCopy()
			tc.change(n)
			if got := nodeChange(base, n); got != tc.want {
				t.Errorf("nodeChange = %b, want %b", got, tc.want)
			}
		})
	}
}

func TestSetPodCondition(t *testing.T) {
	t1, t2 := metav1.NewTime(time.Unix(100, 0)), metav1.NewTime(time.Unix(200, 0))
	var status corev1.PodStatus
	if !setPodCondition(&status, podScheduledCondition(ReasonUnschedulable, "m1", t1)) {
		t.Fatal("first set reported no change")
	}
	if setPodCondition(&status, podScheduledCondition(ReasonUnschedulable, "m1", t2)) {
		t.Fatal("same condition reported a change")
	}
	if !setPodCondition(&status, podScheduledCondition(ReasonUnschedulable, "m2", t2)) {
		t.Fatal("new message reported no change")
	}
	if len(status.Conditions) != 1 || status.Conditions[0].Message != "m2" || !status.Conditions[0].LastTransitionTime.Equal(&t1) {
		t.Fatalf("conditions %+v: want one, message m2, transition time kept", status.Conditions)
	}
}

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
