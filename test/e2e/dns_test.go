package e2e

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// dig queries weftd's DNS with Debian's dig, as a user would.
func dig(t *testing.T, server string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("dig"); err != nil {
		t.Skip("dig not installed (apt-get install bind9-dnsutils; .ci/run does)")
	}
	host, port, _ := net.SplitHostPort(server)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "dig", append([]string{"@" + host, "-p", port, "+tries=1", "+time=5"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestClusterDNS applies a Service and its Endpoints and finds them in
// weftd's DNS: A, SRV, PTR, headless, NXDOMAIN.
func TestClusterDNS(t *testing.T) {
	t.Parallel()
	w := startWeftd(t, t.TempDir())
	manifest := `
apiVersion: v1
kind: Service
metadata: {name: flaskapp}
spec:
  clusterIP: 10.96.0.10
  selector: {app: flaskapp}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  ports: [{name: pg, port: 5432}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: db}
subsets:
- addresses: [{ip: 127.30.0.5}, {ip: 127.30.0.6}]
  ports: [{name: pg, port: 5432}]
`
	if out, errOut, code := w.weftctl(t, manifest, "apply", "-f", "-"); code != 0 {
		t.Fatalf("apply: %s%s", out, errOut)
	}
	srv := w.addrs["dns"]
	if srv == "" {
		t.Fatalf("no dns address in weftd.addrs: %v", w.addrs)
	}
	waitFor(t, 30*time.Second, "flaskapp's A record", func() bool {
		return strings.Contains(dig(t, srv, "+short", "flaskapp.default.svc.cluster.local", "A"), "10.96.0.10")
	})
	if out := dig(t, srv, "+short", "_http._tcp.flaskapp.default.svc.cluster.local", "SRV"); !strings.Contains(out, "80 flaskapp.default.svc.cluster.local.") {
		t.Errorf("SRV: %s", out)
	}
	if out := dig(t, srv, "+short", "-x", "10.96.0.10"); !strings.Contains(out, "flaskapp.default.svc.cluster.local.") {
		t.Errorf("PTR: %s", out)
	}
	waitFor(t, 30*time.Second, "headless db answers", func() bool {
		out := dig(t, srv, "+short", "db.default.svc.cluster.local", "A")
		return strings.Contains(out, "127.30.0.5") && strings.Contains(out, "127.30.0.6")
	})
	if out := dig(t, srv, "nope.default.svc.cluster.local", "A"); !strings.Contains(out, "status: NXDOMAIN") || !strings.Contains(out, "SOA") {
		t.Errorf("NXDOMAIN with SOA: %s", out)
	}
}

// waitFor polls cond until it holds or the (generous) bound passes.
func waitFor(t *testing.T, bound time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", bound, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
