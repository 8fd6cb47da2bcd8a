package dns

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
)

type lookupCase struct {
	name   string
	qtype  uint16
	rcode  int
	answer []string // rdata(), in order
	extra  []string
	soa    bool   // the zone's SOA in the authority section
	chase  string // Result.Chase
}

func runLookups(t *testing.T, ix *Index, cases []lookupCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name+"/"+dns.TypeToString[c.qtype], func(t *testing.T) {
			res, ok := ix.Lookup(c.name, c.qtype, DefaultTTL)
			if !ok {
				t.Fatalf("Lookup: not the index's to answer")
			}
			if res.Rcode != c.rcode {
				t.Errorf("rcode = %s, want %s", dns.RcodeToString[res.Rcode], dns.RcodeToString[c.rcode])
			}
			if got := rdata(res.Answer); !slices.Equal(got, c.answer) {
				t.Errorf("answer =\n  %q\nwant\n  %q", got, c.answer)
			}
			if got := rdata(res.Extra); !slices.Equal(got, c.extra) {
				t.Errorf("extra =\n  %q\nwant\n  %q", got, c.extra)
			}
			hasSOA := len(res.Ns) == 1 && res.Ns[0].Header().Rrtype == dns.TypeSOA && res.Ns[0].Header().Name == "cluster.local."
			if hasSOA != c.soa {
				t.Errorf("authority = %v, want SOA: %v", res.Ns, c.soa)
			}
			if res.Chase != c.chase {
				t.Errorf("chase = %q, want %q", res.Chase, c.chase)
			}
			for _, rr := range res.Answer {
				if rr.Header().Ttl != DefaultTTL {
					t.Errorf("ttl of %v = %d, want %d", rr, rr.Header().Ttl, DefaultTTL)
				}
			}
		})
	}
}

const (
	success  = dns.RcodeSuccess
	nxdomain = dns.RcodeNameError
)

func TestIndexA(t *testing.T) {
	runLookups(t, newTestCluster().index(DefaultZone), []lookupCase{
		{name: "flaskapp.default.svc.cluster.local.", qtype: dns.TypeA, rcode: success, answer: []string{"A 10.96.0.10"}},
		{name: "FlaskApp.Default.SVC.Cluster.Local.", qtype: dns.TypeA, rcode: success, answer: []string{"A 10.96.0.10"}},
		{name: "flaskapp.default.svc.cluster.local.", qtype: dns.TypeAAAA, rcode: success, soa: true}, // NODATA
		{name: "dual.default.svc.cluster.local.", qtype: dns.TypeA, rcode: success, answer: []string{"A 10.96.0.20"}},
		{name: "dual.default.svc.cluster.local.", qtype: dns.TypeAAAA, rcode: success, answer: []string{"AAAA fd00::20"}},
		{name: "api.team.svc.cluster.local.", qtype: dns.TypeA, rcode: success, answer: []string{"A 10.96.1.1"}},
	})
}

func TestIndexHeadless(t *testing.T) {
	runLookups(t, newTestCluster().index(DefaultZone), []lookupCase{
		// Ready endpoints only; 10.0.1.4 is not ready.
		{name: "web.default.svc.cluster.local.", qtype: dns.TypeA, rcode: success,
			answer: []string{"A 10.0.1.1", "A 10.0.1.2", "A 10.0.1.3", "A 10.0.1.5"}},
		// publishNotReadyAddresses: both.
		{name: "pub.default.svc.cluster.local.", qtype: dns.TypeA, rcode: success, answer: []string{"A 10.0.2.1", "A 10.0.2.2"}},
		// Endpoint names: the pod's hostname (targetRef, then by IP), the
		// endpoint's hostname, else the dashed address.
		{name: "web-0.web.default.svc.cluster.local.", qtype: dns.TypeA, rcode: success, answer: []string{"A 10.0.1.1"}},
		{name: "web-1.web.default.svc.cluster.local.", qtype: dns.TypeA, rcode: success, answer: []string{"A 10.0.1.2"}},
		{name: "10-0-1-3.web.default.svc.cluster.local.", qtype: dns.TypeA, rcode: success, answer: []string{"A 10.0.1.3"}},
		{name: "web-5.web.default.svc.cluster.local.", qtype: dns.TypeA, rcode: success, answer: []string{"A 10.0.1.5"}},
		{name: "10-0-1-4.web.default.svc.cluster.local.", qtype: dns.TypeA, rcode: nxdomain, soa: true},
		{name: "10-0-2-2.pub.default.svc.cluster.local.", qtype: dns.TypeA, rcode: success, answer: []string{"A 10.0.2.2"}},
	})
}

func TestIndexSRV(t *testing.T) {
	runLookups(t, newTestCluster().index(DefaultZone), []lookupCase{
		{name: "_http._tcp.flaskapp.default.svc.cluster.local.", qtype: dns.TypeSRV, rcode: success,
			answer: []string{"SRV 0 100 80 flaskapp.default.svc.cluster.local."},
			extra:  []string{"A 10.96.0.10"}},
		{name: "_http._tcp.web.default.svc.cluster.local.", qtype: dns.TypeSRV, rcode: success,
			answer: []string{
				"SRV 0 25 8080 10-0-1-3.web.default.svc.cluster.local.",
				"SRV 0 25 8080 web-0.web.default.svc.cluster.local.",
				"SRV 0 25 8080 web-1.web.default.svc.cluster.local.",
				"SRV 0 25 8080 web-5.web.default.svc.cluster.local.",
			},
			extra: []string{"A 10.0.1.3", "A 10.0.1.1", "A 10.0.1.2", "A 10.0.1.5"}},
		// The bare service name: every port, named or not.
		{name: "api.team.svc.cluster.local.", qtype: dns.TypeSRV, rcode: success,
			answer: []string{"SRV 0 50 53 api.team.svc.cluster.local.", "SRV 0 50 8080 api.team.svc.cluster.local."},
			extra:  []string{"A 10.96.1.1"}},
		{name: "_dns._udp.api.team.svc.cluster.local.", qtype: dns.TypeSRV, rcode: success,
			answer: []string{"SRV 0 100 53 api.team.svc.cluster.local."}, extra: []string{"A 10.96.1.1"}},
		{name: "_dns._tcp.api.team.svc.cluster.local.", qtype: dns.TypeSRV, rcode: nxdomain, soa: true},
		{name: "_grpc._tcp.flaskapp.default.svc.cluster.local.", qtype: dns.TypeSRV, rcode: nxdomain, soa: true},
		{name: "_tcp.flaskapp.default.svc.cluster.local.", qtype: dns.TypeSRV, rcode: success, soa: true}, // empty non-terminal
		{name: "_http._tcp.flaskapp.default.svc.cluster.local.", qtype: dns.TypeA, rcode: success, soa: true},
		{name: "_pg._tcp.db.default.svc.cluster.local.", qtype: dns.TypeSRV, rcode: success,
			answer: []string{"SRV 0 100 5432 db.example.com."}},
	})
}

func TestIndexPTR(t *testing.T) {
	ix := newTestCluster().index(DefaultZone)
	cases := []struct {
		ip   string
		want []string
	}{
		{"10.96.0.10", []string{"PTR flaskapp.default.svc.cluster.local."}},
		{"fd00::20", []string{"PTR dual.default.svc.cluster.local."}},
		{"10.0.1.1", []string{"PTR web-0.web.default.svc.cluster.local."}},
		{"10.0.1.3", []string{"PTR 10-0-1-3.web.default.svc.cluster.local."}},
		{"10.0.0.1", []string{"PTR 10-0-0-1.default.pod.cluster.local."}}, // endpoint of a ClusterIP service
		{"10.0.9.9", []string{"PTR 10-0-9-9.default.pod.cluster.local."}}, // a pod in no service
		{"fd00::99", []string{"PTR fd00--99.default.pod.cluster.local."}}, // an IPv6 pod
	}
	for _, c := range cases {
		t.Run(c.ip, func(t *testing.T) {
			name, err := dns.ReverseAddr(c.ip)
			if err != nil {
				t.Fatal(err)
			}
			res, ok := ix.Lookup(name, dns.TypePTR, DefaultTTL)
			if !ok {
				t.Fatalf("%s: not answered", name)
			}
			if got := rdata(res.Answer); !slices.Equal(got, c.want) || res.Rcode != success {
				t.Errorf("%s PTR = %s %q, want %q", name, dns.RcodeToString[res.Rcode], got, c.want)
			}
			// Every PTR target resolves back to the address.
			for _, rr := range res.Answer {
				target := rr.(*dns.PTR).Ptr
				qtype := dns.TypeA
				if strings.Contains(c.ip, ":") {
					qtype = dns.TypeAAAA
				}
				fwd, _ := ix.Lookup(target, qtype, DefaultTTL)
				if !slices.ContainsFunc(fwd.Answer, func(a dns.RR) bool { return strings.HasSuffix(a.String(), "\t"+c.ip) }) {
					t.Errorf("%s does not resolve back to %s: %v", target, c.ip, fwd.Answer)
				}
			}
		})
	}
	// Unknown addresses, a not-ready endpoint with no pod, partial names.
	for _, name := range []string{"99.99.99.10.in-addr.arpa.", "3.0.0.10.in-addr.arpa.", "10.in-addr.arpa.", "0.10.in-addr.arpa."} {
		if _, ok := ix.Lookup(name, dns.TypePTR, DefaultTTL); ok {
			t.Errorf("%s: answered, want it left to the next plugin", name)
		}
	}
	if _, ok := ix.Lookup("10.0.96.10.in-addr.arpa.", dns.TypeA, DefaultTTL); ok {
		t.Errorf("A of a reverse name answered, want it left to the next plugin")
	}
}

func TestIndexExternalName(t *testing.T) {
	runLookups(t, newTestCluster().index(DefaultZone), []lookupCase{
		{name: "db.default.svc.cluster.local.", qtype: dns.TypeA, rcode: success,
			answer: []string{"CNAME db.example.com."}, chase: "db.example.com."},
		{name: "db.default.svc.cluster.local.", qtype: dns.TypeCNAME, rcode: success, answer: []string{"CNAME db.example.com."}},
		// A target inside the zone is followed in the index.
		{name: "alias.default.svc.cluster.local.", qtype: dns.TypeA, rcode: success,
			answer: []string{"CNAME flaskapp.default.svc.cluster.local.", "A 10.96.0.10"}},
		{name: "alias.default.svc.cluster.local.", qtype: dns.TypeAAAA, rcode: success,
			answer: []string{"CNAME flaskapp.default.svc.cluster.local."}, soa: true},
	})
}

func TestIndexPods(t *testing.T) {
	runLookups(t, newTestCluster().index(DefaultZone), []lookupCase{
		{name: "10-0-9-9.default.pod.cluster.local.", qtype: dns.TypeA, rcode: success, answer: []string{"A 10.0.9.9"}},
		// "pods insecure": any address in a namespace that has objects.
		{name: "1-2-3-4.team.pod.cluster.local.", qtype: dns.TypeA, rcode: success, answer: []string{"A 1.2.3.4"}},
		{name: "fd00--99.default.pod.cluster.local.", qtype: dns.TypeAAAA, rcode: success, answer: []string{"AAAA fd00::99"}},
		{name: "10-0-9-9.default.pod.cluster.local.", qtype: dns.TypeAAAA, rcode: success, soa: true},
		{name: "10-0-9-9.nowhere.pod.cluster.local.", qtype: dns.TypeA, rcode: nxdomain, soa: true},
		{name: "10-0-9-999.default.pod.cluster.local.", qtype: dns.TypeA, rcode: nxdomain, soa: true},
		{name: "010-0-9-9.default.pod.cluster.local.", qtype: dns.TypeA, rcode: nxdomain, soa: true},
		{name: "x.10-0-9-9.default.pod.cluster.local.", qtype: dns.TypeA, rcode: nxdomain, soa: true},
		{name: "default.pod.cluster.local.", qtype: dns.TypeA, rcode: success, soa: true},
	})
}

func TestIndexNXDOMAINAndNODATA(t *testing.T) {
	runLookups(t, newTestCluster().index(DefaultZone), []lookupCase{
		{name: "nope.default.svc.cluster.local.", qtype: dns.TypeA, rcode: nxdomain, soa: true},
		{name: "flaskapp.nope.svc.cluster.local.", qtype: dns.TypeA, rcode: nxdomain, soa: true},
		{name: "flaskapp.default.svc.cluster.local.default.svc.cluster.local.", qtype: dns.TypeA, rcode: nxdomain, soa: true},
		{name: "x.flaskapp.default.svc.cluster.local.", qtype: dns.TypeA, rcode: nxdomain, soa: true},
		{name: "other.cluster.local.", qtype: dns.TypeA, rcode: nxdomain, soa: true},
		// Names that exist without records of the type: NODATA.
		{name: "default.svc.cluster.local.", qtype: dns.TypeA, rcode: success, soa: true},
		{name: "svc.cluster.local.", qtype: dns.TypeA, rcode: success, soa: true},
		{name: "cluster.local.", qtype: dns.TypeA, rcode: success, soa: true},
		{name: "flaskapp.default.svc.cluster.local.", qtype: dns.TypeTXT, rcode: success, soa: true},
		{name: "flaskapp.default.svc.cluster.local.", qtype: 65280, rcode: success, soa: true}, // unknown type (RFC 3597)
		{name: "cluster.local.", qtype: dns.TypeSOA, rcode: success,
			answer: []string{"SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"}},
		{name: "cluster.local.", qtype: dns.TypeNS, rcode: success, answer: []string{"NS ns.dns.cluster.local."}},
	})
}

func TestIndexOutsideZone(t *testing.T) {
	ix := newTestCluster().index(DefaultZone)
	for _, name := range []string{"example.com.", "local.", ".", "xcluster.local.", "cluster.local.example.com."} {
		if _, ok := ix.Lookup(name, dns.TypeA, DefaultTTL); ok {
			t.Errorf("%s answered by the index", name)
		}
	}
}

func TestIndexTTLAndZone(t *testing.T) {
	ix := newTestCluster().index("weft.internal.")
	if ix.Zone() != "weft.internal." {
		t.Fatalf("zone = %q", ix.Zone())
	}
	res, ok := ix.Lookup("flaskapp.default.svc.weft.internal.", dns.TypeA, 30)
	if !ok || len(res.Answer) != 1 || res.Answer[0].Header().Ttl != 30 {
		t.Fatalf("answer = %v", res.Answer)
	}
	res, _ = ix.Lookup("nope.default.svc.weft.internal.", dns.TypeA, 30)
	soa := res.Ns[0].(*dns.SOA)
	if soa.Hdr.Ttl != 30 || soa.Minttl != 30 || soa.Hdr.Name != "weft.internal." {
		t.Errorf("soa = %v", soa)
	}
	if _, ok := ix.Lookup("flaskapp.default.svc.cluster.local.", dns.TypeA, 30); ok {
		t.Errorf("cluster.local answered by an index of weft.internal")
	}
}

func TestIndexSkipped(t *testing.T) {
	ix := newTestCluster().index(DefaultZone)
	want := []string{`service team/broken: externalName "not a name!" is not a usable domain name`}
	if got := ix.Skipped(); !slices.Equal(got, want) {
		t.Errorf("skipped = %q, want %q", got, want)
	}
	st := ix.Stats()
	if st.Services != 7 || st.PTRs == 0 || st.Names == 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestIndexDeterministic(t *testing.T) {
	c := newTestCluster()
	a := c.index(DefaultZone)
	r := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		r.Shuffle(len(c.services), func(i, j int) { c.services[i], c.services[j] = c.services[j], c.services[i] })
		r.Shuffle(len(c.endpoints), func(i, j int) { c.endpoints[i], c.endpoints[j] = c.endpoints[j], c.endpoints[i] })
		r.Shuffle(len(c.pods), func(i, j int) { c.pods[i], c.pods[j] = c.pods[j], c.pods[i] })
		b := c.index(DefaultZone)
		if !reflect.DeepEqual(a, b) {
			t.Fatal("index depends on input order")
		}
	}
}

func TestIndexEmptyAndNil(t *testing.T) {
	ix := BuildIndex("", []*corev1.Service{nil}, []*corev1.Endpoints{nil}, []*corev1.Pod{nil})
	runLookups(t, ix, []lookupCase{
		{name: "cluster.local.", qtype: dns.TypeA, rcode: success, soa: true},
		{name: "svc.cluster.local.", qtype: dns.TypeA, rcode: success, soa: true},
		{name: "a.default.svc.cluster.local.", qtype: dns.TypeA, rcode: nxdomain, soa: true},
	})
}

func TestParseReverse(t *testing.T) {
	for _, ip := range []string{"10.0.0.1", "255.255.255.255", "fd00::1", "2001:db8::abcd:1", "::"} {
		name, _ := dns.ReverseAddr(ip)
		got, ok := parseReverse(name)
		if !ok || got != netip.MustParseAddr(ip) {
			t.Errorf("parseReverse(%s) = %v %v, want %s", name, got, ok, ip)
		}
	}
	for _, name := range []string{"1.0.0.10.in-addr.arpa.x.", "256.0.0.10.in-addr.arpa.", "1.0.10.in-addr.arpa.", "a.b.ip6.arpa.", "in-addr.arpa.",
		strings.Repeat("g.", 32) + "ip6.arpa.", strings.Repeat("1", 63) + ".ip6.arpa."} {
		if ip, ok := parseReverse(name); ok {
			t.Errorf("parseReverse(%s) = %v, want no address", name, ip)
		}
	}
}

func TestDashed(t *testing.T) {
	for _, ip := range []string{"10.0.0.1", "fd00::1", "2001:db8::1:2"} {
		a := netip.MustParseAddr(ip)
		got, ok := undashed(dashed(a))
		if !ok || got != a {
			t.Errorf("undashed(dashed(%s)) = %v %v", ip, got, ok)
		}
	}
	for _, l := range []string{"", "1-2-3", "1-2-3-4-5", "a-b-c-d", "fe80--1%eth0", "--ffff-a00-1"} {
		if ip, ok := undashed(l); ok {
			t.Errorf("undashed(%q) = %v", l, ip)
		}
	}
}
