package dns

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

func newKubernetes(ix *Index, next Handler) *Kubernetes {
	var p atomic.Pointer[Index]
	if ix != nil {
		p.Store(ix)
	}
	return NewKubernetes(DefaultZone, DefaultTTL, &p)(next).(*Kubernetes)
}

func upstreamA(ip string) func(r *dns.Msg) *dns.Msg {
	return func(r *dns.Msg) *dns.Msg {
		m := new(dns.Msg).SetReply(r)
		rr, _ := dns.NewRR(r.Question[0].Name + " 60 IN A " + ip)
		m.Answer = []dns.RR{rr}
		return m
	}
}

func TestKubernetesAnswersClusterNames(t *testing.T) {
	next := &fakeHandler{answer: upstreamA("192.0.2.1")}
	k := newKubernetes(newTestCluster().index(""), next)
	w := newRecorder()
	rcode, err := k.ServeDNS(context.Background(), w, new(dns.Msg).SetQuestion("flaskapp.default.svc.cluster.local.", dns.TypeA))
	if err != nil || rcode != dns.RcodeSuccess {
		t.Fatalf("rcode %d err %v", rcode, err)
	}
	m := w.last()
	if !m.Authoritative || !slices.Equal(rdata(m.Answer), []string{"A 10.96.0.10"}) {
		t.Errorf("answer = %v", m)
	}
	if len(next.asked) != 0 {
		t.Errorf("a cluster name reached the next plugin: %v", next.asked)
	}

	w = newRecorder()
	_, _ = k.ServeDNS(context.Background(), w, new(dns.Msg).SetQuestion("nope.default.svc.cluster.local.", dns.TypeA))
	if m := w.last(); m.Rcode != dns.RcodeNameError || len(m.Ns) != 1 || len(next.asked) != 0 {
		t.Errorf("nxdomain = %v (next asked %v)", m, next.asked)
	}
}

func TestKubernetesPassesOtherNames(t *testing.T) {
	next := &fakeHandler{answer: upstreamA("192.0.2.1")}
	k := newKubernetes(newTestCluster().index(""), next)
	for _, q := range []dns.Question{
		{Name: "example.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET},
		{Name: "1.2.0.192.in-addr.arpa.", Qtype: dns.TypePTR, Qclass: dns.ClassINET}, // unknown address
	} {
		w := newRecorder()
		r := new(dns.Msg).SetQuestion(q.Name, q.Qtype)
		if _, err := k.ServeDNS(context.Background(), w, r); err != nil {
			t.Fatal(err)
		}
		if w.count() != 1 {
			t.Errorf("%s: nothing written", q.Name)
		}
	}
	if len(next.asked) != 2 {
		t.Errorf("next asked %v", next.asked)
	}
}

func TestKubernetesChasesExternalName(t *testing.T) {
	next := &fakeHandler{answer: upstreamA("192.0.2.10")}
	k := newKubernetes(newTestCluster().index(""), next)
	w := newRecorder()
	rcode, err := k.ServeDNS(context.Background(), w, new(dns.Msg).SetQuestion("db.default.svc.cluster.local.", dns.TypeA))
	if err != nil || rcode != dns.RcodeSuccess {
		t.Fatalf("rcode %d err %v", rcode, err)
	}
	want := []string{"CNAME db.example.com.", "A 192.0.2.10"}
	if got := rdata(w.last().Answer); !slices.Equal(got, want) {
		t.Errorf("answer = %q, want %q", got, want)
	}
	if len(next.asked) != 1 || next.asked[0].Name != "db.example.com." {
		t.Errorf("next asked %v", next.asked)
	}

	// The upstream fails: the CNAME stays, with SERVFAIL.
	failing := &fakeHandler{rcode: dns.RcodeServerFailure, err: errors.New("upstream down")}
	k = newKubernetes(newTestCluster().index(""), failing)
	w = newRecorder()
	_, err = k.ServeDNS(context.Background(), w, new(dns.Msg).SetQuestion("db.default.svc.cluster.local.", dns.TypeA))
	if err == nil {
		t.Error("no error for a failed chase")
	}
	if m := w.last(); m.Rcode != dns.RcodeServerFailure || !slices.Equal(rdata(m.Answer), []string{"CNAME db.example.com."}) {
		t.Errorf("answer = %v", m)
	}
}

func TestKubernetesBeforeFirstIndex(t *testing.T) {
	next := &fakeHandler{answer: upstreamA("192.0.2.1")}
	k := newKubernetes(nil, next)
	rcode, err := k.ServeDNS(context.Background(), newRecorder(), new(dns.Msg).SetQuestion("flaskapp.default.svc.cluster.local.", dns.TypeA))
	if rcode != dns.RcodeServerFailure || !errors.Is(err, ErrNoIndex) {
		t.Errorf("cluster name before the index: %d %v", rcode, err)
	}
	w := newRecorder()
	if rcode, _ := k.ServeDNS(context.Background(), w, new(dns.Msg).SetQuestion("example.com.", dns.TypeA)); rcode != dns.RcodeSuccess || w.count() != 1 {
		t.Errorf("external name before the index: %d", rcode)
	}
}

func TestKubernetesRotatesAddresses(t *testing.T) {
	k := newKubernetes(newTestCluster().index(""), &fakeHandler{})
	firsts := map[string]bool{}
	for range 4 {
		w := newRecorder()
		_, _ = k.ServeDNS(context.Background(), w, new(dns.Msg).SetQuestion("web.default.svc.cluster.local.", dns.TypeA))
		ans := rdata(w.last().Answer)
		if len(ans) != 4 {
			t.Fatalf("answer = %v", ans)
		}
		firsts[ans[0]] = true
		sorted := slices.Sorted(slices.Values(ans))
		if !slices.Equal(sorted, []string{"A 10.0.1.1", "A 10.0.1.2", "A 10.0.1.3", "A 10.0.1.5"}) {
			t.Errorf("rotation lost records: %v", ans)
		}
	}
	if len(firsts) != 4 {
		t.Errorf("first addresses over 4 queries = %v, want each endpoint once", firsts)
	}
}
