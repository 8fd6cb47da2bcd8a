package api

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// updated defaults obj as stored (with a uid and creation time), then
// returns (changed copy, stored).
func updated[T runtime.Object](obj T, change func(T)) (T, T) {
	Default(obj)
	if m := objectMetaOf(obj); m != nil {
		m.UID = types.UID("0f6d1c3e")
		m.CreationTimestamp = metav1.Unix(1700000000, 0)
		m.ResourceVersion = "7"
	}
	newObj := obj.DeepCopyObject().(T)
	change(newObj)
	Default(newObj)
	return newObj, obj
}

func TestValidateUpdate(t *testing.T) {
	type tc struct {
		name     string
		new, old runtime.Object
		want     []string
	}
	pair := func(name string, want []string) func(runtime.Object, runtime.Object) tc {
		return func(n, o runtime.Object) tc { return tc{name, n, o, want} }
	}
	storageClaim := func() *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: fixtureMeta, Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{"storage": resource.MustParse("1Gi")}},
		}}
	}
	job := func() *batchv1.Job { return &batchv1.Job{ObjectMeta: fixtureMeta, Spec: makeJobSpec()} }
	cases := []tc{
		pair("pod image", nil)(updated(makePod().obj(), func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.26" })),
		pair("pod labels", nil)(updated(makePod().obj(), func(p *corev1.Pod) { p.Labels["version"] = "v2" })),
		pair("pod other field", []string{"spec: Forbidden"})(updated(makePod().obj(), func(p *corev1.Pod) { p.Spec.Containers[0].Args = []string{"-v"} })),
		pair("pod container added", []string{"spec: Forbidden"})(updated(makePod().obj(), func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "d", Image: "busybox"})
		})),
		pair("pod toleration added", nil)(updated(makePod().obj(), func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Operator: corev1.TolerationOpExists})
		})),
		pair("pod toleration removed", []string{"spec.tolerations: Forbidden"})(updated(
			makePod().spec(func(s *corev1.PodSpec) { s.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}} }).obj(),
			func(p *corev1.Pod) { p.Spec.Tolerations = nil })),
		pair("pod deadline shortened", nil)(updated(makePod().spec(func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = new(int64(60)) }).obj(),
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = new(int64(30)) })),
		pair("pod deadline extended", []string{"spec.activeDeadlineSeconds: Invalid value"})(updated(makePod().spec(func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = new(int64(60)) }).obj(),
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = new(int64(90)) })),
		pair("pod node name (binding is not an update)", []string{"spec: Forbidden"})(updated(makePod().obj(), func(p *corev1.Pod) { p.Spec.NodeName = "node-1" })),
		pair("name", []string{"metadata.name: Invalid value"})(updated(makePod().obj(), func(p *corev1.Pod) { p.Name = "q" })),
		pair("namespace", []string{"metadata.namespace: Invalid value"})(updated(makePod().obj(), func(p *corev1.Pod) { p.Namespace = "other" })),
		pair("uid", []string{"metadata.uid: Invalid value"})(updated(makePod().obj(), func(p *corev1.Pod) { p.UID = "other" })),
		pair("uid and creation time left to the server", nil)(updated(makePod().obj(), func(p *corev1.Pod) {
			p.UID, p.CreationTimestamp, p.ResourceVersion = "", metav1.Time{}, ""
		})),
		pair("deployment scaled", nil)(updated(makeDeployment().obj(), func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(3)) })),
		pair("deployment selector", []string{"spec.selector: Invalid value"})(updated(makeDeployment().obj(), func(d *appsv1.Deployment) {
			d.Spec.Selector.MatchLabels["tier"] = "web"
			d.Spec.Template.Labels["tier"] = "web"
		})),
		pair("replica set selector", []string{"spec.selector: Invalid value"})(updated(&appsv1.ReplicaSet{ObjectMeta: fixtureMeta,
			Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}}},
			func(r *appsv1.ReplicaSet) {
				r.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"a": "c"}}
			})),
		pair("statefulset service name", []string{"spec: Forbidden"})(updated(&appsv1.StatefulSet{ObjectMeta: fixtureMeta, Spec: appsv1.StatefulSetSpec{ServiceName: "db"}},
			func(s *appsv1.StatefulSet) { s.Spec.ServiceName = "db2" })),
		pair("statefulset replicas", nil)(updated(&appsv1.StatefulSet{ObjectMeta: fixtureMeta}, func(s *appsv1.StatefulSet) { s.Spec.Replicas = new(int32(3)) })),
		pair("service cluster IP", []string{"spec.clusterIP: Invalid value"})(updated(makeService().with(func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.10" }).obj(),
			func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.11", nil })),
		pair("service type", nil)(updated(makeService().with(func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.10" }).obj(),
			func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort })),
		pair("service to ExternalName", nil)(updated(makeService().with(func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.10" }).obj(),
			func(s *corev1.Service) {
				s.Spec.Type, s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ServiceTypeExternalName, "", nil
			})),
		pair("immutable config map", []string{"data: Forbidden"})(updated(&corev1.ConfigMap{ObjectMeta: fixtureMeta, Immutable: new(true), Data: map[string]string{"a": "1"}},
			func(c *corev1.ConfigMap) { c.Data["a"] = "2" })),
		pair("config map stays immutable", []string{"immutable: Forbidden"})(updated(&corev1.ConfigMap{ObjectMeta: fixtureMeta, Immutable: new(true)},
			func(c *corev1.ConfigMap) { c.Immutable = new(false) })),
		pair("mutable config map", nil)(updated(&corev1.ConfigMap{ObjectMeta: fixtureMeta, Data: map[string]string{"a": "1"}}, func(c *corev1.ConfigMap) { c.Data["a"] = "2" })),
		pair("secret type", []string{"type: Invalid value"})(updated(&corev1.Secret{ObjectMeta: fixtureMeta}, func(s *corev1.Secret) { s.Type = corev1.SecretTypeTLS })),
		pair("claim resized", nil)(updated(storageClaim(), func(p *corev1.PersistentVolumeClaim) {
			p.Spec.Resources.Requests["storage"] = resource.MustParse("2Gi")
		})),
		pair("claim shrunk", []string{"spec.resources.requests[storage]: Forbidden"})(updated(storageClaim(), func(p *corev1.PersistentVolumeClaim) {
			p.Spec.Resources.Requests["storage"] = resource.MustParse("512Mi")
		})),
		pair("claim access modes", []string{"spec: Forbidden"})(updated(storageClaim(), func(p *corev1.PersistentVolumeClaim) {
			p.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
		})),
		pair("job template", []string{"spec.template: Invalid value"})(updated(job(), func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "perl:5.36" })),
		pair("suspended job moved", nil)(updated(job(), func(j *batchv1.Job) {
			j.Spec.Suspend = new(true)
			j.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
		})),
		pair("node pod CIDR", []string{"spec.podCIDR: Forbidden"})(updated(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Spec: corev1.NodeSpec{PodCIDR: "10.244.1.0/24"}},
			func(n *corev1.Node) { n.Spec.PodCIDR = "10.244.2.0/24" })),
		pair("node pod CIDR set once", nil)(updated(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}}, func(n *corev1.Node) { n.Spec.PodCIDR = "10.244.2.0/24" })),
		pair("storage class parameters", []string{"parameters: Forbidden"})(updated(&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Provisioner: "p"},
			func(s *storagev1.StorageClass) { s.Parameters = map[string]string{"type": "ssd"} })),
		{"different types", makePod().obj(), makeService().obj(), []string{"kind: Invalid value"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			errs := ValidateUpdate(c.new, c.old)
			if got, want := strings.Join(errorKeys(errs), "\n"), strings.Join(c.want, "\n"); got != want {
				t.Errorf("got\n%s\nwant\n%s\nerrors:\n%s", got, want, errorLines(errs))
			}
		})
	}
}

func TestValidateUpdatePodMessage(t *testing.T) {
	n, o := updated(makePod().obj(), func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever })
	errs := ValidateUpdate(n, o)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "pod updates may not change fields other than `spec.containers[*].image`") {
		t.Errorf("got %v", errs)
	}
}
