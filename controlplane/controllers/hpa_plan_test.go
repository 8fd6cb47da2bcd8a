package controllers

import (
	"errors"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func cpuHPA(target int32, minR, maxR int32) *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "h", Namespace: "default"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			MinReplicas: new(minR), MaxReplicas: maxR,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(target)},
			}}},
		},
	}
}

// usage gives each named pod milli-CPU.
func usage(now time.Time, m map[string]int64) []PodUsage {
	var out []PodUsage
	for n, v := range m {
		out = append(out, PodUsage{Name: n, Timestamp: now, Window: time.Second, Containers: map[string]corev1.ResourceList{"web": {corev1.ResourceCPU: *resourceMilli(v)}}})
	}
	return out
}

var hpaTestParams = hpaParams{Tolerance: 0.1, CPUInit: 5 * time.Minute, ReadinessDelay: 30 * time.Second, DownscaleStabilization: 5 * time.Minute}

func TestDecideHPA(t *testing.T) {
	now := t0.Add(time.Hour)
	readyPod := func(n string) *corev1.Pod { return makePod(n).ready(t0).cpuRequest(100).obj() }
	pods := func(ns ...string) []*corev1.Pod {
		var out []*corev1.Pod
		for _, n := range ns {
			out = append(out, readyPod(n))
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		hpa     *autoscalingv2.HorizontalPodAutoscaler
		current int32
		pods    []*corev1.Pod
		usage   map[string]int64
		history hpaHistory
		want    int32
		limited string // ScalingLimited reason
	}{
		{"at target: stay", cpuHPA(50, 1, 10), 2, pods("a", "b"), map[string]int64{"a": 50, "b": 50}, hpaHistory{}, 2, "DesiredWithinRange"},
		{"within 10% tolerance", cpuHPA(50, 1, 10), 2, pods("a", "b"), map[string]int64{"a": 54, "b": 54}, hpaHistory{}, 2, "DesiredWithinRange"},
		{"ratio 3 scales out", cpuHPA(30, 1, 10), 1, pods("a"), map[string]int64{"a": 90}, hpaHistory{}, 3, "DesiredWithinRange"},
		{"capped by max", cpuHPA(10, 1, 4), 2, pods("a", "b"), map[string]int64{"a": 100, "b": 100}, hpaHistory{}, 4, "TooManyReplicas"},
		{"rate limit: +4 pods or +100% per 15s", cpuHPA(10, 1, 100), 2, pods("a", "b"), map[string]int64{"a": 100, "b": 100}, hpaHistory{}, 6, "ScaleUpLimit"},
		{"scale down held by a recent higher recommendation", cpuHPA(50, 1, 10), 4, pods("a", "b", "c", "d"),
			map[string]int64{"a": 10, "b": 10, "c": 10, "d": 10}, hpaHistory{Recommendations: []timedValue{{At: now.Add(-time.Minute), Value: 4}}}, 4, "DesiredWithinRange"},
		{"scale down after the window", cpuHPA(50, 1, 10), 4, pods("a", "b", "c", "d"),
			map[string]int64{"a": 10, "b": 10, "c": 10, "d": 10}, hpaHistory{Recommendations: []timedValue{{At: now.Add(-6 * time.Minute), Value: 4}}}, 1, "DesiredWithinRange"},
		{"min replicas", cpuHPA(50, 2, 10), 3, pods("a", "b", "c"), map[string]int64{"a": 1, "b": 1, "c": 1}, hpaHistory{}, 2, "TooFewReplicas"},
		{"missing metrics dampen a scale-up", cpuHPA(50, 1, 10), 2, pods("a", "b"), map[string]int64{"a": 100}, hpaHistory{}, 2, "DesiredWithinRange"},
		{"pending pods count as zero on scale-up", cpuHPA(50, 1, 10), 2,
			append(pods("a"), makePod("b").phase(corev1.PodPending).cpuRequest(100).obj()), map[string]int64{"a": 200}, hpaHistory{}, 4, "DesiredWithinRange"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := decideHPA(hpaInput{HPA: tc.hpa, CurrentReplicas: tc.current, Pods: tc.pods, Usage: usage(now, tc.usage), History: tc.history, Now: now, Params: hpaTestParams})
			if d.Err != nil {
				t.Fatal(d.Err)
			}
			if d.Desired != tc.want || d.Rescale != (tc.want != tc.current) {
				t.Errorf("desired %d rescale %v, want %d", d.Desired, d.Rescale, tc.want)
			}
			if got := condReason(d.Conditions, autoscalingv2.ScalingLimited); got != tc.limited {
				t.Errorf("ScalingLimited %s, want %s", got, tc.limited)
			}
			if got := condReason(d.Conditions, autoscalingv2.ScalingActive); got != "ValidMetricFound" {
				t.Errorf("ScalingActive %s", got)
			}
			if len(d.History.Recommendations) == 0 {
				t.Error("no recommendation recorded")
			}
		})
	}
}

func condReason(cs []autoscalingv2.HorizontalPodAutoscalerCondition, t autoscalingv2.HorizontalPodAutoscalerConditionType) string {
	for _, c := range cs {
		if c.Type == t {
			return c.Reason
		}
	}
	return ""
}

func TestDecideHPAFailures(t *testing.T) {
	now := t0.Add(time.Hour)
	noRequest := makePod("a").ready(t0).obj()
	d := decideHPA(hpaInput{HPA: cpuHPA(50, 1, 10), CurrentReplicas: 1, Pods: []*corev1.Pod{noRequest}, Usage: usage(now, map[string]int64{"a": 10}), Now: now, Params: hpaTestParams})
	if d.Err == nil || condReason(d.Conditions, autoscalingv2.ScalingActive) != "FailedGetResourceMetric" || d.Rescale {
		t.Errorf("missing request: %v %v", d.Err, d.Conditions)
	}
	d = decideHPA(hpaInput{HPA: cpuHPA(50, 1, 10), CurrentReplicas: 1, UsageErr: errors.New("metrics API unavailable"), Now: now, Params: hpaTestParams})
	if d.Err == nil || len(d.Events) == 0 {
		t.Errorf("no metrics: %v %v", d.Err, d.Events)
	}
	d = decideHPA(hpaInput{HPA: cpuHPA(50, 1, 10), CurrentReplicas: 0, Now: now, Params: hpaTestParams})
	if condReason(d.Conditions, autoscalingv2.ScalingActive) != "ScalingDisabled" || d.Rescale {
		t.Errorf("target at zero: %v", d.Conditions)
	}
	d = decideHPA(hpaInput{HPA: cpuHPA(50, 1, 3), CurrentReplicas: 5, Now: now, Params: hpaTestParams})
	if d.Desired != 3 || d.Reason != "Current number of replicas above Spec.MaxReplicas" {
		t.Errorf("above max: %d %q", d.Desired, d.Reason)
	}
}

func TestScaleDownRatePolicy(t *testing.T) {
	now := t0
	r := &autoscalingv2.HPAScalingRules{SelectPolicy: new(autoscalingv2.MaxChangePolicySelect), Policies: []autoscalingv2.HPAScalingPolicy{
		{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 60},
	}}
	h := hpaHistory{}.recordScale(&autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: r}, 5, 4, now.Add(-30*time.Second))
	if got := scaleDownLimit(4, h, r, now); got != 4 {
		t.Errorf("one pod per minute, one already gone: limit %d, want 4", got)
	}
	if got := scaleDownLimit(4, h, r, now.Add(31*time.Second)); got != 3 {
		t.Errorf("a minute later: limit %d, want 3", got)
	}
}
