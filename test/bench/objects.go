package main

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// The objects the harness writes: small, valid, of the kinds users apply.

func configMap(ns, name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "bench"}},
		Data: map[string]string{
			"LOG_LEVEL":   "info",
			"FEATURE_X":   "true",
			"config.yaml": "listen: :8080\nupstream: http://backend:9090\ntimeout: 3s\n",
		},
	}
}

func service(ns, name string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
}

// deployment has no replicas: weftd's controllers make its ReplicaSet but
// no pods, so that an apply measures the API server and the later phases do
// not compete with pods being created in the background.
func deployment(ns, name string) *appsv1.Deployment {
	labels := map[string]string{"app": name, "version": "v1"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32(0)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       podSpec(),
			},
		},
	}
}

// noNode is the node the harness's pods are bound to. No such node exists,
// so the pods are only stored: the scheduler leaves bound pods alone and no
// agent runs them.
const noNode = "bench-no-such-node"

// pod is a pod labelled bucket=00..99 by i, so that bucket=07 selects 1%.
func pod(ns, name string, i int) *corev1.Pod {
	spec := podSpec()
	spec.NodeName = noNode
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{
			"app":    "bench",
			"bucket": fmt.Sprintf("%02d", i%100),
		}},
		Spec: spec,
	}
}

func podSpec() corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{
		Name:  "web",
		Image: "nginx:1.25",
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		Env:   []corev1.EnvVar{{Name: "VERSION", Value: "v1"}},
	}}}
}

// applyMix returns n objects named in ns: ConfigMaps, Services and
// Deployments in turn.
func applyMix(ns string, n int) []api.Object {
	out := make([]api.Object, n)
	for i := range out {
		name := "app-" + strconv.Itoa(i)
		switch i % 3 {
		case 0:
			out[i] = configMap(ns, name)
		case 1:
			out[i] = service(ns, name)
		default:
			out[i] = deployment(ns, name)
		}
	}
	return out
}

// createNamespace creates namespace name.
func createNamespace(ctx context.Context, c *client.Client, name string) error {
	if _, _, err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}
