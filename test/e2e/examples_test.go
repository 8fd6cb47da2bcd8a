package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/api"
)

// examplesDir holds one folder per seed scenario (examples/<scenario>/).
const examplesDir = "../../examples"

// applyExample applies example folders or files (paths relative to
// examples/), as a user runs `weftctl apply -f examples/<x>/`.
func applyExample(t *testing.T, w *weftd, rel ...string) {
	t.Helper()
	args := []string{"apply"}
	for _, r := range rel {
		args = append(args, "-f", filepath.Join(examplesDir, r))
	}
	if out, errOut, code := w.weftctl(t, "", args...); code != 0 {
		t.Fatalf("apply %v: exit %d\n%s%s", rel, code, out, errOut)
	}
}

// exampleSh runs a shell script in the sleep container of pod (through its
// sidecar, as `weftctl exec <sleep pod> -c sleep -- sh -c …`).
func exampleSh(t *testing.T, w *weftd, pod, script string) string {
	t.Helper()
	out, errOut, code := w.weftctl(t, "", "exec", pod, "-c", "sleep", "--", "sh", "-c", script)
	if code != 0 {
		t.Fatalf("exec in %s: exit %d\n%s%s", pod, code, out, errOut)
	}
	return out
}

// exampleLoad runs a shell loop in a sleep pod, again and again, until stop: the
// background traffic of a rolling update or an autoscaler. It never calls
// t.Fatal (it runs on its own goroutine); stop returns every line printed
// and the errors of the exec calls, if any.
type exampleLoad struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	lines  []string
	errs   []string
}

// startExampleLoad repeats `body` (one iteration of a shell loop) for chunks of
// 3 seconds inside pod until stop is called.
func startExampleLoad(w *weftd, pod, body string) *exampleLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &exampleLoad{cancel: cancel, done: make(chan struct{})}
	script := `end=$(($(date +%s)+3)); while [ "$(date +%s)" -lt "$end" ]; do ` + body + `; done`
	go func() {
		defer close(l.done)
		for ctx.Err() == nil {
			cmd := exec.Command(filepath.Join(binDir, "weftctl"), "--config", w.config, "exec", pod, "-c", "sleep", "--", "sh", "-c", script)
			cmd.Env = append(os.Environ(), "HOME="+w.dataDir)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			l.mu.Lock()
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				if line != "" {
					l.lines = append(l.lines, line)
				}
			}
			failed := err != nil && errb.Len() > 0
			if failed {
				l.errs = append(l.errs, fmt.Sprintf("%v: %s", err, strings.TrimSpace(errb.String())))
			}
			l.mu.Unlock()
			if failed {
				time.Sleep(200 * time.Millisecond) // no busy loop on a broken exec
			}
		}
	}()
	return l
}

// stop ends the loop after its current chunk and returns what it printed.
func (l *exampleLoad) stop() ([]string, []string) {
	l.cancel()
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines, l.errs
}

func exampleDeployment(t *testing.T, w *weftd, name string) *appsv1.Deployment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	obj, err := w.client(t).Get(ctx, api.LookupName("deploy"), "default", name)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*appsv1.Deployment)
}

func examplePod(t *testing.T, w *weftd, name string) *corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	obj, err := w.client(t).Get(ctx, api.LookupName("pods"), "default", name)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*corev1.Pod)
}

// exampleAccessLog is one line of a weft-proxy's JSON access log.
type exampleAccessLog struct {
	Path     string `json:"path"`
	Code     int    `json:"response_code"`
	Flags    string `json:"response_flags"`
	Attempts int    `json:"upstream_attempts"`
}

// exampleProxyLog reads the access log of pod's sidecar, keeping the lines whose
// path is path.
func exampleProxyLog(t *testing.T, w *weftd, pod, path string) []exampleAccessLog {
	t.Helper()
	out, errOut, code := w.weftctl(t, "", "logs", pod, "-c", "weft-proxy")
	if code != 0 {
		t.Fatalf("logs %s -c weft-proxy: %s%s", pod, out, errOut)
	}
	var res []exampleAccessLog
	for _, line := range strings.Split(out, "\n") {
		var e exampleAccessLog
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &e) != nil || e.Path != path {
			continue
		}
		res = append(res, e)
	}
	return res
}

// TestExamplesFolders checks examples/ as files: every scenario has a
// README and YAML; each copied seed or Istio file is byte for byte the
// corpus original (so the corpus-driven tests in mesh_test.go and
// workloads_test.go prove the examples too); every folder applies
// cleanly to a control plane.
func TestExamplesFolders(t *testing.T) {
	t.Parallel()
	scenarios := []string{"blue-green", "all-to-v1", "70-30-split", "header-canary", "mirroring", "circuit-breaking",
		"retries", "timeouts", "fault-injection", "rolling-update", "rollback", "hpa", "liveness", "bookinfo"}
	originals := []string{"seeds", "istio/samples/bookinfo/platform/kube", "istio/samples/bookinfo/networking", "."}
	ours := map[string]bool{"00-namespace.yaml": true, "13-flaskapp-vs-v2.yaml": true}
	var folders []string
	for _, s := range scenarios {
		if _, err := os.Stat(filepath.Join(examplesDir, s, "README.md")); err != nil {
			t.Errorf("examples/%s: no README.md", s)
		}
		err := filepath.WalkDir(filepath.Join(examplesDir, s), func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				folders = append(folders, p)
				return nil
			}
			base := filepath.Base(p)
			if !strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".txt") {
				return nil
			}
			if ours[base] {
				return nil
			}
			got, _ := os.ReadFile(p)
			for _, o := range originals {
				if want, err := os.ReadFile(filepath.Join(corpus, o, base)); err == nil {
					if !bytes.Equal(got, want) {
						t.Errorf("%s differs from testdata/corpus/%s/%s", p, o, base)
					}
					return nil
				}
			}
			t.Errorf("%s is neither a corpus copy nor one of the examples' own files", p)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(folders)

	w := startWeftd(t, t.TempDir(), "--agent=false")
	for _, f := range folders {
		out, errOut, code := w.weftctl(t, "", "apply", "-f", f)
		if code != 0 {
			t.Errorf("apply -f %s: exit %d\n%s%s", f, code, out, errOut)
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
			if line != "" && line != "Warning: ServiceAccount is stored but not acted on by Weft yet" {
				t.Errorf("apply -f %s: %s", f, line)
			}
		}
	}
}

// examplesNodeIPs are the node IPs of TestExamples' clusters: examples/hpa
// (seed 04) asks for node port 30077, which the node gateway binds on the
// node's IP, so no other test may use them.
var examplesNodeIPs = map[string]string{"host": "127.0.0.61", "netns": "127.0.0.62"}

// TestExamples runs examples/rolling-update, blue-green, retries, liveness
// and hpa on one cluster per network mode, one subtest each, asserting
// what each README says you will see. The other flaskapp and httpbin
// examples are the corpus seeds that TestMeshFlaskapp and TestMeshHttpbin
// run (TestExamplesFolders checks they are the same files).
func TestExamples(t *testing.T) {
	t.Parallel()
	for _, mode := range meshModes() {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			ip := examplesNodeIPs[mode]
			w := startWeftd(t, t.TempDir(), "--network", mode, "--node-ip", ip, "--agent-addr", ip+":0", "--stats-period", "5s", "--hpa-downscale-stabilization", "15s")
			// Everything at once, as four users of one cluster would: the
			// liveness probes start counting now.
			applyExample(t, w, "liveness/", "rolling-update/", "retries/", "hpa/")
			waitFor(t, 180*time.Second, "flaskapp v1 and v2, sleep, httpbin and test-scale ready", func() bool {
				return countReady(listPods(t, w.client(t), "app in (flaskapp,sleep,httpbin,test-scale-deployment)")) == 5
			})
			sleep := podName(t, w, "app=sleep")
			// The autoscaler needs time (a 15 s sync period, then the
			// stabilization window): its load runs while the others do.
			hpa := startExampleHPALoad(t, w, sleep)
			defer hpa.stop()
			t.Run("rolling-update", func(t *testing.T) { exampleRollingUpdate(t, w, sleep) })
			t.Run("blue-green", func(t *testing.T) { exampleBlueGreen(t, w, sleep) })
			t.Run("retries", func(t *testing.T) { exampleRetries(t, w, sleep) })
			t.Run("hpa/scale-out", func(t *testing.T) { exampleHPAOut(t, w, hpa) })
			t.Run("liveness", func(t *testing.T) { exampleLiveness(t, w) })
			t.Run("hpa/scale-in", func(t *testing.T) { exampleHPAIn(t, w) })
		})
	}
}

// exampleRollingUpdate is examples/rolling-update: both flaskapp
// deployments get a new image while the sleep pod calls flaskapp
// without pause through its sidecar; not one request fails.
func exampleRollingUpdate(t *testing.T, w *weftd, sleep string) {
	waitFor(t, 60*time.Second, "v1 and v2 answering through the mesh", func() bool {
		lines := curlFrom(t, w, sleep, 10, "http://flaskapp/env/version")
		return count(lines, "v1 HTTP 200") > 0 && count(lines, "v2 HTTP 200") > 0
	})
	old := map[string]bool{}
	for _, p := range listPods(t, w.client(t), "app=flaskapp") {
		old[p.Name] = true
	}
	l := startExampleLoad(w, sleep, `curl -s -m 10 -w ' HTTP %{http_code}\n' http://flaskapp/env/version`)
	defer l.stop()
	time.Sleep(time.Second) // the loop under way
	start := time.Now()
	for _, d := range []string{"flaskapp-v1", "flaskapp-v2"} {
		if out, errOut, code := w.weftctl(t, "", "set", "image", "deployment/"+d, "flaskapp=registry.ioros.com/docker.io/dustise/flaskapp:1.1"); code != 0 {
			t.Fatalf("set image %s: %s%s", d, out, errOut)
		}
	}
	for _, d := range []string{"flaskapp-v1", "flaskapp-v2"} {
		if out, errOut, code := w.weftctl(t, "", "rollout", "status", "deployment/"+d, "--timeout", "50s"); code != 0 {
			t.Fatalf("rollout status %s: %s%s", d, out, errOut)
		}
	}
	waitFor(t, 60*time.Second, "only new flaskapp pods, ready, the old ones gone", func() bool {
		pods := listPods(t, w.client(t), "app=flaskapp")
		for _, p := range pods {
			if old[p.Name] || !podReady(p) || !strings.HasSuffix(p.Spec.Containers[0].Image, ":1.1") {
				return false
			}
		}
		return len(pods) == 2
	})
	rolled := time.Since(start)
	time.Sleep(2 * time.Second) // and a little more traffic on the new pods
	lines, errs := l.stop()
	if len(errs) > 0 {
		t.Errorf("weftctl exec failed during the load: %v", errs)
	}
	ok := count(lines, "v1 HTTP 200") + count(lines, "v2 HTTP 200")
	var bad []string
	for _, line := range lines {
		if !strings.HasSuffix(line, "HTTP 200") {
			bad = append(bad, line)
		}
	}
	t.Logf("%d requests during the update (rolled in %s): %d answered 200, %d failed", len(lines), rolled.Round(time.Millisecond), ok, len(bad))
	if len(bad) > 0 {
		t.Errorf("a rolling update lost %d of %d requests through the mesh: %v", len(bad), len(lines), bad)
		out, _, _ := w.weftctl(t, "", "logs", sleep, "-c", "weft-proxy")
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "/env/version") && !strings.Contains(line, `"response_code":200,`) {
				t.Logf("sleep's sidecar: %s", line)
			}
		}
	}
	if len(lines) < 50 || ok != len(lines)-len(bad) {
		t.Errorf("too little load or unexpected answers: %d lines, %d of v1/v2", len(lines), ok)
	}
}

// exampleBlueGreen is examples/blue-green: with the subsets both versions
// answer; green/ sends every request to v2, blue/ back to v1.
func exampleBlueGreen(t *testing.T, w *weftd, sleep string) {
	url := "http://flaskapp/env/version"
	applyExample(t, w, "blue-green/")
	waitFor(t, 60*time.Second, "blue (v1) and green (v2) both answering", func() bool {
		lines := curlFrom(t, w, sleep, 20, url)
		return count(lines, "v1 HTTP 200") > 0 && count(lines, "v2 HTTP 200") > 0 && count(lines, "HTTP 200") == 20
	})
	applyExample(t, w, "blue-green/green/")
	waitFor(t, 60*time.Second, "every request on green (v2)", func() bool {
		return count(curlFrom(t, w, sleep, 20, url), "v2 HTTP 200") == 20
	})
	applyExample(t, w, "blue-green/blue/")
	waitFor(t, 60*time.Second, "every request back on blue (v1)", func() bool {
		return count(curlFrom(t, w, sleep, 20, url), "v1 HTTP 200") == 20
	})
}

// exampleRetries is examples/retries: a backend failing 30% of requests
// with 500 is hidden by the seed's retries (attempts 3 on 5xx); without
// them (retries/without/, seed 21) the failures reach the client.
func exampleRetries(t *testing.T, w *weftd, sleep string) {
	waitFor(t, 60*time.Second, "httpbin through the mesh", func() bool {
		return count(curlFrom(t, w, sleep, 3, "http://httpbin:8000/get"), "HTTP 200") == 3
	})
	// A request that always fails is tried 1 + 3 times.
	waitFor(t, 60*time.Second, "a 500 tried four times (the retries applied)", func() bool {
		if count(curlFrom(t, w, sleep, 1, "http://httpbin:8000/status/500"), "HTTP 500") != 1 {
			return false
		}
		logs := exampleProxyLog(t, w, sleep, "/status/500")
		return len(logs) > 0 && logs[len(logs)-1].Attempts == 4
	})
	const n = 100
	flaky := "/status/200:0.7,500:0.3" // go-httpbin's weighted random status
	lines := curlFrom(t, w, sleep, n, "http://httpbin:8000"+flaky)
	failed := count(lines, "HTTP 500")
	logs := exampleProxyLog(t, w, sleep, flaky)
	attempts := 0
	for _, e := range logs {
		attempts += e.Attempts
	}
	t.Logf("with retries: %d of %d failed; %d upstream attempts for %d requests", failed, n, attempts, len(logs))
	// 0.3^4: under one failure in a hundred expected.
	if failed > 5 || count(lines, "HTTP 200")+failed != n {
		t.Errorf("with retries, %d of %d requests failed (expected about 1): %v", failed, n, lines)
	}
	// About 1.42 attempts a request: 1 + 0.3 + 0.09 + 0.027.
	if len(logs) != n || attempts < n+15 || attempts > n+80 {
		t.Errorf("the sidecar's access log shows %d requests and %d upstream attempts (expected %d requests, about %d attempts)", len(logs), attempts, n, n*142/100)
	}

	applyExample(t, w, "retries/without/")
	waitFor(t, 60*time.Second, "a 500 tried once (the retries removed)", func() bool {
		if count(curlFrom(t, w, sleep, 1, "http://httpbin:8000/status/500"), "HTTP 500") != 1 {
			return false
		}
		logs := exampleProxyLog(t, w, sleep, "/status/500")
		return len(logs) > 0 && logs[len(logs)-1].Attempts == 1
	})
	flaky = "/status/500:0.3,200:0.7" // the same odds, told apart in the log
	lines = curlFrom(t, w, sleep, n, "http://httpbin:8000"+flaky)
	failed = count(lines, "HTTP 500")
	t.Logf("without retries: %d of %d failed", failed, n)
	if failed < 12 || failed > 50 || count(lines, "HTTP 200")+failed != n {
		t.Errorf("without retries, %d of %d requests failed (expected about 30): %v", failed, n, lines)
	}
}

var exampleHPATargets = regexp.MustCompile(`test-scale-hpa\s+Deployment/test-scale-deployment\s+cpu: (\d+)%/30%`)

// startExampleHPALoad begins examples/hpa's load: from the sleep pod, through
// its sidecar, test-scale-svc's /_weft/burn — about a third of a CPU,
// several times the 30% of 100m the HPA aims at.
func startExampleHPALoad(t *testing.T, w *weftd, sleep string) *exampleLoad {
	waitFor(t, 60*time.Second, "test-scale-svc through the mesh", func() bool {
		return count(curlFrom(t, w, sleep, 1, "http://test-scale-svc:8080/"), "HTTP 200") == 1
	})
	if d := exampleDeployment(t, w, "test-scale-deployment"); *d.Spec.Replicas != 1 {
		t.Fatalf("test-scale-deployment starts with %d replicas, want 1", *d.Spec.Replicas)
	}
	return startExampleLoad(w, sleep, `curl -s -o /dev/null -m 10 -w '%{http_code}\n' 'http://test-scale-svc:8080/_weft/burn?ms=100'; sleep 0.2`)
}

// exampleHPAOut is the first half of examples/hpa (seed 04): the CPU load
// of startExampleHPALoad scales the deployment out; then the load stops.
func exampleHPAOut(t *testing.T, w *weftd, l *exampleLoad) {
	defer l.stop()
	var replicas int32
	waitFor(t, 120*time.Second, "the HPA to scale test-scale-deployment out", func() bool {
		replicas = *exampleDeployment(t, w, "test-scale-deployment").Spec.Replicas
		return replicas >= 2
	})
	out, _, _ := w.weftctl(t, "", "get", "hpa")
	t.Logf("under load, %d replicas:\n%s", replicas, out)
	if !exampleHPATargets.MatchString(out) {
		t.Errorf("get hpa shows no cpu utilization against the 30%% target:\n%s", out)
	}
	top, _, code := w.weftctl(t, "", "top", "pod", "-l", "app=test-scale-deployment")
	if code != 0 || !regexp.MustCompile(`test-scale-deployment-\S+\s+\d+m`).MatchString(top) {
		t.Errorf("top pod:\n%s", top)
	}
	lines, errs := l.stop()
	t.Logf("load: %d requests, %d answered 200; exec errors: %v", len(lines), count(lines, "200"), errs)
}

// exampleHPAIn is the second half of examples/hpa: without load the
// deployment scales back to one replica after the downscale
// stabilization window (15 s here).
func exampleHPAIn(t *testing.T, w *weftd) {
	start := time.Now()
	waitFor(t, 150*time.Second, "the HPA to scale back to 1 replica once the load stopped", func() bool {
		return *exampleDeployment(t, w, "test-scale-deployment").Spec.Replicas == 1
	})
	t.Logf("back to 1 replica %s after this step began", time.Since(start).Round(time.Second))
	desc, _, _ := w.weftctl(t, "", "describe", "hpa", "test-scale-hpa")
	t.Logf("%s", desc[strings.Index(desc, "Events:"):])
	if !strings.Contains(desc, "New size: 1; reason: All metrics below target") {
		t.Errorf("describe hpa lacks the scale-in event:\n%s", desc)
	}
}

// exampleLiveness is examples/liveness (seed 05): liveness-exec's probe
// fails once the container removes /tmp/healthy (after 30 s); the
// container is restarted, and the restart is counted and explained.
func exampleLiveness(t *testing.T, w *weftd) {
	var st corev1.ContainerStatus
	waitFor(t, 150*time.Second, "liveness-exec restarted by its liveness probe", func() bool {
		for _, cs := range examplePod(t, w, "liveness-exec").Status.ContainerStatuses {
			if cs.Name == "liveness" {
				st = cs
			}
		}
		return st.RestartCount >= 1 && st.LastTerminationState.Terminated != nil
	})
	term := st.LastTerminationState.Terminated
	ran := term.FinishedAt.Sub(term.StartedAt.Time)
	t.Logf("liveness-exec: first run lasted %s (exit %d, %s), %d restarts", ran, term.ExitCode, term.Reason, st.RestartCount)
	// healthy for 30 s, then three failed probes 5 s apart.
	if ran < 28*time.Second || ran > 70*time.Second {
		t.Errorf("liveness-exec ran %s before its restart; the probe should fail about 40 s after start", ran)
	}
	out, _, _ := w.weftctl(t, "", "get", "pods", "-l", "test=liveness")
	if !regexp.MustCompile(`liveness-exec\s+\d/\d\s+\S+\s+[1-9]`).MatchString(out) {
		t.Errorf("get pods does not show liveness-exec's restarts:\n%s", out)
	}
	desc, _, _ := w.weftctl(t, "", "describe", "pod", "liveness-exec")
	if !strings.Contains(desc, "Liveness probe failed") || !strings.Contains(desc, "cat /tmp/healthy") {
		t.Errorf("describe pod liveness-exec does not say why it restarted:\n%s", desc)
	}
	prev, _, code := w.weftctl(t, "", "logs", "liveness-exec", "-c", "liveness", "--previous")
	if code != 0 || !strings.Contains(prev, "Exec-Started:") {
		t.Errorf("logs --previous: exit %d: %s", code, prev)
	}
	// liveness-http probes https://w.nocs.cn/pi.php: whether that answers
	// depends on the machine's network, so it is only reported.
	for _, cs := range examplePod(t, w, "liveness-http").Status.ContainerStatuses {
		if cs.Name == "liveness" {
			t.Logf("liveness-http: %d restarts", cs.RestartCount)
		}
	}
}
