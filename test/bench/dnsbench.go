package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Kinds of names the DNS comparison asks.
const (
	kindCluster  = "cluster names"
	kindExternal = "cached external names"
)

// dnsRow names a DNS figure: "weft: cluster names: queries/s".
func dnsRow(server, kind, metric string) string { return server + ": " + kind + ": " + metric }

// fakeUpstream answers every A question with 192.0.2.1 (TTL 300): the
// resolver both servers forward external names to. It runs in the
// harness; it sees one query per name, the rest come from the caches.
func fakeUpstream() (*dns.Server, string, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg).SetReply(r)
		if len(r.Question) == 1 && r.Question[0].Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: net.IPv4(192, 0, 2, 1)})
		}
		_ = w.WriteMsg(m)
	})
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	return srv, pc.LocalAddr().String(), nil
}

// corefile is CoreDNS's configuration: the cluster zone from a file, the
// rest forwarded and cached, both on addr.
func corefile(port int, zoneFile, upstream string) string {
	return fmt.Sprintf(`cluster.local:%[1]d {
    bind 127.0.0.1
    file %[2]s
}
.:%[1]d {
    bind 127.0.0.1
    cache 300
    forward . %[3]s
}
`, port, zoneFile, upstream)
}

// dnsServer is one server of the comparison.
type dnsServer struct {
	name string
	addr string
	p    *proc
}

// runDNS starts weft's DNS server and CoreDNS (when it builds) with the
// same names, warms their caches, and in every round loads each with
// cluster names, then cached external names.
func (b *bench) runDNS(ctx context.Context) error {
	sz := b.sz
	up, upAddr, err := fakeUpstream()
	if err != nil {
		return err
	}
	defer up.Shutdown()

	var servers []dnsServer
	defer func() {
		for _, s := range servers {
			s.p.stop()
		}
	}()
	weft, err := startServe(ctx, "dns", "-services", strconv.Itoa(sz.dnsServices), "-upstream", upAddr)
	if err != nil {
		return err
	}
	servers = append(servers, dnsServer{name: "weft", addr: weft.ready, p: weft})

	coredns, cerr := b.startCoreDNS(ctx, upAddr)
	if cerr != nil {
		b.res.notes[areaDNS] = append(b.res.notes[areaDNS], fmt.Sprintf("**CoreDNS %s is not in this run**: %v. weft's figures stand alone; compare them with CoreDNS's published 33,669 queries/s on 2 vCPUs (its scaling guide), measured elsewhere.", corednsVersion, firstLine(cerr.Error())))
		progress("dns: no CoreDNS: %v", cerr)
	} else {
		servers = append(servers, *coredns)
	}

	cluster := make([]string, 0, 1000)
	for i := range min(1000, sz.dnsServices) {
		ns, name := dnsService(i * max(sz.dnsServices/1000, 1))
		cluster = append(cluster, name+"."+ns+".svc.cluster.local.")
	}
	external := make([]string, 0, 100)
	for i := range 100 {
		external = append(external, fmt.Sprintf("host-%d.example.com.", i))
	}
	// Warm: every external name once into each cache, and check answers.
	for _, s := range servers {
		if _, err := runDNSLoad(ctx, s.addr, external, 1, 200*time.Millisecond); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if _, err := runDNSLoad(ctx, s.addr, cluster[:1], 1, 50*time.Millisecond); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}

	for round := 1; round <= sz.rounds; round++ {
		t := time.Now()
		got := map[string]dnsLoad{}
		for _, kind := range []struct {
			name  string
			names []string
		}{{kindCluster, cluster}, {kindExternal, external}} {
			for _, s := range servers {
				l, err := runDNSLoad(ctx, s.addr, kind.names, sz.dnsClients, sz.dnsFor)
				if err != nil {
					return fmt.Errorf("round %d, %s, %s: %w", round, s.name, kind.name, err)
				}
				got[s.name+kind.name] = l
				b.res.add(areaDNS, dnsRow(s.name, kind.name, "queries/s"), "queries/s", l.qps)
				b.res.add(areaDNS, dnsRow(s.name, kind.name, "p50"), "µs", l.p50)
				b.res.add(areaDNS, dnsRow(s.name, kind.name, "p99"), "µs", l.p99)
				if l.failures > 0 {
					b.res.notes[areaDNS] = append(b.res.notes[areaDNS], fmt.Sprintf("Round %d: %s had %d failed queries (%s).", round, s.name, l.failures, kind.name))
				}
			}
			if len(servers) > 1 {
				w, c := got["weft"+kind.name], got["CoreDNS"+kind.name]
				if kind.name == kindCluster {
					b.res.addTarget(areaDNS, "weft ÷ CoreDNS: "+kind.name+": queries/s", "× CoreDNS", w.qps/c.qps, 1)
					b.res.addAtMost(areaDNS, "weft ÷ CoreDNS: "+kind.name+": p99", "× CoreDNS", w.p99/c.p99, 1)
				} else {
					b.res.add(areaDNS, "weft ÷ CoreDNS: "+kind.name+": queries/s", "× CoreDNS", w.qps/c.qps)
					b.res.add(areaDNS, "weft ÷ CoreDNS: "+kind.name+": p99", "× CoreDNS", w.p99/c.p99)
				}
			}
		}
		progress("round %d/%d: dns done in %s", round, sz.rounds, time.Since(t).Round(10*time.Millisecond))
	}
	for _, s := range servers {
		rss, _, err := s.p.memory()
		if err != nil {
			return err
		}
		b.res.add(areaDNS, fmt.Sprintf("%s: resident memory (VmRSS) with %s services", s.name, count(sz.dnsServices)), "MB", float64(rss)/1e6)
	}
	return nil
}

// startCoreDNS builds (once) and starts CoreDNS with the zone file of the
// same cluster, forwarding to upstream.
func (b *bench) startCoreDNS(ctx context.Context, upstream string) (*dnsServer, error) {
	bin, err := buildCoreDNS(ctx, b.sz.buildCoreDNS)
	if err != nil {
		return nil, fmt.Errorf("build CoreDNS %s: %w", corednsVersion, err)
	}
	dir := filepath.Join(b.tmp, "coredns")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	zone := filepath.Join(dir, "cluster.local.zone")
	if err := os.WriteFile(zone, []byte(dnsZoneFile(b.sz.dnsServices)), 0o644); err != nil {
		return nil, err
	}
	port, err := freePort("127.0.0.1")
	if err != nil {
		return nil, err
	}
	confFile := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(confFile, []byte(corefile(port, zone, upstream)), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-conf", confFile, "-quiet")
	cmd.Dir = dir
	p, err := startProc(ctx, "coredns", cmd, "", 0)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// Wait until it answers a cluster name.
	deadline := time.Now().Add(30 * time.Second)
	for {
		q := new(dns.Msg).SetQuestion("svc-0.ns-0.svc.cluster.local.", dns.TypeA)
		c := &dns.Client{Timeout: 500 * time.Millisecond}
		if r, _, err := c.ExchangeContext(ctx, q, addr); err == nil && len(r.Answer) > 0 {
			break
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("CoreDNS not answering on %s after 30s:\n%s", addr, tail(p.log.String(), 10))
		}
		time.Sleep(100 * time.Millisecond)
	}
	conf := "  ```\n  " + strings.ReplaceAll(strings.TrimRight(corefile(port, "cluster.local.zone", "<fake upstream>"), "\n"), "\n", "\n  ") + "\n  ```"
	b.res.notes[areaDNS] = append(b.res.notes[areaDNS], fmt.Sprintf("CoreDNS %s was built from the Go module proxy (`go get github.com/coredns/coredns@%s` in a scratch module under the user's cache directory, never in weft's go.mod; all its default plugins) and run as `coredns -conf Corefile -quiet` with this Corefile:\n\n%s", corednsVersion, corednsVersion, conf))
	return &dnsServer{name: "CoreDNS", addr: addr, p: p}, nil
}
