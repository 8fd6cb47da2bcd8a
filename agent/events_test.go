package agent

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// TestRepeatedEventsCounted: a volume that cannot be made fails at every
// sync; the agent says so once per pod and counts the repeats on that
// Event, with Kubernetes' message (`persistentvolumeclaim "nope" not
// found`), instead of writing a new Event every time.
func TestRepeatedEventsCounted(t *testing.T) {
	t.Parallel()
	f := start(t)
	for _, v := range []corev1.Volume{
		{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "nope"}}},
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}}}},
	} {
		p := pod("missing-"+v.Name, busybox("app", "sleep infinity"))
		p.Spec.Volumes = []corev1.Volume{v}
		p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: v.Name, MountPath: "/data"}}
		f.create(p)
	}
	want := map[string]string{
		"missing-data":   `MountVolume.SetUp failed for volume "data" : persistentvolumeclaim "nope" not found`,
		"missing-config": `MountVolume.SetUp failed for volume "config" : configmap "nope" not found`,
	}
	var events []*corev1.Event
	waitFor(t, "each pod's FailedMount counted 3 times", func() bool {
		objs, _, err := f.c.List(context.Background(), api.LookupName("events"), "default", client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		events = events[:0]
		counted := 0
		for _, o := range objs {
			if ev := o.(*corev1.Event); ev.Reason == "FailedMount" {
				events = append(events, ev)
				if ev.Count >= 3 {
					counted++
				}
			}
		}
		return counted == 2
	})
	if len(events) != 2 {
		t.Fatalf("want one FailedMount event per pod, got %d", len(events))
	}
	for _, ev := range events {
		if ev.Message != want[ev.InvolvedObject.Name] || ev.LastTimestamp.Before(&ev.FirstTimestamp) {
			t.Errorf("%s: %q (first %s, last %s), want %q", ev.InvolvedObject.Name, ev.Message, ev.FirstTimestamp, ev.LastTimestamp, want[ev.InvolvedObject.Name])
		}
	}
}
