package api

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var fixtureMeta = metav1.ObjectMeta{Name: "x", Namespace: "default"}

func TestValidateConfigMapAndSecret(t *testing.T) {
	big := strings.Repeat("x", corev1.MaxSecretSize/2+1)
	runValidationCases(t, []validationCase{
		{"config map", &corev1.ConfigMap{ObjectMeta: fixtureMeta, Data: map[string]string{"application.properties": "a=b", "KEY_1": "", "a-b": ""}}, nil},
		{"key syntax", &corev1.ConfigMap{ObjectMeta: fixtureMeta, Data: map[string]string{"a/b": "x"}}, []string{"data[a/b]: Invalid value"}},
		{"binary key syntax", &corev1.ConfigMap{ObjectMeta: fixtureMeta, BinaryData: map[string][]byte{"..": nil}}, []string{"binaryData[..]: Invalid value"}},
		{"key in data and binaryData", &corev1.ConfigMap{ObjectMeta: fixtureMeta, Data: map[string]string{"k": ""}, BinaryData: map[string][]byte{"k": nil}}, []string{"data[k]: Invalid value"}},
		{"1 MiB for data and binaryData together", &corev1.ConfigMap{ObjectMeta: fixtureMeta, Data: map[string]string{"a": big}, BinaryData: map[string][]byte{"b": []byte(big)}},
			[]string{"data: Too long"}},
		{"secret", &corev1.Secret{ObjectMeta: fixtureMeta, StringData: map[string]string{"password": "x"}}, nil},
		{"secret key syntax", &corev1.Secret{ObjectMeta: fixtureMeta, Data: map[string][]byte{"a b": nil}}, []string{"data[a b]: Invalid value"}},
		{"secret size", &corev1.Secret{ObjectMeta: fixtureMeta, Data: map[string][]byte{"a": []byte(big), "b": []byte(big)}}, []string{"data: Too long"}},
		{"TLS secret keys", &corev1.Secret{ObjectMeta: fixtureMeta, Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil}}, []string{"data[tls.key]: Required value"}},
		{"docker config JSON", &corev1.Secret{ObjectMeta: fixtureMeta, Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{".dockerconfigjson": []byte("{")}},
			[]string{"data[.dockerconfigjson]: Invalid value"}},
		{"basic auth", &corev1.Secret{ObjectMeta: fixtureMeta, Type: corev1.SecretTypeBasicAuth}, []string{"data[password]: Required value", "data[username]: Required value"}},
		{"service account token", &corev1.Secret{ObjectMeta: fixtureMeta, Type: corev1.SecretTypeServiceAccountToken},
			[]string{"metadata.annotations[kubernetes.io/service-account.name]: Required value"}},
	})
}

func TestValidateClusterObjects(t *testing.T) {
	node := func(f func(*corev1.Node)) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}, Spec: corev1.NodeSpec{PodCIDR: "10.244.1.0/24", PodCIDRs: []string{"10.244.1.0/24"}}}
		f(n)
		return n
	}
	runValidationCases(t, []validationCase{
		{"namespace", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "istio-system"}}, nil},
		{"namespace finalizers", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"a b"}}},
			[]string{"spec.finalizers[0]: Invalid value"}},
		{"node", node(func(*corev1.Node) {}), nil},
		{"node named by IP", node(func(n *corev1.Node) { n.Name = "10.0.0.102" }), nil},
		{"node is cluster-scoped", node(func(n *corev1.Node) { n.Namespace = "default" }), []string{"metadata.namespace: Forbidden"}},
		{"pod CIDR", node(func(n *corev1.Node) { n.Spec.PodCIDR, n.Spec.PodCIDRs = "10.244.1.0", nil }), []string{"spec.podCIDR: Invalid value"}},
		{"pod CIDRs agree", node(func(n *corev1.Node) { n.Spec.PodCIDRs = []string{"10.244.2.0/24"} }), []string{"spec.podCIDRs[0]: Invalid value"}},
		{"one pod CIDR per family", node(func(n *corev1.Node) { n.Spec.PodCIDRs = append(n.Spec.PodCIDRs, "10.245.1.0/24") }), []string{"spec.podCIDRs: Invalid value"}},
		{"taints", node(func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "mesh", Effect: corev1.TaintEffectNoSchedule}, {Key: "dedicated", Effect: corev1.TaintEffectNoSchedule}, {Key: "x"}}
		}), []string{"spec.taints[1]: Duplicate value", "spec.taints[2].effect: Required value"}},
		{"capacity", node(func(n *corev1.Node) { n.Status.Capacity = corev1.ResourceList{"cpu": resource.MustParse("-1")} }),
			[]string{"status.allocatable[cpu]: Invalid value", "status.capacity[cpu]: Invalid value"}},
		{"event", &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "web.17a", Namespace: "default"}, InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web"}}, nil},
		{"event namespace", &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "web.17a", Namespace: "default"}, InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "other"}},
			[]string{"involvedObject.namespace: Invalid value"}},
		{"new-style event", &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e", Namespace: "default"}, EventTime: metav1.NowMicro(), Type: "Info"},
			[]string{"action: Required value", "reportingComponent: Required value", "reportingInstance: Required value", "type: Unsupported value"}},
		{"service account", &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "bookinfo-details", Namespace: "default"}}, nil},
	})
}

func TestValidateStorage(t *testing.T) {
	pvc := func(f func(*corev1.PersistentVolumeClaimSpec)) *corev1.PersistentVolumeClaim {
		p := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "nginxhtml", Namespace: "default"}, Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{"storage": resource.MustParse("1Gi")}},
		}}
		f(&p.Spec)
		return p
	}
	pv := func(f func(*corev1.PersistentVolumeSpec)) *corev1.PersistentVolume {
		p := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-1"}, Spec: corev1.PersistentVolumeSpec{
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Capacity:               corev1.ResourceList{"storage": resource.MustParse("10Gi")},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/data"}},
		}}
		f(&p.Spec)
		return p
	}
	runValidationCases(t, []validationCase{
		{"claim", pvc(func(*corev1.PersistentVolumeClaimSpec) {}), nil},
		{"access modes required", pvc(func(s *corev1.PersistentVolumeClaimSpec) { s.AccessModes = nil }), []string{"spec.accessModes: Required value"}},
		{"access mode", pvc(func(s *corev1.PersistentVolumeClaimSpec) {
			s.AccessModes = []corev1.PersistentVolumeAccessMode{"ReadAll"}
		}), []string{"spec.accessModes: Unsupported value"}},
		{"ReadWriteOncePod alone", pvc(func(s *corev1.PersistentVolumeClaimSpec) {
			s.AccessModes = append(s.AccessModes, corev1.ReadWriteOncePod)
		}), []string{"spec.accessModes: Forbidden"}},
		{"storage required", pvc(func(s *corev1.PersistentVolumeClaimSpec) { s.Resources.Requests = nil }), []string{"spec.resources.requests[storage]: Required value"}},
		{"storage positive", pvc(func(s *corev1.PersistentVolumeClaimSpec) { s.Resources.Requests["storage"] = resource.MustParse("0") }),
			[]string{"spec.resources.requests[storage]: Invalid value"}},
		{"storage class", pvc(func(s *corev1.PersistentVolumeClaimSpec) { s.StorageClassName = new("Fast_SSD") }), []string{"spec.storageClassName: Invalid value"}},
		{"volume", pv(func(*corev1.PersistentVolumeSpec) {}), nil},
		{"volume source required", pv(func(s *corev1.PersistentVolumeSpec) { s.HostPath = nil }), []string{"spec: Required value"}},
		{"one volume source", pv(func(s *corev1.PersistentVolumeSpec) { s.NFS = &corev1.NFSVolumeSource{Server: "nfs", Path: "/"} }), []string{"spec.nfs: Forbidden"}},
		{"capacity is storage", pv(func(s *corev1.PersistentVolumeSpec) { s.Capacity = corev1.ResourceList{"cpu": resource.MustParse("1")} }), []string{"spec.capacity: Unsupported value"}},
		{"reclaim policy", pv(func(s *corev1.PersistentVolumeSpec) { s.PersistentVolumeReclaimPolicy = "Keep" }), []string{"spec.persistentVolumeReclaimPolicy: Unsupported value"}},
		{"local volumes need node affinity", pv(func(s *corev1.PersistentVolumeSpec) {
			s.HostPath, s.Local = nil, &corev1.LocalVolumeSource{Path: "/mnt/disk"}
		}), []string{"spec.nodeAffinity: Required value"}},
		{"storage class", &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Provisioner: "rancher.io/local-path"}, nil},
		{"provisioner required", &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}}, []string{"provisioner: Required value"}},
		{"storage class reclaim policy", &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard"}, Provisioner: "p", ReclaimPolicy: new(corev1.PersistentVolumeReclaimRecycle)},
			[]string{"reclaimPolicy: Unsupported value"}},
	})
}
