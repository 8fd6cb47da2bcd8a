package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// meshYAML is a small mesh: an injected namespace, reviews v1..v3 with
// their sidecars, and the DestinationRule of reviews.
const meshYAML = `
apiVersion: v1
kind: Namespace
metadata: {name: default, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v1, labels: {app: reviews, version: v1}}
spec:
  containers:
  - {name: reviews, image: examples-bookinfo-reviews-v1, ports: [{containerPort: 9080}]}
  - {name: weft-proxy, image: weft/proxy}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v2, labels: {app: reviews, version: v2}}
spec:
  containers:
  - {name: reviews, image: examples-bookinfo-reviews-v2, ports: [{containerPort: 9080}]}
  - {name: weft-proxy, image: weft/proxy}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v3, labels: {app: reviews, version: v3}}
spec:
  containers:
  - {name: reviews, image: examples-bookinfo-reviews-v3, ports: [{containerPort: 9080}]}
  - {name: weft-proxy, image: weft/proxy}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
`

func reviewsVS(subset string) string {
	return `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: ` + subset + `}
`
}

func (r *run) mustApply(yaml string, args ...string) {
	r.t.Helper()
	if out, errOut, code := r.weftctl(yaml, append([]string{"apply", "-f", "-"}, args...)...); code != 0 {
		r.t.Fatalf("apply: %s%s", out, errOut)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAnalyzeCommand(t *testing.T) {
	r := newRun(t)
	r.mustApply(meshYAML)
	r.mustApply(reviewsVS("v1"))

	t.Run("clean", func(t *testing.T) {
		out, errOut, code := r.weftctl("", "analyze")
		if code != 0 || out != "" || errOut != "\u2714 No validation issues found when analyzing namespace: default.\n" {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
		}
		_, errOut, code = r.weftctl("", "analyze", "-A")
		if code != 0 || !strings.Contains(errOut, "No validation issues found when analyzing all namespaces.") {
			t.Fatalf("-A: exit %d: %s", code, errOut)
		}
	})

	t.Run("a file that would break the cluster", func(t *testing.T) {
		f := writeFile(t, "reviews-v4.yaml", reviewsVS("v4"))
		out, errOut, code := r.weftctl("", "analyze", "-f", f)
		if code != 79 {
			t.Fatalf("exit %d, want 79\n%s%s", code, out, errOut)
		}
		want := `Error [IST0101] (VirtualService default/reviews ` + f + ` doc 1) Referenced host+subset in destinationrule not found: "reviews+v4"` + "\n" +
			`    Fix: define subset "v4" in the DestinationRule for reviews.default.svc.cluster.local, or route to a subset it defines: v1, v2, v3` + "\n"
		if out != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
		}
		if !strings.Contains(errOut, "Error: Analyzers found issues when analyzing namespace: default.") {
			t.Errorf("stderr: %s", errOut)
		}
		// The same file, alone: its host has no service either.
		out, _, code = r.weftctl("", "analyze", "--use-cluster=false", f)
		if code != 79 || !strings.Contains(out, `Referenced host not found: "reviews"`) || !strings.Contains(out, `"reviews+v4"`) {
			t.Errorf("files alone: exit %d\n%s", code, out)
		}
	})

	t.Run("live errors", func(t *testing.T) {
		r.mustApply(reviewsVS("v4"))
		defer r.mustApply(reviewsVS("v1"))
		out, errOut, code := r.weftctl("", "analyze")
		if code != 79 {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
		first, _, _ := strings.Cut(out, "\n")
		if want := `Error [IST0101] (VirtualService default/reviews) Referenced host+subset in destinationrule not found: "reviews+v4"`; first != want {
			t.Errorf("got  %s\nwant %s", first, want)
		}
		// Suppressed, it passes.
		_, errOut, code = r.weftctl("", "analyze", "-S", "IST0101=VirtualService reviews.*")
		if code != 0 || !strings.Contains(errOut, "No validation issues") {
			t.Errorf("suppressed: exit %d: %s", code, errOut)
		}
		// JSON for scripts, with the same exit code.
		out, _, code = r.weftctl("", "analyze", "-o", "json")
		var msgs []map[string]any
		if err := json.Unmarshal([]byte(out), &msgs); err != nil || len(msgs) != 1 || code != 79 {
			t.Fatalf("json: exit %d %v\n%s", code, err, out)
		}
		if msgs[0]["code"] != "IST0101" || msgs[0]["level"] != "Error" || msgs[0]["fix"] == "" {
			t.Errorf("json: %v", msgs[0])
		}
	})

	t.Run("thresholds and namespaces", func(t *testing.T) {
		r.mustApply(`
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Service
metadata: {name: sleep, namespace: other}
spec:
  selector: {app: sleep}
  ports: [{name: ssh, port: 80}]
`)
		// Other namespaces are not looked at without -A or -n.
		if _, errOut, code := r.weftctl("", "analyze"); code != 0 {
			t.Fatalf("default: exit %d: %s", code, errOut)
		}
		// Infos are shown, and do not fail.
		out, _, code := r.weftctl("", "analyze", "-n", "other")
		if code != 0 || !strings.Contains(out, "Info [IST0102] (Namespace other)") ||
			!strings.Contains(out, "Info [IST0118] (Service other/sleep) Port name ssh (port: 80, targetPort: 80) doesn't follow the naming convention of Istio port.") {
			t.Fatalf("-n other: exit %d\n%s", code, out)
		}
		if _, errOut, code := r.weftctl("", "analyze", "-n", "nope"); code != 0 || !strings.Contains(errOut, `Warning: namespace "nope" not found`) {
			t.Errorf("-n nope: exit %d: %s", code, errOut)
		}
		if _, _, code := r.weftctl("", "analyze", "-A", "--failure-threshold", "Info"); code != 79 {
			t.Errorf("--failure-threshold Info: exit %d", code)
		}
		out, errOut, code := r.weftctl("", "analyze", "-n", "other", "--output-threshold", "Warning")
		if code != 0 || out != "" || !strings.Contains(errOut, "No validation issues found when analyzing namespace: other.") {
			t.Errorf("--output-threshold Warning: exit %d\n%s%s", code, out, errOut)
		}
	})

	t.Run("unreadable file", func(t *testing.T) {
		f := writeFile(t, "bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containerz: []}\n")
		_, errOut, code := r.weftctl("", "analyze", "-f", f)
		if code != 65 || !strings.Contains(errOut, "spec.containerz: unknown field") || !strings.Contains(errOut, "could not be parsed") {
			t.Errorf("exit %d: %s", code, errOut)
		}
	})

	t.Run("list", func(t *testing.T) {
		out, _, code := r.weftctl("", "analyze", "-L")
		for _, want := range []string{"IST0101", "IST0109", "IST0118", "IST0103", "IST0173"} {
			if code != 0 || !strings.Contains(out, want) {
				t.Errorf("-L lacks %s:\n%s", want, out)
			}
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"analyze", "-o", "xml"},
			{"analyze", "--failure-threshold", "fatal"},
			{"analyze", "-S", "IST0101"},
			{"analyze", "--use-cluster=false"},
		} {
			if _, errOut, code := r.weftctl("", args...); code != 1 || errOut == "" {
				t.Errorf("%v: exit %d: %s", args, code, errOut)
			}
		}
	})
}

// Bookinfo applied as its README says: analyze reports the subsets whose
// versions are not deployed, as Istio's analyzers do.
func TestAnalyzeBookinfoCluster(t *testing.T) {
	r := newRun(t)
	for _, f := range []string{
		"istio/samples/bookinfo/platform/kube/bookinfo.yaml",
		"istio/samples/bookinfo/networking/destination-rule-all.yaml",
		"istio/samples/bookinfo/networking/virtual-service-all-v1.yaml",
	} {
		if out, errOut, code := r.weftctl("", "apply", "-f", filepath.Join(corpus, f)); code != 0 {
			t.Fatalf("apply %s: %s%s", f, out, errOut)
		}
	}
	out, _, code := r.weftctl("", "analyze")
	if code != 79 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(l, "    Fix:") {
			got = append(got, l)
		}
	}
	want := []string{
		"Info [IST0102] (Namespace default) The namespace is not enabled for sidecar injection. Label it istio-injection=enabled (or weft-injection=enabled) to enable it, or istio-injection=disabled to explicitly mark it as not needing injection.",
		"Error [IST0173] (DestinationRule default/details) The Subset v2 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).",
		"Error [IST0173] (DestinationRule default/ratings) The Subset v2 defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).",
		"Error [IST0173] (DestinationRule default/ratings) The Subset v2-mysql defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).",
		"Error [IST0173] (DestinationRule default/ratings) The Subset v2-mysql-vm defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream).",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
