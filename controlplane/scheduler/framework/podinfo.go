package framework

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
)

// PodInfo is a pod with what the plugins need of it computed once: its
// requests, host ports, controller owner and parsed affinity terms. The
// pod is shared and read-only.
type PodInfo struct {
	Pod *corev1.Pod
	// Requests is what the pod needs of a node (PodRequests).
	Requests Resource
	// NonZeroRequests counts request-less containers at the scoring
	// defaults (DefaultMilliCPURequest, DefaultMemoryRequest).
	NonZeroRequests Resource
	// HostPorts are the container ports with a hostPort.
	HostPorts []corev1.ContainerPort
	// ControllerUID is the UID of the pod's controller owner ("" if none);
	// the spreading score keeps one owner's replicas apart.
	ControllerUID types.UID

	RequiredAffinityTerms      []AffinityTerm
	RequiredAntiAffinityTerms  []AffinityTerm
	PreferredAffinityTerms     []WeightedAffinityTerm
	PreferredAntiAffinityTerms []WeightedAffinityTerm
	// ParseErr is set when an affinity term's selector does not parse
	// (the API validates them, so only for hand-made pods).
	ParseErr error
}

// AffinityTerm is a parsed pod (anti-)affinity term.
type AffinityTerm struct {
	Namespaces    sets.Set[string]
	AllNamespaces bool
	Selector      labels.Selector
	TopologyKey   string
}

// WeightedAffinityTerm is a preferred term with its weight (1–100).
type WeightedAffinityTerm struct {
	AffinityTerm
	Weight int32
}

// Matches says whether pod is one the term selects: in one of its
// namespaces and with matching labels.
func (t *AffinityTerm) Matches(pod *corev1.Pod) bool {
	if !t.AllNamespaces && !t.Namespaces.Has(pod.Namespace) {
		return false
	}
	return t.Selector.Matches(labels.Set(pod.Labels))
}

// NewPodInfo computes a PodInfo.
func NewPodInfo(pod *corev1.Pod) *PodInfo {
	pi := &PodInfo{Pod: pod}
	pi.Requests, pi.NonZeroRequests = PodRequests(pod)
	for i := range pod.Spec.Containers {
		pi.HostPorts = appendHostPorts(pi.HostPorts, pod.Spec.Containers[i].Ports)
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			pi.HostPorts = appendHostPorts(pi.HostPorts, c.Ports)
		}
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		pi.ControllerUID = ref.UID
	}
	if a := pod.Spec.Affinity; a != nil {
		var errs []error
		if pa := a.PodAffinity; pa != nil {
			pi.RequiredAffinityTerms = parseTerms(pod, pa.RequiredDuringSchedulingIgnoredDuringExecution, &errs)
			pi.PreferredAffinityTerms = parseWeightedTerms(pod, pa.PreferredDuringSchedulingIgnoredDuringExecution, &errs)
		}
		if pa := a.PodAntiAffinity; pa != nil {
			pi.RequiredAntiAffinityTerms = parseTerms(pod, pa.RequiredDuringSchedulingIgnoredDuringExecution, &errs)
			pi.PreferredAntiAffinityTerms = parseWeightedTerms(pod, pa.PreferredDuringSchedulingIgnoredDuringExecution, &errs)
		}
		if len(errs) > 0 {
			pi.ParseErr = errs[0]
		}
	}
	return pi
}

// HasAffinity says whether the pod has any pod affinity or anti-affinity
// term, required or preferred.
func (pi *PodInfo) HasAffinity() bool {
	return len(pi.RequiredAffinityTerms) > 0 || len(pi.RequiredAntiAffinityTerms) > 0 ||
		len(pi.PreferredAffinityTerms) > 0 || len(pi.PreferredAntiAffinityTerms) > 0
}

func appendHostPorts(out []corev1.ContainerPort, ports []corev1.ContainerPort) []corev1.ContainerPort {
	for _, p := range ports {
		if p.HostPort > 0 {
			out = append(out, p)
		}
	}
	return out
}

func parseTerms(pod *corev1.Pod, terms []corev1.PodAffinityTerm, errs *[]error) []AffinityTerm {
	out := make([]AffinityTerm, 0, len(terms))
	for i := range terms {
		t, err := newAffinityTerm(pod, &terms[i])
		if err != nil {
			*errs = append(*errs, err)
			continue
		}
		out = append(out, t)
	}
	return out
}

func parseWeightedTerms(pod *corev1.Pod, terms []corev1.WeightedPodAffinityTerm, errs *[]error) []WeightedAffinityTerm {
	out := make([]WeightedAffinityTerm, 0, len(terms))
	for i := range terms {
		t, err := newAffinityTerm(pod, &terms[i].PodAffinityTerm)
		if err != nil {
			*errs = append(*errs, err)
			continue
		}
		out = append(out, WeightedAffinityTerm{AffinityTerm: t, Weight: terms[i].Weight})
	}
	return out
}

// newAffinityTerm parses a term. Namespaces: the listed ones, else the
// pod's own; an empty namespaceSelector ({}) selects every namespace.
// A non-empty namespaceSelector needs namespace labels, which the
// scheduler does not watch yet: it adds no namespaces.
func newAffinityTerm(pod *corev1.Pod, t *corev1.PodAffinityTerm) (AffinityTerm, error) {
	sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector)
	if err != nil {
		return AffinityTerm{}, fmt.Errorf("pod %s/%s: affinity term label selector: %w", pod.Namespace, pod.Name, err)
	}
	if t.LabelSelector == nil {
		sel = labels.Nothing()
	}
	at := AffinityTerm{Selector: sel, TopologyKey: t.TopologyKey, Namespaces: sets.New(t.Namespaces...)}
	if ns := t.NamespaceSelector; ns != nil && len(ns.MatchLabels) == 0 && len(ns.MatchExpressions) == 0 {
		at.AllNamespaces = true
	}
	if len(t.Namespaces) == 0 && t.NamespaceSelector == nil {
		at.Namespaces.Insert(pod.Namespace)
	}
	return at, nil
}
