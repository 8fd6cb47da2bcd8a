package api

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Workload controllers: apps/v1 Deployment, ReplicaSet, StatefulSet,
// DaemonSet and the legacy core/v1 ReplicationController.

const selectorMismatch = "`selector` does not match template `labels`"

// validateSelectorAndTemplate checks an apps/v1 label selector (required,
// not empty) and the pod template it must select.
func validateSelectorAndTemplate(sel *metav1.LabelSelector, t *corev1.PodTemplateSpec, sp *field.Path, kind string) field.ErrorList {
	var errs field.ErrorList
	selPath := sp.Child("selector")
	selectorOK := false
	if sel == nil {
		errs = append(errs, field.Required(selPath, ""))
	} else {
		selErrs := kubeLabelSelector(sel, selPath)
		errs = append(errs, selErrs...)
		if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
			errs = append(errs, field.Invalid(selPath, sel, "empty selector is invalid for "+strings.ToLower(kind)))
		} else {
			selectorOK = len(selErrs) == 0
		}
	}
	tp := sp.Child("template")
	if selectorOK {
		if s, err := metav1.LabelSelectorAsSelector(sel); err == nil && !s.Matches(labels.Set(t.Labels)) {
			errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), t.Labels, selectorMismatch))
		}
	}
	return append(errs, validateWorkloadTemplate(t, tp, kind)...)
}

func validateOptionalNonNegative(v *int32, p *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return kubeNonNegative(int64(*v), p)
}

// validateRollingUpdate checks maxUnavailable and maxSurge: integers or
// percentages, not both zero, maxUnavailable at most 100%.
func validateRollingUpdate(maxUnavailable, maxSurge *intstr.IntOrString, p *field.Path) field.ErrorList {
	errs := kubeIntOrPercent(maxUnavailable, p.Child("maxUnavailable"))
	errs = append(errs, kubeIntOrPercent(maxSurge, p.Child("maxSurge"))...)
	if intOrPercentValue(maxUnavailable) == 0 && intOrPercentValue(maxSurge) == 0 {
		errs = append(errs, field.Invalid(p.Child("maxUnavailable"), maxUnavailable, "may not be 0 when `maxSurge` is 0"))
	}
	return append(errs, kubeNotMoreThan100Percent(maxUnavailable, p.Child("maxUnavailable"))...)
}

func validateDeployment(d *appsv1.Deployment) field.ErrorList {
	errs := validateMeta(&d.ObjectMeta, true, nameIsDNSSubdomain)
	spec := &d.Spec
	sp := field.NewPath("spec")
	errs = append(errs, validateOptionalNonNegative(spec.Replicas, sp.Child("replicas"))...)
	errs = append(errs, validateSelectorAndTemplate(spec.Selector, &spec.Template, sp, "Deployment")...)

	stp := sp.Child("strategy")
	switch spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if spec.Strategy.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(stp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		if ru := spec.Strategy.RollingUpdate; ru == nil {
			errs = append(errs, field.Required(stp.Child("rollingUpdate"), "this should be defaulted and never be nil"))
		} else {
			errs = append(errs, validateRollingUpdate(ru.MaxUnavailable, ru.MaxSurge, stp.Child("rollingUpdate"))...)
		}
	default:
		errs = append(errs, kubeEnum(spec.Strategy.Type, stp.Child("type"), appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType)...)
	}
	errs = append(errs, kubeNonNegative(int64(spec.MinReadySeconds), sp.Child("minReadySeconds"))...)
	errs = append(errs, validateOptionalNonNegative(spec.RevisionHistoryLimit, sp.Child("revisionHistoryLimit"))...)
	if pds := spec.ProgressDeadlineSeconds; pds != nil {
		pp := sp.Child("progressDeadlineSeconds")
		errs = append(errs, kubeNonNegative(int64(*pds), pp)...)
		if *pds <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(pp, *pds, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateReplicaSet(rs *appsv1.ReplicaSet) field.ErrorList {
	errs := validateMeta(&rs.ObjectMeta, true, nameIsDNSSubdomain)
	sp := field.NewPath("spec")
	errs = append(errs, validateOptionalNonNegative(rs.Spec.Replicas, sp.Child("replicas"))...)
	errs = append(errs, kubeNonNegative(int64(rs.Spec.MinReadySeconds), sp.Child("minReadySeconds"))...)
	return append(errs, validateSelectorAndTemplate(rs.Spec.Selector, &rs.Spec.Template, sp, "ReplicaSet")...)
}

func validateReplicationController(rc *corev1.ReplicationController) field.ErrorList {
	errs := validateMeta(&rc.ObjectMeta, true, nameIsDNSSubdomain)
	sp := field.NewPath("spec")
	errs = append(errs, validateOptionalNonNegative(rc.Spec.Replicas, sp.Child("replicas"))...)
	errs = append(errs, kubeNonNegative(int64(rc.Spec.MinReadySeconds), sp.Child("minReadySeconds"))...)
	selPath := sp.Child("selector")
	if len(rc.Spec.Selector) == 0 {
		errs = append(errs, field.Required(selPath, ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabels(rc.Spec.Selector, selPath)...)
	}
	tp := sp.Child("template")
	if rc.Spec.Template == nil {
		return append(errs, field.Required(tp, ""))
	}
	if len(rc.Spec.Selector) > 0 && !labels.SelectorFromSet(rc.Spec.Selector).Matches(labels.Set(rc.Spec.Template.Labels)) {
		errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), rc.Spec.Template.Labels, selectorMismatch))
	}
	return append(errs, validateWorkloadTemplate(rc.Spec.Template, tp, "ReplicationController")...)
}

func validateStatefulSet(ss *appsv1.StatefulSet) field.ErrorList {
	errs := validateMeta(&ss.ObjectMeta, true, nameIsDNSSubdomain)
	spec := &ss.Spec
	sp := field.NewPath("spec")
	errs = append(errs, kubeEnum(spec.PodManagementPolicy, sp.Child("podManagementPolicy"), appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement)...)
	up := sp.Child("updateStrategy")
	switch spec.UpdateStrategy.Type {
	case appsv1.OnDeleteStatefulSetStrategyType:
		if spec.UpdateStrategy.RollingUpdate != nil {
			errs = append(errs, field.Invalid(up.Child("rollingUpdate"), spec.UpdateStrategy.RollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"))
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if ru := spec.UpdateStrategy.RollingUpdate; ru != nil {
			rp := up.Child("rollingUpdate")
			errs = append(errs, validateOptionalNonNegative(ru.Partition, rp.Child("partition"))...)
			if ru.MaxUnavailable != nil {
				mp := rp.Child("maxUnavailable")
				errs = append(errs, kubeIntOrPercent(ru.MaxUnavailable, mp)...)
				if intOrPercentValue(ru.MaxUnavailable) == 0 {
					errs = append(errs, field.Invalid(mp, ru.MaxUnavailable, "must be greater than 0"))
				}
				errs = append(errs, kubeNotMoreThan100Percent(ru.MaxUnavailable, mp)...)
			}
		}
	default:
		errs = append(errs, kubeEnum(spec.UpdateStrategy.Type, up.Child("type"), appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType)...)
	}
	if p := spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		pp := sp.Child("persistentVolumeClaimRetentionPolicy")
		errs = append(errs, kubeEnum(p.WhenDeleted, pp.Child("whenDeleted"), appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType)...)
		errs = append(errs, kubeEnum(p.WhenScaled, pp.Child("whenScaled"), appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType)...)
	}
	if spec.Ordinals != nil {
		errs = append(errs, kubeNonNegative(int64(spec.Ordinals.Start), sp.Child("ordinals", "start"))...)
	}
	errs = append(errs, validateOptionalNonNegative(spec.Replicas, sp.Child("replicas"))...)
	errs = append(errs, kubeNonNegative(int64(spec.MinReadySeconds), sp.Child("minReadySeconds"))...)
	errs = append(errs, validateOptionalNonNegative(spec.RevisionHistoryLimit, sp.Child("revisionHistoryLimit"))...)
	if spec.ServiceName != "" {
		for _, msg := range nameIsDNS1035Label(spec.ServiceName, false) {
			errs = append(errs, field.Invalid(sp.Child("serviceName"), spec.ServiceName, msg))
		}
	}
	for i := range spec.VolumeClaimTemplates {
		vp := sp.Child("volumeClaimTemplates").Index(i)
		vct := &spec.VolumeClaimTemplates[i]
		if vct.Name == "" {
			errs = append(errs, field.Required(vp.Child("metadata", "name"), ""))
		} else {
			errs = append(errs, kubeDNSSubdomain(vct.Name, vp.Child("metadata", "name"))...)
		}
		errs = append(errs, validatePVCSpec(&vct.Spec, vp.Child("spec"))...)
	}
	return append(errs, validateSelectorAndTemplate(spec.Selector, &spec.Template, sp, "StatefulSet")...)
}

func validateDaemonSet(ds *appsv1.DaemonSet) field.ErrorList {
	errs := validateMeta(&ds.ObjectMeta, true, nameIsDNSSubdomain)
	spec := &ds.Spec
	sp := field.NewPath("spec")
	errs = append(errs, validateSelectorAndTemplate(spec.Selector, &spec.Template, sp, "DaemonSet")...)
	up := sp.Child("updateStrategy")
	switch spec.UpdateStrategy.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
	case appsv1.RollingUpdateDaemonSetStrategyType:
		if ru := spec.UpdateStrategy.RollingUpdate; ru == nil {
			errs = append(errs, field.Required(up.Child("rollingUpdate"), ""))
		} else {
			rp := up.Child("rollingUpdate")
			errs = append(errs, validateRollingUpdate(ru.MaxUnavailable, ru.MaxSurge, rp)...)
			errs = append(errs, kubeNotMoreThan100Percent(ru.MaxSurge, rp.Child("maxSurge"))...)
		}
	default:
		errs = append(errs, kubeEnum(spec.UpdateStrategy.Type, up.Child("type"), appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType)...)
	}
	errs = append(errs, kubeNonNegative(int64(spec.MinReadySeconds), sp.Child("minReadySeconds"))...)
	return append(errs, validateOptionalNonNegative(spec.RevisionHistoryLimit, sp.Child("revisionHistoryLimit"))...)
}
