package controllers

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// podBuilder builds pods for table tests: makePod("a").ready(t0).obj().
type podBuilder struct{ p *corev1.Pod }

func makePod(name string) *podBuilder {
	return &podBuilder{p: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), Labels: map[string]string{"app": "web"}, CreationTimestamp: metav1.NewTime(t0)},
		Spec:       corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "web", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.244.0.1"},
	}}
}

func (b *podBuilder) ip(ip string) *podBuilder             { b.p.Status.PodIP = ip; return b }
func (b *podBuilder) node(n string) *podBuilder            { b.p.Spec.NodeName = n; return b }
func (b *podBuilder) phase(ph corev1.PodPhase) *podBuilder { b.p.Status.Phase = ph; return b }
func (b *podBuilder) created(at time.Time) *podBuilder {
	b.p.CreationTimestamp = metav1.NewTime(at)
	return b
}
func (b *podBuilder) restarts(n int32) *podBuilder {
	b.p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", RestartCount: n}}
	return b
}
func (b *podBuilder) ready(since time.Time) *podBuilder {
	b.p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(since)}}
	st := metav1.NewTime(since.Add(-time.Second))
	b.p.Status.StartTime = &st
	return b
}
func (b *podBuilder) notReady() *podBuilder {
	b.p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: metav1.NewTime(t0)}}
	st := metav1.NewTime(t0)
	b.p.Status.StartTime = &st
	return b
}
func (b *podBuilder) terminating() *podBuilder {
	b.p.DeletionTimestamp = new(metav1.NewTime(t0))
	return b
}
func (b *podBuilder) hostname(h, sub string) *podBuilder {
	b.p.Spec.Hostname, b.p.Spec.Subdomain = h, sub
	return b
}
func (b *podBuilder) cpuRequest(milli int64) *podBuilder {
	b.p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: *resourceMilli(milli)}
	return b
}
func (b *podBuilder) obj() *corev1.Pod { return b.p }

// rsBuilder builds ReplicaSets: makeRS("old", 10).available(10).age(2).obj().
type rsBuilder struct{ rs *appsv1.ReplicaSet }

func makeRS(name string, replicas int32) *rsBuilder {
	return &rsBuilder{rs: &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), CreationTimestamp: metav1.NewTime(t0)},
		Spec:       appsv1.ReplicaSetSpec{Replicas: new(replicas)},
		Status:     appsv1.ReplicaSetStatus{Replicas: replicas},
	}}
}

func (b *rsBuilder) available(n int32) *rsBuilder {
	b.rs.Status.AvailableReplicas, b.rs.Status.ReadyReplicas = n, n
	return b
}
func (b *rsBuilder) createdAt(d time.Duration) *rsBuilder {
	b.rs.CreationTimestamp = metav1.NewTime(t0.Add(d))
	return b
}
func (b *rsBuilder) annotate(k, v string) *rsBuilder {
	if b.rs.Annotations == nil {
		b.rs.Annotations = map[string]string{}
	}
	b.rs.Annotations[k] = v
	return b
}
func (b *rsBuilder) obj() *appsv1.ReplicaSet { return b.rs }

func rollingDeployment(replicas int32, surge, unavailable intstr.IntOrString) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(replicas),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}},
			ProgressDeadlineSeconds: new(int32(600)),
			RevisionHistoryLimit:    new(int32(10)),
		},
	}
}

func resourceMilli(m int64) *resource.Quantity {
	return resource.NewMilliQuantity(m, resource.DecimalSI)
}
