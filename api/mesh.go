package api

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Sidecar injection: the labels and annotations that turn it on or off,
// Istio's and Weft's, and the container that marks an injected pod. The
// admission plugin (controlplane/inject), `weftctl kube-inject` and
// `weftctl analyze` (package policies) all decide with SidecarWanted.
const (
	// AnnotationSidecarInject on a pod (or pod template): "true" opts in,
	// "false" opts out, whatever the namespace says.
	AnnotationSidecarInject = "sidecar.istio.io/inject"
	// LabelSidecarInject is the same switch as a label.
	LabelSidecarInject = "sidecar.istio.io/inject"
	// LabelIstioInjection on a namespace: "enabled" injects its pods.
	LabelIstioInjection = "istio-injection"
	// LabelWeftInjection on a namespace: Weft's own name for LabelIstioInjection.
	LabelWeftInjection = "weft-injection"
	// LabelIstioRevision on a namespace selects an Istio revision's
	// injector; Weft has one injector and does not act on it.
	LabelIstioRevision = "istio.io/rev"
	// AnnotationSidecarStatus records that a pod was injected, as Istio's
	// sidecar.istio.io/status does.
	AnnotationSidecarStatus = "sidecar.istio.io/status"
	// SidecarContainerName is the injected proxy container's name.
	SidecarContainerName = "weft-proxy"
	// IstioSidecarContainerName is the proxy container Istio injects; a pod
	// that carries it has a sidecar too.
	IstioSidecarContainerName = "istio-proxy"
	// InjectionEnabled is the value of the namespace labels that turns injection on.
	InjectionEnabled = "enabled"
)

// NamespaceInjected reports whether a namespace's labels turn injection on
// (istio-injection=enabled or weft-injection=enabled).
func NamespaceInjected(nsLabels map[string]string) bool {
	return nsLabels[LabelIstioInjection] == InjectionEnabled || nsLabels[LabelWeftInjection] == InjectionEnabled
}

// PodInjectionChoice is what a pod's own annotation or label
// sidecar.istio.io/inject says: true (opt in), false (opt out), or
// decided=false when it says nothing. The annotation wins over the label.
func PodInjectionChoice(annotations, labels map[string]string) (inject, decided bool) {
	for _, v := range []string{annotations[AnnotationSidecarInject], labels[LabelSidecarInject]} {
		switch strings.ToLower(v) {
		case "true", "enabled", "yes", "y":
			return true, true
		case "false", "disabled", "no", "n":
			return false, true
		}
	}
	return false, false
}

// SidecarWanted decides whether a pod gets a sidecar, as Istio does: the
// pod's annotation or label sidecar.istio.io/inject wins ("true"/"false");
// else the namespace labels (NamespaceInjected). Pods on the host network
// never get one.
func SidecarWanted(annotations, labels map[string]string, spec *corev1.PodSpec, nsLabels map[string]string) bool {
	if spec != nil && spec.HostNetwork {
		return false
	}
	if inject, decided := PodInjectionChoice(annotations, labels); decided {
		return inject
	}
	return NamespaceInjected(nsLabels)
}

// HasSidecar reports whether a pod spec carries a mesh proxy: Weft's
// weft-proxy, or Istio's istio-proxy.
func HasSidecar(spec *corev1.PodSpec) bool {
	for _, c := range spec.Containers {
		if c.Name == SidecarContainerName || c.Name == IstioSidecarContainerName {
			return true
		}
	}
	for _, c := range spec.InitContainers { // native sidecars
		if c.Name == SidecarContainerName || c.Name == IstioSidecarContainerName {
			return true
		}
	}
	return false
}
