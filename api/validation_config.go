package api

import (
	"encoding/json"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Configuration, cluster and storage kinds of the core group, and StorageClass.

func validateConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	errs := validateMeta(&cm.ObjectMeta, true, nameIsDNSSubdomain)
	dp, bp := field.NewPath("data"), field.NewPath("binaryData")
	size := 0
	for _, k := range sortedKeys(cm.Data) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(dp.Key(k), k, msg))
		}
		if _, dup := cm.BinaryData[k]; dup {
			errs = append(errs, field.Invalid(dp.Key(k), k, "duplicate of key present in binaryData"))
		}
		size += len(cm.Data[k])
	}
	for _, k := range sortedKeys(cm.BinaryData) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(bp.Key(k), k, msg))
		}
		size += len(cm.BinaryData[k])
	}
	if size > corev1.MaxSecretSize {
		// The limit is on data and binaryData together.
		errs = append(errs, field.TooLong(dp, "", corev1.MaxSecretSize))
	}
	return errs
}

func validateSecret(s *corev1.Secret) field.ErrorList {
	errs := validateMeta(&s.ObjectMeta, true, nameIsDNSSubdomain)
	dp := field.NewPath("data")
	size := 0
	for _, k := range sortedKeys(s.Data) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(dp.Key(k), k, msg))
		}
		size += len(s.Data[k])
	}
	// stringData is merged into data by Default; check what is left anyway.
	for _, k := range sortedKeys(s.StringData) {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(field.NewPath("stringData").Key(k), k, msg))
		}
		if _, ok := s.Data[k]; !ok {
			size += len(s.StringData[k])
		}
	}
	if size > corev1.MaxSecretSize {
		errs = append(errs, field.TooLong(dp, "", corev1.MaxSecretSize))
	}
	has := func(k string) bool {
		_, inData := s.Data[k]
		_, inString := s.StringData[k]
		return inData || inString
	}
	value := func(k string) []byte {
		if v, ok := s.StringData[k]; ok {
			return []byte(v)
		}
		return s.Data[k]
	}
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(metadataPath.Child("annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockercfg, corev1.SecretTypeDockerConfigJson:
		key := corev1.DockerConfigKey
		if s.Type == corev1.SecretTypeDockerConfigJson {
			key = corev1.DockerConfigJsonKey
		}
		if !has(key) {
			errs = append(errs, field.Required(dp.Key(key), ""))
		} else if err := json.Unmarshal(value(key), &map[string]any{}); err != nil {
			errs = append(errs, field.Invalid(dp.Key(key), "<secret contents redacted>", err.Error()))
		}
	case corev1.SecretTypeBasicAuth:
		if !has(corev1.BasicAuthUsernameKey) && !has(corev1.BasicAuthPasswordKey) {
			errs = append(errs, field.Required(dp.Key(corev1.BasicAuthUsernameKey), ""),
				field.Required(dp.Key(corev1.BasicAuthPasswordKey), ""))
		}
	case corev1.SecretTypeSSHAuth:
		if len(value(corev1.SSHAuthPrivateKey)) == 0 {
			errs = append(errs, field.Required(dp.Key(corev1.SSHAuthPrivateKey), ""))
		}
	case corev1.SecretTypeTLS:
		for _, k := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
			if !has(k) {
				errs = append(errs, field.Required(dp.Key(k), ""))
			}
		}
	}
	return errs
}

func validateNamespace(ns *corev1.Namespace) field.ErrorList {
	errs := validateMeta(&ns.ObjectMeta, false, apivalidation.ValidateNamespaceName)
	for i, f := range ns.Spec.Finalizers {
		errs = append(errs, apivalidation.ValidateFinalizerName(string(f), field.NewPath("spec", "finalizers").Index(i))...)
	}
	return errs
}

func validateServiceAccount(sa *corev1.ServiceAccount) field.ErrorList {
	errs := validateMeta(&sa.ObjectMeta, true, nameIsDNSSubdomain)
	for i, s := range sa.Secrets {
		if s.Name != "" {
			errs = append(errs, kubeDNSSubdomain(s.Name, field.NewPath("secrets").Index(i).Child("name"))...)
		}
	}
	for i, s := range sa.ImagePullSecrets {
		if s.Name != "" {
			errs = append(errs, kubeDNSSubdomain(s.Name, field.NewPath("imagePullSecrets").Index(i).Child("name"))...)
		}
	}
	return errs
}

func validateNode(n *corev1.Node) field.ErrorList {
	errs := validateMeta(&n.ObjectMeta, false, nameIsDNSSubdomain)
	sp := field.NewPath("spec")
	if n.Spec.PodCIDR != "" {
		errs = append(errs, kubeCIDR(n.Spec.PodCIDR, sp.Child("podCIDR"))...)
	}
	cp := sp.Child("podCIDRs")
	if len(n.Spec.PodCIDRs) > 0 && n.Spec.PodCIDR != "" && n.Spec.PodCIDRs[0] != n.Spec.PodCIDR {
		errs = append(errs, field.Invalid(cp.Index(0), n.Spec.PodCIDRs[0], "must match `podCIDR`"))
	}
	var families []corev1.IPFamily
	for i, c := range n.Spec.PodCIDRs {
		if e := kubeCIDR(c, cp.Index(i)); len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		ip, _, _ := strings.Cut(c, "/")
		families = append(families, ipFamilyOf(ip))
	}
	if len(n.Spec.PodCIDRs) > 2 || len(families) == 2 && families[0] == families[1] {
		errs = append(errs, field.Invalid(cp, n.Spec.PodCIDRs, "may specify no more than one CIDR for each IP family"))
	}
	errs = append(errs, validateTaints(n.Spec.Taints, sp.Child("taints"))...)

	st := field.NewPath("status")
	for _, l := range []struct {
		name string
		list corev1.ResourceList
	}{{"capacity", n.Status.Capacity}, {"allocatable", n.Status.Allocatable}} {
		for _, name := range sortedKeys(l.list) {
			kp := st.Child(l.name).Key(string(name))
			errs = append(errs, kubeQualifiedName(string(name), kp)...)
			errs = append(errs, kubeQuantityNonNegative(l.list[name], kp)...)
		}
	}
	for i, a := range n.Status.Addresses {
		ap := st.Child("addresses").Index(i)
		if a.Type == "" {
			errs = append(errs, field.Required(ap.Child("type"), ""))
		}
		if a.Address == "" {
			errs = append(errs, field.Required(ap.Child("address"), ""))
		}
	}
	if port := n.Status.DaemonEndpoints.KubeletEndpoint.Port; port != 0 {
		errs = append(errs, kubePortNum(port, st.Child("daemonEndpoints", "kubeletEndpoint", "Port"))...)
	}
	return errs
}

func validateTaints(taints []corev1.Taint, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	type key struct {
		key    string
		effect corev1.TaintEffect
	}
	seen := map[key]bool{}
	for i, t := range taints {
		ip := p.Index(i)
		errs = append(errs, metav1validation.ValidateLabelName(t.Key, ip.Child("key"))...)
		if msgs := validation.IsValidLabelValue(t.Value); len(msgs) > 0 {
			errs = append(errs, field.Invalid(ip.Child("value"), t.Value, strings.Join(msgs, ";")))
		}
		errs = append(errs, kubeEnum(t.Effect, ip.Child("effect"), corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute)...)
		k := key{t.Key, t.Effect}
		if seen[k] {
			dup := field.Duplicate(ip, t)
			dup.Detail = "taints must be unique by key and effect pair"
			errs = append(errs, dup)
		}
		seen[k] = true
	}
	return errs
}

func validateEvent(ev *corev1.Event) field.ErrorList {
	errs := validateMeta(&ev.ObjectMeta, true, nameIsDNSSubdomain)
	iop := field.NewPath("involvedObject", "namespace")
	if ev.InvolvedObject.Namespace == "" {
		// Old clients put events of cluster-scoped objects in "default".
		if ev.Namespace != "" && ev.Namespace != "default" && ev.EventTime.IsZero() {
			errs = append(errs, field.Invalid(iop, ev.InvolvedObject.Namespace, "does not match event.namespace"))
		}
	} else if ev.Namespace != "" && ev.Namespace != ev.InvolvedObject.Namespace {
		errs = append(errs, field.Invalid(iop, ev.InvolvedObject.Namespace, "does not match event.namespace"))
	}
	if !ev.EventTime.IsZero() {
		// A new-style event says who reports what.
		errs = append(errs, kubeEnum(ev.Type, field.NewPath("type"), corev1.EventTypeNormal, corev1.EventTypeWarning)...)
		if ev.ReportingController == "" {
			errs = append(errs, field.Required(field.NewPath("reportingComponent"), ""))
		}
		if ev.ReportingInstance == "" {
			errs = append(errs, field.Required(field.NewPath("reportingInstance"), ""))
		}
		if ev.Action == "" {
			errs = append(errs, field.Required(field.NewPath("action"), ""))
		}
	}
	return errs
}

var (
	supportedAccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod}
	supportedVolumeModes = []corev1.PersistentVolumeMode{corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem}
)

func validateAccessModes(modes []corev1.PersistentVolumeAccessMode, p *field.Path) field.ErrorList {
	if len(modes) == 0 {
		return field.ErrorList{field.Required(p, "at least 1 access mode is required")}
	}
	var errs field.ErrorList
	rwop, other := false, false
	for _, m := range modes {
		switch {
		case !oneOf(m, supportedAccessModes...):
			errs = append(errs, field.NotSupported(p, m, supportedAccessModes))
		case m == corev1.ReadWriteOncePod:
			rwop = true
		default:
			other = true
		}
	}
	if rwop && other {
		errs = append(errs, field.Forbidden(p, "may not use ReadWriteOncePod with other access modes"))
	}
	return errs
}

func validatePositiveQuantity(q resource.Quantity, p *field.Path) field.ErrorList {
	if q.Sign() <= 0 {
		return field.ErrorList{field.Invalid(p, q.String(), "must be greater than zero")}
	}
	return nil
}

func validatePersistentVolumeClaim(pvc *corev1.PersistentVolumeClaim) field.ErrorList {
	errs := validateMeta(&pvc.ObjectMeta, true, nameIsDNSSubdomain)
	return append(errs, validatePVCSpec(&pvc.Spec, field.NewPath("spec"))...)
}

func validatePVCSpec(spec *corev1.PersistentVolumeClaimSpec, p *field.Path) field.ErrorList {
	errs := validateAccessModes(spec.AccessModes, p.Child("accessModes"))
	if spec.Selector != nil {
		errs = append(errs, kubeLabelSelector(spec.Selector, p.Child("selector"))...)
	}
	sp := p.Child("resources", "requests").Key(string(corev1.ResourceStorage))
	if q, ok := spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(sp, ""))
	} else {
		errs = append(errs, validatePositiveQuantity(q, sp)...)
	}
	if spec.StorageClassName != nil && *spec.StorageClassName != "" {
		errs = append(errs, kubeDNSSubdomain(*spec.StorageClassName, p.Child("storageClassName"))...)
	}
	if spec.VolumeMode != nil {
		errs = append(errs, kubeEnum(*spec.VolumeMode, p.Child("volumeMode"), supportedVolumeModes...)...)
	}
	return errs
}

func validatePersistentVolume(pv *corev1.PersistentVolume) field.ErrorList {
	errs := validateMeta(&pv.ObjectMeta, false, nameIsDNSSubdomain)
	spec := &pv.Spec
	sp := field.NewPath("spec")
	errs = append(errs, validateAccessModes(spec.AccessModes, sp.Child("accessModes"))...)
	cp := sp.Child("capacity")
	if q, ok := spec.Capacity[corev1.ResourceStorage]; !ok || len(spec.Capacity) > 1 {
		errs = append(errs, field.NotSupported(cp, sortedKeys(spec.Capacity), []corev1.ResourceName{corev1.ResourceStorage}))
	} else {
		errs = append(errs, validatePositiveQuantity(q, cp.Key(string(corev1.ResourceStorage)))...)
	}
	errs = append(errs, kubeEnum(spec.PersistentVolumeReclaimPolicy, sp.Child("persistentVolumeReclaimPolicy"),
		corev1.PersistentVolumeReclaimRetain, corev1.PersistentVolumeReclaimRecycle, corev1.PersistentVolumeReclaimDelete)...)
	if spec.StorageClassName != "" {
		errs = append(errs, kubeDNSSubdomain(spec.StorageClassName, sp.Child("storageClassName"))...)
	}
	if spec.VolumeMode != nil {
		errs = append(errs, kubeEnum(*spec.VolumeMode, sp.Child("volumeMode"), supportedVolumeModes...)...)
	}
	sources := setPointerFields(&spec.PersistentVolumeSource)
	switch {
	case len(sources) == 0:
		errs = append(errs, field.Required(sp, "must specify a volume type"))
	case len(sources) > 1:
		for _, s := range sources[1:] {
			errs = append(errs, field.Forbidden(sp.Child(s), "may not specify more than 1 volume type"))
		}
	}
	if hp := spec.HostPath; hp != nil {
		errs = append(errs, validateHostPath(hp, sp.Child("hostPath"))...)
	}
	if l := spec.Local; l != nil {
		if l.Path == "" {
			errs = append(errs, field.Required(sp.Child("local", "path"), ""))
		} else {
			errs = append(errs, validatePathNoBacksteps(l.Path, sp.Child("local", "path"))...)
		}
		if spec.NodeAffinity == nil {
			errs = append(errs, field.Required(sp.Child("nodeAffinity"), "Local volume requires node affinity"))
		}
	}
	if na := spec.NodeAffinity; na != nil && na.Required != nil {
		np := sp.Child("nodeAffinity", "required")
		if len(na.Required.NodeSelectorTerms) == 0 {
			errs = append(errs, field.Required(np.Child("nodeSelectorTerms"), "must have at least one node selector term"))
		}
		for i := range na.Required.NodeSelectorTerms {
			errs = append(errs, validateNodeSelectorTerm(&na.Required.NodeSelectorTerms[i], np.Child("nodeSelectorTerms").Index(i))...)
		}
	}
	return errs
}

func validateStorageClass(sc *storagev1.StorageClass) field.ErrorList {
	errs := validateMeta(&sc.ObjectMeta, false, nameIsDNSSubdomain)
	pp := field.NewPath("provisioner")
	if sc.Provisioner == "" {
		errs = append(errs, field.Required(pp, ""))
	} else {
		if len(sc.Provisioner) > 63 {
			errs = append(errs, field.TooLong(pp, sc.Provisioner, 63))
		}
		for _, msg := range validation.IsQualifiedName(strings.ToLower(sc.Provisioner)) {
			errs = append(errs, field.Invalid(pp, sc.Provisioner, msg))
		}
	}
	parp := field.NewPath("parameters")
	if len(sc.Parameters) > 512 {
		errs = append(errs, field.TooMany(parp, len(sc.Parameters), 512))
	}
	size := 0
	for k, v := range sc.Parameters {
		if k == "" {
			errs = append(errs, field.Invalid(parp, k, "field can not be empty"))
		}
		size += len(k) + len(v)
	}
	if size > 256*1024 {
		errs = append(errs, field.TooLong(parp, "", 256*1024))
	}
	if sc.ReclaimPolicy != nil {
		errs = append(errs, kubeEnum(*sc.ReclaimPolicy, field.NewPath("reclaimPolicy"), corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRetain)...)
	}
	if sc.VolumeBindingMode == nil {
		errs = append(errs, field.Required(field.NewPath("volumeBindingMode"), ""))
	} else {
		errs = append(errs, kubeEnum(*sc.VolumeBindingMode, field.NewPath("volumeBindingMode"), storagev1.VolumeBindingImmediate, storagev1.VolumeBindingWaitForFirstConsumer)...)
	}
	return errs
}
