package controllers_test

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/controlplane/controllers"
)

// TestNodeLostPodsEvictedAndReplaced: node-a stops heartbeating; it
// becomes NotReady (Ready=Unknown) with the unreachable taint, its pods
// are deleted after the eviction timeout and replaced on node-b.
func TestNodeLostPodsEvictedAndReplaced(t *testing.T) {
	cl := startCluster(t, controllers.Config{
		// Heartbeats have a resolution of one second (RFC 3339 times): the
		// grace period must be a few of them.
		NodeMonitorPeriod: 100 * time.Millisecond, NodeMonitorGracePeriod: 3 * time.Second, PodEvictionTimeout: time.Second,
	})
	k := cl.startKubelet(t, "node-a", "node-b")
	stop := make(chan struct{})
	defer close(stop)
	beating := map[string]bool{"node-a": true, "node-b": true}
	beat := make(chan string)
	go func() { // heartbeats
		tk := time.NewTicker(200 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-stop:
				return
			case n := <-beat:
				delete(beating, n)
			case <-tk.C:
				for n := range beating {
					obj, err := cl.c.Get(cl.ctx, nodeKind(), "", n)
					if err != nil {
						continue
					}
					no := obj.(*corev1.Node)
					for i := range no.Status.Conditions {
						if no.Status.Conditions[i].Type == corev1.NodeReady {
							no.Status.Conditions[i].LastHeartbeatTime = metav1.Now()
							no.Status.Conditions[i].Status = corev1.ConditionTrue
						}
					}
					_, _ = cl.c.UpdateStatus(cl.ctx, no)
				}
			}
		}
	}()
	cl.create(t, deployment("web", 4, "nginx:1.25"))
	waitRolledOut(t, cl, "web", 4, 1)
	onA := 0
	for _, p := range cl.pods(t, "default", "app=web") {
		if p.Spec.NodeName == "node-a" {
			onA++
		}
	}
	if onA == 0 {
		t.Fatal("no pod on node-a to evict")
	}

	k.setNodes("node-b")
	beat <- "node-a"
	cl.eventually(t, 20*time.Second, "node-a unreachable", func() (bool, string) {
		n := cl.get(t, "node", "", "node-a").(*corev1.Node)
		ready := ""
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				ready = string(c.Status) + "/" + c.Reason
			}
		}
		tainted := false
		for _, tn := range n.Spec.Taints {
			tainted = tainted || (tn.Key == corev1.TaintNodeUnreachable && tn.Effect == corev1.TaintEffectNoExecute)
		}
		return ready == "Unknown/NodeStatusUnknown" && tainted, fmt.Sprintf("ready %s taints %v", ready, n.Spec.Taints)
	})
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
	// node-b kept beating: it stays Ready and untainted.
	n := cl.get(t, "node", "", "node-b").(*corev1.Node)
	if len(n.Spec.Taints) != 0 {
		t.Errorf("node-b tainted: %v", n.Spec.Taints)
	}
	if ev := eventReasons(t, cl, "Node", "node-a"); ev["NodeNotReady"] == 0 {
		t.Errorf("no NodeNotReady event for node-a: %v", ev)
	}
}
