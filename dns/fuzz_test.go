package dns

import (
	"context"
	"testing"

	"github.com/miekg/dns"
)

// fuzzServer is a Server whose upstream is in-process, so the fuzzer
// exercises the whole chain without sockets.
func fuzzServer(t testing.TB) *Server {
	s, err := NewServer(Config{
		Upstreams: []string{"192.0.2.53"},
		exchange: func(_ context.Context, m *dns.Msg, _, _ string) (*dns.Msg, error) {
			r := new(dns.Msg).SetReply(m)
			if len(m.Question[0].Name)%2 == 0 {
				rr, err := dns.NewRR(dns.Fqdn(m.Question[0].Name) + " 60 IN A 192.0.2.1")
				if err == nil {
					r.Answer = append(r.Answer, rr)
				}
			} else {
				r.Rcode = dns.RcodeNameError
			}
			return r, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetIndex(bigCluster(60)); err != nil {
		t.Fatal(err)
	}
	return s
}

// FuzzServeDNS feeds arbitrary bytes to the handler the way miekg/dns's
// server does (header, accept function, unpack) and checks that it never
// panics and that whatever it answers is one well-formed response that fits
// the transport: the request's ID and question, QR set, no more than 512
// octets over UDP without EDNS0.
func FuzzServeDNS(f *testing.F) {
	seeds := []struct {
		name  string
		qtype uint16
		edns  uint16
	}{
		{"flaskapp.default.svc.cluster.local.", dns.TypeA, 0},
		{"big.default.svc.cluster.local.", dns.TypeA, 0},
		{"big.default.svc.cluster.local.", dns.TypeSRV, 1232},
		{"_http._tcp.web.default.svc.cluster.local.", dns.TypeSRV, 0},
		{"10.0.96.10.in-addr.arpa.", dns.TypePTR, 0},
		{"db.default.svc.cluster.local.", dns.TypeA, 4096},
		{"10-0-9-9.default.pod.cluster.local.", dns.TypeA, 0},
		{"example.com.", dns.TypeA, 0},
		{"cluster.local.", dns.TypeANY, 0},
		{"cluster.local.", dns.TypeAXFR, 0},
	}
	for _, s := range seeds {
		m := new(dns.Msg).SetQuestion(s.name, s.qtype)
		if s.edns > 0 {
			m.SetEdns0(s.edns, true)
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1}, false)
	f.Add([]byte{0xde, 0xad}, false)

	s := fuzzServer(f)
	f.Fuzz(func(t *testing.T, packet []byte, tcp bool) {
		r := new(dns.Msg)
		if err := r.Unpack(packet); err != nil {
			return // miekg/dns answers FORMERR or drops: our handler never sees it
		}
		if dns.DefaultMsgAcceptFunc(headerOf(packet)) != dns.MsgAccept {
			return // answered by miekg/dns itself (FORMERR, NOTIMP) or dropped
		}
		w := newRecorder()
		if tcp {
			w = tcpRecorder()
		}
		s.ServeDNS(w, r)
		if w.count() > 1 {
			t.Fatalf("%d responses written", w.count())
		}
		m := w.last()
		if m == nil {
			if !r.Response {
				t.Fatalf("no response to a query")
			}
			return
		}
		b, err := m.Pack()
		if err != nil {
			t.Fatalf("response does not pack: %v\n%v", err, m)
		}
		limit := dns.MaxMsgSize
		if !tcp {
			limit = dns.MinMsgSize
			if opt := r.IsEdns0(); opt != nil {
				limit = min(max(int(opt.UDPSize()), dns.MinMsgSize), maxUDPSize)
			}
		}
		if len(b) > limit {
			t.Fatalf("response of %d octets, limit %d", len(b), limit)
		}
		back := new(dns.Msg)
		if err := back.Unpack(b); err != nil {
			t.Fatalf("response does not unpack: %v", err)
		}
		if !back.Response || back.Id != r.Id {
			t.Fatalf("qr %v id %d, want qr and id %d", back.Response, back.Id, r.Id)
		}
		if len(r.Question) == 1 && (len(back.Question) != 1 || back.Question[0] != r.Question[0]) {
			t.Fatalf("question %v, want %v", back.Question, r.Question)
		}
	})
}

// headerOf reads the wire header the way miekg/dns's server does before
// its accept function.
func headerOf(b []byte) dns.Header {
	u16 := func(i int) uint16 { return uint16(b[i])<<8 | uint16(b[i+1]) }
	return dns.Header{Id: u16(0), Bits: u16(2), Qdcount: u16(4), Ancount: u16(6), Nscount: u16(8), Arcount: u16(10)}
}

// FuzzLookup asks the index arbitrary names: it never panics, and answers
// only what it owns with a valid rcode.
func FuzzLookup(f *testing.F) {
	for _, n := range []string{"flaskapp.default.svc.cluster.local.", "10-0-9-9.default.pod.cluster.local.",
		"1.0.1.10.in-addr.arpa.", "x.ip6.arpa.", "_http._tcp.web.default.svc.cluster.local.", "a..b.", "CLUSTER.local."} {
		f.Add(n, uint16(dns.TypeA))
		f.Add(n, uint16(dns.TypePTR))
	}
	ix := newTestCluster().index("")
	f.Fuzz(func(t *testing.T, name string, qtype uint16) {
		res, ok := ix.Lookup(name, qtype, 5)
		if !ok {
			return
		}
		switch res.Rcode {
		case dns.RcodeSuccess, dns.RcodeNameError, dns.RcodeServerFailure:
		default:
			t.Fatalf("rcode %d", res.Rcode)
		}
		if res.Rcode == dns.RcodeNameError && len(res.Ns) != 1 {
			t.Fatalf("NXDOMAIN without SOA")
		}
	})
}
