package api

import (
	"fmt"
	"reflect"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// What Weft accepts but does not act on (yet). Kubernetes users write these
// fields expecting an effect; Weft stores them (so that get -o yaml and a
// later Weft give them back) and says, on every apply, that nothing happens.
// Each entry is one field, how to tell it is used, and what happens.
//
// Kinds that Weft stores without acting on them at all (StatefulSet, Job...)
// are warned about once by the scheme, so their fields are not listed here.
// To support a field, delete its entry.

// unsupportedField is one field of a T that Weft accepts but ignores.
type unsupportedField[T any] struct {
	path string       // relative to T, e.g. "securityContext"
	used func(T) bool // whether the object sets it
	what string       // what happens, completing "<path>: "
}

const (
	notEnforced  = "accepted but not enforced by Weft yet"
	notScheduled = "accepted but not taken into account by Weft's scheduler yet"
)

// unsupportedPodSpecFields lists pod spec fields Weft's scheduler and agent
// ignore.
var unsupportedPodSpecFields = []unsupportedField[*corev1.PodSpec]{
	{"securityContext", func(s *corev1.PodSpec) bool {
		return s.SecurityContext != nil && !reflect.ValueOf(*s.SecurityContext).IsZero()
	}, notEnforced},
	{"affinity.podAffinity", func(s *corev1.PodSpec) bool { return s.Affinity != nil && s.Affinity.PodAffinity != nil }, notScheduled},
	{"affinity.podAntiAffinity", func(s *corev1.PodSpec) bool { return s.Affinity != nil && s.Affinity.PodAntiAffinity != nil }, notScheduled},
	{"topologySpreadConstraints", func(s *corev1.PodSpec) bool { return len(s.TopologySpreadConstraints) > 0 }, notScheduled},
	{"schedulingGates", func(s *corev1.PodSpec) bool { return len(s.SchedulingGates) > 0 }, notScheduled},
	{"overhead", func(s *corev1.PodSpec) bool { return len(s.Overhead) > 0 }, notScheduled},
	{"priorityClassName", func(s *corev1.PodSpec) bool { return s.PriorityClassName != "" }, "accepted but ignored: Weft neither prioritises nor preempts pods yet"},
	{"preemptionPolicy", func(s *corev1.PodSpec) bool { return s.PreemptionPolicy != nil }, "accepted but ignored: Weft neither prioritises nor preempts pods yet"},
	{"runtimeClassName", func(s *corev1.PodSpec) bool { return s.RuntimeClassName != nil }, "accepted but ignored: Weft runs every container as a local process"},
	{"ephemeralContainers", func(s *corev1.PodSpec) bool { return len(s.EphemeralContainers) > 0 }, "accepted but not run by Weft yet"},
	{"imagePullSecrets", func(s *corev1.PodSpec) bool { return len(s.ImagePullSecrets) > 0 }, "accepted but not used: Weft resolves images through its image catalogue and pulls nothing"},
	{"readinessGates", func(s *corev1.PodSpec) bool { return len(s.ReadinessGates) > 0 }, "accepted but ignored: pod readiness does not wait for readiness gates in Weft yet"},
	{"hostIPC", func(s *corev1.PodSpec) bool { return s.HostIPC }, notEnforced},
	{"hostPID", func(s *corev1.PodSpec) bool { return s.HostPID }, notEnforced},
	{"shareProcessNamespace", func(s *corev1.PodSpec) bool { return s.ShareProcessNamespace != nil && *s.ShareProcessNamespace }, notEnforced},
	{"hostUsers", func(s *corev1.PodSpec) bool { return s.HostUsers != nil && !*s.HostUsers }, "accepted but ignored: Weft does not run pods in user namespaces yet"},
	{"resourceClaims", func(s *corev1.PodSpec) bool { return len(s.ResourceClaims) > 0 }, "accepted but not allocated: Weft has no dynamic resource allocation"},
}

// unsupportedContainerFields lists container fields the agent ignores (for
// containers and init containers alike).
var unsupportedContainerFields = []unsupportedField[*corev1.Container]{
	{"securityContext", func(c *corev1.Container) bool {
		if c.SecurityContext == nil {
			return false
		}
		// The agent runs the container as runAsUser and runAsGroup.
		sc := *c.SecurityContext
		sc.RunAsUser, sc.RunAsGroup = nil, nil
		return !reflect.ValueOf(sc).IsZero()
	}, notEnforced},
	{"ports[*].hostPort", func(c *corev1.Container) bool {
		for _, p := range c.Ports {
			if p.HostPort != 0 && p.Protocol != "" && p.Protocol != corev1.ProtocolTCP {
				return true
			}
		}
		return false
	}, "accepted but not served for UDP and SCTP: Weft's node gateway forwards TCP hostPorts only"},
	{"lifecycle.stopSignal", func(c *corev1.Container) bool { return c.Lifecycle != nil && c.Lifecycle.StopSignal != nil }, "accepted but ignored: Weft stops containers with SIGTERM"},
	{"resizePolicy", func(c *corev1.Container) bool { return len(c.ResizePolicy) > 0 }, "accepted but ignored: Weft does not resize containers in place"},
	{"restartPolicyRules", func(c *corev1.Container) bool { return len(c.RestartPolicyRules) > 0 }, "accepted but ignored: Weft restarts containers by the pod's restartPolicy"},
	{"volumeDevices", func(c *corev1.Container) bool { return len(c.VolumeDevices) > 0 }, "accepted but not attached: Weft has no block devices"},
}

// supportedVolumeSources are the volume sources the agent mounts.
var supportedVolumeSources = []string{"emptyDir", "configMap", "secret", "hostPath", "downwardAPI", "persistentVolumeClaim", "projected"}

var unsupportedServiceFields = []unsupportedField[*corev1.Service]{
	{"spec.sessionAffinity", func(s *corev1.Service) bool { return s.Spec.SessionAffinity == corev1.ServiceAffinityClientIP },
		"ClientIP accepted but not honoured: Weft balances each connection across all endpoints"},
	{"spec.loadBalancerSourceRanges", func(s *corev1.Service) bool { return len(s.Spec.LoadBalancerSourceRanges) > 0 },
		"accepted but not enforced: Weft does not filter clients by source address yet"},
	{"spec.externalIPs", func(s *corev1.Service) bool { return len(s.Spec.ExternalIPs) > 0 },
		"accepted but not served: Weft exposes services on node ports and node addresses only"},
}

// scaledKinds are the scale targets Weft's HPA controller acts on.
var scaledKinds = []string{"Deployment", "ReplicaSet", "ReplicationController"}

// hpaMetricTypesWithoutSource are metric types that need a custom or
// external metrics API, which Weft does not have.
var hpaMetricTypesWithoutSource = []autoscalingv2.MetricSourceType{
	autoscalingv2.ObjectMetricSourceType, autoscalingv2.PodsMetricSourceType, autoscalingv2.ExternalMetricSourceType,
}

// objectWarnings returns the warnings for a validated object: upstream's
// own warnings and the fields Weft accepts without acting on them.
func objectWarnings(obj runtime.Object) []string {
	var warns []string
	for _, ps := range podSpecsOf(obj) {
		warns = append(warns, podSpecWarnings(ps.spec, ps.path)...)
		if ps.actedOn {
			warns = append(warns, unsupportedInPodSpec(ps.spec, ps.path)...)
			warns = append(warns, meshAnnotationWarnings(ps.annotations, ps.annotationsPath)...)
		}
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		if msgs := validation.IsDNS1123Label(o.Name); o.Name != "" && len(msgs) > 0 {
			warns = append(warns, fmt.Sprintf("metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS label is recommended: [%s]", strings.Join(msgs, ", ")))
		}
	case *corev1.Service:
		warns = append(warns, unsupportedIn(o, "", unsupportedServiceFields)...)
	case *autoscalingv2.HorizontalPodAutoscaler:
		warns = append(warns, hpaWarnings(o.Spec.ScaleTargetRef.Kind, o.Spec.Metrics)...)
	case *autoscalingv1.HorizontalPodAutoscaler:
		warns = append(warns, hpaWarnings(o.Spec.ScaleTargetRef.Kind, nil)...)
	}
	return warns
}

type podSpecAt struct {
	spec    *corev1.PodSpec
	path    *field.Path
	actedOn bool // false for kinds Weft stores without acting on them
	// annotations are the pod's (or template's), at annotationsPath.
	annotations     map[string]string
	annotationsPath *field.Path
}

// podSpecsOf returns the pod specs an object holds, with their paths.
func podSpecsOf(obj runtime.Object) []podSpecAt {
	tmpl := func(t *corev1.PodTemplateSpec, base *field.Path, actedOn bool) []podSpecAt {
		return []podSpecAt{{&t.Spec, base.Child("spec"), actedOn, t.Annotations, base.Child("metadata", "annotations")}}
	}
	template := field.NewPath("spec", "template")
	switch o := obj.(type) {
	case *corev1.Pod:
		return []podSpecAt{{&o.Spec, field.NewPath("spec"), true, o.Annotations, field.NewPath("metadata", "annotations")}}
	case *corev1.ReplicationController:
		if o.Spec.Template != nil {
			return tmpl(o.Spec.Template, template, true)
		}
	case *appsv1.Deployment:
		return tmpl(&o.Spec.Template, template, true)
	case *appsv1.ReplicaSet:
		return tmpl(&o.Spec.Template, template, true)
	case *appsv1.StatefulSet:
		return tmpl(&o.Spec.Template, template, false)
	case *appsv1.DaemonSet:
		return tmpl(&o.Spec.Template, template, false)
	case *batchv1.Job:
		return tmpl(&o.Spec.Template, template, false)
	case *batchv1.CronJob:
		return tmpl(&o.Spec.JobTemplate.Spec.Template, field.NewPath("spec", "jobTemplate", "spec", "template"), false)
	}
	return nil
}

// unsupportedIn walks a table over one object.
func unsupportedIn[T any](obj T, base string, table []unsupportedField[T]) []string {
	var warns []string
	for _, f := range table {
		if f.used(obj) {
			p := f.path
			if base != "" {
				p = base + "." + p
			}
			warns = append(warns, p+": "+f.what)
		}
	}
	return warns
}

func unsupportedInPodSpec(spec *corev1.PodSpec, p *field.Path) []string {
	warns := unsupportedIn(spec, p.String(), unsupportedPodSpecFields)
	for _, cl := range []struct {
		name string
		cs   []corev1.Container
	}{{"initContainers", spec.InitContainers}, {"containers", spec.Containers}} {
		for i := range cl.cs {
			c := &cl.cs[i]
			cp := p.Child(cl.name).Index(i)
			warns = append(warns, unsupportedIn(c, cp.String(), unsupportedContainerFields)...)
			if cl.name == "containers" && c.RestartPolicy != nil {
				warns = append(warns, cp.Child("restartPolicy").String()+": accepted but ignored: Weft restarts containers by the pod's restartPolicy")
			}
		}
	}
	for i := range spec.Volumes {
		for _, src := range setPointerFields(&spec.Volumes[i].VolumeSource) {
			if !oneOf(src, supportedVolumeSources...) {
				warns = append(warns, fmt.Sprintf("%s: accepted but not mounted: Weft mounts only %s volumes",
					p.Child("volumes").Index(i).Child(src), strings.Join(supportedVolumeSources, ", ")))
			}
		}
	}
	return warns
}

func hpaWarnings(targetKind string, metrics []autoscalingv2.MetricSpec) []string {
	var warns []string
	if targetKind != "" && !oneOf(targetKind, scaledKinds...) {
		warns = append(warns, fmt.Sprintf("spec.scaleTargetRef.kind: %s accepted but not scaled: Weft's autoscaler scales %s", targetKind, strings.Join(scaledKinds, ", ")))
	}
	for i, m := range metrics {
		if oneOf(m.Type, hpaMetricTypesWithoutSource...) {
			warns = append(warns, fmt.Sprintf("spec.metrics[%d].type: %s accepted but never measured: Weft has no custom or external metrics API, only pod CPU and memory", i, m.Type))
		}
	}
	return warns
}
