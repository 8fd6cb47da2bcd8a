package controllers_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/controllers"
)

// fakeMetrics reports every running pod of a selector at the same CPU usage.
type fakeMetrics struct {
	c        *client.Client
	mu       sync.Mutex
	cpuMilli int64
}

func (f *fakeMetrics) set(milli int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cpuMilli = milli
}

func (f *fakeMetrics) PodMetrics(ctx context.Context, ns string, sel labels.Selector) ([]controllers.PodUsage, error) {
	f.mu.Lock()
	cpu := f.cpuMilli
	f.mu.Unlock()
	objs, _, err := f.c.List(ctx, api.LookupName("pods"), ns, client.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	var out []controllers.PodUsage
	for _, o := range objs {
		p := o.(*corev1.Pod)
		if p.Status.Phase != corev1.PodRunning {
			continue
		}
		out = append(out, controllers.PodUsage{Name: p.Name, Timestamp: time.Now(), Window: time.Millisecond,
			Containers: map[string]corev1.ResourceList{"web": {corev1.ResourceCPU: *resource.NewMilliQuantity(cpu, resource.DecimalSI)}}})
	}
	return out, nil
}

// TestHPAScalesOutThenInAfterStabilization is seed 04's autoscaler with a
// fake metrics API: load takes the Deployment out; when the load stops it
// comes back to one replica, but not before the stabilization window.
func TestHPAScalesOutThenInAfterStabilization(t *testing.T) {
	m := &fakeMetrics{cpuMilli: 90}
	const window = 3 * time.Second
	cl := startCluster(t, controllers.Config{
		Metrics: m, HPASyncPeriod: 200 * time.Millisecond, HPADownscaleStabilization: window,
	})
	m.c = cl.c
	cl.startKubelet(t, "node-a")
	cl.create(t, deployment("test-scale-deployment", 1, "registry.ioros.com/coam/test.web:0.0.1"))
	// The seed's autoscaling/v1 object, stored as v2.
	cl.create(t, api.HPAv1ToV2(&autoscalingv1.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: metav1.ObjectMeta{Name: "test-scale-hpa", Namespace: "default"},
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			MinReplicas: new(int32(1)), MaxReplicas: 10, TargetCPUUtilizationPercentage: new(int32(30)),
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "test-scale-deployment"},
		},
	}))
	replicas := func() int32 {
		return *cl.get(t, "deploy", "default", "test-scale-deployment").(*appsv1.Deployment).Spec.Replicas
	}
	// 90m of a 100m request against a 30% target: ratio 3.
	cl.eventually(t, 30*time.Second, "scale out", func() (bool, string) {
		r := replicas()
		return r >= 3, fmt.Sprintf("replicas %d", r)
	})
	cl.eventually(t, 30*time.Second, "hpa status", func() (bool, string) {
		h := cl.get(t, "hpa", "default", "test-scale-hpa").(*autoscalingv2.HorizontalPodAutoscaler)
		ok := h.Status.DesiredReplicas >= 3 && len(h.Status.CurrentMetrics) == 1 &&
			h.Status.CurrentMetrics[0].Resource.Current.AverageUtilization != nil && *h.Status.CurrentMetrics[0].Resource.Current.AverageUtilization == 90 &&
			hpaCondition(h, autoscalingv2.ScalingActive) == "True/ValidMetricFound" && hpaCondition(h, autoscalingv2.AbleToScale) != ""
		return ok, fmt.Sprintf("%+v", h.Status)
	})
	// Load off: 3m each, 3% utilization.
	m.set(3)
	off := time.Now()
	cl.eventually(t, 30*time.Second, "scale in", func() (bool, string) {
		r := replicas()
		return r == 1, fmt.Sprintf("replicas %d", r)
	})
	if waited := time.Since(off); waited < window-500*time.Millisecond {
		t.Fatalf("scaled in after %v, before the %v stabilization window", waited, window)
	}
	events := eventReasons(t, cl, "HorizontalPodAutoscaler", "test-scale-hpa")
	if events["SuccessfulRescale"] == 0 {
		t.Errorf("no SuccessfulRescale event, have %v", events)
	}
}

func hpaCondition(h *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType) string {
	for _, c := range h.Status.Conditions {
		if c.Type == t {
			return string(c.Status) + "/" + c.Reason
		}
	}
	return ""
}

// eventReasons counts the events about one object by reason.
func eventReasons(t *testing.T, cl *cluster, kind, name string) map[string]int {
	t.Helper()
	out := map[string]int{}
	cl.eventually(t, 10*time.Second, "events", func() (bool, string) {
		objs, _, err := cl.c.List(cl.ctx, api.LookupName("events"), "", client.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, o := range objs {
			e := o.(*corev1.Event)
			if e.InvolvedObject.Kind == kind && e.InvolvedObject.Name == name {
				out[e.Reason] += int(e.Count)
			}
		}
		return len(out) > 0, "no events"
	})
	return out
}
