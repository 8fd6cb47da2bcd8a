package api

import (
	"encoding/json"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HorizontalPodAutoscaler conversion between autoscaling/v1 and autoscaling/v2,
// as the Kubernetes API server does it (pkg/apis/autoscaling/v1/conversion.go).
//
// autoscaling/v1 can only say "target this CPU utilization". Everything else
// a v2 object holds travels through v1 in four annotations, exactly as
// upstream stores it, so that a read-modify-write through the v1 endpoint
// (an old kubectl, `kubectl edit` of a v1 object) loses nothing:
//
//   - autoscaling.alpha.kubernetes.io/metrics: spec.metrics other than the CPU
//     utilization target, as a JSON list of autoscaling/v1 MetricSpec;
//   - autoscaling.alpha.kubernetes.io/behavior: spec.behavior;
//   - autoscaling.alpha.kubernetes.io/current-metrics: status.currentMetrics;
//   - autoscaling.alpha.kubernetes.io/conditions: status.conditions.
//
// Converting v1 to v2 lifts them back out and removes them from the v2
// object. As upstream, a v1 object without a CPU target and without other
// metrics converts to the v2 default: CPU at 80% average utilization.
const (
	// HPAMetricsAnnotation holds spec.metrics but the CPU utilization target.
	HPAMetricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics"
	// HPACurrentMetricsAnnotation holds status.currentMetrics.
	HPACurrentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"
	// HPAConditionsAnnotation holds status.conditions.
	HPAConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions"
	// HPABehaviorAnnotation holds spec.behavior.
	HPABehaviorAnnotation = "autoscaling.alpha.kubernetes.io/behavior"
)

// HPADefaultCPUUtilization is the CPU utilization target of an HPA that
// names no metric (upstream's autoscaling.DefaultCPUUtilization).
const HPADefaultCPUUtilization int32 = 80

// HPAv1ToV2 converts an autoscaling/v1 HorizontalPodAutoscaler to
// autoscaling/v2. The input is not modified. Annotations that do not decode
// are dropped, as upstream drops them.
func HPAv1ToV2(in *autoscalingv1.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	if in == nil {
		return nil
	}
	out := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta: metav1.TypeMeta{APIVersion: autoscalingv2.SchemeGroupVersion.String(), Kind: "HorizontalPodAutoscaler"},
	}
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	out.Annotations = dropHPARoundTripAnnotations(out.Annotations)

	out.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference(in.Spec.ScaleTargetRef)
	out.Spec.MinReplicas = copyInt32(in.Spec.MinReplicas)
	out.Spec.MaxReplicas = in.Spec.MaxReplicas

	if enc, ok := in.Annotations[HPAMetricsAnnotation]; ok {
		var other []autoscalingv1.MetricSpec
		if err := json.Unmarshal([]byte(enc), &other); err == nil {
			for i := range other {
				out.Spec.Metrics = append(out.Spec.Metrics, metricSpecV1ToV2(&other[i]))
			}
		}
	}
	if in.Spec.TargetCPUUtilizationPercentage != nil {
		out.Spec.Metrics = append(out.Spec.Metrics, cpuUtilizationMetric(*in.Spec.TargetCPUUtilizationPercentage))
	}
	if len(out.Spec.Metrics) == 0 {
		// autoscaling/v1 used to default this in the controller; v2 says it.
		out.Spec.Metrics = []autoscalingv2.MetricSpec{cpuUtilizationMetric(HPADefaultCPUUtilization)}
	}
	if enc, ok := in.Annotations[HPABehaviorAnnotation]; ok {
		// Upstream writes Go field names ("ScaleUp"); encoding/json matches
		// them to the v2 type's json names case-insensitively.
		var b autoscalingv2.HorizontalPodAutoscalerBehavior
		if err := json.Unmarshal([]byte(enc), &b); err == nil && (b.ScaleUp != nil || b.ScaleDown != nil) {
			out.Spec.Behavior = &b
		}
	}

	out.Status.ObservedGeneration = copyInt64(in.Status.ObservedGeneration)
	if in.Status.LastScaleTime != nil {
		t := *in.Status.LastScaleTime
		out.Status.LastScaleTime = &t
	}
	out.Status.CurrentReplicas = in.Status.CurrentReplicas
	out.Status.DesiredReplicas = in.Status.DesiredReplicas
	if in.Status.CurrentCPUUtilizationPercentage != nil {
		u := *in.Status.CurrentCPUUtilizationPercentage
		out.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{
				Name:    corev1.ResourceCPU,
				Current: autoscalingv2.MetricValueStatus{AverageUtilization: &u},
			},
		}}
	}
	if enc, ok := in.Annotations[HPACurrentMetricsAnnotation]; ok {
		// The annotation has everything, including the raw CPU value.
		var current []autoscalingv1.MetricStatus
		if err := json.Unmarshal([]byte(enc), &current); err == nil {
			out.Status.CurrentMetrics = make([]autoscalingv2.MetricStatus, len(current))
			for i := range current {
				out.Status.CurrentMetrics[i] = metricStatusV1ToV2(&current[i])
			}
		}
	}
	if enc, ok := in.Annotations[HPAConditionsAnnotation]; ok {
		var conds []autoscalingv1.HorizontalPodAutoscalerCondition
		if err := json.Unmarshal([]byte(enc), &conds); err == nil {
			out.Status.Conditions = make([]autoscalingv2.HorizontalPodAutoscalerCondition, len(conds))
			for i, c := range conds {
				out.Status.Conditions[i] = autoscalingv2.HorizontalPodAutoscalerCondition{
					Type:               autoscalingv2.HorizontalPodAutoscalerConditionType(c.Type),
					Status:             c.Status,
					LastTransitionTime: c.LastTransitionTime,
					Reason:             c.Reason,
					Message:            c.Message,
					ObservedGeneration: copyInt64(c.ObservedGeneration),
				}
			}
		}
	}
	return out
}

// HPAv2ToV1 converts an autoscaling/v2 HorizontalPodAutoscaler to
// autoscaling/v1, keeping what v1 cannot express in annotations (see above).
// The input is not modified.
func HPAv2ToV1(in *autoscalingv2.HorizontalPodAutoscaler) *autoscalingv1.HorizontalPodAutoscaler {
	if in == nil {
		return nil
	}
	in = in.DeepCopy()
	out := &autoscalingv1.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: autoscalingv1.SchemeGroupVersion.String(), Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: in.ObjectMeta,
	}
	out.Annotations = dropHPARoundTripAnnotations(out.Annotations)

	out.Spec.ScaleTargetRef = autoscalingv1.CrossVersionObjectReference(in.Spec.ScaleTargetRef)
	out.Spec.MinReplicas = in.Spec.MinReplicas
	out.Spec.MaxReplicas = in.Spec.MaxReplicas
	var other []autoscalingv1.MetricSpec
	for i := range in.Spec.Metrics {
		m := &in.Spec.Metrics[i]
		if isCPUUtilization(m) {
			if out.Spec.TargetCPUUtilizationPercentage == nil {
				out.Spec.TargetCPUUtilizationPercentage = m.Resource.Target.AverageUtilization
			}
			continue
		}
		other = append(other, metricSpecV2ToV1(m))
	}

	out.Status.ObservedGeneration = in.Status.ObservedGeneration
	out.Status.LastScaleTime = in.Status.LastScaleTime
	out.Status.CurrentReplicas = in.Status.CurrentReplicas
	out.Status.DesiredReplicas = in.Status.DesiredReplicas
	for _, m := range in.Status.CurrentMetrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil &&
			m.Resource.Name == corev1.ResourceCPU && m.Resource.Current.AverageUtilization != nil {
			out.Status.CurrentCPUUtilizationPercentage = m.Resource.Current.AverageUtilization
		}
	}

	set := func(key string, v any) {
		enc, err := json.Marshal(v)
		if err != nil {
			return // cannot happen for these plain types
		}
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[key] = string(enc)
	}
	if len(other) > 0 {
		set(HPAMetricsAnnotation, other)
	}
	if len(in.Status.CurrentMetrics) > 0 {
		// Saved even when it is only CPU, to keep the raw values too.
		current := make([]autoscalingv1.MetricStatus, len(in.Status.CurrentMetrics))
		for i := range in.Status.CurrentMetrics {
			current[i] = metricStatusV2ToV1(&in.Status.CurrentMetrics[i])
		}
		set(HPACurrentMetricsAnnotation, current)
	}
	if in.Spec.Behavior != nil {
		set(HPABehaviorAnnotation, behaviorAnnotationOf(in.Spec.Behavior))
	}
	if len(in.Status.Conditions) > 0 {
		conds := make([]autoscalingv1.HorizontalPodAutoscalerCondition, len(in.Status.Conditions))
		for i, c := range in.Status.Conditions {
			conds[i] = autoscalingv1.HorizontalPodAutoscalerCondition{
				Type:               autoscalingv1.HorizontalPodAutoscalerConditionType(c.Type),
				Status:             c.Status,
				LastTransitionTime: c.LastTransitionTime,
				Reason:             c.Reason,
				Message:            c.Message,
				ObservedGeneration: c.ObservedGeneration,
			}
		}
		set(HPAConditionsAnnotation, conds)
	}
	return out
}

// dropHPARoundTripAnnotations returns annotations without the four
// conversion annotations (a copy when it has to remove any; nil when nothing
// else is left).
func dropHPARoundTripAnnotations(in map[string]string) map[string]string {
	found := false
	for _, k := range []string{HPAMetricsAnnotation, HPACurrentMetricsAnnotation, HPAConditionsAnnotation, HPABehaviorAnnotation} {
		if _, ok := in[k]; ok {
			found = true
		}
	}
	if !found {
		return in
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		switch k {
		case HPAMetricsAnnotation, HPACurrentMetricsAnnotation, HPAConditionsAnnotation, HPABehaviorAnnotation:
		default:
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func cpuUtilizationMetric(u int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{
			Name:   corev1.ResourceCPU,
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &u},
		},
	}
}

func isCPUUtilization(m *autoscalingv2.MetricSpec) bool {
	return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil &&
		m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil
}

func copyInt32(p *int32) *int32 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func copyInt64(p *int64) *int64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func copyQuantity(q *resource.Quantity) *resource.Quantity {
	if q == nil {
		return nil
	}
	c := q.DeepCopy()
	return &c
}

func copyLabelSelector(s *metav1.LabelSelector) *metav1.LabelSelector {
	if s == nil {
		return nil
	}
	return s.DeepCopy()
}

func quantityOrZero(q *resource.Quantity) resource.Quantity {
	if q == nil {
		return resource.Quantity{}
	}
	return q.DeepCopy()
}

func metricSpecV1ToV2(in *autoscalingv1.MetricSpec) autoscalingv2.MetricSpec {
	out := autoscalingv2.MetricSpec{Type: autoscalingv2.MetricSourceType(in.Type)}
	if s := in.Object; s != nil {
		t := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: copyQuantity(&s.TargetValue), AverageValue: copyQuantity(s.AverageValue)}
		if s.AverageValue != nil {
			t.Type = autoscalingv2.AverageValueMetricType
		}
		out.Object = &autoscalingv2.ObjectMetricSource{
			DescribedObject: autoscalingv2.CrossVersionObjectReference(s.Target),
			Metric:          autoscalingv2.MetricIdentifier{Name: s.MetricName, Selector: copyLabelSelector(s.Selector)},
			Target:          t,
		}
	}
	if s := in.Pods; s != nil {
		out.Pods = &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: s.MetricName, Selector: copyLabelSelector(s.Selector)},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: copyQuantity(&s.TargetAverageValue)},
		}
	}
	if s := in.Resource; s != nil {
		out.Resource = &autoscalingv2.ResourceMetricSource{
			Name:   s.Name,
			Target: resourceTargetV1ToV2(s.TargetAverageUtilization, s.TargetAverageValue),
		}
	}
	if s := in.ContainerResource; s != nil {
		out.ContainerResource = &autoscalingv2.ContainerResourceMetricSource{
			Name:      s.Name,
			Container: s.Container,
			Target:    resourceTargetV1ToV2(s.TargetAverageUtilization, s.TargetAverageValue),
		}
	}
	if s := in.External; s != nil {
		t := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: copyQuantity(s.TargetValue), AverageValue: copyQuantity(s.TargetAverageValue)}
		if s.TargetValue == nil {
			t.Type = autoscalingv2.AverageValueMetricType
		}
		out.External = &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: s.MetricName, Selector: copyLabelSelector(s.MetricSelector)},
			Target: t,
		}
	}
	return out
}

func resourceTargetV1ToV2(utilization *int32, averageValue *resource.Quantity) autoscalingv2.MetricTarget {
	t := autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageUtilization: copyInt32(utilization), AverageValue: copyQuantity(averageValue)}
	if utilization != nil {
		t.Type = autoscalingv2.UtilizationMetricType
	}
	return t
}

func metricSpecV2ToV1(in *autoscalingv2.MetricSpec) autoscalingv1.MetricSpec {
	out := autoscalingv1.MetricSpec{Type: autoscalingv1.MetricSourceType(in.Type)}
	if s := in.Object; s != nil {
		out.Object = &autoscalingv1.ObjectMetricSource{
			Target:       autoscalingv1.CrossVersionObjectReference(s.DescribedObject),
			MetricName:   s.Metric.Name,
			Selector:     s.Metric.Selector,
			TargetValue:  quantityOrZero(s.Target.Value),
			AverageValue: s.Target.AverageValue,
		}
	}
	if s := in.Pods; s != nil {
		out.Pods = &autoscalingv1.PodsMetricSource{
			MetricName:         s.Metric.Name,
			Selector:           s.Metric.Selector,
			TargetAverageValue: quantityOrZero(s.Target.AverageValue),
		}
	}
	if s := in.Resource; s != nil {
		out.Resource = &autoscalingv1.ResourceMetricSource{
			Name:                     s.Name,
			TargetAverageUtilization: s.Target.AverageUtilization,
			TargetAverageValue:       s.Target.AverageValue,
		}
	}
	if s := in.ContainerResource; s != nil {
		out.ContainerResource = &autoscalingv1.ContainerResourceMetricSource{
			Name:                     s.Name,
			Container:                s.Container,
			TargetAverageUtilization: s.Target.AverageUtilization,
			TargetAverageValue:       s.Target.AverageValue,
		}
	}
	if s := in.External; s != nil {
		out.External = &autoscalingv1.ExternalMetricSource{
			MetricName:         s.Metric.Name,
			MetricSelector:     s.Metric.Selector,
			TargetValue:        s.Target.Value,
			TargetAverageValue: s.Target.AverageValue,
		}
	}
	return out
}

func metricStatusV1ToV2(in *autoscalingv1.MetricStatus) autoscalingv2.MetricStatus {
	out := autoscalingv2.MetricStatus{Type: autoscalingv2.MetricSourceType(in.Type)}
	if s := in.Object; s != nil {
		out.Object = &autoscalingv2.ObjectMetricStatus{
			DescribedObject: autoscalingv2.CrossVersionObjectReference(s.Target),
			Metric:          autoscalingv2.MetricIdentifier{Name: s.MetricName, Selector: copyLabelSelector(s.Selector)},
			Current:         autoscalingv2.MetricValueStatus{Value: copyQuantity(&s.CurrentValue), AverageValue: copyQuantity(s.AverageValue)},
		}
	}
	if s := in.Pods; s != nil {
		out.Pods = &autoscalingv2.PodsMetricStatus{
			Metric:  autoscalingv2.MetricIdentifier{Name: s.MetricName, Selector: copyLabelSelector(s.Selector)},
			Current: autoscalingv2.MetricValueStatus{AverageValue: copyQuantity(&s.CurrentAverageValue)},
		}
	}
	if s := in.Resource; s != nil {
		out.Resource = &autoscalingv2.ResourceMetricStatus{
			Name:    s.Name,
			Current: autoscalingv2.MetricValueStatus{AverageUtilization: copyInt32(s.CurrentAverageUtilization), AverageValue: copyQuantity(&s.CurrentAverageValue)},
		}
	}
	if s := in.ContainerResource; s != nil {
		out.ContainerResource = &autoscalingv2.ContainerResourceMetricStatus{
			Name:      s.Name,
			Container: s.Container,
			Current:   autoscalingv2.MetricValueStatus{AverageUtilization: copyInt32(s.CurrentAverageUtilization), AverageValue: copyQuantity(&s.CurrentAverageValue)},
		}
	}
	if s := in.External; s != nil {
		out.External = &autoscalingv2.ExternalMetricStatus{
			Metric:  autoscalingv2.MetricIdentifier{Name: s.MetricName, Selector: copyLabelSelector(s.MetricSelector)},
			Current: autoscalingv2.MetricValueStatus{Value: copyQuantity(&s.CurrentValue), AverageValue: copyQuantity(s.CurrentAverageValue)},
		}
	}
	return out
}

func metricStatusV2ToV1(in *autoscalingv2.MetricStatus) autoscalingv1.MetricStatus {
	out := autoscalingv1.MetricStatus{Type: autoscalingv1.MetricSourceType(in.Type)}
	if s := in.Object; s != nil {
		out.Object = &autoscalingv1.ObjectMetricStatus{
			Target:       autoscalingv1.CrossVersionObjectReference(s.DescribedObject),
			MetricName:   s.Metric.Name,
			Selector:     s.Metric.Selector,
			CurrentValue: quantityOrZero(s.Current.Value),
			AverageValue: s.Current.AverageValue,
		}
	}
	if s := in.Pods; s != nil {
		out.Pods = &autoscalingv1.PodsMetricStatus{
			MetricName:          s.Metric.Name,
			Selector:            s.Metric.Selector,
			CurrentAverageValue: quantityOrZero(s.Current.AverageValue),
		}
	}
	if s := in.Resource; s != nil {
		out.Resource = &autoscalingv1.ResourceMetricStatus{
			Name:                      s.Name,
			CurrentAverageUtilization: s.Current.AverageUtilization,
			CurrentAverageValue:       quantityOrZero(s.Current.AverageValue),
		}
	}
	if s := in.ContainerResource; s != nil {
		out.ContainerResource = &autoscalingv1.ContainerResourceMetricStatus{
			Name:                      s.Name,
			Container:                 s.Container,
			CurrentAverageUtilization: s.Current.AverageUtilization,
			CurrentAverageValue:       quantityOrZero(s.Current.AverageValue),
		}
	}
	if s := in.External; s != nil {
		out.External = &autoscalingv1.ExternalMetricStatus{
			MetricName:          s.Metric.Name,
			MetricSelector:      s.Metric.Selector,
			CurrentValue:        quantityOrZero(s.Current.Value),
			CurrentAverageValue: s.Current.AverageValue,
		}
	}
	return out
}

// hpaBehaviorAnnotation mirrors upstream's internal HorizontalPodAutoscalerBehavior,
// which has no json tags: the behavior annotation is written with Go field
// names, byte for byte what a Kubernetes API server writes.
type hpaBehaviorAnnotation struct {
	ScaleUp   *hpaScalingRulesAnnotation
	ScaleDown *hpaScalingRulesAnnotation
}

type hpaScalingRulesAnnotation struct {
	StabilizationWindowSeconds *int32
	SelectPolicy               *autoscalingv2.ScalingPolicySelect
	Policies                   []hpaScalingPolicyAnnotation
	Tolerance                  *resource.Quantity
}

type hpaScalingPolicyAnnotation struct {
	Type          autoscalingv2.HPAScalingPolicyType
	Value         int32
	PeriodSeconds int32
}

func behaviorAnnotationOf(b *autoscalingv2.HorizontalPodAutoscalerBehavior) hpaBehaviorAnnotation {
	rules := func(r *autoscalingv2.HPAScalingRules) *hpaScalingRulesAnnotation {
		if r == nil {
			return nil
		}
		out := &hpaScalingRulesAnnotation{
			StabilizationWindowSeconds: r.StabilizationWindowSeconds,
			SelectPolicy:               r.SelectPolicy,
			Tolerance:                  r.Tolerance,
		}
		if r.Policies != nil {
			out.Policies = make([]hpaScalingPolicyAnnotation, len(r.Policies))
			for i, p := range r.Policies {
				out.Policies[i] = hpaScalingPolicyAnnotation(p)
			}
		}
		return out
	}
	return hpaBehaviorAnnotation{ScaleUp: rules(b.ScaleUp), ScaleDown: rules(b.ScaleDown)}
}
