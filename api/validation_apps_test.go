package api

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func rollingUpdate(maxUnavailable, maxSurge intstr.IntOrString) func(*appsv1.DeploymentSpec) {
	return func(s *appsv1.DeploymentSpec) {
		s.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge}}
	}
}

func TestValidateDeployment(t *testing.T) {
	runValidationCases(t, []validationCase{
		{"valid", makeDeployment().obj(), nil},
		{"seed rolling update 1/1", makeDeployment().spec(rollingUpdate(intstr.FromInt32(1), intstr.FromInt32(1))).obj(), nil},
		{"selector required", makeDeployment().spec(func(s *appsv1.DeploymentSpec) { s.Selector = nil }).obj(), []string{"spec.selector: Required value"}},
		{"selector not empty", makeDeployment().spec(func(s *appsv1.DeploymentSpec) { s.Selector = &metav1.LabelSelector{} }).obj(), []string{"spec.selector: Invalid value"}},
		{"selector syntax", makeDeployment().spec(func(s *appsv1.DeploymentSpec) {
			s.Selector.MatchExpressions = []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Is"}}
		}).obj(), []string{"spec.selector.matchExpressions[0].operator: Invalid value"}},
		{"selector matches template", makeDeployment().spec(func(s *appsv1.DeploymentSpec) { s.Template.Labels = map[string]string{"app": "api"} }).obj(),
			[]string{"spec.template.metadata.labels: Invalid value"}},
		{"replicas", makeDeployment().spec(func(s *appsv1.DeploymentSpec) { s.Replicas = new(int32(-1)) }).obj(), []string{"spec.replicas: Invalid value"}},
		{"zero replicas", makeDeployment().spec(func(s *appsv1.DeploymentSpec) { s.Replicas = new(int32(0)) }).obj(), nil},
		{"not both zero", makeDeployment().spec(rollingUpdate(intstr.FromInt32(0), intstr.FromString("0%"))).obj(), []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value"}},
		{"percent syntax", makeDeployment().spec(rollingUpdate(intstr.FromString("25"), intstr.FromString("1%"))).obj(), []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value"}},
		{"negative", makeDeployment().spec(rollingUpdate(intstr.FromInt32(1), intstr.FromInt32(-1))).obj(), []string{"spec.strategy.rollingUpdate.maxSurge: Invalid value"}},
		{"at most 100% unavailable", makeDeployment().spec(rollingUpdate(intstr.FromString("110%"), intstr.FromInt32(0))).obj(), []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value"}},
		{"surge may exceed 100%", makeDeployment().spec(rollingUpdate(intstr.FromInt32(0), intstr.FromString("200%"))).obj(), nil},
		{"Recreate without rolling update", makeDeployment().spec(func(s *appsv1.DeploymentSpec) {
			s.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{}}
		}).obj(), []string{"spec.strategy.rollingUpdate: Forbidden"}},
		{"strategy type", makeDeployment().spec(func(s *appsv1.DeploymentSpec) { s.Strategy.Type = "BlueGreen" }).obj(), []string{"spec.strategy.type: Unsupported value"}},
		{"revision history", makeDeployment().spec(func(s *appsv1.DeploymentSpec) { s.RevisionHistoryLimit = new(int32(-1)) }).obj(), []string{"spec.revisionHistoryLimit: Invalid value"}},
		{"progress deadline after min ready", makeDeployment().spec(func(s *appsv1.DeploymentSpec) { s.MinReadySeconds = 600 }).obj(),
			[]string{"spec.progressDeadlineSeconds: Invalid value"}},
		{"min ready", makeDeployment().spec(func(s *appsv1.DeploymentSpec) { s.MinReadySeconds = -1 }).obj(), []string{"spec.minReadySeconds: Invalid value"}},
	})
}

func TestSelectorMismatchMessage(t *testing.T) {
	d := makeDeployment().spec(func(s *appsv1.DeploymentSpec) { s.Template.Labels = map[string]string{"app": "api"} }).obj()
	Default(d)
	errs, _ := Validate(d)
	if len(errs) != 1 || !strings.HasSuffix(errs[0].Error(), "`selector` does not match template `labels`") {
		t.Errorf("got %v", errs)
	}
}

func TestValidateReplicaSetAndController(t *testing.T) {
	labels := map[string]string{"app": "web"}
	rs := func(f func(*appsv1.ReplicaSetSpec)) *appsv1.ReplicaSet {
		r := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-7d4b9", Namespace: "default"}, Spec: appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: makeDeployment().obj().Spec.Template,
		}}
		f(&r.Spec)
		return r
	}
	rc := func(f func(*corev1.ReplicationControllerSpec)) *corev1.ReplicationController {
		t := makeDeployment().obj().Spec.Template
		r := &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: corev1.ReplicationControllerSpec{Template: &t}}
		f(&r.Spec)
		return r
	}
	runValidationCases(t, []validationCase{
		{"replica set", rs(func(*appsv1.ReplicaSetSpec) {}), nil},
		{"replica set selector", rs(func(s *appsv1.ReplicaSetSpec) { s.Selector = nil }), []string{"spec.selector: Required value"}},
		{"replica set labels", rs(func(s *appsv1.ReplicaSetSpec) { s.Selector.MatchLabels = map[string]string{"app": "db"} }), []string{"spec.template.metadata.labels: Invalid value"}},
		{"replica set replicas", rs(func(s *appsv1.ReplicaSetSpec) { s.Replicas = new(int32(-2)) }), []string{"spec.replicas: Invalid value"}},
		{"controller: selector from the template", rc(func(*corev1.ReplicationControllerSpec) {}), nil},
		{"controller selector required", rc(func(s *corev1.ReplicationControllerSpec) { s.Template.Labels = nil }), []string{"spec.selector: Required value"}},
		{"controller labels", rc(func(s *corev1.ReplicationControllerSpec) { s.Selector = map[string]string{"app": "db"} }), []string{"spec.template.metadata.labels: Invalid value"}},
		{"controller template", rc(func(s *corev1.ReplicationControllerSpec) { s.Selector, s.Template = labels, nil }), []string{"spec.template: Required value"}},
		{"controller restart policy", rc(func(s *corev1.ReplicationControllerSpec) {
			s.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
		}),
			[]string{"spec.template.spec.restartPolicy: Unsupported value"}},
	})
}

func TestValidateStatefulSetAndDaemonSet(t *testing.T) {
	template := makeDeployment().obj().Spec.Template
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	ss := func(f func(*appsv1.StatefulSetSpec)) *appsv1.StatefulSet {
		s := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"}, Spec: appsv1.StatefulSetSpec{
			Selector: selector.DeepCopy(), Template: *template.DeepCopy(), ServiceName: "db",
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{"storage": resource.MustParse("1Gi")}},
			}}},
		}}
		f(&s.Spec)
		return s
	}
	ds := func(f func(*appsv1.DaemonSetSpec)) *appsv1.DaemonSet {
		d := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default"}, Spec: appsv1.DaemonSetSpec{Selector: selector.DeepCopy(), Template: *template.DeepCopy()}}
		f(&d.Spec)
		return d
	}
	runValidationCases(t, []validationCase{
		{"stateful set", ss(func(*appsv1.StatefulSetSpec) {}), nil},
		{"pod management policy", ss(func(s *appsv1.StatefulSetSpec) { s.PodManagementPolicy = "Random" }), []string{"spec.podManagementPolicy: Unsupported value"}},
		{"claim templates", ss(func(s *appsv1.StatefulSetSpec) { s.VolumeClaimTemplates[0].Spec.Resources.Requests = nil }),
			[]string{"spec.volumeClaimTemplates[0].spec.resources.requests[storage]: Required value"}},
		{"partition", ss(func(s *appsv1.StatefulSetSpec) {
			s.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: new(int32(-1))}}
		}), []string{"spec.updateStrategy.rollingUpdate.partition: Invalid value"}},
		{"stateful set selector", ss(func(s *appsv1.StatefulSetSpec) { s.Selector = nil }), []string{"spec.selector: Required value"}},
		{"daemon set", ds(func(*appsv1.DaemonSetSpec) {}), nil},
		{"daemon set restart policy", ds(func(s *appsv1.DaemonSetSpec) { s.Template.Spec.RestartPolicy = corev1.RestartPolicyNever }),
			[]string{"spec.template.spec.restartPolicy: Unsupported value"}},
		{"daemon set update strategy", ds(func(s *appsv1.DaemonSetSpec) { s.UpdateStrategy.Type = "Surge" }), []string{"spec.updateStrategy.type: Unsupported value"}},
		{"daemon set surge", ds(func(s *appsv1.DaemonSetSpec) {
			s.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: new(intstr.FromInt32(0)), MaxSurge: new(intstr.FromString("0%"))}
		}), []string{"spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value"}},
	})
}
