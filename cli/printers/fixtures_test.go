package printers

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// now is the fixed clock of every test.
var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// ago is a metav1.Time d before now.
func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func agoPtr(d time.Duration) *metav1.Time {
	t := ago(d)
	return &t
}

// meta is ObjectMeta in namespace default, created age ago.
func meta(name string, age time.Duration) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID(name + "-uid"), CreationTimestamp: ago(age)}
}

// controller is an owner reference marking owner as the controller.
func controller(kind, name string) []metav1.OwnerReference {
	return []metav1.OwnerReference{{Kind: kind, Name: name, UID: types.UID(name + "-uid"), Controller: new(true)}}
}

func resources(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

// podBuilder builds pods tersely: makePod("web").running("app", true, 0).obj().
type podBuilder struct{ p *corev1.Pod }

func makePod(name string) *podBuilder {
	return &podBuilder{p: &corev1.Pod{
		ObjectMeta: meta(name, time.Hour),
		Spec:       corev1.PodSpec{NodeName: "node-1"},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}}
}

func (b *podBuilder) obj() *corev1.Pod { return b.p }

func (b *podBuilder) age(d time.Duration) *podBuilder {
	b.p.CreationTimestamp = ago(d)
	return b
}

func (b *podBuilder) phase(p corev1.PodPhase) *podBuilder {
	b.p.Status.Phase = p
	return b
}

func (b *podBuilder) reason(r string) *podBuilder {
	b.p.Status.Reason = r
	return b
}

func (b *podBuilder) ip(ip string) *podBuilder {
	b.p.Status.PodIP = ip
	b.p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	return b
}

func (b *podBuilder) node(n string) *podBuilder {
	b.p.Spec.NodeName = n
	return b
}

func (b *podBuilder) deleting() *podBuilder {
	b.p.DeletionTimestamp = agoPtr(10 * time.Second)
	b.p.DeletionGracePeriodSeconds = new(int64(30))
	return b
}

func (b *podBuilder) condition(t corev1.PodConditionType, s corev1.ConditionStatus, reason string) *podBuilder {
	b.p.Status.Conditions = append(b.p.Status.Conditions, corev1.PodCondition{Type: t, Status: s, Reason: reason})
	return b
}

func (b *podBuilder) ownedBy(kind, name string) *podBuilder {
	b.p.OwnerReferences = controller(kind, name)
	return b
}

// container adds a container with a status in state.
func (b *podBuilder) container(name string, state corev1.ContainerState, ready bool, restarts int32) *podBuilder {
	b.p.Spec.Containers = append(b.p.Spec.Containers, corev1.Container{Name: name, Image: "registry.local/" + name + ":1"})
	b.p.Status.ContainerStatuses = append(b.p.Status.ContainerStatuses, corev1.ContainerStatus{
		Name: name, State: state, Ready: ready, RestartCount: restarts, Image: "registry.local/" + name + ":1",
	})
	return b
}

// specOnly adds a container without a status (not started yet).
func (b *podBuilder) specOnly(name string) *podBuilder {
	b.p.Spec.Containers = append(b.p.Spec.Containers, corev1.Container{Name: name, Image: "registry.local/" + name + ":1"})
	return b
}

// lastTerminated sets when the last container's previous run ended.
func (b *podBuilder) lastTerminated(d time.Duration) *podBuilder {
	cs := &b.p.Status.ContainerStatuses[len(b.p.Status.ContainerStatuses)-1]
	cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: ago(d)}}
	return b
}

// initContainer adds an init container (a sidecar if sidecar) in state.
func (b *podBuilder) initContainer(name string, state corev1.ContainerState, sidecar, started, ready bool) *podBuilder {
	c := corev1.Container{Name: name, Image: "registry.local/" + name + ":1"}
	if sidecar {
		c.RestartPolicy = new(corev1.ContainerRestartPolicyAlways)
	}
	b.p.Spec.InitContainers = append(b.p.Spec.InitContainers, c)
	b.p.Status.InitContainerStatuses = append(b.p.Status.InitContainerStatuses, corev1.ContainerStatus{
		Name: name, State: state, Started: new(started), Ready: ready,
	})
	return b
}

func running() corev1.ContainerState {
	return corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(50 * time.Minute)}}
}

func waiting(reason string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}
}

func terminated(reason string, exitCode, signal int32) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		Reason: reason, ExitCode: exitCode, Signal: signal, StartedAt: ago(40 * time.Minute), FinishedAt: ago(30 * time.Minute),
	}}
}
