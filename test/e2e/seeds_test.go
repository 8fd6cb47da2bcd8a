package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// seedNodeIPs are the node IPs of the seed tests' clusters, one per test
// and network mode: node ports bind them (seed 01 asks for 30121–30123,
// 02 for 30044, 04 for 30077, 31 for 30000), so no other test may use them.
var seedNodeIPs = map[string]string{
	"pods-host": "127.0.0.51", "pods-netns": "127.0.0.52",
	"hpa-host": "127.0.0.53", "hpa-netns": "127.0.0.55",
	"liveness-host": "127.0.0.54", "liveness-netns": "127.0.0.56",
	"rolling-host": "127.0.0.57", "rolling-netns": "127.0.0.58",
	"rc-host": "127.0.0.59", "rc-netns": "127.0.0.60",
}

// startSeedWeftd starts weftd whose node has the node IP ip.
func startSeedWeftd(t *testing.T, ip string, extra ...string) *weftd {
	return startWeftd(t, t.TempDir(), append([]string{"--node-ip", ip, "--agent-addr", ip + ":0"}, extra...)...)
}

// seedWeftctl runs weftctl and fails the test unless it exits 0.
func seedWeftctl(t *testing.T, w *weftd, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := w.weftctl(t, stdin, args...)
	if code != 0 {
		t.Fatalf("weftctl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// seedPoll is waitFor for conditions that run weftctl: once a second.
func seedPoll(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", bound, what)
		}
		time.Sleep(time.Second)
	}
}

func seedGetPod(t *testing.T, c *client.Client, ns, name string) *corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	obj, err := c.Get(ctx, api.LookupName("pods"), ns, name)
	if err != nil {
		t.Fatalf("get pod %s/%s: %v", ns, name, err)
	}
	return obj.(*corev1.Pod)
}

// waitPod waits until cond holds for the pod and returns it.
func seedWaitPod(t *testing.T, c *client.Client, ns, name string, bound time.Duration, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var p *corev1.Pod
	waitFor(t, bound, fmt.Sprintf("pod %s/%s: %s", ns, name, what), func() bool {
		p = seedGetPod(t, c, ns, name)
		return cond(p)
	})
	return p
}

// status is the status of a pod's container or init container.
func seedStatus(p *corev1.Pod, name string) corev1.ContainerStatus {
	for _, s := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if s.Name == name {
			return s
		}
	}
	return corev1.ContainerStatus{}
}

// podEvents are the events about a pod, as "Reason: message" lines.
func seedEvents(t *testing.T, c *client.Client, ns, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	objs, _, err := c.List(ctx, api.LookupName("events"), ns, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, o := range objs {
		if e := o.(*corev1.Event); e.InvolvedObject.Name == name {
			fmt.Fprintf(&b, "%s: %s\n", e.Reason, e.Message)
		}
	}
	return b.String()
}

// endpointPorts is a Service's Endpoints as "ip" per address and
// "name=port" per port.
func seedEndpoints(t *testing.T, c *client.Client, ns, name string) (ips, ports []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	obj, err := c.Get(ctx, api.LookupName("endpoints"), ns, name)
	if err != nil {
		return nil, nil
	}
	for _, s := range obj.(*corev1.Endpoints).Subsets {
		for _, a := range s.Addresses {
			ips = append(ips, a.IP)
		}
		for _, p := range s.Ports {
			ports = append(ports, fmt.Sprintf("%s=%d", p.Name, p.Port))
		}
	}
	return ips, ports
}

// TestSeedPodSpecs runs seeds 01 and 30 unchanged, in one cluster per
// network mode, and what seed 30 cannot do here made local (see
// checkSeed01 and checkSeed30). The local copy's hostPort 8888 answers on
// the node IP (the node gateway serves it).
func TestSeedPodSpecs(t *testing.T) {
	t.Parallel()
	for _, mode := range meshModes() {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ip := seedNodeIPs["pods-"+mode]
			w := startSeedWeftd(t, ip, "--network", mode)
			c := w.client(t)
			applyFile(t, w, "seeds/30-pods.yaml")
			applyFile(t, w, "seeds/01-jmnbservice.yaml")

			// The local copy of seed 30 goes in early: its restartPolicy
			// Never pod runs for 20s while seed 01 is checked.
			nginx := seedWaitPod(t, c, "default", "oldboyedu-nginx", 60*time.Second, "Ready", podReady)
			seed, err := os.ReadFile(filepath.Join(corpus, "seeds/30-pods.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			node := nodeName(w.dataDir)
			local := strings.NewReplacer(`nodeName: "10.0.0.102"`, "nodeName: "+node, "nodeName: 10.0.0.103", "nodeName: "+node,
				`hostIP: "10.0.0.103"`, `hostIP: "`+ip+`"`, "https://www.cnblogs.com/oldboyedu/", "http://"+nginx.Status.PodIP+"/").Replace(string(seed))
			seedWeftctl(t, w, "apiVersion: v1\nkind: Namespace\nmetadata: {name: local}\n", "apply", "-f", "-")
			seedWeftctl(t, w, local, "apply", "-n", "local", "-f", "-")
			seedWaitPod(t, c, "local", "oldboyedu-linux", 60*time.Second, "Running", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
			if out := seedWeftctl(t, w, "", "exec", "-n", "local", "oldboyedu-linux", "--", "sh", "-c", "echo $USERNAME $PASSWORD $ADDRESS"); out != "oldboyedu 123456 ShaHe\n" {
				t.Errorf("env of oldboyedu-linux: %q", out)
			}

			checkSeed01(t, w, ip)
			checkSeed30(t, w)
		})
	}
}

// checkSeed01: the Deployment's claim "nginxhtml" is in no manifest, so its
// pods wait with a FailedMount event naming it until it exists; then both
// run, the ConfigMap key mounted by subPath is a file at
// /root/application.properties (weftctl exec cat), the resources show in
// describe, and the NodePort service's three named ports reach the pods on
// the node IP.
func checkSeed01(t *testing.T, w *weftd, nodeIP string) {
	t.Helper()
	c := w.client(t)
	sel := "app=jmnbservice,project=nb"
	var first string
	waitFor(t, 60*time.Second, "a FailedMount event naming the missing claim", func() bool {
		pods := listPods(t, c, sel)
		if len(pods) != 2 {
			return false
		}
		first = pods[0].Name
		return strings.Contains(seedEvents(t, c, "default", first), "FailedMount: MountVolume.SetUp failed for volume \"html\" : persistentvolumeclaim \"nginxhtml\" not found\n")
	})
	if out := seedWeftctl(t, w, "", "get", "pod", first); !strings.Contains(out, "ContainerCreating") {
		t.Errorf("a pod waiting for its claim should be ContainerCreating:\n%s", out)
	}
	seedWeftctl(t, w, "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: nginxhtml}\n"+
		"spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n", "apply", "-f", "-")
	waitFor(t, 120*time.Second, "two ready jmnbservice pods", func() bool { return countReady(listPods(t, c, sel)) == 2 })
	want := seedConfigMap(t)
	for _, p := range listPods(t, c, sel) {
		if out := seedWeftctl(t, w, "", "exec", p.Name, "--", "cat", "/root/application.properties"); out != want {
			t.Errorf("%s: /root/application.properties = %q, want the ConfigMap's key %q", p.Name, out, want)
		}
	}
	pod := listPods(t, c, sel)[0].Name
	if out := seedWeftctl(t, w, "", "exec", pod, "--", "sh", "-c", `test -f /root/application.properties && echo "$JVM_OPTS"`); out != "-Xms1024m -Xmx1024m\n" {
		t.Errorf("exec: the subPath mount should be a file and JVM_OPTS set: %q", out)
	}
	desc := seedWeftctl(t, w, "", "describe", "pod", pod)
	for _, re := range []string{`(?s)Limits:\s+cpu:\s+200m\s+memory:\s+2Gi\s+Requests:\s+cpu:\s+100m\s+memory:\s+1Gi`,
		`/root/application.properties from config \(rw,path="application.properties"\)`, `QoS Class:\s+Burstable`,
		`Ports:\s+1111/TCP, 2222/TCP, 3333/TCP`} {
		if !regexp.MustCompile(re).MatchString(desc) {
			t.Errorf("describe pod lacks %s:\n%s", re, desc)
		}
	}
	waitFor(t, 60*time.Second, "the service's two endpoints with its three named ports", func() bool {
		ips, ports := seedEndpoints(t, c, "default", "jmnbservice")
		return len(ips) == 2 && strings.Join(ports, ",") == "dubbo=3333,server=2222,spring=1111"
	})
	if out := seedWeftctl(t, w, "", "get", "svc", "jmnbservice"); !strings.Contains(out, "1111:30121/TCP,2222:30122/TCP,3333:30123/TCP") {
		t.Errorf("get svc:\n%s", out)
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	for _, port := range []string{"30121", "30122", "30123"} {
		url := "http://" + nodeIP + ":" + port + "/"
		waitFor(t, 60*time.Second, "the NodePort answering on "+url, func() bool {
			resp, err := hc.Get(url)
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK && resp.Header.Get("Server") == "nginx/latest"
		})
	}
}

// checkSeed30: two containers share the pod's network (netns: 127.0.0.1;
// host mode: the pod's loopback IP, $POD_IP); the pods pinned to the
// seed's nodes 10.0.0.102/103, which do not exist, stay Pending; the init
// container's wget of an external URL fails (no internet here) with wget's
// reason in its logs and Init:CrashLoopBackOff. In the copy in namespace
// "local" (TestSeedPodSpecs), pinned to this node, the init container
// fetches the first nginx pod's page instead: it completes and the app
// serves what it wrote to the emptyDir; the restartPolicy Never pod ends
// Completed without a restart.
func checkSeed30(t *testing.T, w *weftd) {
	t.Helper()
	c := w.client(t)
	node := nodeName(w.dataDir)
	seedWaitPod(t, c, "default", "oldboyedu-nginx-alpine", 60*time.Second, "Ready", podReady)
	out := seedWeftctl(t, w, "", "exec", "oldboyedu-nginx-alpine", "-c", "oldboyedu-alpine", "--",
		"sh", "-c", `curl -s -m 10 -o /dev/null -D - "http://${POD_IP:-127.0.0.1}:80/"`)
	if !strings.Contains(out, "200 OK") || !strings.Contains(out, "Server: nginx/1.14") {
		t.Errorf("nginx from its sibling container:\n%s", out)
	}
	initDemo := seedWaitPod(t, c, "default", "init-demo", 90*time.Second, "the init container failed and restarted", func(p *corev1.Pod) bool {
		s := seedStatus(p, "download")
		return s.RestartCount >= 1 && s.LastTerminationState.Terminated != nil
	})
	if term := seedStatus(initDemo, "download").LastTerminationState.Terminated; term.ExitCode == 0 || term.Reason != "Error" {
		t.Errorf("init container's last run: %+v", term)
	}
	if logs := seedWeftctl(t, w, "", "logs", "init-demo", "-c", "download", "--previous"); !strings.Contains(logs, "unable to resolve host address 'www.cnblogs.com'") {
		t.Errorf("the init container's logs should say why wget failed:\n%s", logs)
	}
	seedPoll(t, 30*time.Second, "init-demo shown as Init:Error or Init:CrashLoopBackOff", func() bool {
		out := seedWeftctl(t, w, "", "get", "pod", "init-demo")
		return strings.Contains(out, "Init:CrashLoopBackOff") || strings.Contains(out, "Init:Error")
	})
	if p := seedGetPod(t, c, "default", "init-demo"); seedStatus(p, "mynginx").State.Running != nil || p.Status.Phase != corev1.PodPending {
		t.Errorf("nginx must not start before its init container succeeds: %s %+v", p.Status.Phase, seedStatus(p, "mynginx").State)
	}

	// The local copy.
	p := seedWaitPod(t, c, "local", "init-demo", 60*time.Second, "Ready", podReady)
	if s := seedStatus(p, "download"); s.State.Terminated == nil || s.State.Terminated.Reason != "Completed" || s.RestartCount != 0 {
		t.Errorf("local init container: %+v (restarts %d)", s.State, s.RestartCount)
	}
	out = seedWeftctl(t, w, "", "exec", "-n", "local", "init-demo", "--", "sh", "-c", `cat /usr/share/nginx/html/index.html; curl -s -m 10 -D - "http://${POD_IP:-127.0.0.1}:80/"`)
	if strings.Count(out, "standing in for nginx:1.14") != 2 || !strings.Contains(out, "Server: nginx/1.17") {
		t.Errorf("init-demo should serve the page its init container fetched (nginx 1.14's) as nginx/1.17:\n%s", out)
	}
	pinned := seedWaitPod(t, c, "local", "oldboyedu-nginx-2022", 60*time.Second, "Ready", podReady)
	if pinned.Spec.NodeName != node {
		t.Errorf("oldboyedu-nginx-2022 on %q, want %q", pinned.Spec.NodeName, node)
	}
	hostPort := "http://" + pinned.Status.HostIP + ":8888/"
	seedPoll(t, 60*time.Second, "oldboyedu-nginx-2022's hostPort answering at "+hostPort, func() bool {
		return serverHeader(t, hostPort) == "nginx/1.14"
	})
	p = seedWaitPod(t, c, "local", "oldboyedu-linux", 60*time.Second, "Succeeded", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	if s := seedStatus(p, "oldboyedu-nginx"); p.Spec.NodeName != node || s.RestartCount != 0 || s.State.Terminated == nil || s.State.Terminated.Reason != "Completed" {
		t.Errorf("restartPolicy Never on %s: %+v restarts %d", p.Spec.NodeName, s.State, s.RestartCount)
	}
	if out := seedWeftctl(t, w, "", "get", "pod", "-n", "local", "oldboyedu-linux"); !regexp.MustCompile(`0/1\s+Completed\s+0\s`).MatchString(out) {
		t.Errorf("get pod oldboyedu-linux:\n%s", out)
	}

	// The seed's own pinned pods stayed Pending all along: no node of
	// that name runs them.
	out = seedWeftctl(t, w, "", "get", "pods", "oldboyedu-nginx-2022", "oldboyedu-linux", "-o", "wide")
	for _, re := range []string{`oldboyedu-nginx-2022\s+0/2\s+Pending\s.*\s10\.0\.0\.102\s`, `oldboyedu-linux\s+0/1\s+Pending\s.*\s10\.0\.0\.103\s`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("get pods -o wide lacks %s:\n%s", re, out)
		}
	}
}

// seedConfigMap is seed 01's application.properties.
func seedConfigMap(t *testing.T) string {
	t.Helper()
	docs, err := api.DecodeFile(filepath.Join(corpus, "seeds/01-jmnbservice.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if cm, ok := d.Object.(*corev1.ConfigMap); ok {
			return cm.Data["application.properties"]
		}
	}
	t.Fatal("seed 01 has no ConfigMap")
	return ""
}

// TestSeedHPA is seed 04, in one cluster per network mode: top pod shows
// the pod's usage, get hpa its target; CPU load (weft-demo static's
// /_weft/burn, asked of the pod's IP from the host) scales the deployment
// out, and once the load stops it scales back in after the (shortened)
// stabilization window.
func TestSeedHPA(t *testing.T) {
	t.Parallel()
	for _, mode := range meshModes() {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			checkSeedHPA(t, mode)
		})
	}
}

func checkSeedHPA(t *testing.T, mode string) {
	w := startSeedWeftd(t, seedNodeIPs["hpa-"+mode], "--network", mode, "--hpa-sync-period", "2s", "--stats-period", "2s", "--hpa-downscale-stabilization", "10s")
	c := w.client(t)
	applyFile(t, w, "seeds/04-test-scale-hpa.yaml")
	sel := "app=test-scale-deployment"
	waitFor(t, 60*time.Second, "a ready pod", func() bool { return countReady(listPods(t, c, sel)) == 1 })
	pod := listPods(t, c, sel)[0]
	ctx, stopLoad := context.WithCancel(context.Background())
	loadDone := make(chan struct{})
	go func() { // about half a core, whatever the machine's speed
		defer close(loadDone)
		hc := &http.Client{Timeout: 10 * time.Second}
		for ctx.Err() == nil {
			if resp, err := hc.Get("http://" + pod.Status.PodIP + ":80/_weft/burn?ms=250"); err == nil {
				resp.Body.Close()
			}
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	defer func() { stopLoad(); <-loadDone }()
	usage := regexp.MustCompile(regexp.QuoteMeta(pod.Name) + `\s+(\d+)m\s+(\d+)Mi`)
	seedPoll(t, 60*time.Second, "top pod showing the load", func() bool {
		m := usage.FindStringSubmatch(seedWeftctl(t, w, "", "top", "pod"))
		if m == nil {
			return false
		}
		n, _ := strconv.Atoi(m[1])
		return n >= 50
	})
	target := regexp.MustCompile(`test-scale-hpa\s+Deployment/test-scale-deployment\s+cpu: \d+%/30%\s+1\s+10\s+\d+\s`)
	seedPoll(t, 60*time.Second, "get hpa showing the current utilization", func() bool {
		return target.MatchString(seedWeftctl(t, w, "", "get", "hpa"))
	})
	seedPoll(t, 120*time.Second, "the HPA scaling the deployment out", func() bool { return seedReplicas(t, c, "test-scale-deployment") > 1 })
	stopLoad()
	<-loadDone
	out := seedWeftctl(t, w, "", "describe", "hpa", "test-scale-hpa")
	if !regexp.MustCompile(`SuccessfulRescale\s.*New size: \d+; reason: cpu resource utilization \(percentage of request\) above target`).MatchString(out) {
		t.Errorf("describe hpa lacks the scale-out event:\n%s", out)
	}
	seedPoll(t, 180*time.Second, "the HPA scaling back in to 1", func() bool { return seedReplicas(t, c, "test-scale-deployment") == 1 })
	out = seedWeftctl(t, w, "", "describe", "hpa", "test-scale-hpa")
	if !regexp.MustCompile(`SuccessfulRescale\s.*New size: 1; reason: All metrics below target`).MatchString(out) {
		t.Errorf("describe hpa lacks the scale-in event:\n%s", out)
	}
	waitFor(t, 60*time.Second, "one pod left", func() bool { return len(listPods(t, c, sel)) == 1 })
}

func seedReplicas(t *testing.T, c *client.Client, name string) int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	obj, err := c.Get(ctx, api.LookupName("deployments"), "default", name)
	if err != nil {
		t.Fatal(err)
	}
	return *obj.(*appsv1.Deployment).Spec.Replicas
}

// TestSeedLiveness is seed 05 unchanged, in one cluster per network mode,
// and through it what a user debugging a pod reaches for: the exec probe
// fails once the container removed its /tmp/healthy (after 30s), the HTTP
// probe's host does not resolve here; both containers restart, which get
// pods and describe show with the probes' events; logs --previous shows
// the run before; exec returns the command's exit code.
func TestSeedLiveness(t *testing.T) {
	t.Parallel()
	for _, mode := range meshModes() {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			checkSeedLiveness(t, mode)
		})
	}
}

func checkSeedLiveness(t *testing.T, mode string) {
	w := startSeedWeftd(t, seedNodeIPs["liveness-"+mode], "--network", mode)
	c := w.client(t)
	applyFile(t, w, "seeds/05-liveness.yaml")
	seedWaitPod(t, c, "default", "liveness-exec", 60*time.Second, "Ready", podReady)

	// Before any restart: the file the probe reads is in the container's
	// /tmp (once its shell made it), and there is no previous run to show.
	seedPoll(t, 20*time.Second, "exec to see the container's /tmp/healthy", func() bool {
		_, _, code := w.weftctl(t, "", "exec", "liveness-exec", "--", "cat", "/tmp/healthy")
		return code == 0
	})
	if _, errOut, code := w.weftctl(t, "", "logs", "liveness-exec", "--previous"); code == 0 || !strings.Contains(errOut, "previous terminated container") {
		t.Errorf("logs --previous before a restart: exit %d, %q", code, errOut)
	}
	// exec's exit codes are the command's.
	for _, tc := range []struct {
		args   []string // after "exec"
		stdin  string
		code   int
		out    string
		errOut string
	}{
		{args: []string{"liveness-exec", "--", "sh", "-c", "echo out; echo err >&2; exit 3"}, code: 3, out: "out\n", errOut: "err\n"},
		{args: []string{"liveness-exec", "--", "true"}, code: 0},
		{args: []string{"-i", "liveness-exec", "--", "cat"}, stdin: "typed\n", out: "typed\n"},
		{args: []string{"liveness-exec", "--", "no-such-command"}, code: 127, errOut: `"no-such-command": executable file not found`},
		{args: []string{"liveness-exec", "-c", "nope", "--", "true"}, code: 1, errOut: "nope"},
		{args: []string{"no-such-pod", "--", "true"}, code: 1, errOut: `pods "no-such-pod" not found`},
	} {
		args := append([]string{"exec"}, tc.args...)
		out, errOut, code := w.weftctl(t, tc.stdin, args...)
		if code != tc.code || (tc.out != "" || code == 0) && out != tc.out || !strings.Contains(errOut, tc.errOut) {
			t.Errorf("weftctl %s: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", strings.Join(args, " "), code, out, errOut, tc.code, tc.out, tc.errOut)
		}
	}

	for _, name := range []string{"liveness-http", "liveness-exec"} {
		seedWaitPod(t, c, "default", name, 120*time.Second, "restarted by its liveness probe", func(p *corev1.Pod) bool {
			s := seedStatus(p, "liveness")
			return s.RestartCount >= 1 && s.State.Running != nil
		})
	}
	out := seedWeftctl(t, w, "", "get", "pods", "-l", "test=liveness")
	for _, name := range []string{"liveness-exec", "liveness-http"} {
		if !regexp.MustCompile(name + `\s+\d/1\s+\S+\s+[1-9]\d* \(\d+s ago\)\s`).MatchString(out) {
			t.Errorf("get pods should count %s's restarts:\n%s", name, out)
		}
	}
	for _, tc := range []struct{ pod, probe, event string }{
		{"liveness-exec", `Liveness:\s+exec \[cat /tmp/healthy\] delay=5s timeout=1s period=5s #success=1 #failure=3`,
			`Unhealthy\s+.*Liveness probe failed: .*/tmp/healthy: No such file or directory`},
		{"liveness-http", `Liveness:\s+http-get https://w\.nocs\.cn:443/pi\.php delay=10s timeout=1s period=3s #success=1 #failure=3`,
			`Unhealthy\s+.*Liveness probe failed: .*w\.nocs\.cn`},
	} {
		// Every failed probe records an Unhealthy event, as the kubelet
		// does; a probe that ran past its 1s timeout (a loaded machine)
		// says "timed out" instead, so the wanted reason may show only at
		// a later failure — a run lasts 30s + 3 probes of 5s, plus a
		// back-off of 10s, then 20s.
		var desc string
		for deadline := time.Now().Add(150 * time.Second); ; time.Sleep(2 * time.Second) {
			desc = seedWeftctl(t, w, "", "describe", "pod", tc.pod)
			if regexp.MustCompile(tc.event).MatchString(desc) || time.Now().After(deadline) {
				break
			}
		}
		for _, re := range []string{tc.probe, tc.event, `Restart Count:\s+[1-9]`, `(?s)Last State:\s+Terminated\s+Reason:\s+Error\s+Exit Code:\s+(137|143)`,
			`Killing\s+.*will be restarted`, `Started\s+.*Started container liveness`} {
			if !regexp.MustCompile(re).MatchString(desc) {
				t.Errorf("describe pod %s lacks %s:\n%s", tc.pod, re, desc)
			}
		}
	}
	// logs --previous is the run the probe ended; each run printed its
	// own start time.
	prev := seedWeftctl(t, w, "", "logs", "liveness-exec", "--previous")
	var cur string
	seedPoll(t, 20*time.Second, "the new run's first line", func() bool {
		cur = seedWeftctl(t, w, "", "logs", "liveness-exec")
		return cur != ""
	})
	if !strings.HasPrefix(prev, "Exec-Started:") || !strings.HasPrefix(cur, "Exec-Started:") || prev == cur {
		t.Errorf("logs --previous %q, logs %q: want two different runs", prev, cur)
	}
	if tail := seedWeftctl(t, w, "", "logs", "liveness-exec", "-p", "-c", "liveness", "--tail", "1"); tail != prev {
		t.Errorf("logs -p -c liveness --tail 1 = %q, want %q", tail, prev)
	}
}
