package api

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
)

// Object is every resource Weft stores: a runtime.Object with ObjectMeta.
type Object interface {
	runtime.Object
	metav1.Object
}

// ErrUnknownKind is returned (wrapped) for an apiVersion/kind Weft does not serve.
var ErrUnknownKind = errors.New("unknown kind")

// Kind describes one resource type Weft serves.
type Kind struct {
	Group      string   // "" for the core group
	Version    string   // the version objects are stored and served in by default
	Versions   []string // every version accepted on input and served on the API
	Kind       string   // e.g. "Deployment"
	Resource   string   // lower-case plural, e.g. "deployments"
	ShortNames []string // kubectl's short names, e.g. "deploy"
	Namespaced bool
	// ActedOn is false for kinds Weft stores but does nothing with yet;
	// applying one gives a warning.
	ActedOn bool
	// new returns an empty object of the given served version.
	new func(version string) Object
}

// GroupVersion returns the storage group/version.
func (k *Kind) GroupVersion() schema.GroupVersion {
	return schema.GroupVersion{Group: k.Group, Version: k.Version}
}

// APIVersion is "group/version" (or "v1" for the core group) of the storage version.
func (k *Kind) APIVersion() string { return k.GroupVersion().String() }

// Serves reports whether version is one of the kind's versions.
func (k *Kind) Serves(version string) bool {
	for _, v := range k.Versions {
		if v == version {
			return true
		}
	}
	return false
}

// New returns an empty object of the kind in version (its TypeMeta set).
func (k *Kind) New(version string) Object {
	obj := k.new(version)
	obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{Group: k.Group, Version: version, Kind: k.Kind})
	return obj
}

// NewList returns the list kind name for the kind, e.g. "PodList".
func (k *Kind) ListKind() string { return k.Kind + "List" }

// IsIstio reports whether the kind is an Istio custom resource.
func (k *Kind) IsIstio() bool { return strings.HasSuffix(k.Group, ".istio.io") }

func single[T any, PT interface {
	*T
	Object
}]() func(string) Object {
	return func(string) Object { return PT(new(T)) }
}

var kinds = []*Kind{
	{Version: "v1", Kind: "Namespace", Resource: "namespaces", ShortNames: []string{"ns"}, ActedOn: true, new: single[corev1.Namespace]()},
	{Version: "v1", Kind: "Node", Resource: "nodes", ShortNames: []string{"no"}, ActedOn: true, new: single[corev1.Node]()},
	{Version: "v1", Kind: "Pod", Resource: "pods", ShortNames: []string{"po"}, Namespaced: true, ActedOn: true, new: single[corev1.Pod]()},
	{Version: "v1", Kind: "Service", Resource: "services", ShortNames: []string{"svc"}, Namespaced: true, ActedOn: true, new: single[corev1.Service]()},
	{Version: "v1", Kind: "Endpoints", Resource: "endpoints", ShortNames: []string{"ep"}, Namespaced: true, ActedOn: true, new: single[corev1.Endpoints]()},
	{Version: "v1", Kind: "ConfigMap", Resource: "configmaps", ShortNames: []string{"cm"}, Namespaced: true, ActedOn: true, new: single[corev1.ConfigMap]()},
	{Version: "v1", Kind: "Secret", Resource: "secrets", ShortNames: []string{"secret"}, Namespaced: true, ActedOn: true, new: single[corev1.Secret]()},
	{Version: "v1", Kind: "Event", Resource: "events", ShortNames: []string{"ev"}, Namespaced: true, ActedOn: true, new: single[corev1.Event]()},
	{Version: "v1", Kind: "ReplicationController", Resource: "replicationcontrollers", ShortNames: []string{"rc"}, Namespaced: true, ActedOn: true, new: single[corev1.ReplicationController]()},
	{Version: "v1", Kind: "PersistentVolumeClaim", Resource: "persistentvolumeclaims", ShortNames: []string{"pvc"}, Namespaced: true, ActedOn: true, new: single[corev1.PersistentVolumeClaim]()},
	{Version: "v1", Kind: "ServiceAccount", Resource: "serviceaccounts", ShortNames: []string{"sa"}, Namespaced: true, new: single[corev1.ServiceAccount]()},
	{Version: "v1", Kind: "PersistentVolume", Resource: "persistentvolumes", ShortNames: []string{"pv"}, new: single[corev1.PersistentVolume]()},

	{Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments", ShortNames: []string{"deploy"}, Namespaced: true, ActedOn: true, new: single[appsv1.Deployment]()},
	{Group: "apps", Version: "v1", Kind: "ReplicaSet", Resource: "replicasets", ShortNames: []string{"rs"}, Namespaced: true, ActedOn: true, new: single[appsv1.ReplicaSet]()},
	{Group: "apps", Version: "v1", Kind: "StatefulSet", Resource: "statefulsets", ShortNames: []string{"sts"}, Namespaced: true, new: single[appsv1.StatefulSet]()},
	{Group: "apps", Version: "v1", Kind: "DaemonSet", Resource: "daemonsets", ShortNames: []string{"ds"}, Namespaced: true, new: single[appsv1.DaemonSet]()},

	{Group: "autoscaling", Version: "v2", Versions: []string{"v2", "v1"}, Kind: "HorizontalPodAutoscaler", Resource: "horizontalpodautoscalers", ShortNames: []string{"hpa"}, Namespaced: true, ActedOn: true,
		new: func(v string) Object {
			if v == "v1" {
				return &autoscalingv1.HorizontalPodAutoscaler{}
			}
			return &autoscalingv2.HorizontalPodAutoscaler{}
		}},

	{Group: "batch", Version: "v1", Kind: "Job", Resource: "jobs", Namespaced: true, new: single[batchv1.Job]()},
	{Group: "batch", Version: "v1", Kind: "CronJob", Resource: "cronjobs", ShortNames: []string{"cj"}, Namespaced: true, new: single[batchv1.CronJob]()},
	{Group: "storage.k8s.io", Version: "v1", Kind: "StorageClass", Resource: "storageclasses", ShortNames: []string{"sc"}, new: single[storagev1.StorageClass]()},
	{Group: "discovery.k8s.io", Version: "v1", Kind: "EndpointSlice", Resource: "endpointslices", Namespaced: true, new: single[discoveryv1.EndpointSlice]()},
	{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy", Resource: "networkpolicies", ShortNames: []string{"netpol"}, Namespaced: true, new: single[networkingv1.NetworkPolicy]()},
	{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress", Resource: "ingresses", ShortNames: []string{"ing"}, Namespaced: true, new: single[networkingv1.Ingress]()},

	{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget", Resource: "poddisruptionbudgets", ShortNames: []string{"pdb"}, Namespaced: true, new: single[policyv1.PodDisruptionBudget]()},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role", Resource: "roles", Namespaced: true, new: single[rbacv1.Role]()},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding", Resource: "rolebindings", Namespaced: true, new: single[rbacv1.RoleBinding]()},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Resource: "clusterroles", new: single[rbacv1.ClusterRole]()},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding", Resource: "clusterrolebindings", new: single[rbacv1.ClusterRoleBinding]()},

	{Group: "networking.istio.io", Version: "v1", Versions: istioNetVersions, Kind: "VirtualService", Resource: "virtualservices", ShortNames: []string{"vs"}, Namespaced: true, ActedOn: true,
		new: istio[networking.VirtualService]()},
	{Group: "networking.istio.io", Version: "v1", Versions: istioNetVersions, Kind: "DestinationRule", Resource: "destinationrules", ShortNames: []string{"dr"}, Namespaced: true, ActedOn: true,
		new: istio[networking.DestinationRule]()},
	{Group: "networking.istio.io", Version: "v1", Versions: istioNetVersions, Kind: "Gateway", Resource: "gateways", ShortNames: []string{"gw"}, Namespaced: true,
		new: istio[networking.Gateway]()},
	{Group: "networking.istio.io", Version: "v1", Versions: istioNetVersions, Kind: "ServiceEntry", Resource: "serviceentries", ShortNames: []string{"se"}, Namespaced: true,
		new: istio[networking.ServiceEntry]()},
	{Group: "networking.istio.io", Version: "v1", Versions: istioNetVersions, Kind: "Sidecar", Resource: "sidecars", Namespaced: true,
		new: istio[networking.Sidecar]()},
	{Group: "security.istio.io", Version: "v1", Versions: []string{"v1", "v1beta1"}, Kind: "PeerAuthentication", Resource: "peerauthentications", ShortNames: []string{"pa"}, Namespaced: true,
		new: istio[security.PeerAuthentication]()},
	{Group: "security.istio.io", Version: "v1", Versions: []string{"v1", "v1beta1"}, Kind: "AuthorizationPolicy", Resource: "authorizationpolicies", ShortNames: []string{"ap"}, Namespaced: true,
		new: istio[security.AuthorizationPolicy]()},
}

var istioNetVersions = []string{"v1", "v1beta1", "v1alpha3"}

func istio[T any, PT interface {
	*T
	IstioSpec
}]() func(string) Object {
	return func(string) Object { return &IstioResource[PT]{Spec: PT(new(T))} }
}

// Kinds returns every kind Weft serves, sorted by group then kind.
func Kinds() []*Kind {
	out := append([]*Kind(nil), kinds...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			return out[i].Group < out[j].Group
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// LookupKind finds the kind for an apiVersion ("apps/v1") and kind name.
// The error wraps ErrUnknownKind and says what would be right.
func LookupKind(apiVersion, kind string) (*Kind, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, fmt.Errorf("apiVersion %q: %w", apiVersion, err)
	}
	var sameKind []string
	for _, k := range kinds {
		if k.Kind != kind {
			continue
		}
		if k.Group == gv.Group && k.Serves(gv.Version) {
			return k, nil
		}
		for _, v := range k.Versions {
			sameKind = append(sameKind, schema.GroupVersion{Group: k.Group, Version: v}.String())
		}
	}
	if len(sameKind) > 0 {
		return nil, fmt.Errorf("%w: no kind %q in %q (it is served as apiVersion %s)", ErrUnknownKind, kind, apiVersion, strings.Join(sameKind, ", "))
	}
	return nil, fmt.Errorf("%w: %q in %q is not a kind Weft serves (see `weftctl api-resources`)", ErrUnknownKind, kind, apiVersion)
}

// LookupResource finds a kind by group, version and plural resource name,
// as in an API path.
func LookupResource(group, version, resource string) *Kind {
	for _, k := range kinds {
		if k.Group == group && k.Resource == resource && k.Serves(version) {
			return k
		}
	}
	return nil
}

// LookupName finds a kind the way kubectl resolves a name on the command
// line: plural, singular, short name or kind, case-insensitive, optionally
// qualified with a group ("virtualservices.networking.istio.io").
func LookupName(name string) *Kind {
	name = strings.ToLower(name)
	group := ""
	if i := strings.IndexByte(name, '.'); i > 0 {
		name, group = name[:i], name[i+1:]
	}
	for _, k := range kinds {
		if group != "" && k.Group != group {
			continue
		}
		if name == k.Resource || name == strings.ToLower(k.Kind) {
			return k
		}
		for _, s := range k.ShortNames {
			if name == s {
				return k
			}
		}
	}
	return nil
}

// KindOf returns the kind of a typed object (by its Go type, whatever its TypeMeta says).
func KindOf(obj Object) *Kind { return byType[reflect.TypeOf(obj)] }

var byType = map[reflect.Type]*Kind{}

func init() {
	for _, k := range kinds {
		if len(k.Versions) == 0 {
			k.Versions = []string{k.Version}
		}
		for _, v := range k.Versions {
			byType[reflect.TypeOf(k.new(v))] = k
		}
	}
}
