package controllers_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/controllers"
)

func typesUID(s string) types.UID { return types.UID(s) }
func listAll() client.ListOptions { return client.ListOptions{} }
func nodeKind() *api.Kind         { return api.LookupName("nodes") }

func rc(name string, replicas int32) *corev1.ReplicationController {
	labels := map[string]string{"app": name}
	t := podTemplate(labels, "nginx:1.14")
	return &corev1.ReplicationController{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ReplicationController"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       corev1.ReplicationControllerSpec{Replicas: new(replicas), Selector: labels, Template: &t},
	}
}

// TestReplicationControllerEndpoints: an RC's pods become the endpoints of
// a Service (named targetPort resolved per pod); scaling the RC changes
// them; a pod turning unready moves to notReadyAddresses; an orphan pod
// the selector matches is adopted.
func TestReplicationControllerEndpoints(t *testing.T) {
	cl := startCluster(t, controllers.Config{EndpointsBatchPeriod: 50 * time.Millisecond})
	k := cl.startKubelet(t, "node-a")
	cl.create(t, rc("web", 4))
	cl.create(t, &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "web-svc", Namespace: "default"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 8888, TargetPort: intstr.FromString("http")}}},
	})
	endpoints := func(n int) func() (bool, string) {
		return func() (bool, string) {
			obj, err := cl.c.Get(cl.ctx, api.LookupName("endpoints"), "default", "web-svc")
			if err != nil {
				return false, err.Error()
			}
			ep := obj.(*corev1.Endpoints)
			got := 0
			for _, s := range ep.Subsets {
				got += len(s.Addresses)
				if len(s.Ports) != 1 || s.Ports[0].Port != 80 || s.Ports[0].Name != "http" {
					return false, fmt.Sprintf("ports %+v", s.Ports)
				}
				for _, a := range s.Addresses {
					if a.TargetRef == nil || a.TargetRef.Kind != "Pod" || a.NodeName == nil || *a.NodeName != "node-a" {
						return false, fmt.Sprintf("address %+v", a)
					}
				}
			}
			return got == n, fmt.Sprintf("%d ready addresses: %+v", got, ep.Subsets)
		}
	}
	cl.eventually(t, 30*time.Second, "4 endpoints", endpoints(4))
	cl.eventually(t, 30*time.Second, "rc status", func() (bool, string) {
		r := cl.get(t, "rc", "default", "web").(*corev1.ReplicationController)
		return r.Status.ReadyReplicas == 4 && r.Status.AvailableReplicas == 4 && r.Status.ObservedGeneration == r.Generation, fmt.Sprintf("%+v", r.Status)
	})

	obj := cl.get(t, "rc", "default", "web").(*corev1.ReplicationController)
	obj.Spec.Replicas = new(int32(2))
	if _, _, err := cl.c.Update(cl.ctx, obj); err != nil {
		t.Fatal(err)
	}
	cl.eventually(t, 30*time.Second, "2 endpoints", endpoints(2))

	// A pod turning unready.
	k.ready = func(*corev1.Pod) bool { return false }
	p := cl.pods(t, "default", "app=web")[0]
	p.Status.Conditions[0].Status = corev1.ConditionFalse
	if _, err := cl.c.UpdateStatus(cl.ctx, p); err != nil {
		t.Fatal(err)
	}
	cl.eventually(t, 10*time.Second, "unready pod in notReadyAddresses", func() (bool, string) {
		ep := cl.get(t, "endpoints", "default", "web-svc").(*corev1.Endpoints)
		var ready, notReady []string
		for _, s := range ep.Subsets {
			for _, a := range s.Addresses {
				ready = append(ready, a.TargetRef.Name)
			}
			for _, a := range s.NotReadyAddresses {
				notReady = append(notReady, a.TargetRef.Name)
			}
		}
		return len(ready) == 1 && len(notReady) == 1 && notReady[0] == p.Name, fmt.Sprintf("ready %v not ready %v", ready, notReady)
	})
	// The slice says the same.
	cl.eventually(t, 10*time.Second, "endpointslice", func() (bool, string) {
		objs, _, err := cl.c.List(cl.ctx, api.LookupName("endpointslices"), "default", client.ListOptions{LabelSelector: "kubernetes.io/service-name=web-svc"})
		if err != nil || len(objs) != 1 {
			return false, fmt.Sprintf("%d slices, %v", len(objs), err)
		}
		var states []string
		sl := objs[0].(*discoveryv1.EndpointSlice)
		for _, e := range sl.Endpoints {
			states = append(states, fmt.Sprintf("%s=%v", e.TargetRef.Name, *e.Conditions.Ready))
		}
		sort.Strings(states)
		return len(states) == 2 && strings.Count(strings.Join(states, " "), "=true") == 1, strings.Join(states, " ")
	})

	// An orphan pod with the RC's labels is adopted, and the RC, now one
	// over, deletes one of the two worse pods (the unscheduled stray or
	// the unready one), never the ready one.
	k.ready = nil
	var keep string
	for _, q := range cl.pods(t, "default", "app=web") {
		if q.Name != p.Name {
			keep = q.Name
		}
	}
	orphan := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: "stray", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec:       podTemplate(nil, "nginx:1.14").Spec}
	cl.create(t, orphan)
	cl.eventually(t, 20*time.Second, "back to 2 pods", func() (bool, string) {
		pods := cl.pods(t, "default", "app=web")
		var names []string
		kept, adopted := false, false
		for _, q := range pods {
			names = append(names, q.Name)
			kept = kept || q.Name == keep
			if ref := metav1.GetControllerOf(q); q.Name == "stray" && ref != nil && ref.Kind == "ReplicationController" {
				adopted = true
			}
		}
		if !kept {
			t.Fatalf("the ready pod %s was deleted; left: %v", keep, names)
		}
		stray := false
		for _, n := range names {
			stray = stray || n == "stray"
		}
		return len(pods) == 2 && (adopted || !stray), fmt.Sprint(names)
	})
}
