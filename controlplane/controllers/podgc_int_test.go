package controllers_test

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/weft-mesh/weft/controlplane/controllers"
)

// TestPodGCDeletesPodsOfADeletedNode: node-a's Node is deleted while pods
// are bound to it; after the quarantine PodGC deletes them and the
// Deployment replaces them on node-b.
func TestPodGCDeletesPodsOfADeletedNode(t *testing.T) {
	cl := startCluster(t, controllers.Config{PodGCPeriod: 100 * time.Millisecond, PodGCQuarantine: time.Second})
	k := cl.startKubelet(t, "node-a", "node-b")
	cl.create(t, deployment("web", 4, "nginx:1.25"))
	waitRolledOut(t, cl, "web", 4, 1)
	var onA []string
	for _, p := range cl.pods(t, "default", "app=web") {
		if p.Spec.NodeName == "node-a" {
			onA = append(onA, p.Name)
		}
	}
	if len(onA) == 0 {
		t.Fatal("no pod on node-a")
	}
	k.setNodes("node-b")
	if _, err := cl.c.Delete(cl.ctx, nodeKind(), "", "node-a"); err != nil {
		t.Fatal(err)
	}
	cl.eventually(t, 30*time.Second, "pods replaced on node-b", func() (bool, string) {
		pods := cl.pods(t, "default", "app=web")
		var where []string
		ok := len(pods) == 4
		for _, p := range pods {
			where = append(where, p.Spec.NodeName)
			ok = ok && p.Spec.NodeName == "node-b" && isReady(p)
		}
		d := cl.get(t, "deploy", "default", "web").(*appsv1.Deployment)
		return ok && d.Status.AvailableReplicas == 4, fmt.Sprintf("pods on %v", where)
	})
	if ev := eventReasons(t, cl, "Pod", onA[0]); ev["PodGC"] == 0 {
		t.Errorf("no PodGC event for %s: %v", onA[0], ev)
	}
}
