package controllers_test

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/controllers"
)

func TestDeploymentBecomesAvailable(t *testing.T) {
	cl := startCluster(t, controllers.Config{})
	cl.startKubelet(t, "node-a")
	cl.create(t, deployment("web", 3, "nginx:1.25"))
	cl.eventually(t, 30*time.Second, "deployment available", func() (bool, string) {
		d := cl.get(t, "deploy", "default", "web").(*appsv1.Deployment)
		return d.Status.AvailableReplicas == 3 && d.Status.UpdatedReplicas == 3, fmt.Sprintf("%+v", d.Status)
	})
}

// TestRollingUpdateKeepsAvailability rolls a 10-replica Deployment with
// maxSurge 1 / maxUnavailable 1 and checks, watching every pod change,
// that never fewer than 9 pods are ready.
func TestRollingUpdateKeepsAvailability(t *testing.T) {
	cl := startCluster(t, controllers.Config{})
	cl.startKubelet(t, "node-a", "node-b")
	d := deployment("test-web-deployment", 10, "nginx:1.24")
	one := intstr.FromInt32(1)
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &one, MaxUnavailable: &one}}
	cl.create(t, d)
	waitRolledOut(t, cl, "test-web-deployment", 10, 1)

	// Watch readiness from here on.
	ch, err := cl.c.Watch(cl.ctx, api.LookupName("pods"), "default", client.ListOptions{LabelSelector: "app=test-web-deployment"})
	if err != nil {
		t.Fatal(err)
	}
	minReady := make(chan int, 1)
	stop := make(chan struct{})
	go func() {
		ready := map[string]bool{}
		low, synced := 1<<30, false
		for {
			select {
			case <-stop:
				minReady <- low
				return
			case ev, ok := <-ch:
				if !ok {
					minReady <- low
					return
				}
				if ev.Err != nil {
					continue
				}
				p := ev.Object.(*corev1.Pod)
				if ev.Type == "DELETED" {
					delete(ready, p.Name)
				} else {
					ready[p.Name] = isReady(p)
				}
				n := 0
				for _, r := range ready {
					if r {
						n++
					}
				}
				if n >= 10 {
					synced = true
				}
				if synced {
					low = min(low, n)
				}
			}
		}
	}()
	// The watch starts with the current pods as ADDED events: it has seen
	// the 10 ready pods before the first change of the rollout.
	obj := cl.get(t, "deploy", "default", "test-web-deployment").(*appsv1.Deployment)
	obj.Spec.Template.Spec.Containers[0].Image = "nginx:1.25"
	if _, _, err := cl.c.Update(cl.ctx, obj); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, cl, "test-web-deployment", 10, 2)
	close(stop)
	low := <-minReady
	t.Logf("fewest ready pods during the rollout: %d", low)
	if low < 9 {
		t.Fatalf("during the rollout only %d pods were ready, want at least 9", low)
	}
	for _, p := range cl.pods(t, "default", "app=test-web-deployment") {
		if img := p.Spec.Containers[0].Image; img != "nginx:1.25" {
			t.Errorf("pod %s runs %s after the rollout", p.Name, img)
		}
	}
}

// waitRolledOut waits until the Deployment is complete at revision rev.
func waitRolledOut(t *testing.T, cl *cluster, name string, replicas int32, rev int) {
	t.Helper()
	cl.eventually(t, 60*time.Second, name+" rolled out", func() (bool, string) {
		d := cl.get(t, "deploy", "default", name).(*appsv1.Deployment)
		st := d.Status
		done := st.ObservedGeneration >= d.Generation && st.UpdatedReplicas == replicas && st.Replicas == replicas &&
			st.AvailableReplicas == replicas && d.Annotations[controllers.RevisionAnnotation] == fmt.Sprint(rev)
		if done {
			pods := cl.pods(t, "default", "app="+name)
			done = len(pods) == int(replicas)
		}
		return done, fmt.Sprintf("revision %s, status %+v", d.Annotations[controllers.RevisionAnnotation], st)
	})
}
