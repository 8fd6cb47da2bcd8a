package api

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validate checks a Kubernetes object the way a Kubernetes API server does
// on create, after Default: every problem of the object at once, each error
// with its field path from the object's root (metadata.name,
// spec.ports[0].port, spec.template.spec.containers[0].image...).
//
// The warnings name fields that Weft accepts and stores but does not act on
// yet (see support.go), and the things upstream warns about (duplicate
// container ports, env vars that hide earlier ones...). Whole kinds that Weft
// stores without acting on them are not warned about here: the scheme does.
//
// A namespaced object may come without metadata.namespace (the API server
// fills it from the request); a cluster-scoped one must not have one.
// Objects of types Weft does not validate give no errors and no warnings.
func Validate(obj runtime.Object) (errs field.ErrorList, warnings []string) {
	switch o := obj.(type) {
	case *corev1.Pod:
		errs = validatePod(o)
	case *corev1.Service:
		errs = validateService(o)
	case *corev1.Endpoints:
		errs = validateEndpoints(o)
	case *corev1.ConfigMap:
		errs = validateConfigMap(o)
	case *corev1.Secret:
		errs = validateSecret(o)
	case *corev1.Namespace:
		errs = validateNamespace(o)
	case *corev1.Node:
		errs = validateNode(o)
	case *corev1.Event:
		errs = validateEvent(o)
	case *corev1.ReplicationController:
		errs = validateReplicationController(o)
	case *corev1.PersistentVolumeClaim:
		errs = validatePersistentVolumeClaim(o)
	case *corev1.PersistentVolume:
		errs = validatePersistentVolume(o)
	case *corev1.ServiceAccount:
		errs = validateServiceAccount(o)
	case *appsv1.Deployment:
		errs = validateDeployment(o)
	case *appsv1.ReplicaSet:
		errs = validateReplicaSet(o)
	case *appsv1.StatefulSet:
		errs = validateStatefulSet(o)
	case *appsv1.DaemonSet:
		errs = validateDaemonSet(o)
	case *autoscalingv2.HorizontalPodAutoscaler:
		errs = validateHPA(o)
	case *autoscalingv1.HorizontalPodAutoscaler:
		errs = validateHPAv1(o)
	case *storagev1.StorageClass:
		errs = validateStorageClass(o)
	case *discoveryv1.EndpointSlice:
		errs = validateEndpointSlice(o)
	case *batchv1.Job:
		errs = validateJob(o)
	case *batchv1.CronJob:
		errs = validateCronJob(o)
	case *networkingv1.NetworkPolicy:
		errs = validateNetworkPolicy(o)
	case *networkingv1.Ingress:
		errs = validateIngress(o)
	default:
		return nil, nil
	}
	return errs, objectWarnings(obj)
}

var metadataPath = field.NewPath("metadata")

// validateMeta checks ObjectMeta with the kind's name rule. generateName
// stands in for a name that is still to be generated.
func validateMeta(meta *metav1.ObjectMeta, namespaced bool, nameFn apivalidation.ValidateNameFunc) field.ErrorList {
	errs := apivalidation.ValidateObjectMeta(meta, namespaced && meta.Namespace != "", nameFn, metadataPath)
	if meta.Name == "" && meta.GenerateName != "" {
		// The name is generated when the object is stored; generateName
		// itself has been checked as a prefix.
		errs = errs.Filter(func(err error) bool {
			e, ok := err.(*field.Error)
			return ok && e.Type == field.ErrorTypeRequired && e.Field == "metadata.name"
		})
	}
	return errs
}

// Name rules of the kinds.
var (
	nameIsDNSSubdomain = apivalidation.NameIsDNSSubdomain
	nameIsDNSLabel     = apivalidation.NameIsDNSLabel
	nameIsDNS1035Label = apivalidation.NameIsDNS1035Label
)

func kubeNonNegative(v int64, path *field.Path) field.ErrorList {
	return apivalidation.ValidateNonnegativeField(v, path)
}

func kubePositive(v int64, path *field.Path) field.ErrorList {
	if v <= 0 {
		return field.ErrorList{field.Invalid(path, v, "must be greater than 0")}
	}
	return nil
}

func kubeDNSLabel(v string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(v) {
		errs = append(errs, field.Invalid(path, v, msg))
	}
	return errs
}

func kubeDNSSubdomain(v string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(v) {
		errs = append(errs, field.Invalid(path, v, msg))
	}
	return errs
}

func kubeQualifiedName(v string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(v) {
		errs = append(errs, field.Invalid(path, v, msg))
	}
	return errs
}

func kubeLabelValue(v string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidLabelValue(v) {
		errs = append(errs, field.Invalid(path, v, msg))
	}
	return errs
}

func kubeIP(v string, path *field.Path) field.ErrorList {
	return validation.IsValidIP(path, v)
}

func kubeCIDR(v string, path *field.Path) field.ErrorList {
	return validation.IsValidCIDR(path, v)
}

// kubePortNum checks a port number is in 1..65535.
func kubePortNum(port int32, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortNum(int(port)) {
		errs = append(errs, field.Invalid(path, port, msg))
	}
	return errs
}

// kubePortName checks an IANA_SVC_NAME.
func kubePortName(name string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortName(name) {
		errs = append(errs, field.Invalid(path, name, msg))
	}
	return errs
}

// kubePortNumOrName checks a port given by number (1..65535) or by name.
func kubePortNumOrName(port intstr.IntOrString, path *field.Path) field.ErrorList {
	switch port.Type {
	case intstr.Int:
		return kubePortNum(port.IntVal, path)
	case intstr.String:
		return kubePortName(port.StrVal, path)
	}
	return field.ErrorList{field.Invalid(path, port, "must be a port number or name")}
}

var supportedPortProtocols = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}

func kubeProtocol(p corev1.Protocol, path *field.Path) field.ErrorList {
	if p == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	if !oneOf(p, supportedPortProtocols...) {
		return field.ErrorList{field.NotSupported(path, p, supportedPortProtocols)}
	}
	return nil
}

func kubeLabelSelector(sel *metav1.LabelSelector, path *field.Path) field.ErrorList {
	return metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, path)
}

func kubeQuantityNonNegative(q resource.Quantity, path *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(path, q.String(), "must be greater than or equal to 0")}
	}
	return nil
}

// kubeEnum checks a required value is one of allowed.
func kubeEnum[T ~string](v T, path *field.Path, allowed ...T) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(path, "")}
	}
	if !oneOf(v, allowed...) {
		return field.ErrorList{field.NotSupported(path, v, allowed)}
	}
	return nil
}

// kubeOptionalEnum checks an optional value is empty or one of allowed.
func kubeOptionalEnum[T ~string](v T, path *field.Path, allowed ...T) field.ErrorList {
	if v == "" {
		return nil
	}
	return kubeEnum(v, path, allowed...)
}

func oneOf[T comparable](v T, allowed ...T) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// kubeIntOrPercent checks a non-negative integer or a percentage ("25%").
func kubeIntOrPercent(v *intstr.IntOrString, path *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	switch v.Type {
	case intstr.String:
		var errs field.ErrorList
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(path, v.StrVal, msg))
		}
		return errs
	case intstr.Int:
		return kubeNonNegative(int64(v.IntVal), path)
	}
	return field.ErrorList{field.Invalid(path, v, "must be an integer or percentage (e.g '5%')")}
}

// intOrPercentValue is the integer or the percentage number of v (0 when
// unset or malformed).
func intOrPercentValue(v *intstr.IntOrString) int {
	if v == nil {
		return 0
	}
	if v.Type == intstr.Int {
		return int(v.IntVal)
	}
	var n int
	if _, err := fmt.Sscanf(strings.TrimSuffix(v.StrVal, "%"), "%d", &n); err != nil {
		return 0
	}
	return n
}

func kubeNotMoreThan100Percent(v *intstr.IntOrString, path *field.Path) field.ErrorList {
	if v == nil || v.Type != intstr.String || len(validation.IsValidPercent(v.StrVal)) > 0 {
		return nil
	}
	if intOrPercentValue(v) > 100 {
		return field.ErrorList{field.Invalid(path, v.StrVal, "must not be greater than 100%")}
	}
	return nil
}

// sortedKeys returns the keys of a map in order, for deterministic errors.
func sortedKeys[M ~map[K]V, K ~string, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}
