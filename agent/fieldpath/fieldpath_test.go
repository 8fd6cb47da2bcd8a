package fieldpath

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestValue(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u", Labels: map[string]string{"app": "web", "v": "1"}},
		Spec:       corev1.PodSpec{NodeName: "n1"},
		Status:     corev1.PodStatus{PodIP: "127.20.0.1"},
	}
	for path, want := range map[string]string{
		"metadata.name": "p", "metadata.namespace": "ns", "metadata.uid": "u",
		"metadata.labels['app']": "web", "metadata.labels": "app=\"web\"\nv=\"1\"",
		"spec.nodeName": "n1", "status.podIP": "127.20.0.1",
	} {
		if got, err := Value(pod, path); err != nil || got != want {
			t.Errorf("Value(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := Value(pod, "spec.nope"); err == nil {
		t.Error("want an error for an unknown path")
	}
}

func TestResource(t *testing.T) {
	c := corev1.Container{Name: "a", Resources: corev1.ResourceRequirements{
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("200Mi")},
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
	}}
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{c}}}
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}
	for _, tc := range []struct {
		ref  corev1.ResourceFieldSelector
		want string
	}{
		{corev1.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}, "200"},
		{corev1.ResourceFieldSelector{Resource: "requests.cpu", Divisor: resource.MustParse("1m")}, "250"},
		{corev1.ResourceFieldSelector{Resource: "requests.cpu"}, "1"},
		{corev1.ResourceFieldSelector{Resource: "limits.cpu"}, "2"},
	} {
		if got, err := Resource(pod, &pod.Spec.Containers[0], &tc.ref, alloc); err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.ref.Resource, got, err, tc.want)
		}
	}
}
