package cli_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/apiserver/apiservertest"
	"github.com/weft-mesh/weft/controlplane/controllers"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

// workloads is weftctl against an API server with the controllers
// running and a fake kubelet that makes every pod Running and Ready
// (except those notReady picks).
type workloads struct {
	*run
	c   *client.Client
	ctx context.Context
}

func startWorkloads(t *testing.T, notReady func(*corev1.Pod) bool) *workloads {
	t.Helper()
	s := apiservertest.Start(t, boltstore.Options{})
	c := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	done := make(chan error, 1)
	go func() {
		done <- controllers.Run(ctx, controllers.Config{Client: c, EndpointsBatchPeriod: 20 * time.Millisecond})
	}()
	t.Cleanup(func() { cancel(); <-done })
	ch, err := c.Watch(ctx, api.LookupName("pods"), "", client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ip atomic.Int32
	go func() {
		for ev := range ch {
			if ev.Err != nil || ev.Type == "DELETED" {
				continue
			}
			p := ev.Object.(*corev1.Pod)
			if p.Status.Phase == corev1.PodRunning || (notReady != nil && notReady(p)) {
				continue
			}
			now := metav1.Now()
			n := ip.Add(1)
			p.Spec.NodeName = "node-a"
			p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.244.0.%d", n), StartTime: &now,
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}}}
			_, _ = c.UpdateStatus(ctx, p)
		}
	}()
	return &workloads{run: &run{t: t, url: s.URL, token: s.Token}, c: c, ctx: ctx}
}

func (w *workloads) ok(args ...string) string {
	w.t.Helper()
	out, errOut, code := w.weftctl("", args...)
	if code != 0 {
		w.t.Fatalf("weftctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func (w *workloads) eventually(what string, cond func() (bool, string)) {
	w.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("timed out waiting for %s: %s", what, msg)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func writeManifest(t *testing.T, body string) string {
	p := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const webManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.24
        ports:
        - containerPort: 80
`

func TestRolloutSetImageHistoryUndo(t *testing.T) {
	w := startWorkloads(t, nil)
	w.ok("apply", "-f", writeManifest(t, webManifest))
	if out := w.ok("rollout", "status", "deploy/web", "--timeout=60s"); !strings.HasSuffix(out, "deployment \"web\" successfully rolled out\n") {
		t.Fatalf("rollout status:\n%s", out)
	}
	if out := w.ok("set", "image", "deploy/web", "web=nginx:1.25", "--record"); out != "deployment.apps/web image updated\n" {
		t.Fatalf("set image: %q", out)
	}
	out := w.ok("rollout", "status", "deployment", "web", "--timeout=60s")
	if !strings.Contains(out, "successfully rolled out") {
		t.Fatalf("rollout status after set image:\n%s", out)
	}
	hist := w.ok("rollout", "history", "deploy/web")
	want := "deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         weftctl set image deploy/web web=nginx:1.25 --record=true\n\n"
	if hist != want {
		t.Fatalf("history:\n%s\nwant:\n%s", hist, want)
	}
	if out := w.ok("rollout", "history", "deploy/web", "--revision=1"); !strings.Contains(out, "Image:\tnginx:1.24") {
		t.Errorf("history --revision=1:\n%s", out)
	}

	if out := w.ok("rollout", "undo", "deploy/web", "--to-revision=1"); out != "deployment.apps/web rolled back\n" {
		t.Fatalf("undo: %q", out)
	}
	w.ok("rollout", "status", "deploy/web", "--timeout=60s")
	w.eventually("pods back on nginx:1.24", func() (bool, string) {
		objs, _, _ := w.c.List(w.ctx, api.LookupName("pods"), "default", client.ListOptions{LabelSelector: "app=web"})
		var images []string
		ok := len(objs) == 3
		for _, o := range objs {
			img := o.(*corev1.Pod).Spec.Containers[0].Image
			images = append(images, img)
			ok = ok && img == "nginx:1.24"
		}
		return ok, fmt.Sprint(images)
	})
	d, _ := w.c.Get(w.ctx, api.LookupName("deploy"), "default", "web")
	if rev := d.GetAnnotations()[controllers.RevisionAnnotation]; rev != "3" {
		t.Errorf("revision after undo %s, want 3 (revision 1 comes back as 3)", rev)
	}
	if img := d.(*appsv1.Deployment).Spec.Template.Spec.Containers[0].Image; img != "nginx:1.24" {
		t.Errorf("deployment image %s", img)
	}
	if out := w.ok("rollout", "undo", "deploy/web", "--to-revision=3"); !strings.Contains(out, "skipped rollback (current template already matches revision 3)") {
		t.Errorf("undo to the current revision: %q", out)
	}
	if _, errOut, code := w.weftctl("", "rollout", "undo", "deploy/web", "--to-revision=7"); code == 0 || !strings.Contains(errOut, "unable to find specified revision 7 in history") {
		t.Errorf("undo to a missing revision: %d %q", code, errOut)
	}
	// describe shows the controller's events.
	if out := w.ok("describe", "deploy/web"); !strings.Contains(out, "ScalingReplicaSet") {
		t.Errorf("describe has no ScalingReplicaSet event:\n%s", out)
	}
}

func TestRolloutStatusFailsPastDeadline(t *testing.T) {
	w := startWorkloads(t, func(p *corev1.Pod) bool { return p.Labels["app"] == "stuck" })
	m := strings.ReplaceAll(webManifest, "web", "stuck")
	m = strings.Replace(m, "spec:\n  replicas: 3", "spec:\n  progressDeadlineSeconds: 1\n  replicas: 3", 1)
	w.ok("apply", "-f", writeManifest(t, m))
	out, errOut, code := w.weftctl("", "rollout", "status", "deploy/stuck", "--timeout=60s")
	if code == 0 || !strings.Contains(errOut, `error: deployment "stuck" exceeded its progress deadline`) {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	// What it waited for first depends on when it looked: the controller
	// may not have observed the spec yet, or the rollout may be under way
	// (the 1s deadline can pass between two looks).
	if !strings.Contains(out, "Waiting for deployment \"stuck\" rollout to finish") && !strings.Contains(out, "Waiting for deployment spec update to be observed") {
		t.Errorf("no progress shown:\n%s", out)
	}
}

// TestScaleRCChangesEndpoints is seed 31: `scale rc` changes the
// Service's endpoints.
func TestScaleRCChangesEndpoints(t *testing.T) {
	w := startWorkloads(t, nil)
	w.ok("apply", "-f", filepath.Join(corpus, "seeds", "31-rc-service.yaml"))
	addresses := func(n int) func() (bool, string) {
		return func() (bool, string) {
			obj, err := w.c.Get(w.ctx, api.LookupName("endpoints"), "default", "oldboyedu-nginx-svc")
			if err != nil {
				return false, err.Error()
			}
			got := 0
			for _, s := range obj.(*corev1.Endpoints).Subsets {
				got += len(s.Addresses)
			}
			return got == n, fmt.Sprintf("%d addresses", got)
		}
	}
	w.eventually("4 endpoints", addresses(4))
	if out := w.ok("scale", "rc", "oldboyedu-nginx", "--replicas=2"); out != "replicationcontroller/oldboyedu-nginx scaled\n" {
		t.Fatalf("scale: %q", out)
	}
	w.eventually("2 endpoints", addresses(2))
	w.ok("scale", "rc/oldboyedu-nginx", "--replicas=3")
	w.eventually("3 endpoints", addresses(3))
	if out := w.ok("get", "endpoints", "oldboyedu-nginx-svc"); !strings.Contains(out, ":80") {
		t.Errorf("get endpoints:\n%s", out)
	}
	if _, errOut, code := w.weftctl("", "scale", "svc/oldboyedu-nginx-svc", "--replicas=1"); code == 0 || !strings.Contains(errOut, "cannot be used here") {
		t.Errorf("scale a service: %d %q", code, errOut)
	}
	if _, errOut, code := w.weftctl("", "scale", "rc", "oldboyedu-nginx", "--replicas=1", "--current-replicas=5"); code == 0 || !strings.Contains(errOut, "expected replicas to be 5, was 3") {
		t.Errorf("precondition: %d %q", code, errOut)
	}
}
