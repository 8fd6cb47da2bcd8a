package api

import (
	"encoding/json"
	"strings"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func seedHPAv1() *autoscalingv1.HorizontalPodAutoscaler {
	return &autoscalingv1.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: metav1.ObjectMeta{Name: "test-scale-hpa", Namespace: "default", Annotations: map[string]string{"team": "web"}},
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef:                 autoscalingv1.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "test-scale-deployment"},
			MinReplicas:                    new(int32(1)),
			MaxReplicas:                    10,
			TargetCPUUtilizationPercentage: new(int32(30)),
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, DesiredReplicas: 3, CurrentCPUUtilizationPercentage: new(int32(45))},
	}
}

func TestHPAv1ToV2(t *testing.T) {
	t.Run("seed 04", func(t *testing.T) {
		in := seedHPAv1()
		before := in.DeepCopy()
		out := HPAv1ToV2(in)
		expect(t, "input untouched", in, before)
		expect(t, "TypeMeta", out.TypeMeta, metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"})
		expect(t, "metadata", out.ObjectMeta, before.ObjectMeta)
		expect(t, "scaleTargetRef", out.Spec.ScaleTargetRef, autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "test-scale-deployment"})
		expect(t, "replicas", []any{out.Spec.MinReplicas, out.Spec.MaxReplicas}, []any{new(int32(1)), int32(10)})
		expect(t, "metrics", out.Spec.Metrics, []autoscalingv2.MetricSpec{cpuUtilizationMetric(30)})
		expect(t, "current metrics", out.Status.CurrentMetrics, []autoscalingv2.MetricStatus{{
			Type:     autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: new(int32(45))}},
		}})
		expect(t, "replicas status", []int32{out.Status.CurrentReplicas, out.Status.DesiredReplicas}, []int32{2, 3})
	})
	t.Run("no target means CPU at 80%", func(t *testing.T) {
		in := seedHPAv1()
		in.Spec.TargetCPUUtilizationPercentage = nil
		expect(t, "metrics", HPAv1ToV2(in).Spec.Metrics, []autoscalingv2.MetricSpec{cpuUtilizationMetric(80)})
	})
	t.Run("annotations that do not decode are dropped", func(t *testing.T) {
		in := seedHPAv1()
		in.Annotations = map[string]string{HPAMetricsAnnotation: "{", HPABehaviorAnnotation: "[]", HPAConditionsAnnotation: "x", HPACurrentMetricsAnnotation: "1"}
		out := HPAv1ToV2(in)
		expect(t, "annotations", out.Annotations, map[string]string(nil))
		expect(t, "metrics", out.Spec.Metrics, []autoscalingv2.MetricSpec{cpuUtilizationMetric(30)})
		expect(t, "behavior", out.Spec.Behavior, (*autoscalingv2.HorizontalPodAutoscalerBehavior)(nil))
	})
	t.Run("behavior as the Kubernetes API server writes it", func(t *testing.T) {
		in := seedHPAv1()
		in.Annotations[HPABehaviorAnnotation] = `{"ScaleUp":{"StabilizationWindowSeconds":0,"SelectPolicy":"Max","Policies":[{"Type":"Pods","Value":4,"PeriodSeconds":15}]},` +
			`"ScaleDown":{"StabilizationWindowSeconds":300,"SelectPolicy":"Min","Policies":[{"Type":"Percent","Value":10,"PeriodSeconds":60}]}}`
		out := HPAv1ToV2(in)
		expect(t, "behavior", out.Spec.Behavior, &autoscalingv2.HorizontalPodAutoscalerBehavior{
			ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(0)), SelectPolicy: new(autoscalingv2.MaxChangePolicySelect),
				Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15}}},
			ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(300)), SelectPolicy: new(autoscalingv2.MinChangePolicySelect),
				Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 10, PeriodSeconds: 60}}},
		})
		expect(t, "annotations", out.Annotations, map[string]string{"team": "web"})
	})
	t.Run("nil", func(t *testing.T) {
		if HPAv1ToV2(nil) != nil || HPAv2ToV1(nil) != nil {
			t.Error("nil in, non-nil out")
		}
	})
}

// richHPA uses everything v2 can say and v1 cannot.
func richHPA() *autoscalingv2.HorizontalPodAutoscaler {
	q := func(s string) *resource.Quantity { v := resource.MustParse(s); return &v }
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"queue": "jobs"}}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    new(int32(2)),
			MaxReplicas:    20,
			// The CPU utilization target last: v1 keeps it in its own field
			// and the others, in order, in the annotation.
			Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: "memory",
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("512Mi")}}},
				{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: "cpu", Container: "app",
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(int32(70))}}},
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "qps", Selector: sel},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("100")}}},
				{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
					DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: "main"},
					Metric:          autoscalingv2.MetricIdentifier{Name: "requests"},
					Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: q("2k")}}},
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "queue_depth", Selector: sel},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("30")}}},
				cpuUtilizationMetric(60),
			},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(120)), SelectPolicy: new(autoscalingv2.MinChangePolicySelect),
					Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}}},
			},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			ObservedGeneration: new(int64(4)),
			LastScaleTime:      &metav1.Time{Time: metav1.Unix(1700000000, 0).Time},
			CurrentReplicas:    3,
			DesiredReplicas:    4,
			CurrentMetrics: []autoscalingv2.MetricStatus{
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: "cpu",
					Current: autoscalingv2.MetricValueStatus{AverageUtilization: new(int32(75)), AverageValue: q("150m")}}},
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{Metric: autoscalingv2.MetricIdentifier{Name: "qps"},
					Current: autoscalingv2.MetricValueStatus{AverageValue: q("90")}}},
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricStatus{Metric: autoscalingv2.MetricIdentifier{Name: "queue_depth"},
					Current: autoscalingv2.MetricValueStatus{Value: q("12"), AverageValue: q("3")}}},
			},
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue,
				LastTransitionTime: metav1.Unix(1700000000, 0), Reason: "ReadyForNewScale", Message: "recommended size matches current size"}},
		},
	}
}

func TestHPAv2ToV1(t *testing.T) {
	in := richHPA()
	before := in.DeepCopy()
	out := HPAv2ToV1(in)
	expect(t, "input untouched", in, before)
	expect(t, "TypeMeta", out.TypeMeta, metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "HorizontalPodAutoscaler"})
	expect(t, "targetCPUUtilizationPercentage", out.Spec.TargetCPUUtilizationPercentage, new(int32(60)))
	expect(t, "currentCPUUtilizationPercentage", out.Status.CurrentCPUUtilizationPercentage, new(int32(75)))
	expect(t, "scaleTargetRef", out.Spec.ScaleTargetRef.Name, "web")
	for _, k := range []string{HPAMetricsAnnotation, HPACurrentMetricsAnnotation, HPAConditionsAnnotation, HPABehaviorAnnotation} {
		if out.Annotations[k] == "" {
			t.Errorf("annotation %s missing", k)
		}
	}
	var metrics []autoscalingv1.MetricSpec
	if err := json.Unmarshal([]byte(out.Annotations[HPAMetricsAnnotation]), &metrics); err != nil || len(metrics) != 5 {
		t.Fatalf("metrics annotation %s: %v", out.Annotations[HPAMetricsAnnotation], err)
	}
	expect(t, "v1 memory metric", *metrics[0].Resource, autoscalingv1.ResourceMetricSource{Name: "memory", TargetAverageValue: new(resource.MustParse("512Mi"))})
	if b := out.Annotations[HPABehaviorAnnotation]; !strings.HasPrefix(b, `{"ScaleUp":null,"ScaleDown":{"StabilizationWindowSeconds":120,"SelectPolicy":"Min","Policies":[{"Type":"Pods","Value":1,"PeriodSeconds":60}]`) {
		t.Errorf("behavior annotation not in the API server's form: %s", b)
	}

	t.Run("round trip", func(t *testing.T) {
		back := HPAv1ToV2(out)
		if !apiequality.Semantic.DeepEqual(back, before) {
			t.Errorf("v2 → v1 → v2 changed the object:\n got %#v\nwant %#v", back, before)
		}
	})
	t.Run("round trip of a v1 object", func(t *testing.T) {
		v1 := seedHPAv1()
		v1.Annotations = nil
		back := HPAv2ToV1(HPAv1ToV2(v1))
		// The raw CPU value travels in the current-metrics annotation.
		expect(t, "current metrics annotation", back.Annotations[HPACurrentMetricsAnnotation],
			`[{"type":"Resource","resource":{"name":"cpu","currentAverageUtilization":45,"currentAverageValue":"0"}}]`)
		delete(back.Annotations, HPACurrentMetricsAnnotation)
		if len(back.Annotations) == 0 {
			back.Annotations = nil
		}
		expect(t, "v1 → v2 → v1", back, v1)
	})
	t.Run("stale annotations are replaced", func(t *testing.T) {
		h := richHPA()
		h.Spec.Behavior = nil
		h.Annotations = map[string]string{HPABehaviorAnnotation: `{"ScaleUp":{"SelectPolicy":"Disabled"}}`}
		if got := HPAv2ToV1(h).Annotations[HPABehaviorAnnotation]; got != "" {
			t.Errorf("behavior annotation kept: %s", got)
		}
	})
}

func TestHPAConvertedValidates(t *testing.T) {
	h := HPAv1ToV2(seedHPAv1())
	Default(h)
	if errs, _ := Validate(h); len(errs) > 0 {
		t.Errorf("converted seed: %v", errs)
	}
	r := richHPA()
	Default(r)
	if errs, _ := Validate(r); len(errs) > 0 {
		t.Errorf("rich: %v", errs)
	}
}
