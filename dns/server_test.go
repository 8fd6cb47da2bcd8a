package dns

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
)

func TestServerUDPAndTCP(t *testing.T) {
	up := startFakeUpstream(t)
	s := startServer(t, up.addr)
	if s.UDPAddr().Port != s.TCPAddr().Port || s.Addr() != s.UDPAddr().String() {
		t.Fatalf("udp %v tcp %v addr %s: want one port", s.UDPAddr(), s.TCPAddr(), s.Addr())
	}
	cases := []struct {
		name   string
		qtype  uint16
		rcode  int
		answer []string
	}{
		{"flaskapp.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.96.0.10"}},
		{"_http._tcp.flaskapp.default.svc.cluster.local.", dns.TypeSRV, dns.RcodeSuccess, []string{"SRV 0 100 80 flaskapp.default.svc.cluster.local."}},
		{"10.0.96.10.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, []string{"PTR flaskapp.default.svc.cluster.local."}},
		{"pub.default.svc.cluster.local.", dns.TypeA, dns.RcodeSuccess, []string{"A 10.0.2.1", "A 10.0.2.2"}},
		{"nope.default.svc.cluster.local.", dns.TypeA, dns.RcodeNameError, nil},
		{"flaskapp.default.svc.cluster.local.", dns.TypeAAAA, dns.RcodeSuccess, nil},
	}
	for _, network := range []string{"udp", "tcp"} {
		for _, c := range cases {
			t.Run(network+"/"+c.name+"/"+dns.TypeToString[c.qtype], func(t *testing.T) {
				m := query(t, network, s.Addr(), c.name, c.qtype, 0)
				if m.Rcode != c.rcode || !m.Authoritative || !m.RecursionAvailable || !m.Response {
					t.Errorf("rcode %s aa %v ra %v", dns.RcodeToString[m.Rcode], m.Authoritative, m.RecursionAvailable)
				}
				got := rdata(m.Answer)
				slices.Sort(got)
				if !slices.Equal(got, c.answer) {
					t.Errorf("answer = %q, want %q", got, c.answer)
				}
				if len(c.answer) == 0 && (len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != dns.TypeSOA) {
					t.Errorf("negative answer without the SOA: %v", m.Ns)
				}
			})
		}
	}
}

func TestServerEDNS0(t *testing.T) {
	up := startFakeUpstream(t)
	s := startServer(t, up.addr)
	m := query(t, "udp", s.Addr(), "flaskapp.default.svc.cluster.local.", dns.TypeA, 4096)
	opt := m.IsEdns0()
	if opt == nil || opt.UDPSize() != advertisedUDPSize || opt.Version() != 0 {
		t.Errorf("OPT = %v", opt)
	}
	m = query(t, "udp", s.Addr(), "flaskapp.default.svc.cluster.local.", dns.TypeA, 0)
	if m.IsEdns0() != nil {
		t.Errorf("OPT in the answer to a query without EDNS0")
	}
	// EDNS version 1: BADVERS (RFC 6891 §6.1.3), with our OPT.
	r := new(dns.Msg).SetQuestion("flaskapp.default.svc.cluster.local.", dns.TypeA)
	r.SetEdns0(1232, false)
	r.IsEdns0().SetVersion(1)
	m, err := dns.Exchange(r, s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if m.Rcode != dns.RcodeBadVers || m.IsEdns0() == nil || m.IsEdns0().Version() != 0 {
		t.Errorf("EDNS1: rcode %s opt %v", dns.RcodeToString[m.Rcode], m.IsEdns0())
	}
}

// bigCluster has a headless service of n endpoints: its A answer is 16n
// octets or so.
func bigCluster(n int) *Index {
	c := newTestCluster()
	var addrs []corev1.EndpointAddress
	for i := range n {
		addrs = append(addrs, addr(fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)))
	}
	c.services = append(c.services, service("default", "big", corev1.ClusterIPNone, port("http", 80, corev1.ProtocolTCP)))
	c.endpoints = append(c.endpoints, endpoints("default", "big", addrs, nil, epPort("http", 80)))
	return c.index("")
}

func TestServerTruncation(t *testing.T) {
	up := startFakeUpstream(t)
	s := startServer(t, up.addr)
	if err := s.SetIndex(bigCluster(200)); err != nil {
		t.Fatal(err)
	}
	const name = "big.default.svc.cluster.local."

	// Plain UDP: 512 octets at most, TC set, the client retries over TCP.
	raw := rawExchange(t, "udp", s.Addr(), packQuery(t, name, dns.TypeA, 0))
	if len(raw) > dns.MinMsgSize {
		t.Errorf("UDP answer of %d octets to a client without EDNS0", len(raw))
	}
	m := unpack(t, raw)
	if !m.Truncated || len(m.Answer) >= 200 {
		t.Errorf("tc %v with %d answers", m.Truncated, len(m.Answer))
	}
	// EDNS0 with 1232 octets: more, still truncated.
	raw = rawExchange(t, "udp", s.Addr(), packQuery(t, name, dns.TypeA, 1232))
	if m := unpack(t, raw); len(raw) > 1232 || !m.Truncated || m.IsEdns0() == nil {
		t.Errorf("EDNS0 1232: %d octets, tc %v", len(raw), m.Truncated)
	}
	// EDNS0 with 4096 octets: all of it.
	raw = rawExchange(t, "udp", s.Addr(), packQuery(t, name, dns.TypeA, 4096))
	if m := unpack(t, raw); m.Truncated || len(m.Answer) != 200 {
		t.Errorf("EDNS0 4096: tc %v with %d answers", m.Truncated, len(m.Answer))
	}
	// TCP: all of it.
	if m := query(t, "tcp", s.Addr(), name, dns.TypeA, 0); m.Truncated || len(m.Answer) != 200 {
		t.Errorf("TCP: tc %v with %d answers", m.Truncated, len(m.Answer))
	}
	// A client asking for more than we give over UDP: capped at 4096.
	if err := s.SetIndex(bigCluster(400)); err != nil {
		t.Fatal(err)
	}
	raw = rawExchange(t, "udp", s.Addr(), packQuery(t, name, dns.TypeA, 65000))
	if m := unpack(t, raw); len(raw) > maxUDPSize || !m.Truncated {
		t.Errorf("EDNS0 65000: %d octets, tc %v", len(raw), m.Truncated)
	}
}

func TestServerRejects(t *testing.T) {
	up := startFakeUpstream(t)
	s := startServer(t, up.addr)
	const name = "flaskapp.default.svc.cluster.local."

	header := func(id uint16, flags uint16, qd, an, ns, ar uint16) []byte {
		b := make([]byte, 12)
		for i, v := range []uint16{id, flags, qd, an, ns, ar} {
			binary.BigEndian.PutUint16(b[2*i:], v)
		}
		return b
	}
	question := func(qname string, qtype, qclass uint16) []byte {
		b := make([]byte, 512)
		n, err := dns.PackDomainName(qname, b, 0, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		b = b[:n]
		return binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(b, qtype), qclass)
	}
	q := question(name, dns.TypeA, dns.ClassINET)
	tooLong := []byte{}
	for range 5 {
		tooLong = append(tooLong, 63)
		tooLong = append(tooLong, make([]byte, 63)...)
	}
	for i := 1; i < len(tooLong); i++ {
		if tooLong[i] == 0 {
			tooLong[i] = 'a'
		}
	}
	tooLong = append(tooLong, 0, 0, 1, 0, 1)
	msg := func(r *dns.Msg) []byte {
		b, err := r.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	twoOPT := new(dns.Msg).SetQuestion(name, dns.TypeA)
	twoOPT.SetEdns0(1232, false)
	twoOPT.Extra = append(twoOPT.Extra, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: 512}})

	cases := []struct {
		name   string
		packet []byte
		rcode  int // -1: no answer at all
		answer []string
	}{
		{"shorter than a header", []byte{1, 2, 3, 4, 5}, -1, nil},
		{"a response", append(header(1, 0x8000, 1, 0, 0, 0), q...), -1, nil},
		{"no question", header(2, 0, 0, 0, 0, 0), dns.RcodeFormatError, nil},
		{"two questions", append(append(header(3, 0, 2, 0, 0, 0), q...), q...), dns.RcodeFormatError, nil},
		{"question cut short", append(header(4, 0, 1, 0, 0, 0), q[:len(q)-3]...), dns.RcodeFormatError, nil},
		{"name over 255 octets", append(header(5, 0, 1, 0, 0, 0), tooLong...), dns.RcodeFormatError, nil},
		{"compression loop", append(header(6, 0, 1, 0, 0, 0), 0xC0, 12, 0, 1, 0, 1), dns.RcodeFormatError, nil},
		{"UPDATE", append(header(7, 5<<11, 1, 0, 0, 0), q...), dns.RcodeNotImplemented, nil},
		{"NOTIFY", append(header(8, 4<<11, 1, 0, 0, 0), q...), dns.RcodeNotImplemented, nil},
		{"class CH", append(header(9, 0, 1, 0, 0, 0), question("version.bind.", dns.TypeTXT, dns.ClassCHAOS)...), dns.RcodeRefused, nil},
		{"ANY", append(header(10, 0, 1, 0, 0, 0), question(name, dns.TypeANY, dns.ClassINET)...), dns.RcodeSuccess, []string{`HINFO "RFC8482" ""`}},
		{"AXFR", append(header(11, 0, 1, 0, 0, 0), question("cluster.local.", dns.TypeAXFR, dns.ClassINET)...), dns.RcodeRefused, nil},
		{"qtype OPT", append(header(12, 0, 1, 0, 0, 0), question(name, dns.TypeOPT, dns.ClassINET)...), dns.RcodeFormatError, nil},
		{"meta-type 128", append(header(13, 0, 1, 0, 0, 0), question(name, 128, dns.ClassINET)...), dns.RcodeFormatError, nil},
		{"MAILB", append(header(14, 0, 1, 0, 0, 0), question(name, dns.TypeMAILB, dns.ClassINET)...), dns.RcodeNotImplemented, nil},
		{"two OPT records", msg(twoOPT), dns.RcodeFormatError, nil},
		{"unknown type in the zone", append(header(15, 0, 1, 0, 0, 0), question(name, 65280, dns.ClassINET)...), dns.RcodeSuccess, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, network := range []string{"udp", "tcp"} {
				wait := 3 * time.Second
				if c.rcode == -1 {
					wait = 300 * time.Millisecond // silence: how long to listen for it
				}
				raw := rawExchangeWithin(t, network, s.Addr(), c.packet, wait)
				if c.rcode == -1 {
					if raw != nil {
						t.Errorf("%s: answered %d octets, want silence", network, len(raw))
					}
					continue
				}
				if raw == nil {
					t.Fatalf("%s: no answer", network)
				}
				m := unpack(t, raw)
				if m.Rcode != c.rcode || !m.Response {
					t.Errorf("%s: rcode %s, want %s", network, dns.RcodeToString[m.Rcode], dns.RcodeToString[c.rcode])
				}
				if m.Id != binary.BigEndian.Uint16(c.packet) {
					t.Errorf("%s: id %d", network, m.Id)
				}
				if got := rdata(m.Answer); !slices.Equal(got, c.answer) {
					t.Errorf("%s: answer %q, want %q", network, got, c.answer)
				}
			}
		})
	}
}

func TestServerSetIndex(t *testing.T) {
	up := startFakeUpstream(t)
	s := startServer(t, up.addr)
	c := newTestCluster()
	c.services[0] = service("default", "flaskapp", "10.96.0.99", port("http", 80, corev1.ProtocolTCP))
	if err := s.SetIndex(c.index("")); err != nil {
		t.Fatal(err)
	}
	if got := rdata(query(t, "udp", s.Addr(), "flaskapp.default.svc.cluster.local.", dns.TypeA, 0).Answer); !slices.Equal(got, []string{"A 10.96.0.99"}) {
		t.Errorf("after SetIndex: %v", got)
	}
	if err := s.SetIndex(c.index("other.zone")); !errors.Is(err, ErrZoneMismatch) {
		t.Errorf("index of another zone: %v", err)
	}
	if err := s.SetIndex(nil); err == nil {
		t.Errorf("nil index accepted")
	}
	if s.Index().Zone() != "cluster.local." {
		t.Errorf("index replaced by a rejected one")
	}
}

func TestServerBeforeFirstIndex(t *testing.T) {
	up := startFakeUpstream(t)
	s, err := NewServer(Config{Addr: "127.0.0.1:0", Upstreams: []string{up.addr}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	if m := query(t, "udp", s.Addr(), "flaskapp.default.svc.cluster.local.", dns.TypeA, 0); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("rcode %s, want SERVFAIL until the first index", dns.RcodeToString[m.Rcode])
	}
	if m := query(t, "udp", s.Addr(), "example.com.", dns.TypeA, 0); m.Rcode != dns.RcodeSuccess {
		t.Errorf("external name: rcode %s", dns.RcodeToString[m.Rcode])
	}
	if err := s.Start(); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start: %v", err)
	}
}

func TestServerRefusesForwardLoop(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	s, err := NewServer(Config{Addr: addr, Upstreams: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); !errors.Is(err, ErrForwardLoop) {
		t.Errorf("Start with itself as upstream: %v", err)
	}
}

func TestServerConfig(t *testing.T) {
	if _, err := NewServer(Config{Upstreams: []string{"dns.google"}}); err == nil {
		t.Error("a host name as upstream accepted")
	}
	if _, err := NewServer(Config{ResolvConfPath: t.TempDir() + "/missing"}); err == nil {
		t.Error("a missing resolv.conf accepted")
	}
	s, err := NewServer(Config{Upstreams: []string{"10.0.0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	c := s.cfg
	if c.Addr != DefaultAddr || c.Zone != DefaultZone || c.TTL != DefaultTTL || c.CacheSize != DefaultCacheSize ||
		!slices.Equal(c.Upstreams, []string{"10.0.0.2:53"}) {
		t.Errorf("defaults: %+v", c)
	}
	s, err = NewServer(Config{Upstreams: []string{"10.0.0.2"}, TTL: 30, Zone: "weft.internal."})
	if err != nil {
		t.Fatal(err)
	}
	ix := BuildIndex("weft.internal", newTestCluster().services, nil, nil)
	if err := s.SetIndex(ix); err != nil {
		t.Fatal(err)
	}
	w := newRecorder()
	s.ServeDNS(w, new(dns.Msg).SetQuestion("flaskapp.default.svc.weft.internal.", dns.TypeA))
	if m := w.last(); len(m.Answer) != 1 || m.Answer[0].Header().Ttl != 30 {
		t.Errorf("TTL 30: %v", m)
	}
}

// TestServerFlood sends thousands of queries, valid and not, cluster names
// and names whose upstream never answers, plus idle TCP connections; the
// server must keep answering, and after Shutdown no goroutine may be left.
func TestServerFlood(t *testing.T) {
	up := startFakeUpstream(t)
	before := runtime.NumGoroutine()
	s, err := NewServer(Config{
		Addr: "127.0.0.1:0", Upstreams: []string{up.addr},
		UpstreamTimeout: 200 * time.Millisecond, QueryTimeout: 500 * time.Millisecond,
		MaxConcurrentForwards: 8, MaxTCPConns: 4,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetIndex(newTestCluster().index("")); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}

	// Idle TCP connections beyond the limit.
	var conns []net.Conn
	for range 8 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}

	packets := [][]byte{
		packQuery(t, "flaskapp.default.svc.cluster.local.", dns.TypeA, 0),
		packQuery(t, "slow.example.com.", dns.TypeA, 0),
		packQuery(t, "nope.default.svc.cluster.local.", dns.TypeA, 1232),
		{0xde, 0xad, 0xbe, 0xef},
		append(packQuery(t, "web.default.svc.cluster.local.", dns.TypeA, 0)[:12], 0xC0, 12, 0, 1, 0, 1),
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		rcodes = map[int]int{}
	)
	const senders, perSender = 4, 600
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("udp", s.Addr())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			done := make(chan struct{})
			go func() { // read answers until the socket is closed
				defer close(done)
				buf := make([]byte, 65535)
				for {
					_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					m := new(dns.Msg)
					if m.Unpack(buf[:n]) == nil {
						mu.Lock()
						rcodes[m.Rcode]++
						mu.Unlock()
					}
				}
			}()
			for i := range perSender {
				if _, err := c.Write(packets[i%len(packets)]); err != nil {
					t.Error(err)
					return
				}
			}
			<-done
		}()
	}
	wg.Wait()
	mu.Lock()
	t.Logf("rcodes of %d queries sent: %v", senders*perSender, rcodes)
	if rcodes[dns.RcodeSuccess] == 0 || rcodes[dns.RcodeNameError] == 0 {
		t.Errorf("cluster names unanswered under the flood: %v", rcodes)
	}
	mu.Unlock()

	// Still serving, UDP and TCP.
	if m := query(t, "udp", s.Addr(), "flaskapp.default.svc.cluster.local.", dns.TypeA, 0); len(m.Answer) != 1 {
		t.Errorf("after the flood: %v", m)
	}
	for _, c := range conns {
		c.Close()
	}
	if m := query(t, "tcp", s.Addr(), "flaskapp.default.svc.cluster.local.", dns.TypeA, 0); len(m.Answer) != 1 {
		t.Errorf("TCP after the flood: %v", m)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after shutdown, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func packQuery(t testing.TB, name string, qtype uint16, edns uint16) []byte {
	t.Helper()
	m := new(dns.Msg).SetQuestion(name, qtype)
	if edns > 0 {
		m.SetEdns0(edns, false)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func unpack(t testing.TB, b []byte) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatalf("unpack answer: %v", err)
	}
	return m
}

// rawExchange sends packet and returns the raw answer, nil when none comes
// within 3 s.
func rawExchange(t testing.TB, network, addr string, packet []byte) []byte {
	t.Helper()
	return rawExchangeWithin(t, network, addr, packet, 3*time.Second)
}

// rawExchangeWithin is rawExchange waiting at most wait.
func rawExchangeWithin(t testing.TB, network, addr string, packet []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(wait))
	if network == "tcp" {
		packet = append(binary.BigEndian.AppendUint16(nil, uint16(len(packet))), packet...)
	}
	if _, err := c.Write(packet); err != nil {
		t.Fatal(err)
	}
	if network == "udp" {
		buf := make([]byte, 65535)
		n, err := c.Read(buf)
		if err != nil {
			return nil
		}
		return buf[:n]
	}
	var l [2]byte
	if _, err := readFull(c, l[:]); err != nil {
		return nil
	}
	buf := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := readFull(c, buf); err != nil {
		t.Fatalf("tcp answer cut short: %v", err)
	}
	return buf
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
