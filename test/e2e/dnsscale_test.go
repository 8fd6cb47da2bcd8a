package e2e

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeUpstream is a resolver on 127.0.0.1 (UDP and TCP on one port) that
// knows one name outside the cluster, www.example.test A 192.0.2.7, and
// answers NXDOMAIN for others. It counts the queries it gets.
func fakeUpstream(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var queries atomic.Int64
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		queries.Add(1)
		m := new(dns.Msg)
		m.SetReply(r)
		if q := r.Question[0]; strings.EqualFold(q.Name, "www.example.test.") && q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30}, A: net.ParseIP("192.0.2.7")})
		} else {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	var pc net.PacketConn
	var ln net.Listener
	for range 10 { // the TCP port of a fresh UDP port is almost always free
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		pc = nil
	}
	if pc == nil {
		t.Fatal("no free port for the fake upstream on UDP and TCP")
	}
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		go func() { _ = s.ActivateAndServe() }()
		t.Cleanup(func() { _ = s.Shutdown() })
	}
	return pc.LocalAddr().String(), &queries
}

// TestHeadlessServiceScaling is issue 4's done-when: scaling a deployment
// changes its headless service's endpoints and DNS answers (A and SRV,
// queried with dig) promptly; a name outside the cluster is forwarded to
// the upstream weftd is given (a fake one: no internet here).
func TestHeadlessServiceScaling(t *testing.T) {
	t.Parallel()
	upstream, queries := fakeUpstream(t)
	w := startWeftd(t, t.TempDir(), "--dns-upstream", upstream)
	c := w.client(t)
	srv := w.addrs["dns"]
	manifest := `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      containers: [{name: web, image: nginx:1.14, ports: [{name: http, containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 80}]
`
	seedWeftctl(t, w, manifest, "apply", "-f", "-")

	// External names first: they need no pods.
	if out := dig(t, srv, "+short", "www.example.test", "A"); strings.TrimSpace(out) != "192.0.2.7" {
		t.Errorf("www.example.test through the upstream: %q", out)
	}
	if out := dig(t, srv, "nope.example.test", "A"); !strings.Contains(out, "status: NXDOMAIN") {
		t.Errorf("the upstream's NXDOMAIN: %s", out)
	}
	if queries.Load() == 0 {
		t.Error("the fake upstream got no query")
	}

	name := "web.default.svc.cluster.local"
	converged := func(n int) {
		t.Helper()
		start := time.Now()
		seedPoll(t, 90*time.Second, fmt.Sprintf("endpoints and DNS answers of the headless service for %d ready pods", n), func() bool {
			var want []string
			pods := listPods(t, c, "app=web")
			for _, p := range pods {
				if podReady(p) {
					want = append(want, p.Status.PodIP)
				}
			}
			if len(want) != n || len(pods) != n {
				return false
			}
			slices.Sort(want)
			eps, _ := seedEndpoints(t, c, "default", "web")
			slices.Sort(eps)
			a := strings.Fields(dig(t, srv, "+short", name, "A"))
			slices.Sort(a)
			srvs := strings.Split(strings.TrimSpace(dig(t, srv, "+short", "_http._tcp."+name, "SRV")), "\n")
			return slices.Equal(eps, want) && slices.Equal(a, want) && len(srvs) == n && strings.Contains(srvs[0], " 80 ")
		})
		t.Logf("%d pod(s): endpoints and DNS converged %s after the condition was first checked", n, time.Since(start).Round(100*time.Millisecond))
	}
	converged(2)
	seedWeftctl(t, w, "", "scale", "deployment", "web", "--replicas=4")
	converged(4)
	seedWeftctl(t, w, "", "scale", "deployment", "web", "--replicas=1")
	converged(1)
	if out := seedWeftctl(t, w, "", "get", "endpoints", "web"); strings.Count(out, ":80") != 1 {
		t.Errorf("get endpoints after scaling to 1:\n%s", out)
	}
}
