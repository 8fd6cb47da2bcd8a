package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// meshModes are the pod network modes the mesh tests run in: netns needs root.
func meshModes() []string {
	if os.Geteuid() == 0 {
		return []string{"host", "netns"}
	}
	return []string{"host"}
}

// podName returns the name of a Running pod with the label selector.
func podName(t *testing.T, w *weftd, selector string) string {
	t.Helper()
	for _, p := range listPods(t, w.client(t), selector) {
		if podReady(p) {
			return p.Name
		}
	}
	t.Fatalf("no ready pod with %s", selector)
	return ""
}

// curlFrom runs curl n times inside a pod (through its sidecar) and returns
// one line per response: the body, or "HTTP <code>" when the body is empty.
func curlFrom(t *testing.T, w *weftd, pod string, n int, url string, headers ...string) []string {
	t.Helper()
	h := ""
	for _, hd := range headers {
		h += fmt.Sprintf(" -H '%s'", hd)
	}
	script := fmt.Sprintf(`for i in $(seq %d); do curl -s -m 10%s -w ' HTTP %%{http_code}\n' %s; done`, n, h, url)
	out, errOut, code := w.weftctl(t, "", "exec", pod, "-c", strings.SplitN(pod, "-", 2)[0], "--", "sh", "-c", script)
	if code != 0 {
		t.Fatalf("exec curl in %s: exit %d\n%s%s", pod, code, out, errOut)
	}
	return strings.Split(strings.TrimSpace(out), "\n")
}

func count(lines []string, sub string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, sub) {
			n++
		}
	}
	return n
}

func applyFile(t *testing.T, w *weftd, rel string) {
	t.Helper()
	if out, errOut, code := w.weftctl(t, "", "apply", "-f", filepath.Join(corpus, rel)); code != 0 {
		t.Fatalf("apply %s: %s%s", rel, out, errOut)
	}
}

// TestMeshFlaskapp is seeds 10–16: from the sleep pod, flaskapp answers v1
// and v2; a DestinationRule's subsets and VirtualServices then send all
// traffic to v1, split it 70/30, route a canary header to v2, and mirror
// canary traffic to v1.
func TestMeshFlaskapp(t *testing.T) {
	t.Parallel()
	for _, mode := range meshModes() {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			w := startWeftd(t, t.TempDir(), "--network", mode)
			applyFile(t, w, "seeds/10-flaskapp.yaml")
			applyFile(t, w, "seeds/11-sleep.yaml")
			if out, errOut, code := w.weftctl(t, jobWithSidecar, "apply", "-f", "-"); code != 0 {
				t.Fatalf("apply the job-like pod: %s%s", out, errOut)
			}
			waitFor(t, 120*time.Second, "flaskapp v1, v2 and sleep ready", func() bool {
				return countReady(listPods(t, w.client(t), "app in (flaskapp,sleep)")) == 3
			})
			sleep := podName(t, w, "app=sleep")
			url := "http://flaskapp/env/version"

			var lines []string
			waitFor(t, 60*time.Second, "both versions answering through the mesh", func() bool {
				lines = curlFrom(t, w, sleep, 20, url)
				return count(lines, "v1 HTTP 200") > 0 && count(lines, "v2 HTTP 200") > 0
			})

			applyFile(t, w, "seeds/12-flaskapp-destinationrule.yaml")
			applyFile(t, w, "seeds/13-flaskapp-vs-v1.yaml")
			waitFor(t, 60*time.Second, "all traffic on v1", func() bool {
				return count(curlFrom(t, w, sleep, 20, url), "v1 HTTP 200") == 20
			})

			applyFile(t, w, "seeds/14-flaskapp-vs-70-30.yaml")
			waitFor(t, 60*time.Second, "a 70/30 split", func() bool {
				lines = curlFrom(t, w, sleep, 200, url)
				v1, v2 := count(lines, "v1 HTTP 200"), count(lines, "v2 HTTP 200")
				return v1+v2 == 200 && v1 >= 110 && v1 <= 170 // 140 expected; generous bounds
			})

			applyFile(t, w, "seeds/15-flaskapp-vs-canary.yaml")
			waitFor(t, 60*time.Second, "the canary header routed to v2", func() bool {
				return count(curlFrom(t, w, sleep, 10, url, "lab: canary"), "v2 HTTP 200") == 10 &&
					count(curlFrom(t, w, sleep, 10, url), "v1 HTTP 200") == 10
			})

			checkJobWithSidecar(t, w)

			// Istio's metrics name the client workload (the injector gave
			// the proxy its pod's labels).
			stats, errOut, code := w.weftctl(t, "", "exec", sleep, "-c", "sleep", "--", "sh", "-c", "curl -s http://${POD_IP:-127.0.0.1}:15090/stats/prometheus")
			if code != 0 || !regexp.MustCompile(`istio_requests_total\{[^}]*reporter="source"[^}]*source_app="sleep"`).MatchString(stats) {
				t.Errorf("the sleep sidecar's istio_requests_total should carry source_app=\"sleep\": exit %d %s\n%.3000s", code, errOut, stats)
			}

			applyFile(t, w, "seeds/16-flaskapp-vs-mirror.yaml")
			v1 := podName(t, w, "app=flaskapp,version=v1")
			waitFor(t, 60*time.Second, "canary traffic mirrored to v1", func() bool {
				if count(curlFrom(t, w, sleep, 5, url, "lab: canary"), "v2 HTTP 200") != 5 {
					return false
				}
				logs, _, _ := w.weftctl(t, "", "logs", v1, "-c", "flaskapp")
				return strings.Contains(logs, "flaskapp-shadow")
			})
		})
	}
}

// jobWithSidecar is a pod that runs to completion, with a sidecar: its
// container asks the proxy's readiness endpoint first thing (on the pod's
// loopback address in host mode, on 127.0.0.1 in its network namespace),
// and exits.
const jobWithSidecar = `apiVersion: v1
kind: Pod
metadata:
  name: job-with-sidecar
  annotations:
    sidecar.istio.io/inject: "true"
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "curl -s -o /dev/null -w 'proxy readiness at app start: %{http_code}\\n' http://${POD_IP:-127.0.0.1}:15021/healthz/ready; echo done"]
`

// checkJobWithSidecar: the app container started only once weft-proxy was
// ready (a native sidecar), and when it exited the proxy was stopped and
// the pod completed, as a Job's pod must.
func checkJobWithSidecar(t *testing.T, w *weftd) {
	t.Helper()
	// The proxy drains (5 s) before it exits.
	waitFor(t, 60*time.Second, "the job-like pod Succeeded, its weft-proxy terminated", func() bool {
		p := examplePod(t, w, "job-with-sidecar")
		for _, cs := range p.Status.InitContainerStatuses {
			if cs.Name == "weft-proxy" && cs.State.Terminated == nil {
				return false
			}
		}
		return p.Status.Phase == corev1.PodSucceeded
	})
	if out, errOut, code := w.weftctl(t, "", "logs", "job-with-sidecar"); code != 0 || !strings.Contains(out, "proxy readiness at app start: 200") {
		t.Errorf("the app should have found its proxy ready when it started (logs without -c pick the one app container): exit %d\n%s%s", code, out, errOut)
	}
}

// TestMeshHttpbin is seeds 20–24: the circuit breaker answers 503 to some
// of three concurrent connections and to none of one; retries hide a
// flaky backend; a timeout answers 504.
func TestMeshHttpbin(t *testing.T) {
	t.Parallel()
	for _, mode := range meshModes() {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			w := startWeftd(t, t.TempDir(), "--network", mode)
			applyFile(t, w, "seeds/20-httpbin.yaml")
			applyFile(t, w, "seeds/11-sleep.yaml")
			// httpbin gets a sidecar too, as in the seed's namespace.
			waitFor(t, 120*time.Second, "httpbin and sleep ready", func() bool {
				return countReady(listPods(t, w.client(t), "app in (httpbin,sleep)")) == 2
			})
			sleep := podName(t, w, "app=sleep")
			applyFile(t, w, "seeds/21-httpbin-vs.yaml")
			waitFor(t, 60*time.Second, "httpbin through the mesh", func() bool {
				return count(curlFrom(t, w, sleep, 3, "http://httpbin:8000/get"), "HTTP 200") == 3
			})

			applyFile(t, w, "seeds/24-httpbin-timeout.yaml") // 3s
			waitFor(t, 60*time.Second, "a 2s delay to pass and a 5s delay to time out", func() bool {
				return count(curlFrom(t, w, sleep, 1, "http://httpbin:8000/delay/2"), "HTTP 200") == 1 &&
					count(curlFrom(t, w, sleep, 1, "http://httpbin:8000/delay/5"), "HTTP 504") == 1
			})

			applyFile(t, w, "seeds/22-httpbin-circuit-breaker.yaml")
			parallel := func(n int) []string {
				script := fmt.Sprintf(`for c in $(seq %d); do (for i in $(seq 10); do curl -s -o /dev/null -m 10 -w 'HTTP %%{http_code}\n' http://httpbin:8000/delay/0.2; done) & done; wait`, n)
				out, errOut, code := w.weftctl(t, "", "exec", sleep, "-c", "sleep", "--", "sh", "-c", script)
				if code != 0 {
					t.Fatalf("exec: %d %s%s", code, out, errOut)
				}
				return strings.Split(strings.TrimSpace(out), "\n")
			}
			waitFor(t, 60*time.Second, "503s with 3 concurrent connections", func() bool {
				return count(parallel(3), "HTTP 503") > 0
			})
			if got := parallel(1); count(got, "HTTP 200") != 10 {
				t.Errorf("one connection at a time should never trip the breaker: %v", got)
			}
		})
	}
}
