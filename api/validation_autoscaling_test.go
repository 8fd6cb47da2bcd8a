package api

import (
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func makeHPA(f func(*autoscalingv2.HorizontalPodAutoscalerSpec)) *autoscalingv2.HorizontalPodAutoscaler {
	h := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    10,
		},
	}
	f(&h.Spec)
	return h
}

func TestValidateHPA(t *testing.T) {
	metric := func(m autoscalingv2.MetricSpec) func(*autoscalingv2.HorizontalPodAutoscalerSpec) {
		return func(s *autoscalingv2.HorizontalPodAutoscalerSpec) { s.Metrics = []autoscalingv2.MetricSpec{m} }
	}
	q := resource.MustParse("100")
	behavior := func(r *autoscalingv2.HPAScalingRules) func(*autoscalingv2.HorizontalPodAutoscalerSpec) {
		return func(s *autoscalingv2.HorizontalPodAutoscalerSpec) {
			s.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: r}
		}
	}
	runValidationCases(t, []validationCase{
		{"valid", makeHPA(func(*autoscalingv2.HorizontalPodAutoscalerSpec) {}), nil},
		{"target kind and name", makeHPA(func(s *autoscalingv2.HorizontalPodAutoscalerSpec) {
			s.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{}
		}),
			[]string{"spec.scaleTargetRef.kind: Required value", "spec.scaleTargetRef.name: Required value"}},
		{"target name syntax", makeHPA(func(s *autoscalingv2.HorizontalPodAutoscalerSpec) { s.ScaleTargetRef.Name = "a/b" }), []string{"spec.scaleTargetRef.name: Invalid value"}},
		{"min replicas", makeHPA(func(s *autoscalingv2.HorizontalPodAutoscalerSpec) { s.MinReplicas = new(int32(0)) }), []string{"spec.minReplicas: Invalid value"}},
		{"max replicas", makeHPA(func(s *autoscalingv2.HorizontalPodAutoscalerSpec) { s.MaxReplicas = 0 }), []string{"spec.maxReplicas: Invalid value", "spec.maxReplicas: Invalid value"}},
		{"max at least min", makeHPA(func(s *autoscalingv2.HorizontalPodAutoscalerSpec) { s.MinReplicas = new(int32(5)); s.MaxReplicas = 3 }), []string{"spec.maxReplicas: Invalid value"}},
		{"metric type", makeHPA(metric(autoscalingv2.MetricSpec{})), []string{"spec.metrics[0].type: Required value"}},
		{"metric source", makeHPA(metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType})), []string{"spec.metrics[0].resource: Required value"}},
		{"one metric source", makeHPA(metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: "memory", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q}},
			Pods:     &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "qps"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q}},
		})), []string{"spec.metrics[0].pods: Forbidden"}},
		{"resource target", makeHPA(metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType}}})),
			[]string{"spec.metrics[0].resource.target.averageUtilization: Required value"}},
		{"utilization positive", makeHPA(metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(int32(0))}}})),
			[]string{"spec.metrics[0].resource.target.averageUtilization: Invalid value"}},
		{"target type", makeHPA(metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: "cpu", Target: autoscalingv2.MetricTarget{Type: "Percent", AverageUtilization: new(int32(50))}}})),
			[]string{"spec.metrics[0].resource.target.type: Invalid value"}},
		{"pods metric needs an average", makeHPA(metric(autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType,
			Pods: &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "qps"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: &q}}})),
			[]string{"spec.metrics[0].pods.target.averageValue: Required value"}},
		{"external metric name", makeHPA(metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType,
			External: &autoscalingv2.ExternalMetricSource{Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: &q}}})),
			[]string{"spec.metrics[0].external.metric.name: Required value"}},
		{"container resource", makeHPA(metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType,
			ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: "cpu", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(int32(60))}}})),
			[]string{"spec.metrics[0].containerResource.container: Required value"}},
		{"behavior", makeHPA(behavior(&autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(60))})), nil},
		{"behavior policies", makeHPA(behavior(&autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{}})), []string{"spec.behavior.scaleDown.policies: Required value"}},
		{"stabilization window", makeHPA(behavior(&autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(4000))})),
			[]string{"spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value"}},
		{"policy", makeHPA(behavior(&autoscalingv2.HPAScalingRules{SelectPolicy: new(autoscalingv2.ScalingPolicySelect("Avg")), Policies: []autoscalingv2.HPAScalingPolicy{{Type: "Nodes", Value: 0, PeriodSeconds: 2000}}})),
			[]string{"spec.behavior.scaleDown.policies[0].periodSeconds: Invalid value", "spec.behavior.scaleDown.policies[0].type: Unsupported value",
				"spec.behavior.scaleDown.policies[0].value: Invalid value", "spec.behavior.scaleDown.selectPolicy: Unsupported value"}},
	})
}

func TestValidateHPAv1(t *testing.T) {
	hpa := func(f func(*autoscalingv1.HorizontalPodAutoscalerSpec)) *autoscalingv1.HorizontalPodAutoscaler {
		h := &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "test-scale-hpa", Namespace: "default"}, Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef:                 autoscalingv1.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "test-scale-deployment"},
			MinReplicas:                    new(int32(1)),
			MaxReplicas:                    10,
			TargetCPUUtilizationPercentage: new(int32(30)),
		}}
		f(&h.Spec)
		return h
	}
	runValidationCases(t, []validationCase{
		{"seed 04", hpa(func(*autoscalingv1.HorizontalPodAutoscalerSpec) {}), nil},
		{"target utilization", hpa(func(s *autoscalingv1.HorizontalPodAutoscalerSpec) { s.TargetCPUUtilizationPercentage = new(int32(0)) }),
			[]string{"spec.targetCPUUtilizationPercentage: Invalid value"}},
		{"max replicas", hpa(func(s *autoscalingv1.HorizontalPodAutoscalerSpec) { s.MaxReplicas = 0 }), []string{"spec.maxReplicas: Invalid value", "spec.maxReplicas: Invalid value"}},
		{"target", hpa(func(s *autoscalingv1.HorizontalPodAutoscalerSpec) { s.ScaleTargetRef.Kind = "" }), []string{"spec.scaleTargetRef.kind: Required value"}},
	})
}
