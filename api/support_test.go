package api

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func warningsOf(obj runtime.Object) []string {
	obj = obj.DeepCopyObject()
	Default(obj)
	_, warns := Validate(obj)
	return warns
}

func TestWarnings(t *testing.T) {
	q := resource.MustParse("100")
	cases := []struct {
		name string
		obj  runtime.Object
		want []string
	}{
		{"plain pod", makePod().obj(), nil},
		{"pod security context", makePod().spec(func(s *corev1.PodSpec) { s.SecurityContext = &corev1.PodSecurityContext{RunAsUser: new(int64(1337))} }).obj(),
			[]string{"spec.securityContext: accepted but not enforced by Weft yet"}},
		{"defaulted empty security context is no warning", makePod().spec(func(s *corev1.PodSpec) { s.SecurityContext = &corev1.PodSecurityContext{} }).obj(), nil},
		{"container security context in a template", makeDeployment().pod(func(s *corev1.PodSpec) {
			s.Containers[0].SecurityContext = &corev1.SecurityContext{ReadOnlyRootFilesystem: new(true)}
		}).obj(), []string{"spec.template.spec.containers[0].securityContext: accepted but not enforced by Weft yet"}},
		{"scheduling", makePod().spec(func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{
				NodeAffinity:    &corev1.NodeAffinity{},
				PodAffinity:     &corev1.PodAffinity{},
				PodAntiAffinity: &corev1.PodAntiAffinity{},
			}
			s.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.ScheduleAnyway}}
			s.PriorityClassName = "high"
		}).obj(), []string{
			"spec.affinity.podAffinity: accepted but not taken into account by Weft's scheduler yet",
			"spec.affinity.podAntiAffinity: accepted but not taken into account by Weft's scheduler yet",
			"spec.topologySpreadConstraints: accepted but not taken into account by Weft's scheduler yet",
			"spec.priorityClassName: accepted but ignored: Weft neither prioritises nor preempts pods yet",
		}},
		{"pod runtime fields", makePod().spec(func(s *corev1.PodSpec) {
			s.RuntimeClassName = new("gvisor")
			s.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "regcred"}}
			s.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/ready"}}
			s.HostIPC, s.HostPID = true, true
			s.Overhead = corev1.ResourceList{"cpu": resource.MustParse("10m")}
			s.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
		}).obj(), []string{
			"spec.overhead: accepted but not taken into account by Weft's scheduler yet",
			"spec.runtimeClassName: accepted but ignored: Weft runs every container as a local process",
			"spec.ephemeralContainers: accepted but not run by Weft yet",
			"spec.imagePullSecrets: accepted but not used: Weft resolves images through its image catalogue and pulls nothing",
			"spec.readinessGates: accepted but ignored: pod readiness does not wait for readiness gates in Weft yet",
			"spec.hostIPC: accepted but not enforced by Weft yet",
			"spec.hostPID: accepted but not enforced by Weft yet",
		}},
		{"container fields", makePod().ctr(func(c *corev1.Container) {
			c.Lifecycle = &corev1.Lifecycle{StopSignal: new(corev1.SIGUSR1)}
			c.ResizePolicy = []corev1.ContainerResizePolicy{{ResourceName: "cpu", RestartPolicy: corev1.NotRequired}}
		}).spec(func(s *corev1.PodSpec) { s.OS = &corev1.PodOS{Name: corev1.Linux} }).obj(), []string{
			"spec.containers[0].lifecycle.stopSignal: accepted but ignored: Weft stops containers with SIGTERM",
			"spec.containers[0].resizePolicy: accepted but ignored: Weft does not resize containers in place",
		}},
		{"volume sources", makePod().spec(func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{
				emptyDirVolume("tmp"),
				{Name: "nfs", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.local", Path: "/export"}}},
				{Name: "claim", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
			}
		}).obj(), []string{
			"spec.volumes[1].nfs: accepted but not mounted: Weft mounts only emptyDir, configMap, secret, hostPath, downwardAPI, persistentVolumeClaim, projected volumes",
		}},
		{"kinds the scheme warns about are not walked", &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: appsv1.StatefulSetSpec{
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{HostPID: true}},
		}}, nil},
		{"service", makeService().typ(corev1.ServiceTypeLoadBalancer).with(func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.LoadBalancerSourceRanges = []string{"10.0.0.0/8"}
			s.Spec.ExternalIPs = []string{"192.0.2.10"}
		}).obj(), []string{
			"spec.sessionAffinity: ClientIP accepted but not honoured: Weft balances each connection across all endpoints",
			"spec.loadBalancerSourceRanges: accepted but not enforced: Weft does not filter clients by source address yet",
			"spec.externalIPs: accepted but not served: Weft exposes services on node ports and node addresses only",
		}},
		{"hpa", makeHPA(func(s *autoscalingv2.HorizontalPodAutoscalerSpec) {
			s.ScaleTargetRef.Kind = "StatefulSet"
			s.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "qps"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q},
			}}}
		}), []string{
			"spec.scaleTargetRef.kind: StatefulSet accepted but not scaled: Weft's autoscaler scales Deployment, ReplicaSet, ReplicationController",
			"spec.metrics[0].type: Pods accepted but never measured: Weft has no custom or external metrics API, only pod CPU and memory",
		}},
		{"istio annotations", makeDeployment().spec(func(d *appsv1.DeploymentSpec) {
			d.Template.Annotations = map[string]string{
				"sidecar.istio.io/inject":        "true",
				"sidecar.istio.io/proxyCPU":      "100m",
				"sidecar.istio.io/nativeSidecar": "false",
				"example.com/other":              "x",
				"proxy.istio.io/config":          "terminationDrainDuration: 20s\nconcurrency: 2\nholdApplicationUntilProxyStarts: false\n",
			}
		}).obj(), []string{
			"spec.template.metadata.annotations[sidecar.istio.io/proxyCPU]: Istio's annotation is accepted but not acted on by Weft",
			`spec.template.metadata.annotations[sidecar.istio.io/nativeSidecar]: "false" is not acted on: Weft always injects weft-proxy as a native sidecar (an init container with restartPolicy Always)`,
			"spec.template.metadata.annotations[proxy.istio.io/config].concurrency: accepted but not acted on by Weft (it acts on terminationDrainDuration)",
			"spec.template.metadata.annotations[proxy.istio.io/config].holdApplicationUntilProxyStarts: false is not acted on: the app always starts after its native sidecar is ready",
		}},
		{"hostPorts: TCP served, UDP not", makePod().ctr(func(c *corev1.Container) {
			c.Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 53, HostPort: 5353, Protocol: corev1.ProtocolUDP}}
		}).obj(), []string{"spec.containers[0].ports[*].hostPort: accepted but not served for UDP and SCTP: Weft's node gateway forwards TCP hostPorts only"}},
		// Upstream's own warnings.
		{"pod name that is not a DNS label", makePod().name("web.v1").obj(),
			[]string{"metadata.name: this is used in the Pod's hostname, which can result in surprising behavior; a DNS label is recommended: [must not contain dots]"}},
		{"duplicate ports", makePod().spec(func(s *corev1.PodSpec) {
			s.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 80}}
			s.Containers = append(s.Containers, corev1.Container{Name: "d", Image: "nginx", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}}})
		}).obj(), []string{
			"spec.containers[1].ports[0]: duplicate port definition with spec.containers[0].ports[0]",
			`spec.containers[1].ports[0]: duplicate port name "http" with spec.containers[0].ports[0], services and probes that select ports by name will use spec.containers[0].ports[0]`,
		}},
		{"env hides", makeDeployment().pod(func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "A", Value: "2"}}
		}).obj(), []string{`spec.template.spec.containers[0].env[1]: hides previous definition of "A", which may be dropped when using apply`}},
		{"fractional bytes", makePod().ctr(func(c *corev1.Container) {
			c.Resources.Limits = corev1.ResourceList{"memory": resource.MustParse("1.5")}
		}).obj(),
			[]string{`spec.containers[0].resources.limits[memory]: fractional byte value "1500m" is invalid, must be an integer`,
				`spec.containers[0].resources.requests[memory]: fractional byte value "1500m" is invalid, must be an integer`}},
		{"deprecated node label", makePod().spec(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"beta.kubernetes.io/os": "linux"} }).obj(),
			[]string{`spec.nodeSelector[beta.kubernetes.io/os]: deprecated since v1.14; use "kubernetes.io/os" instead`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := warningsOf(tc.obj)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// TestWarningsTables: every table entry is reachable through its path and
// says what happens.
func TestWarningsTables(t *testing.T) {
	for _, f := range unsupportedPodSpecFields {
		if f.path == "" || !strings.HasPrefix(f.what, "accepted but") {
			t.Errorf("pod spec entry %q: %q", f.path, f.what)
		}
		if f.used(&corev1.PodSpec{}) {
			t.Errorf("pod spec entry %q fires on an empty spec", f.path)
		}
	}
	for _, f := range unsupportedContainerFields {
		if f.path == "" || !strings.HasPrefix(f.what, "accepted but") {
			t.Errorf("container entry %q: %q", f.path, f.what)
		}
		if f.used(&corev1.Container{}) {
			t.Errorf("container entry %q fires on an empty container", f.path)
		}
	}
	for _, f := range unsupportedServiceFields {
		if f.used(makeService().obj()) {
			t.Errorf("service entry %q fires on a plain service", f.path)
		}
	}
}

func TestProxyConfigAnnotation(t *testing.T) {
	withConfig := func(v string) *corev1.Pod {
		return makePod().with(func(p *corev1.Pod) { p.Annotations = map[string]string{AnnotationProxyConfig: v} }).obj()
	}
	for _, tc := range []struct {
		config  string
		wantErr string // in the error of metadata.annotations[proxy.istio.io/config]
		drain   time.Duration
	}{
		{"terminationDrainDuration: 20s", "", 20 * time.Second},
		{`{"terminationDrainDuration": "1.5s"}`, "", 1500 * time.Millisecond},
		{"terminationDrainDuration: 3m", "", 3 * time.Minute},
		{"concurrency: 2", "", DefaultDrainDuration},
		{"terminationDrainDuration: forever", `terminationDrainDuration: Invalid value: "forever": not a duration`, DefaultDrainDuration},
		{"terminationDrainDurations: 5s", "terminationDrainDurations: unknown field", DefaultDrainDuration},
		{"terminationDrainDuration: -5s", "must not be negative", DefaultDrainDuration},
		{"- a\n- b", "must be a ProxyConfig object", DefaultDrainDuration},
		{"{", "not YAML or JSON", DefaultDrainDuration},
	} {
		t.Run(tc.config, func(t *testing.T) {
			pod := withConfig(tc.config)
			Default(pod)
			errs, _ := Validate(pod)
			got := errorLines(errs)
			switch {
			case tc.wantErr == "" && len(errs) > 0:
				t.Fatalf("unexpected errors:\n%s", got)
			case tc.wantErr != "" && (len(errs) != 1 || errs[0].Field != "metadata.annotations[proxy.istio.io/config]" || !strings.Contains(got, tc.wantErr)):
				t.Fatalf("errors:\n%s\nwant one on metadata.annotations[proxy.istio.io/config] containing %q", got, tc.wantErr)
			}
			if got := DrainDurationOf(pod.Annotations); got != tc.drain {
				t.Errorf("DrainDurationOf = %s, want %s", got, tc.drain)
			}
		})
	}
}

// FuzzProxyConfig: any proxy.istio.io/config value is parsed or refused
// with an error, never a panic; what is accepted gives a drain duration
// that is not negative, and warnings for it are computed without fail.
func FuzzProxyConfig(f *testing.F) {
	for _, s := range []string{
		"terminationDrainDuration: 20s", `{"terminationDrainDuration":"1.5s","concurrency":2}`, "holdApplicationUntilProxyStarts: false",
		"proxyStatsMatcher:\n  inclusionPrefixes: [cluster.outbound]", "terminationDrainDuration: -1s", "- a", "{", "", "null", "proxyMetadata: {A: b}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ann := map[string]string{AnnotationProxyConfig: s}
		pc, err := ProxyConfigOf(ann)
		if err != nil && pc != nil {
			t.Fatalf("error %v with a config", err)
		}
		if d := DrainDurationOf(ann); d < 0 {
			t.Fatalf("drain %s", d)
		}
		_ = meshAnnotationWarnings(ann, nil)
		errs := validateProxyConfigAnnotation(ann, nil)
		if err != nil && len(errs) == 0 {
			t.Fatalf("parse error %v but validation passed", err)
		}
	})
}
