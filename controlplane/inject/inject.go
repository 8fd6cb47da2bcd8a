package inject

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/api"
)

// Labels and annotations that turn injection on or off, Istio's and Weft's.
const (
	AnnotationInject    = api.AnnotationSidecarInject
	LabelInject         = api.LabelSidecarInject
	LabelNamespaceIstio = api.LabelIstioInjection
	LabelNamespaceWeft  = api.LabelWeftInjection
	// AnnotationStatus records that a pod was injected, as Istio's sidecar.istio.io/status does.
	AnnotationStatus = api.AnnotationSidecarStatus
	// ContainerName is the injected container's name.
	ContainerName = api.SidecarContainerName
	// Image is the image the agent's catalogue resolves to the weft-proxy binary.
	Image = "weft/proxy"
)

// Istio's well-known sidecar ports.
const (
	PortOutbound = 15001
	PortInbound  = 15006
	PortAdmin    = 15000
	PortStatus   = 15021
	PortMetrics  = 15090
)

// EnvLabels carries the pod's labels, as JSON, to the proxy.
const EnvLabels = "ISTIO_METAJSON_LABELS"

func labelsJSON(labels map[string]string) string {
	if labels == nil {
		labels = map[string]string{}
	}
	b, _ := json.Marshal(labels) // a map of strings always marshals
	return string(b)
}

// ProxyUID is the user and group the proxy runs as (Istio's 1337).
const ProxyUID = 1337

// Config says what the injected container looks like.
type Config struct {
	// Tag of the proxy image, normally Weft's version.
	Tag string
}

// Wanted decides whether a pod gets a sidecar, as Istio does: the pod's
// annotation or label sidecar.istio.io/inject wins ("true"/"false"); else
// the namespace label istio-injection=enabled or weft-injection=enabled.
// Pods on the host network never get one.
func Wanted(pod *corev1.Pod, nsLabels map[string]string) bool {
	return api.SidecarWanted(pod.Annotations, pod.Labels, &pod.Spec, nsLabels)
}

// Injected reports whether the pod already has the sidecar (as a native
// sidecar or, injected by hand or by an older weftd, as an app container).
func Injected(spec *corev1.PodSpec) bool {
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for _, c := range cs {
			if c.Name == ContainerName {
				return true
			}
		}
	}
	return false
}

// Into adds the sidecar container to a pod (or pod template): its spec and
// the status annotation in its metadata (idempotent).
func Into(meta *metav1.ObjectMeta, spec *corev1.PodSpec, cfg Config) {
	if Injected(spec) {
		return
	}
	// A native sidecar (Istio's ENABLE_NATIVE_SIDECARS): first of the init
	// containers, so that the proxy is up before the user's init containers
	// and app containers start, and stops after them.
	spec.InitContainers = append([]corev1.Container{Container(cfg, meta)}, spec.InitContainers...)
	if meta.Annotations == nil {
		meta.Annotations = map[string]string{}
	}
	meta.Annotations[AnnotationStatus] = fmt.Sprintf(`{"initContainers":[%q],"containers":null,"image":%q}`, ContainerName, image(cfg))
}

func image(cfg Config) string {
	if cfg.Tag == "" {
		return Image + ":latest"
	}
	return Image + ":" + cfg.Tag
}

// Container is the injected weft-proxy container. The agent resolves its
// image to the weft-proxy binary and supplies WEFT_XDS_ADDR (where the
// node reaches xDS) in the environment of every container it runs; it
// runs the container as ProxyUID, whose traffic the pod's redirect rules
// let through.
//
// The pod's labels at injection go in ISTIO_METAJSON_LABELS, as Istio's
// injector wrote them: the proxy's identity for metrics (source_app,
// source_version, ...) and its node metadata LABELS. A
// terminationDrainDuration in the pod's proxy.istio.io/config annotation
// becomes the proxy's --drain-time.
func Container(cfg Config, meta *metav1.ObjectMeta) corev1.Container {
	args := []string{
		"--mode=sidecar",
		"--xds-addr=$(WEFT_XDS_ADDR)",
		"--pod-ip=$(POD_IP)",
		"--node-id=sidecar~$(POD_IP)~$(POD_NAME).$(POD_NAMESPACE)~$(POD_NAMESPACE).svc.cluster.local",
	}
	if pc, err := api.ProxyConfigOf(meta.Annotations); err == nil && pc.GetTerminationDrainDuration() != nil {
		args = append(args, "--drain-time="+api.DrainDurationOf(meta.Annotations).String())
	}
	fieldEnv := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: path}}}
	}
	return corev1.Container{
		Name:  ContainerName,
		Image: image(cfg),
		Args:  args,
		Env: []corev1.EnvVar{
			fieldEnv("POD_NAME", "metadata.name"),
			fieldEnv("POD_NAMESPACE", "metadata.namespace"),
			fieldEnv("POD_IP", "status.podIP"),
			fieldEnv("SERVICE_ACCOUNT", "spec.serviceAccountName"),
			{Name: EnvLabels, Value: labelsJSON(meta.Labels)},
		},
		Ports:         []corev1.ContainerPort{{Name: "http-envoy-prom", ContainerPort: PortMetrics, Protocol: corev1.ProtocolTCP}},
		RestartPolicy: new(corev1.ContainerRestartPolicyAlways),
		// The init sequence (and so the app) waits for the proxy's
		// configuration: Istio's native-sidecar startup probe.
		StartupProbe: &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz/ready", Port: intstr.FromInt32(PortStatus), Scheme: corev1.URISchemeHTTP}},
			PeriodSeconds:    1,
			TimeoutSeconds:   3,
			FailureThreshold: 600,
			SuccessThreshold: 1,
		},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz/ready", Port: intstr.FromInt32(PortStatus), Scheme: corev1.URISchemeHTTP}},
			PeriodSeconds:    2,
			TimeoutSeconds:   3,
			FailureThreshold: 30,
			SuccessThreshold: 1,
		},
		Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("10m"),
			corev1.ResourceMemory: resource.MustParse("40Mi"),
		}},
		// Istio's istio-proxy runs as 1337: the pod's redirect rules let
		// this user's traffic through (netns mode).
		SecurityContext:          &corev1.SecurityContext{RunAsUser: new(int64(ProxyUID)), RunAsGroup: new(int64(ProxyUID))},
		TerminationMessagePath:   corev1.TerminationMessagePathDefault,
		TerminationMessagePolicy: corev1.TerminationMessageReadFile,
		ImagePullPolicy:          corev1.PullIfNotPresent,
	}
}

// Plugin is the admission plugin that injects pods at creation.
type Plugin struct {
	Config Config
	// NamespaceLabels returns a namespace's labels.
	NamespaceLabels func(ctx context.Context, namespace string) (map[string]string, error)
}

// Name implements apiserver.AdmissionPlugin.
func (p *Plugin) Name() string { return "SidecarInjection" }

// Admit injects a new pod that wants a sidecar; updates are left alone
// (a running pod's containers cannot change).
func (p *Plugin) Admit(ctx context.Context, obj, old api.Object) ([]string, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || old != nil {
		return nil, nil
	}
	labels, err := p.NamespaceLabels(ctx, pod.Namespace)
	if err != nil {
		return nil, fmt.Errorf("read namespace %s: %w", pod.Namespace, err)
	}
	if !Wanted(pod, labels) {
		return nil, nil
	}
	Into(&pod.ObjectMeta, &pod.Spec, p.Config)
	return nil, nil
}
