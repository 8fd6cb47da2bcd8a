package api

import (
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// HorizontalPodAutoscaler, as upstream's pkg/apis/autoscaling/validation
// with scale-to-zero (the HPAScaleToZero alpha feature) off.

const (
	hpaMaxStabilizationWindowSeconds = 3600
	hpaMaxPeriodSeconds              = 1800
)

var supportedMetricSourceTypes = []autoscalingv2.MetricSourceType{
	autoscalingv2.ObjectMetricSourceType, autoscalingv2.PodsMetricSourceType, autoscalingv2.ResourceMetricSourceType,
	autoscalingv2.ExternalMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType,
}

func validateHPA(h *autoscalingv2.HorizontalPodAutoscaler) field.ErrorList {
	errs := validateMeta(&h.ObjectMeta, true, nameIsDNSSubdomain)
	spec := &h.Spec
	sp := field.NewPath("spec")
	errs = append(errs, validateHPAReplicas(spec.MinReplicas, spec.MaxReplicas, sp)...)
	refErrs := validateCrossVersionObjectReference(autoscalingv1.CrossVersionObjectReference(spec.ScaleTargetRef), sp.Child("scaleTargetRef"))
	errs = append(errs, refErrs...)
	if len(refErrs) > 0 {
		// Upstream stops here: metrics of an unknown target mean little.
		return errs
	}
	for i := range spec.Metrics {
		errs = append(errs, validateMetricSpec(&spec.Metrics[i], sp.Child("metrics").Index(i))...)
	}
	if b := spec.Behavior; b != nil {
		bp := sp.Child("behavior")
		errs = append(errs, validateScalingRules(b.ScaleUp, bp.Child("scaleUp"))...)
		errs = append(errs, validateScalingRules(b.ScaleDown, bp.Child("scaleDown"))...)
	}
	return errs
}

// validateHPAv1 checks an autoscaling/v1 object with its own field paths
// (it is normally converted to v2 first).
func validateHPAv1(h *autoscalingv1.HorizontalPodAutoscaler) field.ErrorList {
	errs := validateMeta(&h.ObjectMeta, true, nameIsDNSSubdomain)
	sp := field.NewPath("spec")
	errs = append(errs, validateHPAReplicas(h.Spec.MinReplicas, h.Spec.MaxReplicas, sp)...)
	errs = append(errs, validateCrossVersionObjectReference(h.Spec.ScaleTargetRef, sp.Child("scaleTargetRef"))...)
	if u := h.Spec.TargetCPUUtilizationPercentage; u != nil && *u < 1 {
		errs = append(errs, field.Invalid(sp.Child("targetCPUUtilizationPercentage"), *u, "must be greater than 0"))
	}
	return errs
}

func validateHPAReplicas(min *int32, max int32, sp *field.Path) field.ErrorList {
	var errs field.ErrorList
	if min != nil && *min < 1 {
		errs = append(errs, field.Invalid(sp.Child("minReplicas"), *min, "must be greater than or equal to 1"))
	}
	if max < 1 {
		errs = append(errs, field.Invalid(sp.Child("maxReplicas"), max, "must be greater than 0"))
	}
	if min != nil && max < *min {
		errs = append(errs, field.Invalid(sp.Child("maxReplicas"), max, "must be greater than or equal to `minReplicas`"))
	}
	return errs
}

func validateCrossVersionObjectReference(ref autoscalingv1.CrossVersionObjectReference, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, f := range []struct{ name, value string }{{"kind", ref.Kind}, {"name", ref.Name}} {
		if f.value == "" {
			errs = append(errs, field.Required(p.Child(f.name), ""))
			continue
		}
		for _, msg := range path.IsValidPathSegmentName(f.value) {
			errs = append(errs, field.Invalid(p.Child(f.name), f.value, msg))
		}
	}
	if ref.APIVersion != "" {
		if _, err := schema.ParseGroupVersion(ref.APIVersion); err != nil {
			errs = append(errs, field.Invalid(p.Child("apiVersion"), ref.APIVersion, err.Error()))
		}
	}
	return errs
}

func validateMetricSpec(m *autoscalingv2.MetricSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	var expected string
	switch m.Type {
	case "":
		errs = append(errs, field.Required(p.Child("type"), "must specify a metric source type"))
	case autoscalingv2.ObjectMetricSourceType:
		expected = "object"
		if m.Object == nil {
			errs = append(errs, field.Required(p.Child("object"), "must populate information for the given metric source"))
		}
	case autoscalingv2.PodsMetricSourceType:
		expected = "pods"
		if m.Pods == nil {
			errs = append(errs, field.Required(p.Child("pods"), "must populate information for the given metric source"))
		}
	case autoscalingv2.ResourceMetricSourceType:
		expected = "resource"
		if m.Resource == nil {
			errs = append(errs, field.Required(p.Child("resource"), "must populate information for the given metric source"))
		}
	case autoscalingv2.ContainerResourceMetricSourceType:
		expected = "containerResource"
		if m.ContainerResource == nil {
			errs = append(errs, field.Required(p.Child("containerResource"), "must populate information for the given metric source"))
		}
	case autoscalingv2.ExternalMetricSourceType:
		expected = "external"
		if m.External == nil {
			errs = append(errs, field.Required(p.Child("external"), "must populate information for the given metric source"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("type"), m.Type, supportedMetricSourceTypes))
	}
	for _, name := range setPointerFields(m) {
		if name != expected {
			errs = append(errs, field.Forbidden(p.Child(name), "must populate the given metric source only"))
		}
	}

	if s := m.Object; s != nil {
		sp := p.Child("object")
		errs = append(errs, validateCrossVersionObjectReference(autoscalingv1.CrossVersionObjectReference(s.DescribedObject), sp.Child("describedObject"))...)
		errs = append(errs, validateMetricIdentifier(&s.Metric, sp.Child("metric"))...)
		errs = append(errs, validateMetricTarget(&s.Target, sp.Child("target"))...)
		if s.Target.Value == nil && s.Target.AverageValue == nil {
			errs = append(errs, field.Required(sp.Child("target", "averageValue"), "must set either a target value or averageValue"))
		}
	}
	if s := m.Pods; s != nil {
		sp := p.Child("pods")
		errs = append(errs, validateMetricIdentifier(&s.Metric, sp.Child("metric"))...)
		errs = append(errs, validateMetricTarget(&s.Target, sp.Child("target"))...)
		if s.Target.AverageValue == nil {
			errs = append(errs, field.Required(sp.Child("target", "averageValue"), "must specify a positive target averageValue"))
		}
	}
	if s := m.Resource; s != nil {
		errs = append(errs, validateResourceMetric(string(s.Name), &s.Target, p.Child("resource"))...)
	}
	if s := m.ContainerResource; s != nil {
		sp := p.Child("containerResource")
		errs = append(errs, validateResourceMetric(string(s.Name), &s.Target, sp)...)
		if s.Container == "" {
			errs = append(errs, field.Required(sp.Child("container"), "must specify a container"))
		} else {
			errs = append(errs, kubeDNSLabel(s.Container, sp.Child("container"))...)
		}
	}
	if s := m.External; s != nil {
		sp := p.Child("external")
		errs = append(errs, validateMetricIdentifier(&s.Metric, sp.Child("metric"))...)
		errs = append(errs, validateMetricTarget(&s.Target, sp.Child("target"))...)
		switch {
		case s.Target.Value == nil && s.Target.AverageValue == nil:
			errs = append(errs, field.Required(sp.Child("target", "averageValue"), "must set either a target value for metric or a per-pod target"))
		case s.Target.Value != nil && s.Target.AverageValue != nil:
			errs = append(errs, field.Forbidden(sp.Child("target", "value"), "may not set both a target value for metric and a per-pod target"))
		}
	}
	return errs
}

func validateResourceMetric(name string, t *autoscalingv2.MetricTarget, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), "must specify a resource name"))
	} else {
		errs = append(errs, validateResourceName(name, p.Child("name"))...)
	}
	tp := p.Child("target")
	errs = append(errs, validateMetricTarget(t, tp)...)
	switch {
	case t.AverageUtilization == nil && t.AverageValue == nil:
		errs = append(errs, field.Required(tp.Child("averageUtilization"), "must set either a target raw value or a target utilization"))
	case t.AverageUtilization != nil && t.AverageValue != nil:
		errs = append(errs, field.Forbidden(tp.Child("averageValue"), "may not set both a target raw value and a target utilization"))
	}
	return errs
}

func validateMetricTarget(t *autoscalingv2.MetricTarget, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch t.Type {
	case "":
		errs = append(errs, field.Required(p.Child("type"), "must specify a metric target type"))
	case autoscalingv2.UtilizationMetricType, autoscalingv2.ValueMetricType, autoscalingv2.AverageValueMetricType:
	default:
		errs = append(errs, field.Invalid(p.Child("type"), t.Type, "must be either Utilization, Value, or AverageValue"))
	}
	if t.Value != nil && t.Value.Sign() != 1 {
		errs = append(errs, field.Invalid(p.Child("value"), t.Value.String(), "must be positive"))
	}
	if t.AverageValue != nil && t.AverageValue.Sign() != 1 {
		errs = append(errs, field.Invalid(p.Child("averageValue"), t.AverageValue.String(), "must be positive"))
	}
	if t.AverageUtilization != nil && *t.AverageUtilization < 1 {
		errs = append(errs, field.Invalid(p.Child("averageUtilization"), *t.AverageUtilization, "must be greater than 0"))
	}
	return errs
}

func validateMetricIdentifier(id *autoscalingv2.MetricIdentifier, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if id.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), "must specify a metric name"))
	} else {
		for _, msg := range path.IsValidPathSegmentName(id.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), id.Name, msg))
		}
	}
	if id.Selector != nil {
		errs = append(errs, kubeLabelSelector(id.Selector, p.Child("selector"))...)
	}
	return errs
}

func validateScalingRules(r *autoscalingv2.HPAScalingRules, p *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if w := r.StabilizationWindowSeconds; w != nil {
		wp := p.Child("stabilizationWindowSeconds")
		switch {
		case *w < 0:
			errs = append(errs, field.Invalid(wp, *w, "must be greater than or equal to zero"))
		case *w > hpaMaxStabilizationWindowSeconds:
			errs = append(errs, field.Invalid(wp, *w, fmt.Sprintf("must be less than or equal to %d", hpaMaxStabilizationWindowSeconds)))
		}
	}
	if r.SelectPolicy != nil {
		errs = append(errs, kubeEnum(*r.SelectPolicy, p.Child("selectPolicy"),
			autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect)...)
	}
	pp := p.Child("policies")
	if len(r.Policies) == 0 {
		errs = append(errs, field.Required(pp, "must specify at least one Policy"))
	}
	for i, pol := range r.Policies {
		ip := pp.Index(i)
		errs = append(errs, kubeEnum(pol.Type, ip.Child("type"), autoscalingv2.PodsScalingPolicy, autoscalingv2.PercentScalingPolicy)...)
		if pol.Value <= 0 {
			errs = append(errs, field.Invalid(ip.Child("value"), pol.Value, "must be greater than zero"))
		}
		switch {
		case pol.PeriodSeconds <= 0:
			errs = append(errs, field.Invalid(ip.Child("periodSeconds"), pol.PeriodSeconds, "must be greater than zero"))
		case pol.PeriodSeconds > hpaMaxPeriodSeconds:
			errs = append(errs, field.Invalid(ip.Child("periodSeconds"), pol.PeriodSeconds, fmt.Sprintf("must be less than or equal to %d", hpaMaxPeriodSeconds)))
		}
	}
	if r.Tolerance != nil && r.Tolerance.Sign() < 0 {
		errs = append(errs, field.Invalid(p.Child("tolerance"), r.Tolerance.String(), "must be greater than or equal to 0"))
	}
	return errs
}
