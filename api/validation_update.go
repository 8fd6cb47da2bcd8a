package api

import (
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateUpdate checks what may not change when oldObj is replaced by
// newObj: immutable metadata (name, namespace, uid, creationTimestamp, no
// new finalizers once deleting, generation never decremented) and the
// immutable fields of each kind, as upstream's Validate*Update functions do.
// It complements Validate(newObj), which the caller runs as well.
//
// Like upstream's registry, it expects the API server to carry the stored
// uid and creationTimestamp into an update that does not give them; an
// update that leaves them empty is not an error here. Optimistic concurrency
// (resourceVersion) is the store's business and is not checked.
//
// Objects of different types are an error at "kind"; objects of a type
// Weft does not validate give no errors.
func ValidateUpdate(newObj, oldObj runtime.Object) field.ErrorList {
	if reflect.TypeOf(newObj) != reflect.TypeOf(oldObj) {
		return field.ErrorList{field.Invalid(field.NewPath("kind"), fmt.Sprintf("%T", newObj), fmt.Sprintf("may not change from %T", oldObj))}
	}
	newMeta, oldMeta := objectMetaOf(newObj), objectMetaOf(oldObj)
	if newMeta == nil || oldMeta == nil {
		return nil
	}
	errs := validateMetaUpdate(newMeta, oldMeta)
	sp := field.NewPath("spec")
	switch n := newObj.(type) {
	case *corev1.Pod:
		errs = append(errs, validatePodUpdate(n, oldObj.(*corev1.Pod))...)
	case *corev1.Service:
		errs = append(errs, validateServiceUpdate(n, oldObj.(*corev1.Service))...)
	case *corev1.ConfigMap:
		o := oldObj.(*corev1.ConfigMap)
		if o.Immutable != nil && *o.Immutable {
			errs = append(errs, validateStaysImmutable(n.Immutable,
				changedField{"data", !apiequality.Semantic.DeepEqual(n.Data, o.Data)},
				changedField{"binaryData", !apiequality.Semantic.DeepEqual(n.BinaryData, o.BinaryData)})...)
		}
	case *corev1.Secret:
		o := oldObj.(*corev1.Secret)
		errs = append(errs, apivalidation.ValidateImmutableField(n.Type, o.Type, field.NewPath("type"))...)
		if o.Immutable != nil && *o.Immutable {
			errs = append(errs, validateStaysImmutable(n.Immutable,
				changedField{"data", !apiequality.Semantic.DeepEqual(n.Data, o.Data)})...)
		}
	case *corev1.Node:
		errs = append(errs, validateNodeUpdate(n, oldObj.(*corev1.Node))...)
	case *corev1.PersistentVolumeClaim:
		errs = append(errs, validatePVCUpdate(n, oldObj.(*corev1.PersistentVolumeClaim))...)
	case *corev1.PersistentVolume:
		o := oldObj.(*corev1.PersistentVolume)
		if !apiequality.Semantic.DeepEqual(n.Spec.PersistentVolumeSource, o.Spec.PersistentVolumeSource) {
			errs = append(errs, field.Forbidden(sp.Child("persistentvolumesource"), "spec.persistentvolumesource is immutable after creation"))
		}
		if o.Spec.VolumeMode != nil {
			errs = append(errs, apivalidation.ValidateImmutableField(n.Spec.VolumeMode, o.Spec.VolumeMode, sp.Child("volumeMode"))...)
		}
	case *appsv1.Deployment:
		errs = append(errs, apivalidation.ValidateImmutableField(n.Spec.Selector, oldObj.(*appsv1.Deployment).Spec.Selector, sp.Child("selector"))...)
	case *appsv1.ReplicaSet:
		errs = append(errs, apivalidation.ValidateImmutableField(n.Spec.Selector, oldObj.(*appsv1.ReplicaSet).Spec.Selector, sp.Child("selector"))...)
	case *appsv1.DaemonSet:
		errs = append(errs, apivalidation.ValidateImmutableField(n.Spec.Selector, oldObj.(*appsv1.DaemonSet).Spec.Selector, sp.Child("selector"))...)
	case *appsv1.StatefulSet:
		errs = append(errs, validateStatefulSetUpdate(n, oldObj.(*appsv1.StatefulSet))...)
	case *batchv1.Job:
		errs = append(errs, validateJobUpdate(n, oldObj.(*batchv1.Job))...)
	case *discoveryv1.EndpointSlice:
		errs = append(errs, apivalidation.ValidateImmutableField(n.AddressType, oldObj.(*discoveryv1.EndpointSlice).AddressType, field.NewPath("addressType"))...)
	case *storagev1.StorageClass:
		o := oldObj.(*storagev1.StorageClass)
		for _, f := range []struct {
			name     string
			new, old any
		}{{"parameters", n.Parameters, o.Parameters}, {"provisioner", n.Provisioner, o.Provisioner},
			{"reclaimPolicy", n.ReclaimPolicy, o.ReclaimPolicy}, {"volumeBindingMode", n.VolumeBindingMode, o.VolumeBindingMode}} {
			if !apiequality.Semantic.DeepEqual(f.new, f.old) {
				errs = append(errs, field.Forbidden(field.NewPath(f.name), "updates to "+f.name+" are forbidden."))
			}
		}
	}
	return errs
}

func objectMetaOf(obj runtime.Object) *metav1.ObjectMeta {
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		if m, ok := a.GetObjectMeta().(*metav1.ObjectMeta); ok && m != nil {
			return m
		}
	}
	return nil
}

func validateMetaUpdate(newMeta, oldMeta *metav1.ObjectMeta) field.ErrorList {
	m := newMeta.DeepCopy()
	if m.UID == "" {
		m.UID = oldMeta.UID
	}
	if m.CreationTimestamp.IsZero() {
		m.CreationTimestamp = oldMeta.CreationTimestamp
	}
	errs := apivalidation.ValidateObjectMetaUpdate(m, oldMeta, metadataPath)
	return errs.Filter(func(err error) bool {
		e, ok := err.(*field.Error)
		return ok && e.Field == "metadata.resourceVersion"
	})
}

type changedField struct {
	name    string
	changed bool
}

// validateStaysImmutable: an immutable ConfigMap or Secret stays immutable
// and keeps its data.
func validateStaysImmutable(newImmutable *bool, fields ...changedField) field.ErrorList {
	const msg = "field is immutable when `immutable` is set"
	var errs field.ErrorList
	if newImmutable == nil || !*newImmutable {
		errs = append(errs, field.Forbidden(field.NewPath("immutable"), msg))
	}
	for _, f := range fields {
		if f.changed {
			errs = append(errs, field.Forbidden(field.NewPath(f.name), msg))
		}
	}
	return errs
}

const podUpdateForbidden = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`," +
	"`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)," +
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)," +
	"`spec.schedulingGates` (only removals)"

func validatePodUpdate(n, o *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	ap := sp.Child("activeDeadlineSeconds")
	switch {
	case n.Spec.ActiveDeadlineSeconds == nil && o.Spec.ActiveDeadlineSeconds != nil:
		errs = append(errs, field.Invalid(ap, n.Spec.ActiveDeadlineSeconds, "must not update from a positive integer to nil value"))
	case n.Spec.ActiveDeadlineSeconds != nil && o.Spec.ActiveDeadlineSeconds != nil && *n.Spec.ActiveDeadlineSeconds > *o.Spec.ActiveDeadlineSeconds:
		errs = append(errs, field.Invalid(ap, *n.Spec.ActiveDeadlineSeconds, "must be less than or equal to previous value"))
	}
	for _, old := range o.Spec.Tolerations {
		found := false
		for _, t := range n.Spec.Tolerations {
			c := old
			c.TolerationSeconds = t.TolerationSeconds
			if apiequality.Semantic.DeepEqual(c, t) {
				found = true
				break
			}
		}
		if !found {
			errs = append(errs, field.Forbidden(sp.Child("tolerations"), "existing toleration can not be modified except its tolerationSeconds"))
			break
		}
	}

	// Everything else must be as it was.
	munged := o.Spec.DeepCopy()
	for i := range munged.Containers {
		if i < len(n.Spec.Containers) {
			munged.Containers[i].Image = n.Spec.Containers[i].Image
		}
	}
	for i := range munged.InitContainers {
		if i < len(n.Spec.InitContainers) {
			munged.InitContainers[i].Image = n.Spec.InitContainers[i].Image
		}
	}
	munged.ActiveDeadlineSeconds = n.Spec.ActiveDeadlineSeconds
	munged.Tolerations = n.Spec.Tolerations
	if g := o.Spec.TerminationGracePeriodSeconds; g != nil && *g < 0 && n.Spec.TerminationGracePeriodSeconds != nil && *n.Spec.TerminationGracePeriodSeconds == 1 {
		munged.TerminationGracePeriodSeconds = n.Spec.TerminationGracePeriodSeconds
	}
	if schedulingGatesRemovedOnly(n.Spec.SchedulingGates, o.Spec.SchedulingGates) {
		munged.SchedulingGates = n.Spec.SchedulingGates
	}
	if !apiequality.Semantic.DeepEqual(munged, &n.Spec) {
		errs = append(errs, field.Forbidden(sp, podUpdateForbidden))
	}
	return errs
}

func schedulingGatesRemovedOnly(newGates, oldGates []corev1.PodSchedulingGate) bool {
	old := map[string]bool{}
	for _, g := range oldGates {
		old[g.Name] = true
	}
	for _, g := range newGates {
		if !old[g.Name] {
			return false
		}
	}
	return true
}

func validateServiceUpdate(n, o *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	if n.Spec.Type == corev1.ServiceTypeExternalName || o.Spec.Type == corev1.ServiceTypeExternalName {
		// Becoming or leaving ExternalName allocates or releases the IPs.
		return nil
	}
	if o.Spec.ClusterIP != "" && n.Spec.ClusterIP != o.Spec.ClusterIP {
		errs = append(errs, field.Invalid(sp.Child("clusterIP"), n.Spec.ClusterIP, apivalidation.FieldImmutableErrorMsg))
	}
	if len(o.Spec.IPFamilies) > 0 && len(n.Spec.IPFamilies) > 0 && n.Spec.IPFamilies[0] != o.Spec.IPFamilies[0] {
		errs = append(errs, field.Invalid(sp.Child("ipFamilies").Index(0), n.Spec.IPFamilies[0], "may not change once set"))
	}
	return errs
}

func validateNodeUpdate(n, o *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	if o.Spec.PodCIDR != "" && n.Spec.PodCIDR != o.Spec.PodCIDR {
		errs = append(errs, field.Forbidden(sp.Child("podCIDR"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if len(o.Spec.PodCIDRs) > 0 {
		for i, c := range o.Spec.PodCIDRs {
			if i >= len(n.Spec.PodCIDRs) || n.Spec.PodCIDRs[i] != c {
				errs = append(errs, field.Forbidden(sp.Child("podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"))
				break
			}
		}
	}
	if o.Spec.ProviderID != "" && n.Spec.ProviderID != o.Spec.ProviderID {
		errs = append(errs, field.Forbidden(sp.Child("providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	return errs
}

func validatePVCUpdate(n, o *corev1.PersistentVolumeClaim) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	munged := o.Spec.DeepCopy()
	munged.Resources.Requests = n.Spec.Resources.Requests
	munged.VolumeAttributesClassName = n.Spec.VolumeAttributesClassName
	if o.Spec.VolumeName == "" {
		// Binding sets the volume once.
		munged.VolumeName = n.Spec.VolumeName
	}
	if !apiequality.Semantic.DeepEqual(munged, &n.Spec) {
		errs = append(errs, field.Forbidden(sp, "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
	}
	newSize, okNew := n.Spec.Resources.Requests[corev1.ResourceStorage]
	oldSize, okOld := o.Spec.Resources.Requests[corev1.ResourceStorage]
	if okNew && okOld && newSize.Cmp(oldSize) < 0 {
		errs = append(errs, field.Forbidden(sp.Child("resources", "requests").Key(string(corev1.ResourceStorage)), "field can not be less than previous value"))
	}
	return errs
}

func validateStatefulSetUpdate(n, o *appsv1.StatefulSet) field.ErrorList {
	munged := o.Spec.DeepCopy()
	munged.Replicas = n.Spec.Replicas
	munged.Ordinals = n.Spec.Ordinals
	munged.Template = n.Spec.Template
	munged.UpdateStrategy = n.Spec.UpdateStrategy
	munged.RevisionHistoryLimit = n.Spec.RevisionHistoryLimit
	munged.PersistentVolumeClaimRetentionPolicy = n.Spec.PersistentVolumeClaimRetentionPolicy
	munged.MinReadySeconds = n.Spec.MinReadySeconds
	if !apiequality.Semantic.DeepEqual(munged, &n.Spec) {
		return field.ErrorList{field.Forbidden(field.NewPath("spec"), "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")}
	}
	return nil
}

func validateJobUpdate(n, o *batchv1.Job) field.ErrorList {
	sp := field.NewPath("spec")
	errs := apivalidation.ValidateImmutableField(n.Spec.Selector, o.Spec.Selector, sp.Child("selector"))
	errs = append(errs, apivalidation.ValidateImmutableField(n.Spec.CompletionMode, o.Spec.CompletionMode, sp.Child("completionMode"))...)
	// Indexed jobs are elastic: completions may follow parallelism.
	elastic := n.Spec.CompletionMode != nil && *n.Spec.CompletionMode == batchv1.IndexedCompletion &&
		n.Spec.Completions != nil && n.Spec.Parallelism != nil && *n.Spec.Completions == *n.Spec.Parallelism &&
		o.Spec.Completions != nil && o.Spec.Parallelism != nil && *o.Spec.Completions == *o.Spec.Parallelism
	if !elastic {
		errs = append(errs, apivalidation.ValidateImmutableField(n.Spec.Completions, o.Spec.Completions, sp.Child("completions"))...)
	}
	// A suspended job that never started may still be told where to run.
	oldTemplate := o.Spec.Template.DeepCopy()
	if n.Spec.Suspend != nil && *n.Spec.Suspend && o.Status.StartTime == nil {
		t := &n.Spec.Template
		oldTemplate.Labels, oldTemplate.Annotations = t.Labels, t.Annotations
		oldTemplate.Spec.NodeSelector, oldTemplate.Spec.Affinity = t.Spec.NodeSelector, t.Spec.Affinity
		oldTemplate.Spec.Tolerations, oldTemplate.Spec.SchedulingGates = t.Spec.Tolerations, t.Spec.SchedulingGates
	}
	if !apiequality.Semantic.DeepEqual(oldTemplate, &n.Spec.Template) {
		errs = append(errs, field.Invalid(sp.Child("template"), "", apivalidation.FieldImmutableErrorMsg))
	}
	return errs
}
