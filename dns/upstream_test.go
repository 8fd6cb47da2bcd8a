package dns

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// These tests forward to a fake upstream resolver on 127.0.0.1:0: there is
// no other network here.

func TestForwardingAndCaching(t *testing.T) {
	up := startFakeUpstream(t)
	s := startServer(t, up.addr)

	m := query(t, "udp", s.Addr(), "example.com.", dns.TypeA, 0)
	if got := rdata(m.Answer); m.Rcode != dns.RcodeSuccess || !slices.Equal(got, []string{"A 93.184.216.34"}) || m.Authoritative {
		t.Fatalf("first answer: %s %q aa %v", dns.RcodeToString[m.Rcode], got, m.Authoritative)
	}
	m = query(t, "tcp", s.Addr(), "EXAMPLE.com.", dns.TypeA, 0)
	if got := rdata(m.Answer); !slices.Equal(got, []string{"A 93.184.216.34"}) || m.Answer[0].Header().Ttl > 60 {
		t.Fatalf("second answer: %q", got)
	}
	if m.Question[0].Name != "EXAMPLE.com." {
		t.Errorf("question spelled %q, want the client's", m.Question[0].Name)
	}
	if n := up.count("example.com.", dns.TypeA); n != 1 {
		t.Errorf("upstream asked %d times, want 1: the second answer comes from the cache", n)
	}
	if st := s.Stats(); st.CacheHits != 1 || st.CacheEntries != 1 {
		t.Errorf("stats = %+v", st)
	}

	// NXDOMAIN is cached too (RFC 2308), with the upstream's SOA.
	for range 3 {
		m = query(t, "udp", s.Addr(), "nx.example.com.", dns.TypeA, 0)
		if m.Rcode != dns.RcodeNameError || len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != dns.TypeSOA {
			t.Fatalf("nx answer: %v", m)
		}
	}
	if n := up.count("nx.example.com.", dns.TypeA); n != 1 {
		t.Errorf("upstream asked %d times for a cached NXDOMAIN", n)
	}
	// NODATA likewise.
	for range 2 {
		if m = query(t, "udp", s.Addr(), "example.com.", dns.TypeAAAA, 0); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 {
			t.Fatalf("nodata answer: %v", m)
		}
	}
	if n := up.count("example.com.", dns.TypeAAAA); n != 1 {
		t.Errorf("upstream asked %d times for a cached NODATA", n)
	}
	// Cluster names never reach the upstream.
	query(t, "udp", s.Addr(), "nope.default.svc.cluster.local.", dns.TypeA, 0)
	query(t, "udp", s.Addr(), "flaskapp.default.svc.cluster.local.", dns.TypeA, 0)
	if n := up.count("nope.default.svc.cluster.local.", dns.TypeA) + up.count("flaskapp.default.svc.cluster.local.", dns.TypeA); n != 0 {
		t.Errorf("cluster names forwarded")
	}
}

func TestForwardingExternalNameService(t *testing.T) {
	up := startFakeUpstream(t)
	s := startServer(t, up.addr)
	for range 2 {
		m := query(t, "udp", s.Addr(), "db.default.svc.cluster.local.", dns.TypeA, 0)
		want := []string{"CNAME db.example.com.", "A 192.0.2.10"}
		if got := rdata(m.Answer); m.Rcode != dns.RcodeSuccess || !slices.Equal(got, want) {
			t.Fatalf("externalName: %s %q, want %q", dns.RcodeToString[m.Rcode], got, want)
		}
	}
	if n := up.count("db.example.com.", dns.TypeA); n != 1 {
		t.Errorf("upstream asked %d times for the externalName target, want 1 (cached)", n)
	}
}

func TestForwardingLargeAnswers(t *testing.T) {
	up := startFakeUpstream(t)
	s := startServer(t, up.addr)
	// The upstream truncates over UDP; we retry it over TCP, keep all 40
	// records, and truncate for each client as it can take.
	m := query(t, "tcp", s.Addr(), "big.example.com.", dns.TypeTXT, 0)
	if m.Truncated || len(m.Answer) != 40 {
		t.Fatalf("over TCP: tc %v, %d records", m.Truncated, len(m.Answer))
	}
	if n := up.count("big.example.com.", dns.TypeTXT); n != 2 {
		t.Errorf("upstream asked %d times, want 2 (UDP, then TCP)", n)
	}
	raw := rawExchange(t, "udp", s.Addr(), packQuery(t, "big.example.com.", dns.TypeTXT, 0))
	if m := unpack(t, raw); len(raw) > dns.MinMsgSize || !m.Truncated {
		t.Errorf("over UDP: %d octets, tc %v", len(raw), m.Truncated)
	}
	if m := query(t, "udp", s.Addr(), "big.example.com.", dns.TypeTXT, 4096); m.Truncated || len(m.Answer) != 40 {
		t.Errorf("over UDP with EDNS0 4096: tc %v, %d records", m.Truncated, len(m.Answer))
	}
}

func TestForwardingFailures(t *testing.T) {
	up := startFakeUpstream(t)
	// A dead upstream first: nothing listens there.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := pc.LocalAddr().String()
	pc.Close()
	s := startServer(t, up.addr, func(c *Config) { c.Upstreams = []string{dead, up.addr} })
	for range 2 {
		if m := query(t, "udp", s.Addr(), "example.com.", dns.TypeA, 0); len(m.Answer) != 1 {
			t.Fatalf("with a dead upstream first: %v", m)
		}
		query(t, "udp", s.Addr(), "nx.example.com.", dns.TypeAAAA, 0) // moves the round robin on
	}
	// An upstream that never answers: SERVFAIL within the timeouts, not cached.
	start := time.Now()
	m := query(t, "udp", s.Addr(), "slow.example.com.", dns.TypeA, 0)
	if m.Rcode != dns.RcodeServerFailure {
		t.Errorf("slow upstream: %s", dns.RcodeToString[m.Rcode])
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("slow upstream answered after %v", d)
	}
	// Reverse names the index does not know are forwarded.
	if m := query(t, "udp", s.Addr(), "1.2.0.192.in-addr.arpa.", dns.TypePTR, 0); m.Rcode != dns.RcodeNameError || up.count("1.2.0.192.in-addr.arpa.", dns.TypePTR) != 1 {
		t.Errorf("unknown PTR: %v", m)
	}
}
