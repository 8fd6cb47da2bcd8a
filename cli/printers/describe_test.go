package printers

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	networking "istio.io/api/networking/v1alpha3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/api"
)

var spaces = regexp.MustCompile(` {2,}`)

// lines is the output with runs of spaces (tabwriter alignment) collapsed
// to one and trailing space removed, so tests can name whole lines.
func lines(s string) map[string]bool {
	out := map[string]bool{}
	for _, l := range strings.Split(s, "\n") {
		out[strings.TrimRight(spaces.ReplaceAllString(l, " "), " ")] = true
	}
	return out
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name    string
		obj     api.Object
		related []api.Object
		events  []*corev1.Event
		want    []string // whole lines, runs of spaces collapsed
		notWant []string // substrings that must not appear
	}{
		{
			name:   "pod",
			obj:    describedPod(),
			events: podEvents(),
			want: []string{
				"Name: web-7d4b9c-x2x9q",
				"Namespace: default",
				"Priority: 0",
				"Service Account: web",
				"Node: node-1/192.168.1.11",
				"Start Time: Sun, 01 Jun 2025 11:00:00 +0000",
				"Labels: app=web",
				" pod-template-hash=7d4b9c",
				"Annotations: prometheus.io/scrape: true",
				"Status: Running",
				"IP: 10.244.1.5",
				"IPs:",
				" IP: 10.244.1.5",
				"Controlled By: ReplicaSet/web-7d4b9c",
				"Init Containers:",
				" migrate:",
				" State: Terminated",
				" Reason: Completed",
				" Exit Code: 0",
				"Containers:",
				" app:",
				" Container ID: containerd://abc123",
				" Image: nginx:1.27",
				" Ports: 8080/TCP, 9090/TCP",
				" Host Ports: 0/TCP, 0/TCP",
				" Args:",
				" --port=8080",
				" State: Running",
				" Started: Sun, 01 Jun 2025 11:10:00 +0000",
				" Last State: Terminated",
				" Reason: OOMKilled",
				" Exit Code: 137",
				" Ready: True",
				" Restart Count: 2",
				" Limits:",
				" cpu: 500m",
				" memory: 256Mi",
				" Requests:",
				" cpu: 100m",
				" Liveness: http-get http://:8080/healthz delay=10s timeout=1s period=10s #success=1 #failure=3",
				" Readiness: tcp-socket :8080 delay=0s timeout=1s period=5s #success=1 #failure=3",
				" Environment Variables from:",
				" web-config ConfigMap Optional: false",
				" Environment:",
				" LOG_LEVEL: debug",
				" POD_NAME: web-7d4b9c-x2x9q (v1:metadata.name)",
				" DB_PASSWORD: <set to the key 'password' in secret 'db'> Optional: false",
				" CPU_LIMIT: 1 (limits.cpu)",
				" Mounts:",
				" /etc/config from config (ro)",
				" /var/run/secrets/kubernetes.io/serviceaccount from kube-api-access (ro)",
				"Conditions:",
				" Type Status",
				" Initialized True",
				" Ready True",
				"Volumes:",
				" config:",
				" Type: ConfigMap (a volume populated by a ConfigMap)",
				" Name: web-config",
				" Optional: false",
				" cache:",
				" Type: EmptyDir (a temporary directory that shares a pod's lifetime)",
				" SizeLimit: <unset>",
				"QoS Class: Burstable",
				"Node-Selectors: <none>",
				"Tolerations: node.kubernetes.io/not-ready:NoExecute op=Exists for 300s",
				"Events:",
				" Type Reason Age From Message",
				" ---- ------ ---- ---- -------",
				" Normal Scheduled 60m default-scheduler Successfully assigned default/web-7d4b9c-x2x9q to node-1",
				" Warning Unhealthy 10s (x3 over 2m) kubelet Liveness probe failed: HTTP probe failed with statuscode: 500",
			},
		},
		{
			name: "pod without events",
			obj:  makePod("p").container("app", running(), true, 0).obj(),
			want: []string{"Events: <none>", "QoS Class: BestEffort", "Volumes: <none>", " Environment: <none>", " Mounts: <none>", " Port: <none>"},
		},
		{
			name:    "service",
			obj:     serviceFixtures()[0],
			related: objects(endpointsFixture(), &corev1.Endpoints{ObjectMeta: meta("other", time.Hour)}),
			events:  []*corev1.Event{},
			want: []string{
				"Name: web",
				"Namespace: default",
				"Selector: app=web,tier=frontend",
				"Type: ClusterIP",
				"IP Families: <none>",
				"IP: 10.96.12.34",
				"IPs: 10.96.12.34",
				"Port: http 80/TCP",
				"TargetPort: 8080/TCP",
				"Endpoints: 10.244.0.5:8080,10.244.0.6:8080,10.244.1.7:8080",
				"Port: metrics 9090/TCP",
				"TargetPort: 9090/TCP",
				"Endpoints: 10.244.0.5:9090,10.244.0.6:9090,10.244.1.7:9090",
				"Session Affinity: None",
				"Events: <none>",
			},
		},
		{
			name:    "node port service with endpoint slices",
			obj:     nodePortService(),
			related: objects(endpointSliceFixture()),
			want: []string{
				"Type: NodePort",
				"Port: http 80/TCP",
				"TargetPort: http/TCP",
				"NodePort: http 30044/TCP",
				"Endpoints: 10.244.0.5:8080,10.244.0.6:8080",
				"External Traffic Policy: Cluster",
			},
		},
		{
			name: "service without endpoints",
			obj:  serviceFixtures()[2],
			want: []string{"Port: <unset> 80/TCP", "NodePort: <unset> 31000/TCP", "Endpoints: <none>"},
		},
		{
			name: "deployment",
			obj:  describedDeployment(),
			related: objects[api.Object](
				replicaSetFixture("web-7d4b9c", "web", true),
				replicaSetFixture("web-5c8f7a", "web", false),
				replicaSetFixture("other-1", "other", true),
				makePod("web-7d4b9c-x2x9q").ownedBy("ReplicaSet", "web-7d4b9c").obj(),
			),
			events: []*corev1.Event{{
				Type: corev1.EventTypeNormal, Reason: "ScalingReplicaSet", Message: "Scaled up replica set web-7d4b9c to 3 from 2",
				Source:         corev1.EventSource{Component: "deployment-controller"},
				FirstTimestamp: ago(3 * time.Minute), LastTimestamp: ago(3 * time.Minute), Count: 1,
			}},
			want: []string{
				"Name: web",
				"Namespace: default",
				"CreationTimestamp: Thu, 29 May 2025 12:00:00 +0000",
				"Labels: app=web",
				"Annotations: deployment.kubernetes.io/revision: 2",
				"Selector: app=web",
				"Replicas: 3 desired | 3 updated | 3 total | 2 available | 1 unavailable",
				"StrategyType: RollingUpdate",
				"MinReadySeconds: 0",
				"RollingUpdateStrategy: 25% max unavailable, 25% max surge",
				"Pod Template:",
				" Labels: app=web",
				" Containers:",
				" web:",
				" Image: nginx:1.27",
				" istio-proxy:",
				" Image: istio/proxyv2:1.24",
				" Volumes: <none>",
				" Node-Selectors: <none>",
				" Tolerations: <none>",
				"Conditions:",
				" Type Status Reason",
				" Available False MinimumReplicasUnavailable",
				" Progressing True NewReplicaSetAvailable",
				"OldReplicaSets: web-5c8f7a (0/0 replicas created)",
				"NewReplicaSet: web-7d4b9c (3/3 replicas created)",
				" Normal ScalingReplicaSet 3m deployment-controller Scaled up replica set web-7d4b9c to 3 from 2",
			},
			notWant: []string{"other-1", "last-applied"},
		},
		{
			name: "replica set",
			obj:  replicaSetFixture("web-7d4b9c", "web", true),
			related: objects(
				makePod("a").ownedBy("ReplicaSet", "web-7d4b9c").obj(),
				makePod("b").ownedBy("ReplicaSet", "web-7d4b9c").obj(),
				makePod("c").phase(corev1.PodPending).ownedBy("ReplicaSet", "web-7d4b9c").obj(),
				makePod("d").phase(corev1.PodFailed).ownedBy("ReplicaSet", "web-7d4b9c").obj(),
				makePod("e").ownedBy("ReplicaSet", "web-5c8f7a").obj(),
				makePod("f").obj(),
			),
			want: []string{
				"Name: web-7d4b9c",
				"Selector: app=web,pod-template-hash=7d4b9c",
				"Controlled By: Deployment/web",
				"Replicas: 3 current / 3 desired",
				"Pods Status: 2 Running / 1 Waiting / 0 Succeeded / 1 Failed",
				"Pod Template:",
			},
		},
		{
			name: "virtual service",
			obj:  describedVirtualService(),
			want: []string{
				"Name: reviews",
				"Namespace: default",
				"API Version: networking.istio.io/v1",
				"Kind: VirtualService",
				"Hosts: reviews, reviews.example.com",
				"Gateways: mesh, bookinfo-gateway",
				"HTTP Routes:",
				` - Name: jason`,
				` Match: headers[end-user] exact "jason"`,
				` uri prefix "/api", method exact "GET"`,
				` Route: reviews subset v2 port 9080`,
				` Timeout: 10s`,
				` Retries: 3 attempts, per try timeout 2s, on 5xx,connect-failure`,
				` Fault: delay 5s for 10% of requests; abort with HTTP status 503 for 1% of requests`,
				` - Match: <any request>`,
				` Route: reviews subset v1 weight 75`,
				` reviews subset v3 weight 25`,
				` Rewrite: uri "/"`,
				` Mirror: reviews-shadow (50%)`,
				"TCP Routes:",
				` - Match: port 27017`,
				` Route: mongo.backend.svc.cluster.local port 5555`,
				"Events: <none>",
			},
		},
		{
			name: "destination rule",
			obj:  destinationRuleFixture(),
			want: []string{
				"Name: reviews",
				"Kind: DestinationRule",
				"Host: reviews.default.svc.cluster.local",
				"Traffic Policy:",
				" connectionPool.tcp.maxConnections: 100",
				" loadBalancer.simple: LEAST_REQUEST",
				"Subsets:",
				" v1:",
				" Labels: version=v1",
				" Traffic Policy: <none>",
				" v2:",
				" Labels: version=v2",
				" Traffic Policy:",
				" loadBalancer.simple: ROUND_ROBIN",
				"Events: <none>",
			},
		},
		{
			name:    "node",
			obj:     describedNode(),
			related: objects(nodePod("web", "node-1", "250m", "128Mi"), nodePod("api", "node-1", "500m", "512Mi"), nodePod("elsewhere", "node-2", "1", "1Gi")),
			want: []string{
				"Name: node-1",
				"Roles: <none>",
				"Labels: kubernetes.io/hostname=node-1",
				"Taints: dedicated=web:NoSchedule",
				"Unschedulable: false",
				" Ready True Sun, 01 Jun 2025 11:59:00 +0000 Fri, 02 May 2025 12:00:00 +0000",
				" InternalIP: 192.168.1.11",
				"Capacity:",
				" cpu: 4",
				" memory: 8Gi",
				" Kubelet Version: v1.33.1",
				"Non-terminated Pods: (2 in total)",
				" default web 250m (6%) 0 (0%) 128Mi (1%) 0 (0%) 60m",
				" default api 500m (12%) 0 (0%) 512Mi (6%) 0 (0%) 60m",
				" cpu 750m (18%) 0 (0%)",
				" memory 640Mi (7%) 0 (0%)",
			},
			notWant: []string{"elsewhere"},
		},
		{
			name: "hpa",
			obj:  hpaFixtures()[0],
			want: []string{
				"Name: web",
				"Reference: Deployment/web",
				"Metrics: ( current / target )",
				" resource cpu on pods (as a percentage of request): 12% (120m) / 30%",
				"Min replicas: 2",
				"Max replicas: 10",
				"Deployment pods: 3 current / 3 desired",
			},
		},
		{
			name:    "secret shows sizes, not values",
			obj:     &corev1.Secret{ObjectMeta: meta("db", time.Hour), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte("hunter2"), "user": []byte("admin")}},
			want:    []string{"Type: Opaque", "Data", "====", "password: 7 bytes", "user: 5 bytes"},
			notWant: []string{"hunter2", "admin"},
		},
		{
			name: "generic",
			obj: &api.Gateway{ObjectMeta: meta("ingress", time.Hour), Spec: &networking.Gateway{
				Selector: map[string]string{"istio": "ingressgateway"},
				Servers:  []*networking.Server{{Port: &networking.Port{Number: 80, Name: "http", Protocol: "HTTP"}, Hosts: []string{"*"}}},
			}},
			want: []string{
				"Name: ingress",
				"Namespace: default",
				"API Version: networking.istio.io/v1",
				"Kind: Gateway",
				"CreationTimestamp: Sun, 01 Jun 2025 11:00:00 +0000",
				"Spec:",
				" selector:",
				" istio: ingressgateway",
				" servers:",
				" - hosts:",
				" - '*'",
				" number: 80",
				"Events: <none>",
			},
		},
		{
			name: "generic cluster-scoped",
			obj: &rbacv1.ClusterRole{
				ObjectMeta: metav1.ObjectMeta{Name: "reader", CreationTimestamp: ago(time.Hour)},
				Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}}},
			},
			want:    []string{"Name: reader", "Kind: ClusterRole", "Rules:", " - apiGroups:", " - \"\"", " resources:", " - pods"},
			notWant: []string{"Namespace:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Describe(tt.obj, tt.related, tt.events, now)
			have := lines(got)
			for _, w := range tt.want {
				if !have[w] {
					t.Errorf("no line %q in:\n%s", w, got)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(got, nw) {
					t.Errorf("output has %q:\n%s", nw, got)
				}
			}
			golden(t, filepath.Join("describe", strings.ReplaceAll(tt.name, " ", "-")), got)
		})
	}
}

// TestDescribeEventsOrder checks events come oldest first whatever the
// order given, with nil entries ignored.
func TestDescribeEventsOrder(t *testing.T) {
	ev := func(reason string, last time.Duration) *corev1.Event {
		return &corev1.Event{Type: corev1.EventTypeNormal, Reason: reason, FirstTimestamp: ago(last), LastTimestamp: ago(last), Count: 1}
	}
	got := Describe(makePod("p").obj(), nil, []*corev1.Event{ev("Third", time.Minute), nil, ev("First", time.Hour), ev("Second", 10*time.Minute)}, now)
	first, second, third := strings.Index(got, "First"), strings.Index(got, "Second"), strings.Index(got, "Third")
	if first < 0 || !(first < second && second < third) {
		t.Errorf("events not oldest first:\n%s", got)
	}
}

func TestSmartLabel(t *testing.T) {
	for in, want := range map[string]string{
		"spec":              "Spec",
		"sessionAffinity":   "Session Affinity",
		"apiVersion":        "API Version",
		"roleRef":           "Role Ref",
		"podCIDR":           "Pod CIDR",
		"HTTPRoute":         "HTTP Route",
		"some_field":        "some_field",
		"http2MaxRequests":  "http2MaxRequests",
		"volumeBindingMode": "Volume Binding Mode",
	} {
		if got := smartLabel(in); got != want {
			t.Errorf("smartLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func describedPod() *corev1.Pod {
	p := podFixtures()[0].(*corev1.Pod)
	p.Annotations = map[string]string{"prometheus.io/scrape": "true", corev1.LastAppliedConfigAnnotation: "{}"}
	p.Spec.ServiceAccountName = "web"
	p.Spec.Priority = new(int32(0))
	p.Status.HostIP = "192.168.1.11"
	p.Status.StartTime = agoPtr(time.Hour)
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	p.Spec.Tolerations = []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: new(int64(300))}}
	p.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "migrate:1"}}
	p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "migrate", State: terminated("Completed", 0, 0)}}

	c := &p.Spec.Containers[0]
	c.Image = "nginx:1.27"
	c.Args = []string{"--port=8080"}
	c.Ports = []corev1.ContainerPort{{ContainerPort: 8080, Protocol: corev1.ProtocolTCP}, {ContainerPort: 9090, Protocol: corev1.ProtocolTCP}}
	c.Resources = corev1.ResourceRequirements{Limits: resources("cpu", "500m", "memory", "256Mi"), Requests: resources("cpu", "100m")}
	c.LivenessProbe = &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080), Scheme: corev1.URISchemeHTTP}},
		InitialDelaySeconds: 10, TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
	}
	c.ReadinessProbe = &corev1.Probe{
		ProbeHandler:   corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}},
		TimeoutSeconds: 1, PeriodSeconds: 5, SuccessThreshold: 1, FailureThreshold: 3,
	}
	c.EnvFrom = []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web-config"}}}}
	c.Env = []corev1.EnvVar{
		{Name: "LOG_LEVEL", Value: "debug"},
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
		{Name: "DB_PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "password"}}},
		{Name: "CPU_LIMIT", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}},
	}
	c.VolumeMounts = []corev1.VolumeMount{
		{Name: "kube-api-access", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true},
		{Name: "config", MountPath: "/etc/config", ReadOnly: true},
	}
	p.Spec.Volumes = []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web-config"}}}},
		{Name: "cache", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	cs := &p.Status.ContainerStatuses[0]
	cs.ContainerID = "containerd://abc123"
	cs.RestartCount = 2
	cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: ago(50 * time.Minute)}}
	cs.LastTerminationState = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "OOMKilled", ExitCode: 137, StartedAt: ago(55 * time.Minute), FinishedAt: ago(51 * time.Minute)}}
	return p
}

func podEvents() []*corev1.Event {
	return []*corev1.Event{
		{
			Type: corev1.EventTypeWarning, Reason: "Unhealthy", Message: "Liveness probe failed: HTTP probe failed with statuscode: 500",
			Source: corev1.EventSource{Component: "kubelet", Host: "node-1"}, FirstTimestamp: ago(2 * time.Minute), LastTimestamp: ago(10 * time.Second), Count: 3,
		},
		{
			Type: corev1.EventTypeNormal, Reason: "Scheduled", Message: "Successfully assigned default/web-7d4b9c-x2x9q to node-1",
			ReportingController: "default-scheduler", EventTime: metav1.NewMicroTime(now.Add(-time.Hour)),
		},
	}
}

func nodePortService() *corev1.Service {
	svc := serviceFixtures()[1].(*corev1.Service)
	svc.Spec.Ports = []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), NodePort: 30044, Protocol: corev1.ProtocolTCP}}
	svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	return svc
}

func endpointSliceFixture() *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-nodeport-x1", Namespace: "default", Labels: map[string]string{discoveryv1.LabelServiceName: "web-nodeport"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: new("http"), Port: new(int32(8080))}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.244.0.5"}, Conditions: discoveryv1.EndpointConditions{Ready: new(true)}},
			{Addresses: []string{"10.244.0.6"}},
			{Addresses: []string{"10.244.0.7"}, Conditions: discoveryv1.EndpointConditions{Ready: new(false)}},
		},
	}
}

func describedDeployment() *appsv1.Deployment {
	d := deploymentFixture()
	d.Labels = map[string]string{"app": "web"}
	d.Annotations = map[string]string{"deployment.kubernetes.io/revision": "2", corev1.LastAppliedConfigAnnotation: `{"kind":"Deployment"}`}
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
		MaxUnavailable: new(intstr.FromString("25%")), MaxSurge: new(intstr.FromString("25%")),
	}}
	d.Status.Conditions = []appsv1.DeploymentCondition{
		{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable"},
		{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable"},
	}
	return d
}

func describedVirtualService() *api.VirtualService {
	return &api.VirtualService{ObjectMeta: meta("reviews", 4*time.Hour), Spec: &networking.VirtualService{
		Hosts:    []string{"reviews", "reviews.example.com"},
		Gateways: []string{"mesh", "bookinfo-gateway"},
		Http: []*networking.HTTPRoute{
			{
				Name: "jason",
				Match: []*networking.HTTPMatchRequest{
					{Headers: map[string]*networking.StringMatch{"end-user": {MatchType: &networking.StringMatch_Exact{Exact: "jason"}}}},
					{Uri: &networking.StringMatch{MatchType: &networking.StringMatch_Prefix{Prefix: "/api"}}, Method: &networking.StringMatch{MatchType: &networking.StringMatch_Exact{Exact: "GET"}}},
				},
				Route:   []*networking.HTTPRouteDestination{{Destination: &networking.Destination{Host: "reviews", Subset: "v2", Port: &networking.PortSelector{Number: 9080}}}},
				Timeout: durationpb.New(10 * time.Second),
				Retries: &networking.HTTPRetry{Attempts: 3, PerTryTimeout: durationpb.New(2 * time.Second), RetryOn: "5xx,connect-failure"},
				Fault: &networking.HTTPFaultInjection{
					Delay: &networking.HTTPFaultInjection_Delay{HttpDelayType: &networking.HTTPFaultInjection_Delay_FixedDelay{FixedDelay: durationpb.New(5 * time.Second)}, Percentage: &networking.Percent{Value: 10}},
					Abort: &networking.HTTPFaultInjection_Abort{ErrorType: &networking.HTTPFaultInjection_Abort_HttpStatus{HttpStatus: 503}, Percentage: &networking.Percent{Value: 1}},
				},
			},
			{
				Route: []*networking.HTTPRouteDestination{
					{Destination: &networking.Destination{Host: "reviews", Subset: "v1"}, Weight: 75},
					{Destination: &networking.Destination{Host: "reviews", Subset: "v3"}, Weight: 25},
				},
				Rewrite:          &networking.HTTPRewrite{Uri: "/"},
				Mirror:           &networking.Destination{Host: "reviews-shadow"},
				MirrorPercentage: &networking.Percent{Value: 50},
			},
		},
		Tcp: []*networking.TCPRoute{{
			Match: []*networking.L4MatchAttributes{{Port: 27017}},
			Route: []*networking.RouteDestination{{Destination: &networking.Destination{Host: "mongo.backend.svc.cluster.local", Port: &networking.PortSelector{Number: 5555}}}},
		}},
	}}
}

func nodePod(name, node, cpu, memory string) *corev1.Pod {
	p := makePod(name).node(node).specOnly("app").obj()
	p.Spec.Containers[0].Resources.Requests = resources("cpu", cpu, "memory", memory)
	return p
}

// describedNode is node-1 with capacity to compute shares of.
func describedNode() *corev1.Node {
	n := nodeFixtures()[1].(*corev1.Node)
	n.Status.Capacity = resources("cpu", "4", "memory", "8Gi", "pods", "110")
	n.Status.Allocatable = resources("cpu", "4", "memory", "8Gi", "pods", "110")
	for i := range n.Status.Conditions {
		n.Status.Conditions[i].LastHeartbeatTime = ago(time.Minute)
		n.Status.Conditions[i].LastTransitionTime = ago(30 * 24 * time.Hour)
	}
	n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "web", Effect: corev1.TaintEffectNoSchedule}}
	return n
}
