package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/agent/cgroups"
	"github.com/weft-mesh/weft/agent/lifecycle"
	"github.com/weft-mesh/weft/agent/runtime"
	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/apiserver/apiservertest"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

// binDir holds weft-demo, built once by TestMain.
var binDir string

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "shim" {
		os.Exit(ShimMain(os.Args[2:]))
	}
	dir, err := os.MkdirTemp("", "weft-agent-test-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = os.Chmod(dir, 0o755) // containers running as another user exec weft-demo from it
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "weft-demo"), "github.com/weft-mesh/weft/examples/weft-demo")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build weft-demo:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cidrs gives each test's agent a pod range of its own, so pods of
// parallel tests never share an address.
var cidrs atomic.Int32

type fixture struct {
	t       *testing.T
	srv     *apiservertest.Server
	c       *client.Client
	node    string
	dataDir string
	cfg     Config
	stop    func()
}

// start runs an API server and an agent; both, and every process the
// agent started, are gone when the test ends.
func start(t *testing.T) *fixture {
	t.Helper()
	srv := apiservertest.Start(t, boltstore.Options{})
	n := cidrs.Add(1)
	return startAgent(t, srv, fmt.Sprintf("node-%s", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))), func(cfg *Config) {
		cfg.NetworkMode, cfg.PodCIDR = "host", fmt.Sprintf("127.%d.0.0/16", 100+n)
	})
}

// startAgent runs an agent named node against srv, its configuration
// changed by mod; it, and every process it started, are gone when the
// test ends.
func startAgent(t *testing.T, srv *apiservertest.Server, node string, mod func(*Config)) *fixture {
	t.Helper()
	f := &fixture{t: t, srv: srv, c: srv.Client(t), node: node, dataDir: t.TempDir()}
	f.cfg = Config{
		Client: f.c, NodeName: f.node, NodeIP: "127.0.0.2",
		DataDir: f.dataDir, BinDirs: []string{binDir}, ListenAddr: "127.0.0.2:0",
		HeartbeatPeriod: time.Second, SyncPeriod: 100 * time.Millisecond, StatsPeriod: 200 * time.Millisecond,
		Backoff: lifecycle.Policy{Initial: time.Second, Max: 4 * time.Second, Reset: time.Minute},
		Log:     zaptest.NewLogger(t).Named(node),
	}
	mod(&f.cfg)
	f.run()
	t.Cleanup(func() {
		f.stop()
		if err := Reset(f.dataDir, f.node); err != nil {
			t.Errorf("reset: %v", err)
		}
	})
	return f
}

func (f *fixture) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, f.cfg) }()
	f.stop = func() {
		cancel()
		if err := <-done; err != nil {
			f.t.Errorf("agent: %v", err)
		}
		f.stop = func() {}
	}
}

func (f *fixture) create(p *corev1.Pod) *corev1.Pod {
	f.t.Helper()
	if p.Namespace == "" {
		p.Namespace = "default"
	}
	p.Spec.NodeName = f.node
	if p.Spec.TerminationGracePeriodSeconds == nil {
		p.Spec.TerminationGracePeriodSeconds = ptr(int64(2))
	}
	obj, _, err := f.c.Create(context.Background(), p)
	if err != nil {
		f.t.Fatalf("create pod %s: %v", p.Name, err)
	}
	return obj.(*corev1.Pod)
}

func ptr[T any](v T) *T { return &v }

// waitPod polls the pod until cond holds (60s at most).
func (f *fixture) waitPod(name string, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	f.t.Helper()
	var last *corev1.Pod
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		obj, err := f.c.Get(context.Background(), api.LookupName("pods"), "default", name)
		if err == nil {
			last = obj.(*corev1.Pod)
			if cond(last) {
				return last
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	f.t.Fatalf("pod %s: waited 60s for %s; last status: %s", name, what, statusString(last))
	return nil
}

func statusString(p *corev1.Pod) string {
	if p == nil {
		return "<none>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "phase=%s reason=%q message=%q", p.Status.Phase, p.Status.Reason, p.Status.Message)
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		fmt.Fprintf(&b, "; %s restarts=%d ready=%v", cs.Name, cs.RestartCount, cs.Ready)
		switch {
		case cs.State.Running != nil:
			b.WriteString(" running")
		case cs.State.Waiting != nil:
			fmt.Fprintf(&b, " waiting %s %q", cs.State.Waiting.Reason, cs.State.Waiting.Message)
		case cs.State.Terminated != nil:
			fmt.Fprintf(&b, " terminated %s exit=%d %q", cs.State.Terminated.Reason, cs.State.Terminated.ExitCode, cs.State.Terminated.Message)
		}
	}
	return b.String()
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func containerStatus(p *corev1.Pod, name string) corev1.ContainerStatus {
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if cs.Name == name {
			return cs
		}
	}
	return corev1.ContainerStatus{}
}

func pod(name string, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}}, Spec: corev1.PodSpec{Containers: containers}}
}

func busybox(name string, script string) corev1.Container {
	return corev1.Container{Name: name, Image: "registry.ioros.com/docker.io/busybox", Command: []string{"sh", "-c", script}}
}

func httpGet(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	var lastErr error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			lastErr = err
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	t.Fatalf("GET %s: %v", url, lastErr)
	return nil, ""
}

func TestNodeRegistersAndHeartbeats(t *testing.T) {
	t.Parallel()
	f := start(t)
	var first time.Time
	deadline := time.Now().Add(30 * time.Second)
	for {
		obj, err := f.c.Get(context.Background(), api.LookupName("nodes"), "", f.node)
		if err == nil {
			n := obj.(*corev1.Node)
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					if first.IsZero() {
						first = c.LastHeartbeatTime.Time
					} else if c.LastHeartbeatTime.After(first) {
						if n.Labels[corev1.LabelHostname] != f.node || n.Status.DaemonEndpoints.KubeletEndpoint.Port == 0 ||
							n.Status.Capacity.Cpu().IsZero() || n.Status.Addresses[0].Address != "127.0.0.2" {
							t.Fatalf("node = %+v", n)
						}
						return
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no second heartbeat: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestPodRunsWithItsEnvironment(t *testing.T) {
	t.Parallel()
	f := start(t)
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "default"}, Data: map[string]string{"color": "blue"}}
	if _, _, err := f.c.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "default"}, Data: map[string][]byte{"password": []byte("s3cret")}}
	if _, _, err := f.c.Create(ctx, sec); err != nil {
		t.Fatal(err)
	}
	p := pod("flaskapp", corev1.Container{
		Name: "flaskapp", Image: "registry.ioros.com/docker.io/dustise/flaskapp",
		Env: []corev1.EnvVar{
			{Name: "version", Value: "v1"},
			{Name: "GREETING", Value: "hello-$(version)"},
			{Name: "MY_POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "MY_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "COLOR", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "color"}}},
			{Name: "PASSWORD", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "creds"}, Key: "password"}}},
		},
		EnvFrom:        []corev1.EnvFromSource{{Prefix: "CM_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/env/version", Port: intstr.FromInt32(80)}}, PeriodSeconds: 1},
	})
	f.create(p)
	got := f.waitPod("flaskapp", "Ready", ready)
	if got.Status.PodIP == "" || got.Status.HostIP != "127.0.0.2" || got.Status.Phase != corev1.PodRunning || got.Status.StartTime == nil {
		t.Fatalf("status: %+v", got.Status)
	}
	for name, want := range map[string]string{"version": "v1", "GREETING": "hello-v1", "MY_POD": "flaskapp", "MY_IP": got.Status.PodIP,
		"COLOR": "blue", "PASSWORD": "s3cret", "CM_color": "blue", "POD_IP": got.Status.PodIP, "HOSTNAME": "flaskapp"} {
		if _, body := httpGet(t, "http://"+got.Status.PodIP+"/env/"+name); body != want {
			t.Errorf("/env/%s = %q, want %q", name, body, want)
		}
	}
	// Deleting the pod stops its processes and removes its files.
	dir := filepath.Join(f.dataDir, "pods", string(got.UID))
	if _, err := f.c.Delete(ctx, api.LookupName("pods"), "default", "flaskapp"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod's files to go", func() bool { _, err := os.Stat(dir); return errors.Is(err, os.ErrNotExist) })
	waitFor(t, "the app to stop", func() bool {
		_, err := http.Get("http://" + got.Status.PodIP + "/env/version")
		return err != nil
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("waited 60s for %s", what)
}

func TestCrashLoopBackOffAndPreviousLogs(t *testing.T) {
	t.Parallel()
	f := start(t)
	f.create(pod("crash", busybox("crash", "echo run at $(date +%s%N); exit 3")))
	got := f.waitPod("crash", "CrashLoopBackOff after 2 restarts", func(p *corev1.Pod) bool {
		cs := containerStatus(p, "crash")
		return cs.RestartCount >= 2 && cs.State.Waiting != nil && cs.State.Waiting.Reason == lifecycle.ReasonCrashLoopBackOff
	})
	cs := containerStatus(got, "crash")
	if cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 3 || cs.LastTerminationState.Terminated.Reason != "Error" {
		t.Fatalf("last state: %+v", cs.LastTerminationState)
	}
	if got.Status.Phase != corev1.PodRunning || ready(got) {
		t.Fatalf("phase %s, ready %v", got.Status.Phase, ready(got))
	}
	// logs --previous: the run before the latest one, through the API.
	rc, err := f.c.Logs(context.Background(), "default", "crash", client.LogOptions{Previous: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.HasPrefix(string(b), "run at ") || strings.Count(string(b), "\n") != 1 {
		t.Fatalf("previous logs = %q", b)
	}
}

func TestRestartPolicyNever(t *testing.T) {
	t.Parallel()
	f := start(t)
	never := func(name, script string) {
		p := pod(name, busybox(name, script))
		p.Spec.RestartPolicy = corev1.RestartPolicyNever
		f.create(p)
	}
	never("fails", "exit 3")
	never("succeeds", "echo done")
	got := f.waitPod("fails", "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	if term := containerStatus(got, "fails").State.Terminated; term == nil || term.ExitCode != 3 || term.Reason != "Error" || containerStatus(got, "fails").RestartCount != 0 {
		t.Fatalf("status: %s", statusString(got))
	}
	got = f.waitPod("succeeds", "Succeeded", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	if term := containerStatus(got, "succeeds").State.Terminated; term == nil || term.ExitCode != 0 || term.Reason != "Completed" {
		t.Fatalf("status: %s", statusString(got))
	}
}

func TestImageNotFound(t *testing.T) {
	t.Parallel()
	f := start(t)
	f.create(pod("unknown", corev1.Container{Name: "app", Image: "hub.example.com/team/unknown:1.0"}))
	got := f.waitPod("unknown", "Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	w := containerStatus(got, "app").State.Waiting
	if got.Status.Reason != lifecycle.ReasonImageNotFound || !strings.Contains(got.Status.Message, "catalogue") || w == nil || w.Reason != lifecycle.ReasonImageNotFound {
		t.Fatalf("status: %s", statusString(got))
	}
}

func TestExecThroughTheAPI(t *testing.T) {
	t.Parallel()
	f := start(t)
	f.create(pod("box", busybox("box", "echo hello; echo $$ > /tmp/pid; sleep infinity")))
	f.waitPod("box", "Ready", ready)
	ctx := context.Background()
	var out, errb bytes.Buffer
	code, err := f.c.Exec(ctx, "default", "box", client.ExecOptions{
		Command: []string{"sh", "-c", "echo out; echo err >&2; cat /tmp/pid >/dev/null && echo $HOSTNAME; exit 7"}, Stdout: &out, Stderr: &errb})
	var ee *client.ExitError
	if code != 7 || !errors.As(err, &ee) || out.String() != "out\nbox\n" || errb.String() != "err\n" {
		t.Fatalf("exec: code %d, err %v, stdout %q, stderr %q", code, err, out.String(), errb.String())
	}
	out.Reset()
	code, err = f.c.Exec(ctx, "default", "box", client.ExecOptions{Command: []string{"tr", "a-z", "A-Z"}, Stdin: strings.NewReader("shout\n"), Stdout: &out})
	if code != 0 || err != nil || out.String() != "SHOUT\n" {
		t.Fatalf("exec with stdin: code %d, err %v, stdout %q", code, err, out.String())
	}
	if code, _ := f.c.Exec(ctx, "default", "box", client.ExecOptions{Command: []string{"no-such-command-weft"}}); code != 127 {
		t.Fatalf("exec of a missing command: code %d, want 127", code)
	}
	rc, err := f.c.Logs(ctx, "default", "box", client.LogOptions{TailLines: ptr(int64(1))})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "hello\n" {
		t.Fatalf("logs = %q", b)
	}
}

func TestAgentRestartAdoptsRunningPods(t *testing.T) {
	t.Parallel()
	f := start(t)
	got := f.create(pod("adopt", busybox("adopt", "sleep infinity")))
	f.waitPod("adopt", "Ready", ready)
	pidOf := func() int {
		obs, err := readObserved(f.dataDir, string(got.UID))
		if err != nil {
			t.Fatal(err)
		}
		o := obs["adopt"]
		if !o.Running() {
			t.Fatalf("not running: %+v", o)
		}
		return o.State.PID
	}
	before := pidOf()
	f.stop()
	f.run()
	// The restarted agent reports the pod again, without restarting it.
	f.waitPod("adopt", "Ready after the agent restarted", func(p *corev1.Pod) bool {
		return ready(p) && containerStatus(p, "adopt").RestartCount == 0
	})
	if after := pidOf(); after != before {
		t.Fatalf("pid changed from %d to %d", before, after)
	}
	// And it still manages it: deleting the pod stops it.
	if _, err := f.c.Delete(context.Background(), api.LookupName("pods"), "default", "adopt"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the adopted process to end", func() bool { return !processAlive(before) })
}

func TestOOMKilled(t *testing.T) {
	t.Parallel()
	m := cgroups.Detect("/sys/fs/cgroup", "weft/oom-probe")
	_ = Reset(t.TempDir(), "oom-probe")
	if m.Version() == cgroups.None {
		t.Skipf("cgroups unavailable here (%s): memory limits are not enforced", m.Reason())
	}
	f := start(t)
	c := busybox("hog", "tail /dev/zero")
	c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("32Mi")}
	p := pod("hog", c)
	p.Spec.RestartPolicy = corev1.RestartPolicyNever
	f.create(p)
	got := f.waitPod("hog", "OOMKilled", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	if term := containerStatus(got, "hog").State.Terminated; term == nil || term.Reason != "OOMKilled" || term.ExitCode != 137 {
		t.Fatalf("status: %s", statusString(got))
	}
}

func readObserved(dataDir, uid string) (map[string]runtime.Observed, error) {
	rt, err := runtime.New(filepath.Join(dataDir, "pods"), "")
	if err != nil {
		return nil, err
	}
	return rt.Observe(uid)
}

func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && len(s) > i+2 && s[i+2] != 'Z'
}

func (f *fixture) token() string { return f.srv.Token }

// TestTerminatingPodShowsItsContainersStop: while a deleted pod's sidecar
// drains after its app stopped, the status says so (kubectl shows 1/2
// Terminating), and nothing is restarted.
func TestTerminatingPodShowsItsContainersStop(t *testing.T) {
	t.Parallel()
	f := start(t)
	always := corev1.ContainerRestartPolicyAlways
	proxy := busybox("proxy", "trap 'sleep 2; exit 0' TERM; while true; do sleep 0.1; done")
	proxy.RestartPolicy = &always
	p := pod("draining", busybox("app", "trap 'exit 0' TERM; while true; do sleep 0.1; done"))
	p.Spec.InitContainers = []corev1.Container{proxy}
	f.create(p)
	f.waitPod("draining", "Ready", ready)
	if _, err := f.c.Delete(context.Background(), api.LookupName("pods"), "default", "draining"); err != nil {
		t.Fatal(err)
	}
	got := f.waitPod("draining", "app stopped while the proxy drains", func(p *corev1.Pod) bool {
		return containerStatus(p, "app").State.Terminated != nil && containerStatus(p, "proxy").State.Running != nil
	})
	if ready(got) || containerStatus(got, "app").Ready || got.DeletionTimestamp == nil {
		t.Fatalf("a terminating pod whose app stopped: %s", statusString(got))
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, err := f.c.Get(context.Background(), api.LookupName("pods"), "default", "draining")
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pod is still there 60s after its deletion (err %v)", err)
		}
	}
}
