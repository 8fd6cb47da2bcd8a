package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/agent"
	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func listPods(t *testing.T, c *client.Client, selector string) []*corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	objs, _, err := c.List(ctx, api.LookupName("pods"), "default", client.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*corev1.Pod))
	}
	return out
}

func countReady(pods []*corev1.Pod) int {
	n := 0
	for _, p := range pods {
		if podReady(p) {
			n++
		}
	}
	return n
}

// serverHeader asks the nginx stand-in behind url (a pod's, or a
// service's port) which version it is.
func serverHeader(t *testing.T, url string) string {
	t.Helper()
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		return "error: " + err.Error()
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp.Status
	}
	return resp.Header.Get("Server")
}

// waitServer waits until url answers 200 with the Server header want. A
// pod without a readiness probe is Ready, and an endpoint, as soon as its
// container started, which may be before its server listens: 30s is
// generous for that.
func waitServer(t *testing.T, url, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := serverHeader(t, url)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s answers %q after 30s, want Server: %s", url, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// podURL is the URL of port 80 of a pod IP, reached from the host: a
// loopback address in host mode, behind the node's bridge in netns mode.
func podURL(ip string) string { return "http://" + ip + ":80/" }

// TestSeedRollingUpdate is seed 02, in one cluster per network mode: ten
// nginx replicas rolled with maxSurge 1, maxUnavailable 1 never drop below
// nine ready pods; undo to revision 1 brings the old image back, as its
// Server header (asked of a pod's IP from the host) shows.
func TestSeedRollingUpdate(t *testing.T) {
	t.Parallel()
	for _, mode := range meshModes() {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			checkSeedRollingUpdate(t, mode)
		})
	}
}

func checkSeedRollingUpdate(t *testing.T, mode string) {
	w := startSeedWeftd(t, seedNodeIPs["rolling-"+mode], "--network", mode)
	c := w.client(t)
	if out, errOut, code := w.weftctl(t, "", "apply", "-f", filepath.Join(corpus, "seeds/02-test-web.yaml")); code != 0 {
		t.Fatalf("apply: %s%s", out, errOut)
	}
	sel := "app=test-web-deployment"
	waitFor(t, 120*time.Second, "10 ready pods", func() bool { return countReady(listPods(t, c, sel)) == 10 })
	if out, errOut, code := w.weftctl(t, "", "rollout", "status", "deployment/test-web-deployment", "--timeout", "60s"); code != 0 {
		t.Fatalf("rollout status: %s%s", out, errOut)
	}

	// A watcher counts ready pods through the rollout.
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	minReady := 10
	ready := map[string]bool{}
	ch, err := c.Watch(ctx, api.LookupName("pods"), "default", client.ListOptions{LabelSelector: sel})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		seenInitial := 0
		for ev := range ch {
			if ev.Err != nil {
				return
			}
			p := ev.Object.(*corev1.Pod)
			mu.Lock()
			if ev.Type == "DELETED" {
				delete(ready, p.Name)
			} else {
				ready[p.Name] = podReady(p)
			}
			n := 0
			for _, r := range ready {
				if r {
					n++
				}
			}
			if ev.Type == "ADDED" && seenInitial < 10 {
				seenInitial++ // the initial state arrives one pod at a time
			} else if n < minReady {
				minReady = n
			}
			mu.Unlock()
		}
	}()
	if out, errOut, code := w.weftctl(t, "", "set", "image", "deployment/test-web-deployment", "test-web=nginx:1.11"); code != 0 {
		t.Fatalf("set image: %s%s", out, errOut)
	}
	if out, errOut, code := w.weftctl(t, "", "rollout", "status", "deployment/test-web-deployment", "--timeout", "180s"); code != 0 {
		t.Fatalf("rollout status: %s%s", out, errOut)
	}
	waitFor(t, 60*time.Second, "ten ready pods of nginx:1.11", func() bool {
		pods := listPods(t, c, sel)
		n := 0
		for _, p := range pods {
			if podReady(p) && p.Spec.Containers[0].Image == "nginx:1.11" {
				n++
			}
		}
		return n == 10 && len(pods) == 10
	})
	cancel()
	<-done
	mu.Lock()
	if minReady < 9 {
		t.Errorf("ready pods fell to %d during the rolling update (maxUnavailable 1 allows 9)", minReady)
	}
	mu.Unlock()
	for _, p := range listPods(t, c, sel) {
		waitServer(t, podURL(p.Status.PodIP), "nginx/1.11")
	}
	out, _, _ := w.weftctl(t, "", "rollout", "history", "deployment/test-web-deployment")
	if !strings.Contains(out, "1") || !strings.Contains(out, "2") {
		t.Errorf("rollout history:\n%s", out)
	}
	if out, errOut, code := w.weftctl(t, "", "rollout", "undo", "deployment/test-web-deployment", "--to-revision=1"); code != 0 {
		t.Fatalf("rollout undo: %s%s", out, errOut)
	}
	waitFor(t, 180*time.Second, "ten ready pods of nginx:1.10 again", func() bool {
		pods := listPods(t, c, sel)
		n := 0
		for _, p := range pods {
			if podReady(p) && p.Spec.Containers[0].Image == "nginx:1.10" {
				n++
			}
		}
		return n == 10 && len(pods) == 10
	})
	for _, p := range listPods(t, c, sel) {
		waitServer(t, podURL(p.Status.PodIP), "nginx/1.10")
	}
}

// TestSeedScaleRC is seed 31, in one cluster per network mode: scaling
// the ReplicationController changes its service's endpoints (get ep), each
// endpoint address answers HTTP from the host as the seed's nginx, and so
// does the NodePort on the node IP, before and after the scale.
func TestSeedScaleRC(t *testing.T) {
	t.Parallel()
	for _, mode := range meshModes() {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			checkSeedScaleRC(t, mode)
		})
	}
}

func checkSeedScaleRC(t *testing.T, mode string) {
	ip := seedNodeIPs["rc-"+mode]
	w := startSeedWeftd(t, ip, "--network", mode)
	c := w.client(t)
	applyFile(t, w, "seeds/31-rc-service.yaml")
	nodePort := "http://" + ip + ":30000/"
	check := func(n int) {
		t.Helper()
		var ips []string
		waitFor(t, 120*time.Second, fmt.Sprintf("%d endpoints", n), func() bool {
			ips, _ = seedEndpoints(t, c, "default", "oldboyedu-nginx-svc")
			return len(ips) == n
		})
		// get ep shows three addresses and counts the rest, as kubectl
		// does; -o yaml has them all.
		table := seedWeftctl(t, w, "", "get", "ep", "oldboyedu-nginx-svc")
		if n > 3 && !strings.Contains(table, fmt.Sprintf("+ %d more...", n-3)) || n <= 3 && strings.Count(table, ":80") != n {
			t.Errorf("get ep should show %d addresses:\n%s", n, table)
		}
		out := seedWeftctl(t, w, "", "get", "ep", "oldboyedu-nginx-svc", "-o", "yaml")
		if got := len(regexp.MustCompile(`(?m)^\s*-?\s*ip: `).FindAllString(out, -1)); got != n {
			t.Errorf("get ep -o yaml lists %d addresses, want %d:\n%s", got, n, out)
		}
		for _, a := range ips {
			if !strings.Contains(out, "ip: "+a+"\n") {
				t.Errorf("get ep -o yaml lacks %s:\n%s", a, out)
			}
			waitServer(t, podURL(a), "nginx/1.14")
		}
		// The node's gateway follows the endpoints: five answers in a row.
		waitFor(t, 60*time.Second, "the NodePort answering on "+nodePort, func() bool {
			for range 5 {
				if serverHeader(t, nodePort) != "nginx/1.14" {
					return false
				}
			}
			return true
		})
	}
	check(4)
	seedWeftctl(t, w, "", "scale", "rc", "oldboyedu-nginx", "--replicas=2")
	check(2)
}

// TestThreeNodes runs weftd and two weft-agents: replicas spread over the
// three nodes, and when one agent dies its pods come back on the others.
func TestThreeNodes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := startWeftd(t, dir, "--node-monitor-grace-period", "6s", "--pod-eviction-timeout", "4s")
	c := w.client(t)
	var agents []*exec.Cmd
	for i, ip := range []string{"127.0.0.2", "127.0.0.3"} {
		name := fmt.Sprintf("extra-%d", i)
		adir := filepath.Join(dir, name)
		cmd := exec.Command(filepath.Join(binDir, "weft-agent"), "--server", w.url, "--token-file", filepath.Join(dir, "join.token"),
			"--node-name", name, "--node-ip", ip, "--pod-cidr", podCIDR(t), "--data-dir", adir, "--listen", ip+":0", "--heartbeat", "1s")
		cmd.Stdout, cmd.Stderr = w.log, w.log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		agents = append(agents, cmd)
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			if err := agent.Reset(adir, name); err != nil {
				t.Errorf("reset %s: %v", name, err)
			}
		})
	}
	waitFor(t, 60*time.Second, "three Ready nodes", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		nodes, _, err := c.List(ctx, api.LookupName("nodes"), "", client.ListOptions{})
		if err != nil {
			return false
		}
		n := 0
		for _, o := range nodes {
			for _, cond := range o.(*corev1.Node).Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					n++
				}
			}
		}
		return n == 3
	})
	manifest := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: 6
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      terminationGracePeriodSeconds: 2
      containers: [{name: app, image: busybox, command: [sleep, "3600"], resources: {requests: {cpu: 10m}}}]
`
	if out, errOut, code := w.weftctl(t, manifest, "apply", "-f", "-"); code != 0 {
		t.Fatalf("apply: %s%s", out, errOut)
	}
	perNode := func() map[string]int {
		m := map[string]int{}
		for _, p := range listPods(t, c, "app=spread") {
			if podReady(p) {
				m[p.Spec.NodeName]++
			}
		}
		return m
	}
	waitFor(t, 120*time.Second, "six ready pods on three nodes", func() bool {
		m := perNode()
		return len(m) == 3 && m["extra-0"]+m["extra-1"]+m[nodeName(dir)] == 6
	})
	// Kill one agent: its node goes NotReady, its pods are evicted and
	// replaced on the other two.
	_ = agents[1].Process.Kill()
	waitFor(t, 180*time.Second, "six ready pods on the two live nodes", func() bool {
		m := perNode()
		return m["extra-1"] == 0 && m["extra-0"]+m[nodeName(dir)] == 6
	})
}

var _ = os.Getpid
var _ = appsv1.SchemeGroupVersion
