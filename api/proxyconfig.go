package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"istio.io/api/annotation"
	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// AnnotationProxyConfig on a pod (or pod template) overrides the mesh's
// proxy settings for its sidecar, as Istio's does: a ProxyConfig in YAML
// or JSON. Weft acts on terminationDrainDuration (the drain on shutdown)
// and holdApplicationUntilProxyStarts: true (always so: the sidecar is
// native); every other field is warned about on apply.
const AnnotationProxyConfig = "proxy.istio.io/config"

// AnnotationNativeSidecar is Istio's per-pod switch between a native
// sidecar and a sidecar among the app containers; Weft always injects a
// native one.
const AnnotationNativeSidecar = "sidecar.istio.io/nativeSidecar"

// DefaultDrainDuration is Istio's terminationDrainDuration default.
const DefaultDrainDuration = 5 * time.Second

// ProxyConfigOf parses a pod's proxy.istio.io/config annotation; nil (and
// no error) when the pod has none. An error names the field in it.
func ProxyConfigOf(annotations map[string]string) (*meshv1alpha1.ProxyConfig, error) {
	s, ok := annotations[AnnotationProxyConfig]
	if !ok || strings.TrimSpace(s) == "" {
		return nil, nil
	}
	js, err := yaml.YAMLToJSON([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("not YAML or JSON: %w", err)
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("not YAML or JSON: %w", err)
	}
	if _, isObject := tree.(map[string]any); !isObject && tree != nil {
		return nil, fmt.Errorf("must be a ProxyConfig object (for example terminationDrainDuration: 10s), not %s", render(tree))
	}
	pc := &meshv1alpha1.ProxyConfig{}
	if causes := checkMessage(pc.ProtoReflect().Descriptor(), tree, nil); len(causes) > 0 {
		msgs := make([]string, len(causes))
		for i, c := range causes {
			msgs[i] = c.Field + ": " + c.Message
		}
		return nil, fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	if err := pc.UnmarshalJSON(js); err != nil {
		return nil, fmt.Errorf("not a ProxyConfig: %w", err)
	}
	return pc, nil
}

// DrainDurationOf is the sidecar's drain on shutdown for a pod:
// terminationDrainDuration from its proxy.istio.io/config, else Istio's
// default (5s). A malformed annotation (rejected on apply) gives the
// default.
func DrainDurationOf(annotations map[string]string) time.Duration {
	pc, err := ProxyConfigOf(annotations)
	if err != nil || pc == nil || pc.GetTerminationDrainDuration() == nil || pc.GetTerminationDrainDuration().AsDuration() < 0 {
		return DefaultDrainDuration
	}
	return pc.GetTerminationDrainDuration().AsDuration()
}

// validateProxyConfigAnnotation rejects a proxy.istio.io/config that is not
// a ProxyConfig (Istio's injector refuses such a pod).
func validateProxyConfigAnnotation(annotations map[string]string, path *field.Path) field.ErrorList {
	pc, err := ProxyConfigOf(annotations)
	if err != nil {
		return field.ErrorList{field.Invalid(path.Key(AnnotationProxyConfig), annotations[AnnotationProxyConfig], err.Error())}
	}
	if d := pc.GetTerminationDrainDuration(); d != nil && d.AsDuration() < 0 {
		return field.ErrorList{field.Invalid(path.Key(AnnotationProxyConfig), annotations[AnnotationProxyConfig], "terminationDrainDuration: must not be negative")}
	}
	return nil
}

// actedOnProxyConfig are the ProxyConfig fields (JSON names) Weft acts on.
var actedOnProxyConfig = []string{"terminationDrainDuration", "holdApplicationUntilProxyStarts"}

// actedOnPodAnnotations are Istio's pod annotations Weft acts on.
var actedOnPodAnnotations = []string{AnnotationSidecarInject, AnnotationSidecarStatus, AnnotationProxyConfig, AnnotationNativeSidecar}

// meshAnnotationWarnings names Istio's pod annotations (and
// proxy.istio.io/config fields) that Weft accepts without acting on them;
// path is the annotations' path (metadata.annotations).
func meshAnnotationWarnings(annotations map[string]string, path *field.Path) []string {
	var warns []string
	for _, k := range sortedKeys(annotations) {
		if !istioPodAnnotation(k) || slices.Contains(actedOnPodAnnotations, k) {
			continue
		}
		warns = append(warns, fmt.Sprintf("%s: Istio's annotation is accepted but not acted on by Weft", path.Key(k)))
	}
	if v := annotations[AnnotationNativeSidecar]; strings.EqualFold(v, "false") {
		warns = append(warns, fmt.Sprintf("%s: %q is not acted on: Weft always injects weft-proxy as a native sidecar (an init container with restartPolicy Always)", path.Key(AnnotationNativeSidecar), v))
	}
	pc, err := ProxyConfigOf(annotations)
	if err != nil || pc == nil {
		return warns
	}
	js, err := pc.MarshalJSON()
	if err != nil {
		return warns
	}
	var set map[string]json.RawMessage
	if json.Unmarshal(js, &set) != nil {
		return warns
	}
	for _, k := range sortedKeys(set) {
		if !slices.Contains(actedOnProxyConfig, k) {
			warns = append(warns, fmt.Sprintf("%s.%s: accepted but not acted on by Weft (it acts on terminationDrainDuration)", path.Key(AnnotationProxyConfig), k))
		}
	}
	if h := pc.GetHoldApplicationUntilProxyStarts(); h != nil && !h.GetValue() {
		warns = append(warns, fmt.Sprintf("%s.holdApplicationUntilProxyStarts: false is not acted on: the app always starts after its native sidecar is ready", path.Key(AnnotationProxyConfig)))
	}
	return warns
}

// istioPodAnnotation reports whether k is one of Istio's documented
// annotations for pods.
func istioPodAnnotation(k string) bool {
	for _, a := range annotation.AllResourceAnnotations() {
		if a.Name != k {
			continue
		}
		for _, r := range a.Resources {
			if r == annotation.Pod {
				return true
			}
		}
	}
	return false
}
