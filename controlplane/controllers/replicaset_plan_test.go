package controllers

import (
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestPlanReplicas(t *testing.T) {
	ready := func(n string, since time.Duration) *corev1.Pod { return makePod(n).ready(t0.Add(since)).obj() }
	for _, tc := range []struct {
		name       string
		want       int32
		pods       []*corev1.Pod
		wantCreate int
		wantDelete []string
	}{
		{"too few", 3, []*corev1.Pod{ready("a", 0)}, 2, nil},
		{"enough", 1, []*corev1.Pod{ready("a", 0)}, 0, nil},
		{"unscheduled first", 1, []*corev1.Pod{ready("a", 0), makePod("b").node("").phase(corev1.PodPending).obj()}, 0, []string{"b"}},
		{"pending before running", 1, []*corev1.Pod{makePod("a").phase(corev1.PodPending).obj(), ready("b", 0)}, 0, []string{"a"}},
		{"not ready before ready", 1, []*corev1.Pod{ready("a", 0), makePod("b").notReady().obj()}, 0, []string{"b"}},
		{"ready for less time first", 1, []*corev1.Pod{ready("old", 0), ready("young", time.Minute)}, 0, []string{"young"}},
		{"more restarts first", 1, []*corev1.Pod{makePod("a").notReady().restarts(1).obj(), makePod("b").notReady().restarts(5).obj()}, 0, []string{"b"}},
		{"newer first", 1, []*corev1.Pod{makePod("a").notReady().obj(), makePod("b").notReady().created(t0.Add(time.Second)).obj()}, 0, []string{"b"}},
		{"scale to zero", 0, []*corev1.Pod{ready("a", 0), ready("b", 0)}, 0, []string{"a", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := planReplicas(tc.want, tc.pods)
			if p.Create != tc.wantCreate || len(p.Delete) != len(tc.wantDelete) {
				t.Fatalf("create %d delete %v, want %d %v", p.Create, names(p.Delete), tc.wantCreate, tc.wantDelete)
			}
			if tc.name != "scale to zero" {
				for i, n := range tc.wantDelete {
					if p.Delete[i].Name != n {
						t.Errorf("delete %v, want %v", names(p.Delete), tc.wantDelete)
					}
				}
			}
		})
	}
}

func TestClaimObjects(t *testing.T) {
	owner := makeRS("web", 2).obj()
	mine := makePod("mine").obj()
	mine.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web", UID: owner.UID, Controller: new(true)}}
	relabeled := makePod("relabeled").obj()
	relabeled.Labels = map[string]string{"app": "other"}
	relabeled.OwnerReferences = mine.OwnerReferences
	others := makePod("others").obj()
	others.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "x", UID: "uid-x", Controller: new(true)}}
	orphan := makePod("orphan").obj()
	unrelated := makePod("unrelated").obj()
	unrelated.Labels = map[string]string{"app": "db"}

	c := claimObjects(owner.UID, labels.SelectorFromSet(labels.Set{"app": "web"}), true, []*corev1.Pod{mine, relabeled, others, orphan, unrelated})
	if got := names(c.Owned); len(got) != 2 || got[0] != "mine" || got[1] != "orphan" {
		t.Errorf("owned %v", got)
	}
	if got := names(c.Adopt); len(got) != 1 || got[0] != "orphan" {
		t.Errorf("adopt %v", got)
	}
	if got := names(c.Release); len(got) != 1 || got[0] != "relabeled" {
		t.Errorf("release %v", got)
	}
	if c := claimObjects(owner.UID, labels.SelectorFromSet(labels.Set{"app": "web"}), false, []*corev1.Pod{orphan}); len(c.Adopt) != 0 {
		t.Error("adopted while being deleted")
	}
}

func TestReplicaSetStatus(t *testing.T) {
	rs := makeRS("web", 3).obj()
	rs.Generation = 4
	rs.Spec.MinReadySeconds = 10
	rs.Spec.Template.Labels = map[string]string{"app": "web", "tier": "front"}
	now := t0.Add(time.Minute)
	full := makePod("full").ready(t0).obj()
	full.Labels = map[string]string{"app": "web", "tier": "front"}
	young := makePod("young").ready(now.Add(-4 * time.Second)).obj()
	unready := makePod("unready").notReady().obj()
	st, wait := replicaSetStatus(rs, []*corev1.Pod{full, young, unready}, nil, "", now)
	want := appsv1.ReplicaSetStatus{Replicas: 3, FullyLabeledReplicas: 1, ReadyReplicas: 2, AvailableReplicas: 1, ObservedGeneration: 4}
	if st.Replicas != want.Replicas || st.FullyLabeledReplicas != want.FullyLabeledReplicas || st.ReadyReplicas != want.ReadyReplicas ||
		st.AvailableReplicas != want.AvailableReplicas || st.ObservedGeneration != want.ObservedGeneration {
		t.Errorf("status %+v, want %+v", st, want)
	}
	if wait != 6*time.Second {
		t.Errorf("recheck in %v, want 6s (young is available then)", wait)
	}
	st, _ = replicaSetStatus(rs, nil, errors.New("quota"), "FailedCreate", now)
	if len(st.Conditions) != 1 || st.Conditions[0].Reason != "FailedCreate" || st.Conditions[0].Message != "quota" {
		t.Errorf("failure condition %+v", st.Conditions)
	}
	rs.Status = st
	if st, _ = replicaSetStatus(rs, nil, nil, "", now); len(st.Conditions) != 0 {
		t.Errorf("condition kept after success: %+v", st.Conditions)
	}
}
