package controllers

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestResolveFenceposts(t *testing.T) {
	for _, tc := range []struct {
		surge, unavail intstr.IntOrString
		desired        int32
		wantS, wantU   int32
	}{
		{intstr.FromString("25%"), intstr.FromString("25%"), 10, 3, 2}, // surge rounds up, unavailable down
		{intstr.FromInt32(1), intstr.FromInt32(1), 10, 1, 1},
		{intstr.FromInt32(0), intstr.FromInt32(0), 3, 0, 1}, // both zero: one unavailable
		{intstr.FromString("0%"), intstr.FromString("10%"), 5, 0, 1},
		{intstr.FromString("0%"), intstr.FromString("10%"), 3, 0, 1}, // 0.3 rounds down to 0, then forced to 1
	} {
		s, u, err := resolveFenceposts(&tc.surge, &tc.unavail, tc.desired)
		if err != nil || s != tc.wantS || u != tc.wantU {
			t.Errorf("%s/%s of %d: got %d/%d %v, want %d/%d", tc.surge.String(), tc.unavail.String(), tc.desired, s, u, err, tc.wantS, tc.wantU)
		}
	}
}

func TestPlanRolling(t *testing.T) {
	one := intstr.FromInt32(1)
	for _, tc := range []struct {
		name   string
		d      *appsv1.Deployment
		newRS  *appsv1.ReplicaSet
		oldRSs []*appsv1.ReplicaSet
		want   string
	}{
		{
			name: "start: surge one new pod", d: rollingDeployment(10, one, one),
			newRS: makeRS("new", 0).createdAt(time.Minute).obj(), oldRSs: []*appsv1.ReplicaSet{makeRS("old", 10).available(10).obj()},
			want: "[new 0→1]",
		},
		{
			name: "new at surge limit, none available: old down by maxUnavailable", d: rollingDeployment(10, one, one),
			newRS: makeRS("new", 1).createdAt(time.Minute).obj(), oldRSs: []*appsv1.ReplicaSet{makeRS("old", 10).available(10).obj()},
			want: "[old 10→9]",
		},
		{
			name: "nothing may go: 9 available is the floor", d: rollingDeployment(10, one, one),
			newRS: makeRS("new", 2).createdAt(time.Minute).obj(), oldRSs: []*appsv1.ReplicaSet{makeRS("old", 9).available(9).obj()},
			want: "[]",
		},
		{
			name: "a new pod available: one more old goes", d: rollingDeployment(10, one, one),
			newRS: makeRS("new", 2).createdAt(time.Minute).available(1).obj(), oldRSs: []*appsv1.ReplicaSet{makeRS("old", 9).available(9).obj()},
			want: "[old 9→8]",
		},
		{
			name: "stale old status does not let too many go", d: rollingDeployment(10, one, one),
			newRS:  makeRS("new", 1).createdAt(time.Minute).available(1).obj(),
			oldRSs: []*appsv1.ReplicaSet{makeRS("old", 9).available(10).obj()}, // status from before 10→9
			want:   "[new 1→2]",
		},
		{
			name: "unhealthy old pods are removed first, within the budget", d: rollingDeployment(10, intstr.FromInt32(0), intstr.FromInt32(2)),
			newRS:  makeRS("new", 0).createdAt(time.Minute).obj(),
			oldRSs: []*appsv1.ReplicaSet{makeRS("old", 10).available(7).obj()},
			want:   "[old 10→8]", // 3 unhealthy, but at most allPods-minAvailable = 2 may go
		},
		{
			name: "oldest replica set first", d: rollingDeployment(4, intstr.FromInt32(0), intstr.FromInt32(2)),
			newRS: makeRS("new", 0).createdAt(2 * time.Minute).obj(),
			oldRSs: []*appsv1.ReplicaSet{
				makeRS("mid", 2).createdAt(time.Minute).available(2).obj(),
				makeRS("oldest", 2).available(2).obj(),
			},
			want: "[oldest 2→0]",
		},
		{
			name: "percentages: 25% of 10", d: rollingDeployment(10, intstr.FromString("25%"), intstr.FromString("25%")),
			newRS: makeRS("new", 0).createdAt(time.Minute).obj(), oldRSs: []*appsv1.ReplicaSet{makeRS("old", 10).available(10).obj()},
			want: "[new 0→3]",
		},
		{
			name: "new replica set bigger than wanted shrinks", d: rollingDeployment(3, one, one),
			newRS: makeRS("new", 5).available(5).obj(),
			want:  "[new 5→3]",
		},
		{
			name: "done", d: rollingDeployment(3, one, one),
			newRS: makeRS("new", 3).available(3).obj(), oldRSs: []*appsv1.ReplicaSet{makeRS("old", 0).obj()},
			want: "[]",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := fmt.Sprint(replicasOf(tc.newRS))
			got := fmt.Sprint(planRolling(tc.d, tc.newRS, tc.oldRSs))
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if fmt.Sprint(replicasOf(tc.newRS)) != before {
				t.Error("the plan changed its input")
			}
		})
	}
}

func TestPlanRecreate(t *testing.T) {
	d := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Replicas: new(int32(3)), Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}}}
	old := makeRS("old", 3).available(3).obj()
	if got := fmt.Sprint(planRecreate(d, nil, []*appsv1.ReplicaSet{old}, true)); got != "{[old 3→0] false}" {
		t.Errorf("first step %s", got)
	}
	if got := fmt.Sprint(planRecreate(d, nil, []*appsv1.ReplicaSet{makeRS("old", 0).obj()}, true)); got != "{[] false}" {
		t.Errorf("old pods still running: %s", got)
	}
	if got := fmt.Sprint(planRecreate(d, nil, []*appsv1.ReplicaSet{makeRS("old", 0).obj()}, false)); got != "{[] true}" {
		t.Errorf("old pods gone: %s", got)
	}
	if got := fmt.Sprint(planRecreate(d, makeRS("new", 0).obj(), nil, false)); got != "{[new 0→3] false}" {
		t.Errorf("new: %s", got)
	}
}

func TestPlanProportional(t *testing.T) {
	// 10 replicas mid-rollout (maxSurge 3): new 6, old 7 (annotated max 13); scaled to 20 → 23 allowed.
	d := rollingDeployment(20, intstr.FromInt32(3), intstr.FromInt32(2))
	d.Status.Replicas = 13
	newRS := makeRS("new", 6).createdAt(time.Minute).annotate(MaxReplicasAnnotation, "13").obj()
	old := makeRS("old", 7).annotate(MaxReplicasAnnotation, "13").obj()
	got := fmt.Sprint(planProportional(d, newRS, []*appsv1.ReplicaSet{old}))
	if got != "[old 7→12 new 6→11]" {
		t.Errorf("got %s", got)
	}
	// One active replica set takes the whole change.
	d2 := rollingDeployment(5, intstr.FromInt32(1), intstr.FromInt32(1))
	if got := fmt.Sprint(planProportional(d2, makeRS("new", 3).obj(), []*appsv1.ReplicaSet{makeRS("old", 0).obj()})); got != "[new 3→5]" {
		t.Errorf("single: %s", got)
	}
}

func TestDeploymentStatusProgress(t *testing.T) {
	one := intstr.FromInt32(1)
	now := t0.Add(time.Hour)
	d := rollingDeployment(3, one, one)
	d.Spec.ProgressDeadlineSeconds = new(int32(60))
	newRS := makeRS("web-abc", 3).available(3).obj()
	st, _ := deploymentStatus(d, []*appsv1.ReplicaSet{newRS}, newRS, true, now)
	if c := getDeploymentCondition(st, appsv1.DeploymentProgressing); c == nil || c.Reason != ReasonNewRSAvailable || c.Message != `ReplicaSet "web-abc" has successfully progressed.` {
		t.Errorf("complete: %+v", c)
	}
	if c := getDeploymentCondition(st, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue {
		t.Errorf("available: %+v", c)
	}

	// Stuck for longer than the deadline.
	stuck := makeRS("web-def", 1).obj()
	d.Status = appsv1.DeploymentStatus{Replicas: 1, UpdatedReplicas: 1, Conditions: []appsv1.DeploymentCondition{{
		Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: ReasonRSUpdated,
		LastUpdateTime: metav1.NewTime(now.Add(-2 * time.Minute)), LastTransitionTime: metav1.NewTime(now.Add(-2 * time.Minute)),
	}}}
	st, _ = deploymentStatus(d, []*appsv1.ReplicaSet{stuck}, stuck, true, now)
	if c := getDeploymentCondition(st, appsv1.DeploymentProgressing); c == nil || c.Reason != ReasonTimedOut || c.Status != corev1.ConditionFalse {
		t.Errorf("timed out: %+v", c)
	}
	// Within the deadline: requeued for when it would pass.
	d.Status.Conditions[0].LastUpdateTime = metav1.NewTime(now.Add(-10 * time.Second))
	st, requeue := deploymentStatus(d, []*appsv1.ReplicaSet{stuck}, stuck, true, now)
	if c := getDeploymentCondition(st, appsv1.DeploymentProgressing); c.Reason != ReasonRSUpdated || requeue < 50*time.Second || requeue > 52*time.Second {
		t.Errorf("within deadline: %+v, requeue %v", c, requeue)
	}
}

func TestCleanupCandidates(t *testing.T) {
	d := rollingDeployment(1, intstr.FromInt32(1), intstr.FromInt32(0))
	d.Spec.RevisionHistoryLimit = new(int32(1))
	rs := func(name, rev string, replicas int32) *appsv1.ReplicaSet {
		return makeRS(name, replicas).annotate(RevisionAnnotation, rev).obj()
	}
	got := cleanupCandidates(d, []*appsv1.ReplicaSet{rs("r3", "3", 0), rs("r1", "1", 0), rs("r2", "2", 1)})
	if len(got) != 1 || got[0].Name != "r1" {
		t.Errorf("got %v, want r1 only (r2 still has a replica)", got)
	}
}

func TestNewRSAnnotations(t *testing.T) {
	d := rollingDeployment(4, intstr.FromInt32(1), intstr.FromInt32(0))
	d.Annotations = map[string]string{ChangeCauseAnnotation: "set image", lastAppliedAnnotation: "{}"}
	rs := makeRS("web-1", 0).annotate(RevisionAnnotation, "1").obj()
	if !setNewRSAnnotations(d, rs, 3, true) {
		t.Fatal("no change")
	}
	a := rs.Annotations
	if a[RevisionAnnotation] != "3" || a[RevisionHistoryAnnotation] != "1" || a[ChangeCauseAnnotation] != "set image" || a[lastAppliedAnnotation] != "" {
		t.Errorf("annotations %v", a)
	}
}
