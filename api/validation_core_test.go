package api

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func withVolumes(vs ...corev1.Volume) func(*corev1.PodSpec) {
	return func(s *corev1.PodSpec) { s.Volumes = vs }
}

func emptyDirVolume(name string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
}

func httpProbe(port int32) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(port)}}}
}

func TestValidatePodContainers(t *testing.T) {
	second := func(name, image string) func(*corev1.PodSpec) {
		return func(s *corev1.PodSpec) {
			s.Containers = append(s.Containers, corev1.Container{Name: name, Image: image})
		}
	}
	runValidationCases(t, []validationCase{
		{"containers required", makePod().spec(func(s *corev1.PodSpec) { s.Containers = nil }).obj(), []string{"spec.containers: Required value"}},
		{"name required", makePod().ctr(func(c *corev1.Container) { c.Name = "" }).obj(), []string{"spec.containers[0].name: Required value"}},
		{"name is a DNS label", makePod().ctr(func(c *corev1.Container) { c.Name = "Web_1" }).obj(), []string{"spec.containers[0].name: Invalid value"}},
		{"names unique", makePod().spec(second("c", "busybox")).obj(), []string{"spec.containers[1].name: Duplicate value"}},
		{"names unique across init containers", makePod().spec(func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "c", Image: "busybox"}}
		}).obj(), []string{"spec.containers[0].name: Duplicate value"}},
		{"image required", makePod().ctr(func(c *corev1.Container) { c.Image = "" }).obj(), []string{"spec.containers[0].image: Required value"}},
		{"image without surrounding space", makePod().ctr(func(c *corev1.Container) { c.Image = " nginx" }).obj(), []string{"spec.containers[0].image: Invalid value"}},
		{"pull policy", makePod().ctr(func(c *corev1.Container) { c.ImagePullPolicy = "Sometimes" }).obj(), []string{"spec.containers[0].imagePullPolicy: Unsupported value"}},
		{"termination message policy", makePod().ctr(func(c *corev1.Container) { c.TerminationMessagePolicy = "Stderr" }).obj(), []string{"spec.containers[0].terminationMessagePolicy: Unsupported value"}},
		{"init container may not probe", makePod().spec(func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "i", Image: "busybox", LivenessProbe: httpProbe(80)}}
		}).obj(), []string{"spec.initContainers[0].livenessProbe: Forbidden"}},
		{"restartable init container may probe", makePod().spec(func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "i", Image: "busybox", LivenessProbe: httpProbe(80), RestartPolicy: new(corev1.ContainerRestartPolicyAlways)}}
		}).obj(), nil},
		{"init container restartPolicy is Always", makePod().spec(func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "i", Image: "busybox", RestartPolicy: new(corev1.ContainerRestartPolicyNever)}}
		}).obj(), []string{"spec.initContainers[0].restartPolicy: Unsupported value"}},
	})
}

func TestValidatePodPorts(t *testing.T) {
	ports := func(ps ...corev1.ContainerPort) func(*corev1.Container) {
		return func(c *corev1.Container) { c.Ports = ps }
	}
	runValidationCases(t, []validationCase{
		{"valid", makePod().ctr(ports(corev1.ContainerPort{Name: "http", ContainerPort: 80, HostPort: 8080, HostIP: "10.0.0.1"})).obj(), nil},
		{"containerPort required", makePod().ctr(ports(corev1.ContainerPort{Name: "http"})).obj(), []string{"spec.containers[0].ports[0].containerPort: Required value"}},
		{"containerPort range", makePod().ctr(ports(corev1.ContainerPort{ContainerPort: 70000})).obj(), []string{"spec.containers[0].ports[0].containerPort: Invalid value"}},
		{"hostPort range", makePod().ctr(ports(corev1.ContainerPort{ContainerPort: 80, HostPort: -1})).obj(), []string{"spec.containers[0].ports[0].hostPort: Invalid value"}},
		{"name is an IANA service name", makePod().ctr(ports(corev1.ContainerPort{Name: "http_web", ContainerPort: 80})).obj(), []string{"spec.containers[0].ports[0].name: Invalid value"}},
		{"names unique", makePod().ctr(ports(corev1.ContainerPort{Name: "http", ContainerPort: 80}, corev1.ContainerPort{Name: "http", ContainerPort: 81})).obj(),
			[]string{"spec.containers[0].ports[1].name: Duplicate value"}},
		{"protocol", makePod().ctr(ports(corev1.ContainerPort{ContainerPort: 80, Protocol: "ICMP"})).obj(), []string{"spec.containers[0].ports[0].protocol: Unsupported value"}},
		{"hostIP", makePod().ctr(ports(corev1.ContainerPort{ContainerPort: 80, HostIP: "my-host"})).obj(), []string{"spec.containers[0].ports[0].hostIP: Invalid value"}},
		{"same containerPort, other protocol", makePod().ctr(ports(corev1.ContainerPort{ContainerPort: 80}, corev1.ContainerPort{ContainerPort: 80, Protocol: corev1.ProtocolUDP})).obj(), nil},
		{"host ports unique across containers", makePod().ctr(ports(corev1.ContainerPort{ContainerPort: 80, HostPort: 8080})).spec(func(s *corev1.PodSpec) {
			s.Containers = append(s.Containers, corev1.Container{Name: "d", Image: "nginx", Ports: []corev1.ContainerPort{{ContainerPort: 81, HostPort: 8080}}})
		}).obj(), []string{"spec.containers[1].ports[0].hostPort: Duplicate value"}},
		{"hostNetwork host port is the container port", makePod().ctr(ports(corev1.ContainerPort{ContainerPort: 80, HostPort: 8080})).spec(func(s *corev1.PodSpec) { s.HostNetwork = true }).obj(),
			[]string{"spec.containers[0].ports[0].hostPort: Invalid value"}},
	})
}

func TestValidatePodEnv(t *testing.T) {
	env := func(evs ...corev1.EnvVar) func(*corev1.Container) {
		return func(c *corev1.Container) { c.Env = evs }
	}
	fieldRef := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}
	}
	runValidationCases(t, []validationCase{
		{"relaxed names", makePod().ctr(env(corev1.EnvVar{Name: "1.my-var", Value: "x"}, corev1.EnvVar{Name: "X Y:z"})).obj(), nil},
		{"name required", makePod().ctr(env(corev1.EnvVar{Value: "x"})).obj(), []string{"spec.containers[0].env[0].name: Required value"}},
		{"no = in names", makePod().ctr(env(corev1.EnvVar{Name: "A=B"})).obj(), []string{"spec.containers[0].env[0].name: Invalid value"}},
		{"printable ASCII names", makePod().ctr(env(corev1.EnvVar{Name: "CAFÉ"})).obj(), []string{"spec.containers[0].env[0].name: Invalid value"}},
		{"field ref", makePod().ctr(env(corev1.EnvVar{Name: "POD", ValueFrom: fieldRef("metadata.name")}, corev1.EnvVar{Name: "APP", ValueFrom: fieldRef("metadata.labels['app']")})).obj(), nil},
		{"field ref path", makePod().ctr(env(corev1.EnvVar{Name: "A", ValueFrom: fieldRef("spec.containers")})).obj(), []string{"spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value"}},
		{"all labels only in volumes", makePod().ctr(env(corev1.EnvVar{Name: "A", ValueFrom: fieldRef("metadata.labels")})).obj(), []string{"spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value"}},
		{"value and valueFrom", makePod().ctr(env(corev1.EnvVar{Name: "A", Value: "x", ValueFrom: fieldRef("metadata.name")})).obj(), []string{"spec.containers[0].env[0].valueFrom: Invalid value"}},
		{"valueFrom needs a source", makePod().ctr(env(corev1.EnvVar{Name: "A", ValueFrom: &corev1.EnvVarSource{}})).obj(), []string{"spec.containers[0].env[0].valueFrom: Invalid value"}},
		{"valueFrom exactly one source", makePod().ctr(env(corev1.EnvVar{Name: "A", ValueFrom: &corev1.EnvVarSource{
			FieldRef:     &corev1.ObjectFieldSelector{FieldPath: "metadata.name"},
			SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"},
		}})).obj(), []string{"spec.containers[0].env[0].valueFrom: Invalid value"}},
		{"config map key required", makePod().ctr(env(corev1.EnvVar{Name: "A", ValueFrom: &corev1.EnvVarSource{
			ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cm"}},
		}})).obj(), []string{"spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Required value"}},
		{"resource field ref", makePod().ctr(env(corev1.EnvVar{Name: "A", ValueFrom: &corev1.EnvVarSource{
			ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.gpu"},
		}})).obj(), []string{"spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: Unsupported value"}},
		{"envFrom needs a source", makePod().ctr(func(c *corev1.Container) { c.EnvFrom = []corev1.EnvFromSource{{Prefix: "X_"}} }).obj(),
			[]string{"spec.containers[0].envFrom[0]: Invalid value"}},
	})
}

func TestValidatePodVolumes(t *testing.T) {
	mounts := func(ms ...corev1.VolumeMount) func(*corev1.Container) {
		return func(c *corev1.Container) { c.VolumeMounts = ms }
	}
	runValidationCases(t, []validationCase{
		{"valid", makePod().spec(withVolumes(emptyDirVolume("data"),
			corev1.Volume{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}})).
			ctr(mounts(corev1.VolumeMount{Name: "data", MountPath: "/data"}, corev1.VolumeMount{Name: "cfg", MountPath: "/etc/app.properties", SubPath: "app.properties"})).obj(), nil},
		{"no source means emptyDir", makePod().spec(withVolumes(corev1.Volume{Name: "v"})).obj(), nil},
		{"names unique", makePod().spec(withVolumes(emptyDirVolume("v"), emptyDirVolume("v"))).obj(), []string{"spec.volumes[1].name: Duplicate value"}},
		{"name is a DNS label", makePod().spec(withVolumes(emptyDirVolume("My_Vol"))).obj(), []string{"spec.volumes[0].name: Invalid value"}},
		{"one source", makePod().spec(withVolumes(corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{Path: "/tmp"},
		}})).obj(), []string{"spec.volumes[0].emptyDir: Forbidden"}},
		{"configMap name required", makePod().spec(withVolumes(corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}})).obj(),
			[]string{"spec.volumes[0].configMap.name: Required value"}},
		{"secret name required", makePod().spec(withVolumes(corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{}}})).obj(),
			[]string{"spec.volumes[0].secret.secretName: Required value"}},
		{"file mode", makePod().spec(withVolumes(corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: new(int32(01000))}}})).obj(),
			[]string{"spec.volumes[0].secret.defaultMode: Invalid value"}},
		{"item paths stay inside", makePod().spec(withVolumes(corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "c"}, Items: []corev1.KeyToPath{{Key: "k", Path: "../k"}, {Key: "k", Path: "/k"}},
		}}})).obj(), []string{"spec.volumes[0].configMap.items[0].path: Invalid value", "spec.volumes[0].configMap.items[1].path: Invalid value"}},
		{"hostPath", makePod().spec(withVolumes(corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Type: new(corev1.HostPathType("Dir"))}}})).obj(),
			[]string{"spec.volumes[0].hostPath.path: Required value", "spec.volumes[0].hostPath.type: Unsupported value"}},
		{"claim name required", makePod().spec(withVolumes(corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{}}})).obj(),
			[]string{"spec.volumes[0].persistentVolumeClaim.claimName: Required value"}},
		{"downward API", makePod().spec(withVolumes(corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "node", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}},
			{Path: "cpu", ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}},
		}}}})).obj(), []string{"spec.volumes[0].downwardAPI.items[1].fieldRef.fieldPath: Unsupported value", "spec.volumes[0].downwardAPI.items[2].resourceFieldRef.containerName: Required value"}},
		{"projected token", makePod().spec(withVolumes(corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: new(int64(60))}},
			{},
		}}}})).obj(), []string{"spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value", "spec.volumes[0].projected.sources[1]: Required value"}},
		{"mount of a missing volume", makePod().ctr(mounts(corev1.VolumeMount{Name: "data", MountPath: "/data"})).obj(), []string{"spec.containers[0].volumeMounts[0].name: Not found"}},
		{"mount path required", makePod().spec(withVolumes(emptyDirVolume("v"))).ctr(mounts(corev1.VolumeMount{Name: "v"})).obj(), []string{"spec.containers[0].volumeMounts[0].mountPath: Required value"}},
		{"mount paths unique", makePod().spec(withVolumes(emptyDirVolume("v"))).ctr(mounts(corev1.VolumeMount{Name: "v", MountPath: "/d"}, corev1.VolumeMount{Name: "v", MountPath: "/d"})).obj(),
			[]string{"spec.containers[0].volumeMounts[1].mountPath: Invalid value"}},
		{"subPath relative", makePod().spec(withVolumes(emptyDirVolume("v"))).ctr(mounts(corev1.VolumeMount{Name: "v", MountPath: "/d", SubPath: "/etc"})).obj(),
			[]string{"spec.containers[0].volumeMounts[0].subPath: Invalid value"}},
		{"subPath without ..", makePod().spec(withVolumes(emptyDirVolume("v"))).ctr(mounts(corev1.VolumeMount{Name: "v", MountPath: "/d", SubPath: "a/../../etc"})).obj(),
			[]string{"spec.containers[0].volumeMounts[0].subPath: Invalid value"}},
		{"bidirectional needs privilege", makePod().spec(withVolumes(emptyDirVolume("v"))).ctr(mounts(corev1.VolumeMount{Name: "v", MountPath: "/d", MountPropagation: new(corev1.MountPropagationBidirectional)})).obj(),
			[]string{"spec.containers[0].volumeMounts[0].mountPropagation: Forbidden"}},
	})
}

func TestValidatePodProbes(t *testing.T) {
	probe := func(f func(*corev1.Probe)) func(*corev1.Container) {
		return func(c *corev1.Container) { c.LivenessProbe = httpProbe(8080); f(c.LivenessProbe) }
	}
	runValidationCases(t, []validationCase{
		{"exec and httpGet liveness of the seed", makePod().ctr(func(c *corev1.Container) {
			c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"cat", "/tmp/healthy"}}}, InitialDelaySeconds: 5, PeriodSeconds: 5}
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Host: "w.nocs.cn", Path: "/pi.php", Port: intstr.FromInt32(443), Scheme: corev1.URISchemeHTTPS}}}
		}).obj(), nil},
		{"a handler", makePod().ctr(func(c *corev1.Container) { c.StartupProbe = &corev1.Probe{} }).obj(), []string{"spec.containers[0].startupProbe: Required value"}},
		{"one handler", makePod().ctr(probe(func(p *corev1.Probe) { p.TCPSocket = &corev1.TCPSocketAction{Port: intstr.FromInt32(80)} })).obj(),
			[]string{"spec.containers[0].livenessProbe.tcpSocket: Forbidden"}},
		{"exec command", makePod().ctr(func(c *corev1.Container) {
			c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{}}}
		}).obj(),
			[]string{"spec.containers[0].livenessProbe.exec.command: Required value"}},
		{"named port", makePod().ctr(func(c *corev1.Container) {
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}}}
		}).obj(), nil},
		{"port", makePod().ctr(probe(func(p *corev1.Probe) { p.HTTPGet.Port = intstr.FromInt32(0) })).obj(), []string{"spec.containers[0].livenessProbe.httpGet.port: Invalid value"}},
		{"scheme", makePod().ctr(probe(func(p *corev1.Probe) { p.HTTPGet.Scheme = "FTP" })).obj(), []string{"spec.containers[0].livenessProbe.httpGet.scheme: Unsupported value"}},
		{"header names", makePod().ctr(probe(func(p *corev1.Probe) { p.HTTPGet.HTTPHeaders = []corev1.HTTPHeader{{Name: "X Y"}} })).obj(),
			[]string{"spec.containers[0].livenessProbe.httpGet.httpHeaders[0].name: Invalid value"}},
		{"numbers not negative", makePod().ctr(probe(func(p *corev1.Probe) { p.InitialDelaySeconds, p.PeriodSeconds, p.FailureThreshold = -1, -1, -3 })).obj(),
			[]string{"spec.containers[0].livenessProbe.failureThreshold: Invalid value", "spec.containers[0].livenessProbe.initialDelaySeconds: Invalid value", "spec.containers[0].livenessProbe.periodSeconds: Invalid value"}},
		{"liveness succeeds once", makePod().ctr(probe(func(p *corev1.Probe) { p.SuccessThreshold = 2 })).obj(), []string{"spec.containers[0].livenessProbe.successThreshold: Invalid value"}},
		{"readiness may need more successes", makePod().ctr(func(c *corev1.Container) { c.ReadinessProbe = httpProbe(80); c.ReadinessProbe.SuccessThreshold = 2 }).obj(), nil},
		{"readiness has no grace period", makePod().ctr(func(c *corev1.Container) {
			c.ReadinessProbe = httpProbe(80)
			c.ReadinessProbe.TerminationGracePeriodSeconds = new(int64(5))
		}).obj(),
			[]string{"spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value"}},
		{"preStop sleep within grace period", makePod().ctr(func(c *corev1.Container) {
			c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 31}}}
		}).obj(), []string{"spec.containers[0].lifecycle.preStop.sleep.seconds: Invalid value"}},
	})
}

func TestValidatePodResources(t *testing.T) {
	res := func(limits, requests corev1.ResourceList) func(*corev1.Container) {
		return func(c *corev1.Container) {
			c.Resources = corev1.ResourceRequirements{Limits: limits, Requests: requests}
		}
	}
	q := resource.MustParse
	runValidationCases(t, []validationCase{
		{"valid", makePod().ctr(res(corev1.ResourceList{"cpu": q("200m"), "memory": q("2Gi")}, corev1.ResourceList{"cpu": q("100m"), "memory": q("1Gi")})).obj(), nil},
		{"negative", makePod().ctr(res(nil, corev1.ResourceList{"cpu": q("-1")})).obj(), []string{"spec.containers[0].resources.requests[cpu]: Invalid value"}},
		{"requests within limits", makePod().ctr(res(corev1.ResourceList{"cpu": q("100m")}, corev1.ResourceList{"cpu": q("200m")})).obj(),
			[]string{"spec.containers[0].resources.requests[cpu]: Invalid value"}},
		{"standard names", makePod().ctr(res(corev1.ResourceList{"gpu": q("1")}, nil)).obj(),
			[]string{"spec.containers[0].resources.limits[gpu]: Invalid value", "spec.containers[0].resources.requests[gpu]: Invalid value"}},
		{"extended resources are whole and not overcommitted", makePod().ctr(res(corev1.ResourceList{"example.com/gpu": q("2")}, corev1.ResourceList{"example.com/gpu": q("1")})).obj(),
			[]string{"spec.containers[0].resources.requests[example.com/gpu]: Invalid value"}},
		{"extended resources need limits", makePod().with(func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{"example.com/gpu": q("1")}
		}).obj(), []string{"spec.containers[0].resources.limits[example.com/gpu]: Required value"}},
	})
}

func TestValidatePodSpecFields(t *testing.T) {
	runValidationCases(t, []validationCase{
		{"restartPolicy", makePod().spec(func(s *corev1.PodSpec) { s.RestartPolicy = "Sometimes" }).obj(), []string{"spec.restartPolicy: Unsupported value"}},
		{"dnsPolicy", makePod().spec(func(s *corev1.PodSpec) { s.DNSPolicy = "Google" }).obj(), []string{"spec.dnsPolicy: Unsupported value"}},
		{"dnsPolicy None needs a config", makePod().spec(func(s *corev1.PodSpec) { s.DNSPolicy = corev1.DNSNone }).obj(), []string{"spec.dnsConfig: Required value"}},
		{"dnsConfig", makePod().spec(func(s *corev1.PodSpec) {
			s.DNSPolicy = corev1.DNSNone
			s.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"10.0.0.10", "dns"}, Searches: []string{"svc.cluster.local.", "a_b"}}
		}).obj(), []string{"spec.dnsConfig.nameservers[1]: Invalid value", "spec.dnsConfig.searches[1]: Invalid value"}},
		{"nodeName is a DNS subdomain", makePod().spec(func(s *corev1.PodSpec) { s.NodeName = "10.0.0.102" }).obj(), nil},
		{"nodeName syntax", makePod().spec(func(s *corev1.PodSpec) { s.NodeName = "Node_1" }).obj(), []string{"spec.nodeName: Invalid value"}},
		{"nodeSelector", makePod().spec(func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"disk": "fast ssd"} }).obj(), []string{"spec.nodeSelector: Invalid value"}},
		{"grace period", makePod().spec(func(s *corev1.PodSpec) { s.TerminationGracePeriodSeconds = new(int64(-1)) }).obj(), []string{"spec.terminationGracePeriodSeconds: Invalid value"}},
		{"active deadline", makePod().spec(func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = new(int64(0)) }).obj(), []string{"spec.activeDeadlineSeconds: Invalid value"}},
		{"serviceAccountName", makePod().spec(func(s *corev1.PodSpec) { s.ServiceAccountName = "Bookinfo_Details" }).obj(), []string{"spec.serviceAccountName: Invalid value"}},
		{"hostname", makePod().spec(func(s *corev1.PodSpec) { s.Hostname = "web.local" }).obj(), []string{"spec.hostname: Invalid value"}},
		{"hostAliases", makePod().spec(func(s *corev1.PodSpec) {
			s.HostAliases = []corev1.HostAlias{{IP: "127.0.0.1", Hostnames: []string{"foo.local", "Bad_Name"}}}
		}).obj(),
			[]string{"spec.hostAliases[0].hostnames[1]: Invalid value"}},
		{"shareProcessNamespace with hostPID", makePod().spec(func(s *corev1.PodSpec) { s.HostPID = true; s.ShareProcessNamespace = new(true) }).obj(),
			[]string{"spec.shareProcessNamespace: Invalid value"}},
		{"node affinity", makePod().spec(func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{},
				PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 0, Preference: corev1.NodeSelectorTerm{
					MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn}},
				}}},
			}}
		}).obj(), []string{
			"spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].preference.matchExpressions[0].values: Required value",
			"spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value",
			"spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value",
		}},
		{"pod affinity topology key", makePod().spec(func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{}}}}
		}).obj(), []string{"spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value"}},
		{"security context ids", makePod().spec(func(s *corev1.PodSpec) { s.SecurityContext = &corev1.PodSecurityContext{RunAsUser: new(int64(-1))} }).obj(),
			[]string{"spec.securityContext.runAsUser: Invalid value"}},
		{"container security context", makePod().ctr(func(c *corev1.Container) {
			c.SecurityContext = &corev1.SecurityContext{Privileged: new(true), AllowPrivilegeEscalation: new(false)}
		}).obj(), []string{"spec.containers[0].securityContext: Invalid value"}},
	})
}

func TestValidatePodTolerations(t *testing.T) {
	tol := func(ts ...corev1.Toleration) func(*corev1.PodSpec) {
		return func(s *corev1.PodSpec) { s.Tolerations = ts }
	}
	runValidationCases(t, []validationCase{
		{"valid", makePod().spec(tol(
			corev1.Toleration{Key: "dedicated", Value: "mesh", Effect: corev1.TaintEffectNoSchedule},
			corev1.Toleration{Operator: corev1.TolerationOpExists},
			corev1.Toleration{Key: "node.kubernetes.io/unreachable", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64(300))},
		)).obj(), nil},
		{"operator", makePod().spec(tol(corev1.Toleration{Key: "k", Operator: "In"})).obj(), []string{"spec.tolerations[0].operator: Unsupported value"}},
		{"Exists has no value", makePod().spec(tol(corev1.Toleration{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"})).obj(), []string{"spec.tolerations[0].operator: Invalid value"}},
		{"empty key means Exists", makePod().spec(tol(corev1.Toleration{Value: "v"})).obj(), []string{"spec.tolerations[0].operator: Invalid value"}},
		{"effect", makePod().spec(tol(corev1.Toleration{Key: "k", Effect: "NoRun"})).obj(), []string{"spec.tolerations[0].effect: Unsupported value"}},
		{"seconds only for NoExecute", makePod().spec(tol(corev1.Toleration{Key: "k", Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: new(int64(1))})).obj(),
			[]string{"spec.tolerations[0].effect: Invalid value"}},
		{"key syntax", makePod().spec(tol(corev1.Toleration{Key: "a b"})).obj(), []string{"spec.tolerations[0].key: Invalid value"}},
	})
}

// TestValidatePodAllAtOnce: one pass reports every problem.
func TestValidatePodAllAtOnce(t *testing.T) {
	pod := makePod().name("").spec(func(s *corev1.PodSpec) {
		s.RestartPolicy = "Sometimes"
		s.Containers = append(s.Containers, corev1.Container{Name: "c"})
	}).ctr(func(c *corev1.Container) {
		c.Ports = []corev1.ContainerPort{{ContainerPort: 70000}}
	}).obj()
	got := problems(pod)
	want := []string{
		"metadata.name: Required value",
		"spec.containers[0].ports[0].containerPort: Invalid value",
		"spec.containers[1].image: Required value",
		"spec.containers[1].name: Duplicate value",
		"spec.restartPolicy: Unsupported value",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestValidatePodTemplate: a workload's pod template is checked at its path,
// and must restart Always.
func TestValidatePodTemplate(t *testing.T) {
	runValidationCases(t, []validationCase{
		{"image", makeDeployment().pod(func(s *corev1.PodSpec) { s.Containers[0].Image = "" }).obj(), []string{"spec.template.spec.containers[0].image: Required value"}},
		{"restartPolicy Always", makeDeployment().pod(func(s *corev1.PodSpec) { s.RestartPolicy = corev1.RestartPolicyNever }).obj(), []string{"spec.template.spec.restartPolicy: Unsupported value"}},
		{"no active deadline", makeDeployment().pod(func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = new(int64(10)) }).obj(), []string{"spec.template.spec.activeDeadlineSeconds: Invalid value"}},
		{"no ephemeral containers", makeDeployment().pod(func(s *corev1.PodSpec) {
			s.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
		}).obj(), []string{"spec.template.spec.ephemeralContainers: Forbidden"}},
		{"template labels", makeDeployment().spec(func(s *appsv1.DeploymentSpec) {
			s.Template.Labels["bad key"] = "x"
		}).obj(), []string{"spec.template.metadata.labels: Invalid value"}},
	})
}
