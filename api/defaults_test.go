package api

import (
	"math"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// expect fails the test when got != want.
func expect[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestDefaultPod(t *testing.T) {
	pod := makePod().spec(func(s *corev1.PodSpec) {
		s.Volumes = []corev1.Volume{
			{Name: "none"},
			{Name: "secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
			{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/home"}}},
			{Name: "token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "t"}},
			}}}},
		}
		s.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", Resources: corev1.ResourceRequirements{
			Limits: corev1.ResourceList{"cpu": resource.MustParse("1")},
		}}}
	}).ctr(func(c *corev1.Container) {
		c.Ports = []corev1.ContainerPort{{ContainerPort: 80}}
		c.Env = []corev1.EnvVar{{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
		c.Resources = corev1.ResourceRequirements{
			Limits:   corev1.ResourceList{"cpu": resource.MustParse("1.0001"), "memory": resource.MustParse("2Gi")},
			Requests: corev1.ResourceList{"memory": resource.MustParse("1Gi")},
		}
		c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)}}}
		c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 9000}}, PeriodSeconds: 5}
		c.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)}}}
	}).obj()
	Default(pod)
	s := &pod.Spec
	c := &s.Containers[0]

	expect(t, "restartPolicy", s.RestartPolicy, corev1.RestartPolicyAlways)
	expect(t, "dnsPolicy", s.DNSPolicy, corev1.DNSClusterFirst)
	expect(t, "terminationGracePeriodSeconds", s.TerminationGracePeriodSeconds, new(int64(30)))
	expect(t, "schedulerName", s.SchedulerName, "default-scheduler")
	expect(t, "securityContext", s.SecurityContext, &corev1.PodSecurityContext{})
	expect(t, "enableServiceLinks", s.EnableServiceLinks, new(true))

	expect(t, "terminationMessagePath", c.TerminationMessagePath, "/dev/termination-log")
	expect(t, "terminationMessagePolicy", c.TerminationMessagePolicy, corev1.TerminationMessageReadFile)
	expect(t, "imagePullPolicy", c.ImagePullPolicy, corev1.PullIfNotPresent)
	expect(t, "port protocol", c.Ports[0].Protocol, corev1.ProtocolTCP)
	expect(t, "fieldRef apiVersion", c.Env[0].ValueFrom.FieldRef.APIVersion, "v1")

	// Requests default to limits where missing; quantities round up to milli.
	expect(t, "limits", c.Resources.Limits, corev1.ResourceList{"cpu": resource.MustParse("1001m"), "memory": resource.MustParse("2Gi")})
	expect(t, "requests", c.Resources.Requests, corev1.ResourceList{"cpu": resource.MustParse("1001m"), "memory": resource.MustParse("1Gi")})
	expect(t, "init requests", s.InitContainers[0].Resources.Requests, corev1.ResourceList{"cpu": resource.MustParse("1")})

	lp := c.LivenessProbe
	expect(t, "probe", []int32{lp.TimeoutSeconds, lp.PeriodSeconds, lp.SuccessThreshold, lp.FailureThreshold}, []int32{1, 10, 1, 3})
	expect(t, "httpGet", *lp.HTTPGet, corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(80), Scheme: corev1.URISchemeHTTP})
	expect(t, "given periodSeconds kept", c.ReadinessProbe.PeriodSeconds, int32(5))
	expect(t, "grpc service", c.ReadinessProbe.GRPC.Service, new(""))
	expect(t, "preStop httpGet", c.Lifecycle.PreStop.HTTPGet.Scheme, corev1.URISchemeHTTP)

	expect(t, "volume without source", s.Volumes[0].VolumeSource, corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}})
	expect(t, "secret defaultMode", s.Volumes[1].Secret.DefaultMode, new(int32(0644)))
	expect(t, "hostPath type", s.Volumes[2].HostPath.Type, new(corev1.HostPathUnset))
	expect(t, "projected defaultMode", s.Volumes[3].Projected.DefaultMode, new(int32(0644)))
	expect(t, "token expiration", s.Volumes[3].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds, new(int64(3600)))
}

func TestDefaultPullPolicy(t *testing.T) {
	for image, want := range map[string]corev1.PullPolicy{
		"nginx":                              corev1.PullAlways,
		"nginx:latest":                       corev1.PullAlways,
		"nginx:1.25":                         corev1.PullIfNotPresent,
		"10.0.0.101:5000/alpine":             corev1.PullAlways,
		"10.0.0.101:5000/nginx:1.14":         corev1.PullIfNotPresent,
		"registry.ioros.com/docker.io/sleep": corev1.PullAlways,
		"nginx@sha256:0123456789abcdef":      corev1.PullIfNotPresent,
		"nginx:latest@sha256:0123456789ab":   corev1.PullAlways,
		"":                                   corev1.PullIfNotPresent,
	} {
		t.Run(image, func(t *testing.T) {
			expect(t, "pull policy", defaultPullPolicy(image), want)
		})
	}
}

func TestDefaultPodHostNetwork(t *testing.T) {
	pod := makePod().spec(func(s *corev1.PodSpec) { s.HostNetwork = true }).ctr(func(c *corev1.Container) {
		c.Ports = []corev1.ContainerPort{{ContainerPort: 8080}}
	}).obj()
	Default(pod)
	expect(t, "hostPort", pod.Spec.Containers[0].Ports[0].HostPort, int32(8080))
}

func TestDefaultService(t *testing.T) {
	cases := []struct {
		name  string
		svc   *corev1.Service
		check func(*testing.T, *corev1.ServiceSpec)
	}{
		{"ClusterIP", makeService().obj(), func(t *testing.T, s *corev1.ServiceSpec) {
			expect(t, "type", s.Type, corev1.ServiceTypeClusterIP)
			expect(t, "protocol", s.Ports[0].Protocol, corev1.ProtocolTCP)
			expect(t, "targetPort", s.Ports[0].TargetPort, intstr.FromInt32(80))
			expect(t, "sessionAffinity", s.SessionAffinity, corev1.ServiceAffinityNone)
			expect(t, "externalTrafficPolicy", s.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicy(""))
			expect(t, "internalTrafficPolicy", s.InternalTrafficPolicy, new(corev1.ServiceInternalTrafficPolicyCluster))
			expect(t, "ipFamilyPolicy", s.IPFamilyPolicy, new(corev1.IPFamilyPolicySingleStack))
			expect(t, "allocateLoadBalancerNodePorts", s.AllocateLoadBalancerNodePorts, (*bool)(nil))
		}},
		{"named target port kept", makeService().ports(corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("http")}).obj(), func(t *testing.T, s *corev1.ServiceSpec) {
			expect(t, "targetPort", s.Ports[0].TargetPort, intstr.FromString("http"))
		}},
		{"NodePort", makeService().typ(corev1.ServiceTypeNodePort).obj(), func(t *testing.T, s *corev1.ServiceSpec) {
			expect(t, "externalTrafficPolicy", s.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicyCluster)
		}},
		{"LoadBalancer without port (seed 03)", makeService().typ(corev1.ServiceTypeLoadBalancer).ports(corev1.ServicePort{Name: "http", TargetPort: intstr.FromInt32(80)}).obj(),
			func(t *testing.T, s *corev1.ServiceSpec) {
				expect(t, "externalTrafficPolicy", s.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicyCluster)
				expect(t, "allocateLoadBalancerNodePorts", s.AllocateLoadBalancerNodePorts, new(true))
				expect(t, "port", s.Ports[0].Port, int32(0))
				expect(t, "targetPort", s.Ports[0].TargetPort, intstr.FromInt32(80))
			}},
		{"ClusterIP with external IPs", makeService().with(func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"192.0.2.1"} }).obj(), func(t *testing.T, s *corev1.ServiceSpec) {
			expect(t, "externalTrafficPolicy", s.ExternalTrafficPolicy, corev1.ServiceExternalTrafficPolicyCluster)
		}},
		{"ClientIP affinity", makeService().with(func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP }).obj(), func(t *testing.T, s *corev1.ServiceSpec) {
			expect(t, "timeout", s.SessionAffinityConfig.ClientIP.TimeoutSeconds, new(int32(10800)))
		}},
		{"affinity None drops its config", makeService().with(func(s *corev1.Service) {
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{}}
		}).obj(), func(t *testing.T, s *corev1.ServiceSpec) {
			expect(t, "sessionAffinityConfig", s.SessionAffinityConfig, (*corev1.SessionAffinityConfig)(nil))
		}},
		{"clusterIP fills clusterIPs", makeService().with(func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.10" }).obj(), func(t *testing.T, s *corev1.ServiceSpec) {
			expect(t, "clusterIPs", s.ClusterIPs, []string{"10.96.0.10"})
		}},
		{"clusterIPs fill clusterIP", makeService().with(func(s *corev1.Service) { s.Spec.ClusterIPs = []string{"10.96.0.10"} }).obj(), func(t *testing.T, s *corev1.ServiceSpec) {
			expect(t, "clusterIP", s.ClusterIP, "10.96.0.10")
		}},
		{"headless without selector", makeService().with(func(s *corev1.Service) { s.Spec.ClusterIP = "None"; s.Spec.Selector = nil }).obj(), func(t *testing.T, s *corev1.ServiceSpec) {
			expect(t, "ipFamilyPolicy", s.IPFamilyPolicy, new(corev1.IPFamilyPolicyRequireDualStack))
		}},
		{"ExternalName", makeService().typ(corev1.ServiceTypeExternalName).with(func(s *corev1.Service) { s.Spec.ExternalName = "example.com" }).obj(), func(t *testing.T, s *corev1.ServiceSpec) {
			expect(t, "ipFamilyPolicy", s.IPFamilyPolicy, (*corev1.IPFamilyPolicy)(nil))
			expect(t, "internalTrafficPolicy", s.InternalTrafficPolicy, (*corev1.ServiceInternalTrafficPolicy)(nil))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			Default(tc.svc)
			tc.check(t, &tc.svc.Spec)
		})
	}
}

func TestDefaultWorkloads(t *testing.T) {
	t.Run("Deployment", func(t *testing.T) {
		d := makeDeployment().obj()
		Default(d)
		expect(t, "replicas", d.Spec.Replicas, new(int32(1)))
		expect(t, "strategy", d.Spec.Strategy, appsv1.DeploymentStrategy{
			Type:          appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: new(intstr.FromString("25%")), MaxSurge: new(intstr.FromString("25%"))},
		})
		expect(t, "revisionHistoryLimit", d.Spec.RevisionHistoryLimit, new(int32(10)))
		expect(t, "progressDeadlineSeconds", d.Spec.ProgressDeadlineSeconds, new(int32(600)))
		expect(t, "metadata.labels (not defaulted in apps/v1)", d.Labels, map[string]string(nil))
		expect(t, "template restartPolicy", d.Spec.Template.Spec.RestartPolicy, corev1.RestartPolicyAlways)
	})
	t.Run("Deployment keeps given strategy", func(t *testing.T) {
		d := makeDeployment().spec(func(s *appsv1.DeploymentSpec) {
			s.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: new(intstr.FromInt32(1))}
		}).obj()
		Default(d)
		expect(t, "maxSurge", d.Spec.Strategy.RollingUpdate.MaxSurge, new(intstr.FromInt32(1)))
		expect(t, "maxUnavailable", d.Spec.Strategy.RollingUpdate.MaxUnavailable, new(intstr.FromString("25%")))
	})
	t.Run("Recreate has no rolling update", func(t *testing.T) {
		d := makeDeployment().spec(func(s *appsv1.DeploymentSpec) { s.Strategy.Type = appsv1.RecreateDeploymentStrategyType }).obj()
		Default(d)
		expect(t, "rollingUpdate", d.Spec.Strategy.RollingUpdate, (*appsv1.RollingUpdateDeployment)(nil))
	})
	t.Run("templates do not default requests to limits", func(t *testing.T) {
		d := makeDeployment().pod(func(s *corev1.PodSpec) {
			s.Containers[0].Resources.Limits = corev1.ResourceList{"cpu": resource.MustParse("1")}
		}).obj()
		Default(d)
		expect(t, "requests", d.Spec.Template.Spec.Containers[0].Resources.Requests, corev1.ResourceList(nil))
		expect(t, "enableServiceLinks", d.Spec.Template.Spec.EnableServiceLinks, (*bool)(nil))
	})
	t.Run("ReplicaSet", func(t *testing.T) {
		rs := &appsv1.ReplicaSet{}
		Default(rs)
		expect(t, "replicas", rs.Spec.Replicas, new(int32(1)))
	})
	t.Run("ReplicationController", func(t *testing.T) {
		rc := &corev1.ReplicationController{Spec: corev1.ReplicationControllerSpec{Template: &corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		}}}
		Default(rc)
		expect(t, "replicas", rc.Spec.Replicas, new(int32(1)))
		expect(t, "selector", rc.Spec.Selector, map[string]string{"app": "web"})
		expect(t, "labels", rc.Labels, map[string]string{"app": "web"})
	})
	t.Run("StatefulSet", func(t *testing.T) {
		ss := &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{}}}}
		Default(ss)
		expect(t, "replicas", ss.Spec.Replicas, new(int32(1)))
		expect(t, "podManagementPolicy", ss.Spec.PodManagementPolicy, appsv1.OrderedReadyPodManagement)
		expect(t, "updateStrategy", ss.Spec.UpdateStrategy, appsv1.StatefulSetUpdateStrategy{
			Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: new(int32(0))},
		})
		expect(t, "retention", *ss.Spec.PersistentVolumeClaimRetentionPolicy, appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType, WhenScaled: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
		})
		expect(t, "revisionHistoryLimit", ss.Spec.RevisionHistoryLimit, new(int32(10)))
		expect(t, "claim volumeMode", ss.Spec.VolumeClaimTemplates[0].Spec.VolumeMode, new(corev1.PersistentVolumeFilesystem))
	})
	t.Run("DaemonSet", func(t *testing.T) {
		ds := &appsv1.DaemonSet{}
		Default(ds)
		expect(t, "updateStrategy", ds.Spec.UpdateStrategy, appsv1.DaemonSetUpdateStrategy{
			Type:          appsv1.RollingUpdateDaemonSetStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: new(intstr.FromInt32(1)), MaxSurge: new(intstr.FromInt32(0))},
		})
		expect(t, "revisionHistoryLimit", ds.Spec.RevisionHistoryLimit, new(int32(10)))
	})
}

func TestDefaultHPA(t *testing.T) {
	t.Run("v2 minimal", func(t *testing.T) {
		h := &autoscalingv2.HorizontalPodAutoscaler{}
		Default(h)
		expect(t, "minReplicas", h.Spec.MinReplicas, new(int32(1)))
		expect(t, "metrics", h.Spec.Metrics, []autoscalingv2.MetricSpec{cpuUtilizationMetric(80)})
		expect(t, "behavior", h.Spec.Behavior, (*autoscalingv2.HorizontalPodAutoscalerBehavior)(nil))
	})
	t.Run("v2 behavior completed", func(t *testing.T) {
		h := &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: new(int32(60))}},
		}}
		Default(h)
		b := h.Spec.Behavior
		expect(t, "scaleUp", b.ScaleUp, hpaScaleUpDefaults())
		expect(t, "scaleDown", b.ScaleDown, &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: new(int32(60)),
			SelectPolicy:               new(autoscalingv2.MaxChangePolicySelect),
			Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}},
		})
	})
	t.Run("scale down stabilization is left to the controller", func(t *testing.T) {
		h := &autoscalingv2.HorizontalPodAutoscaler{Spec: autoscalingv2.HorizontalPodAutoscalerSpec{Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{}}}
		Default(h)
		expect(t, "stored", h.Spec.Behavior.ScaleDown.StabilizationWindowSeconds, (*int32)(nil))
		expect(t, "applied", DefaultHPABehavior(h.Spec.Behavior).ScaleDown.StabilizationWindowSeconds, new(int32(300)))
		expect(t, "applied without behavior", DefaultHPABehavior(nil).ScaleDown.StabilizationWindowSeconds, new(int32(300)))
		expect(t, "applied scale up", DefaultHPABehavior(nil).ScaleUp, hpaScaleUpDefaults())
	})
	t.Run("v1", func(t *testing.T) {
		h := &autoscalingv1.HorizontalPodAutoscaler{}
		Default(h)
		expect(t, "minReplicas", h.Spec.MinReplicas, new(int32(1)))
	})
}

func TestDefaultBatch(t *testing.T) {
	t.Run("Job", func(t *testing.T) {
		j := &batchv1.Job{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"job": "x"}}}}}
		Default(j)
		s := &j.Spec
		expect(t, "completions", s.Completions, new(int32(1)))
		expect(t, "parallelism", s.Parallelism, new(int32(1)))
		expect(t, "backoffLimit", s.BackoffLimit, new(int32(6)))
		expect(t, "completionMode", s.CompletionMode, new(batchv1.NonIndexedCompletion))
		expect(t, "suspend", s.Suspend, new(false))
		expect(t, "podReplacementPolicy", s.PodReplacementPolicy, new(batchv1.TerminatingOrFailed))
		expect(t, "labels", j.Labels, map[string]string{"job": "x"})
	})
	t.Run("Job with parallelism only", func(t *testing.T) {
		j := &batchv1.Job{Spec: batchv1.JobSpec{Parallelism: new(int32(3)), BackoffLimitPerIndex: new(int32(1))}}
		Default(j)
		expect(t, "completions", j.Spec.Completions, (*int32)(nil))
		expect(t, "backoffLimit", j.Spec.BackoffLimit, new(int32(math.MaxInt32)))
	})
	t.Run("CronJob", func(t *testing.T) {
		cj := &batchv1.CronJob{}
		Default(cj)
		s := &cj.Spec
		expect(t, "concurrencyPolicy", s.ConcurrencyPolicy, batchv1.AllowConcurrent)
		expect(t, "suspend", s.Suspend, new(false))
		expect(t, "history", []*int32{s.SuccessfulJobsHistoryLimit, s.FailedJobsHistoryLimit}, []*int32{new(int32(3)), new(int32(1))})
		expect(t, "template restartPolicy", s.JobTemplate.Spec.Template.Spec.RestartPolicy, corev1.RestartPolicyAlways)
	})
}

func TestDefaultOthers(t *testing.T) {
	t.Run("Namespace", func(t *testing.T) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}
		Default(ns)
		expect(t, "labels", ns.Labels, map[string]string{"kubernetes.io/metadata.name": "team-a"})
		expect(t, "phase (status is the server's)", ns.Status.Phase, corev1.NamespacePhase(""))
	})
	t.Run("Secret", func(t *testing.T) {
		s := &corev1.Secret{Data: map[string][]byte{"a": []byte("1"), "b": []byte("2")}, StringData: map[string]string{"b": "two", "c": "three"}}
		Default(s)
		expect(t, "type", s.Type, corev1.SecretTypeOpaque)
		expect(t, "data", s.Data, map[string][]byte{"a": []byte("1"), "b": []byte("two"), "c": []byte("three")})
		expect(t, "stringData", s.StringData, map[string]string(nil))
	})
	t.Run("ConfigMap", func(t *testing.T) {
		cm := &corev1.ConfigMap{}
		Default(cm)
		expect(t, "data", cm.Data, map[string]string{})
	})
	t.Run("PVC", func(t *testing.T) {
		pvc := &corev1.PersistentVolumeClaim{}
		Default(pvc)
		expect(t, "volumeMode", pvc.Spec.VolumeMode, new(corev1.PersistentVolumeFilesystem))
	})
	t.Run("PV", func(t *testing.T) {
		pv := &corev1.PersistentVolume{}
		Default(pv)
		expect(t, "reclaimPolicy", pv.Spec.PersistentVolumeReclaimPolicy, corev1.PersistentVolumeReclaimRetain)
		expect(t, "volumeMode", pv.Spec.VolumeMode, new(corev1.PersistentVolumeFilesystem))
	})
	t.Run("Node", func(t *testing.T) {
		n := &corev1.Node{Status: corev1.NodeStatus{Capacity: corev1.ResourceList{"cpu": resource.MustParse("4")}}}
		Default(n)
		expect(t, "allocatable", n.Status.Allocatable, corev1.ResourceList{"cpu": resource.MustParse("4")})
	})
	t.Run("Endpoints", func(t *testing.T) {
		ep := &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{Ports: []corev1.EndpointPort{{Port: 80}}}}}
		Default(ep)
		expect(t, "protocol", ep.Subsets[0].Ports[0].Protocol, corev1.ProtocolTCP)
	})
	t.Run("EndpointSlice", func(t *testing.T) {
		es := &discoveryv1.EndpointSlice{Ports: []discoveryv1.EndpointPort{{Port: new(int32(80))}}}
		Default(es)
		expect(t, "name", es.Ports[0].Name, new(""))
		expect(t, "protocol", es.Ports[0].Protocol, new(corev1.ProtocolTCP))
	})
	t.Run("StorageClass", func(t *testing.T) {
		sc := &storagev1.StorageClass{}
		Default(sc)
		expect(t, "reclaimPolicy", sc.ReclaimPolicy, new(corev1.PersistentVolumeReclaimDelete))
		expect(t, "volumeBindingMode", sc.VolumeBindingMode, new(storagev1.VolumeBindingImmediate))
	})
	t.Run("NetworkPolicy", func(t *testing.T) {
		np := &networkingv1.NetworkPolicy{Spec: networkingv1.NetworkPolicySpec{
			Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{{}}}},
		}}
		Default(np)
		expect(t, "policyTypes", np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress})
		expect(t, "protocol", np.Spec.Egress[0].Ports[0].Protocol, new(corev1.ProtocolTCP))
	})
}

// TestDefaultIdempotent: defaulting twice changes nothing more, for every
// kind of the corpus and a few more.
func TestDefaultIdempotent(t *testing.T) {
	objs := []runtime.Object{
		&batchv1.Job{}, &batchv1.CronJob{}, &appsv1.StatefulSet{}, &appsv1.DaemonSet{}, &networkingv1.Ingress{},
		&networkingv1.NetworkPolicy{}, &storagev1.StorageClass{}, &discoveryv1.EndpointSlice{}, &corev1.PersistentVolume{},
		&corev1.Event{}, &corev1.ServiceAccount{}, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ns"}},
	}
	for _, d := range loadCorpus(t) {
		objs = append(objs, d.obj)
	}
	for _, obj := range objs {
		t.Run(reflect.TypeOf(obj).Elem().Name(), func(t *testing.T) {
			once := obj.DeepCopyObject()
			Default(once)
			twice := once.DeepCopyObject()
			Default(twice)
			if !apiequality.Semantic.DeepEqual(once, twice) {
				t.Errorf("second Default changed the object:\n%#v\n%#v", once, twice)
			}
		})
	}
}

func TestDefaultUnknownType(t *testing.T) {
	s := &metav1.Status{Message: "x"}
	Default(s)
	expect(t, "status", s, &metav1.Status{Message: "x"})
}
