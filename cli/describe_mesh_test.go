package cli_test

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDescribeMeshPod(t *testing.T) {
	r := newRun(t)
	r.mustApply(meshYAML)
	networking := filepath.Join(corpus, "istio/samples/bookinfo/networking")
	apply := func(file string) {
		t.Helper()
		if out, errOut, code := r.weftctl("", "apply", "-f", filepath.Join(networking, file)); code != 0 {
			t.Fatalf("apply %s: %s%s", file, out, errOut)
		}
	}
	describe := func(pod string, args ...string) string {
		t.Helper()
		out, errOut, code := r.weftctl("", append([]string{"x", "describe", "pod", pod}, args...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		return out
	}

	t.Run("no VirtualService", func(t *testing.T) {
		want := `Pod: reviews-v1
   Namespace: default
   Pod Ports: 9080 (reviews)
--------------------
Service: reviews
   Port: http 9080/HTTP targets pod port 9080
DestinationRule: reviews for "reviews"
   Matching subsets: v1
      (Non-matching subsets v2,v3)
   No Traffic Policy
VirtualService: none for reviews
   Requests for reviews reach all its pods, this one among them
`
		if got := describe("reviews-v1"); got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("80/20", func(t *testing.T) {
		apply("virtual-service-reviews-80-20.yaml")
		got := describe("reviews-v1")
		want := `VirtualService: reviews
   1 HTTP route(s)
   HTTP route 0 for (everything): Weight 80% to this pod (subset v1); 20% to non-matching subset v2
`
		if !strings.HasSuffix(got, want) {
			t.Fatalf("got\n%s\nwant the end to be\n%s", got, want)
		}
		if got := describe("reviews-v2"); !strings.Contains(got, "HTTP route 0 for (everything): Weight 20% to this pod (subset v2); 80% to non-matching subset v1") {
			t.Errorf("v2:\n%s", got)
		}
		got = describe("reviews-v3")
		for _, want := range []string{
			"WARNING: No destinations match pod subsets (checked 1 HTTP and 0 TCP routes)",
			"HTTP route 0 for (everything): none to this pod; 80% to non-matching subset v1; 20% to non-matching subset v2",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("v3 lacks %q:\n%s", want, got)
			}
		}
	})

	t.Run("header canary", func(t *testing.T) {
		apply("virtual-service-reviews-jason-v2-v3.yaml")
		got := describe("reviews-v2.default") // NAME.NAMESPACE works too
		for _, want := range []string{
			"2 HTTP route(s)",
			"HTTP route 0 for (when headers are end-user=jason): Weight 100% to this pod (subset v2)",
			"HTTP route 1 for (everything): Route to non-matching subset v3, not to this pod",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("lacks %q:\n%s", want, got)
			}
		}
	})

	t.Run("traffic policy, undefined subsets, no sidecar", func(t *testing.T) {
		r.mustApply(`
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews}
spec:
  host: reviews
  trafficPolicy: {connectionPool: {tcp: {maxConnections: 1}}}
  subsets:
  - {name: v1, labels: {version: v1}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews}
spec:
  hosts: [reviews]
  http:
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 50}
    - {destination: {host: reviews, subset: v9}, weight: 50}
    mirror: {host: reviews, subset: v1}
    mirrorPercentage: {value: 25}
---
apiVersion: v1
kind: Pod
metadata: {name: plain, labels: {app: reviews, version: v1}}
spec:
  containers: [{name: reviews, image: examples-bookinfo-reviews-v1}]
`)
		got := describe("plain")
		for _, want := range []string{
			"WARNING: plain is not part of the mesh: it has no weft-proxy sidecar",
			`Traffic Policy: {"connectionPool":{"tcp":{"maxConnections":1}}}`,
			"HTTP route 0 for (everything): Weight 50% to this pod (subset v1); 50% to non-matching subset v9",
			"HTTP route 0 for (everything): Mirror 25% of its requests to this pod (subset v1)",
			`WARNING: subset "v9" is not defined by any DestinationRule for reviews (weftctl analyze: IST0101)`,
		} {
			if !strings.Contains(got, want) {
				t.Errorf("lacks %q:\n%s", want, got)
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		if _, errOut, code := r.weftctl("", "x", "describe", "pod", "nope"); code == 0 || !strings.Contains(errOut, "not found") {
			t.Errorf("missing pod: exit %d: %s", code, errOut)
		}
		r.mustApply("apiVersion: v1\nkind: Pod\nmetadata: {name: lonely, labels: {app: lonely}}\nspec: {containers: [{name: a, image: busybox}]}\n")
		out, _, _ := r.weftctl("", "x", "describe", "pod", "lonely")
		if !strings.Contains(out, "No Service selects this pod") {
			t.Errorf("lonely:\n%s", out)
		}
	})
}
