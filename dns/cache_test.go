package dns

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestCache(size int, next Handler) (*Cache, *fakeClock) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	return NewCache(size, time.Hour, 5*time.Minute, clock.now)(next).(*Cache), clock
}

func answerWith(records ...string) func(r *dns.Msg) *dns.Msg {
	return func(r *dns.Msg) *dns.Msg {
		m := new(dns.Msg).SetReply(r)
		for _, s := range records {
			rr, err := dns.NewRR(s)
			if err != nil {
				panic(err)
			}
			m.Answer = append(m.Answer, rr)
		}
		return m
	}
}

func ask(t *testing.T, h Handler, name string, qtype uint16) *dns.Msg {
	t.Helper()
	w := newRecorder()
	r := new(dns.Msg).SetQuestion(name, qtype)
	if _, err := h.ServeDNS(context.Background(), w, r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	m := w.last()
	if m == nil {
		t.Fatalf("%s: nothing written", name)
	}
	if m.Id != r.Id {
		t.Errorf("id = %d, want %d", m.Id, r.Id)
	}
	return m
}

func TestCacheHitAndTTL(t *testing.T) {
	next := &fakeHandler{answer: answerWith("example.com. 60 IN A 192.0.2.1")}
	c, clock := newTestCache(10, next)
	ask(t, c, "example.com.", dns.TypeA)
	clock.advance(20 * time.Second)
	m := ask(t, c, "Example.COM.", dns.TypeA) // names are case-insensitive
	if len(next.asked) != 1 {
		t.Fatalf("next asked %d times, want 1 (a hit)", len(next.asked))
	}
	if ttl := m.Answer[0].Header().Ttl; ttl != 40 {
		t.Errorf("ttl after 20s = %d, want 40", ttl)
	}
	clock.advance(40 * time.Second)
	ask(t, c, "example.com.", dns.TypeA)
	if len(next.asked) != 2 {
		t.Errorf("expired answer served from the cache")
	}
	ask(t, c, "example.com.", dns.TypeAAAA)
	if len(next.asked) != 3 {
		t.Errorf("another type served from the cache")
	}
}

func TestCacheMaxTTL(t *testing.T) {
	next := &fakeHandler{answer: answerWith("example.com. 86400 IN A 192.0.2.1")}
	c, clock := newTestCache(10, next)
	ask(t, c, "example.com.", dns.TypeA)
	clock.advance(time.Hour - time.Second)
	if m := ask(t, c, "example.com.", dns.TypeA); m.Answer[0].Header().Ttl != 1 || len(next.asked) != 1 {
		t.Errorf("ttl = %d asked %d", m.Answer[0].Header().Ttl, len(next.asked))
	}
	clock.advance(time.Second)
	ask(t, c, "example.com.", dns.TypeA)
	if len(next.asked) != 2 {
		t.Errorf("kept past the one-hour cap")
	}
}

func TestCacheNegative(t *testing.T) {
	soa := "example.com. 30 IN SOA ns.example.com. h.example.com. 1 7200 1800 86400 10"
	nx := func(r *dns.Msg) *dns.Msg {
		m := new(dns.Msg).SetRcode(r, dns.RcodeNameError)
		rr, _ := dns.NewRR(soa)
		m.Ns = []dns.RR{rr}
		return m
	}
	next := &fakeHandler{answer: nx}
	c, clock := newTestCache(10, next)
	ask(t, c, "nx.example.com.", dns.TypeA)
	clock.advance(9 * time.Second)
	m := ask(t, c, "nx.example.com.", dns.TypeA)
	if m.Rcode != dns.RcodeNameError || len(next.asked) != 1 {
		t.Fatalf("negative answer not cached: %v", m)
	}
	// RFC 2308 §5: min(SOA TTL 30, MINIMUM 10) = 10 s.
	if ttl := m.Ns[0].Header().Ttl; ttl != 1 {
		t.Errorf("SOA ttl after 9s = %d, want 1", ttl)
	}
	clock.advance(time.Second)
	ask(t, c, "nx.example.com.", dns.TypeA)
	if len(next.asked) != 2 {
		t.Errorf("negative answer kept past SOA MINIMUM")
	}

	// NODATA is cached the same way; the negative cap applies.
	c, clock = newTestCache(10, &fakeHandler{answer: func(r *dns.Msg) *dns.Msg {
		m := new(dns.Msg).SetReply(r)
		rr, _ := dns.NewRR("example.com. 86400 IN SOA ns.example.com. h.example.com. 1 7200 1800 86400 86400")
		m.Ns = []dns.RR{rr}
		return m
	}})
	ask(t, c, "example.com.", dns.TypeAAAA)
	clock.advance(5*time.Minute - time.Second)
	ask(t, c, "example.com.", dns.TypeAAAA)
	if c.misses.Load() != 1 {
		t.Errorf("NODATA not cached")
	}
	clock.advance(time.Second)
	ask(t, c, "example.com.", dns.TypeAAAA)
	if c.misses.Load() != 2 {
		t.Errorf("NODATA kept past the 5-minute negative cap")
	}
}

func TestCacheDoesNotKeep(t *testing.T) {
	cases := map[string]func(r *dns.Msg) *dns.Msg{
		"servfail": func(r *dns.Msg) *dns.Msg { return new(dns.Msg).SetRcode(r, dns.RcodeServerFailure) },
		"refused":  func(r *dns.Msg) *dns.Msg { return new(dns.Msg).SetRcode(r, dns.RcodeRefused) },
		"nxdomain without SOA": func(r *dns.Msg) *dns.Msg {
			return new(dns.Msg).SetRcode(r, dns.RcodeNameError)
		},
		"truncated": func(r *dns.Msg) *dns.Msg {
			m := answerWith("example.com. 60 IN A 192.0.2.1")(r)
			m.Truncated = true
			return m
		},
		"ttl 0": answerWith("example.com. 0 IN A 192.0.2.1"),
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			next := &fakeHandler{answer: answer}
			c, _ := newTestCache(10, next)
			ask(t, c, "example.com.", dns.TypeA)
			ask(t, c, "example.com.", dns.TypeA)
			if len(next.asked) != 2 || c.Len() != 0 {
				t.Errorf("cached: asked %d, len %d", len(next.asked), c.Len())
			}
		})
	}
}

func TestCacheLRU(t *testing.T) {
	next := &fakeHandler{answer: func(r *dns.Msg) *dns.Msg {
		return answerWith(r.Question[0].Name + " 60 IN A 192.0.2.1")(r)
	}}
	c, _ := newTestCache(2, next)
	ask(t, c, "a.example.", dns.TypeA)
	ask(t, c, "b.example.", dns.TypeA)
	ask(t, c, "a.example.", dns.TypeA) // a is now the most recently used
	ask(t, c, "c.example.", dns.TypeA) // evicts b
	if c.Len() != 2 {
		t.Errorf("len = %d, want 2", c.Len())
	}
	before := len(next.asked)
	ask(t, c, "a.example.", dns.TypeA)
	ask(t, c, "c.example.", dns.TypeA)
	if len(next.asked) != before {
		t.Errorf("a or c evicted")
	}
	ask(t, c, "b.example.", dns.TypeA)
	if len(next.asked) != before+1 {
		t.Errorf("b not evicted")
	}
	var names []string
	for _, q := range next.asked {
		names = append(names, q.Name)
	}
	if !slices.Equal(names, []string{"a.example.", "b.example.", "c.example.", "b.example."}) {
		t.Errorf("asked %v", names)
	}
}

func TestCacheKeyIncludesDO(t *testing.T) {
	next := &fakeHandler{answer: answerWith("example.com. 60 IN A 192.0.2.1")}
	c, _ := newTestCache(10, next)
	for _, do := range []bool{false, true, true} {
		r := new(dns.Msg).SetQuestion("example.com.", dns.TypeA)
		r.SetEdns0(1232, do)
		_, _ = c.ServeDNS(context.Background(), newRecorder(), r)
	}
	if len(next.asked) != 2 {
		t.Errorf("asked %d, want 2 (DO and not DO apart)", len(next.asked))
	}
}

func TestCacheServesCopies(t *testing.T) {
	next := &fakeHandler{answer: answerWith("example.com. 60 IN A 192.0.2.1")}
	c, _ := newTestCache(10, next)
	m := ask(t, c, "example.com.", dns.TypeA)
	m.Answer[0].(*dns.A).A[0] = 9 // a writer changing what it was given
	m2 := ask(t, c, "example.com.", dns.TypeA)
	m2.Answer = nil
	if got := rdata(ask(t, c, "example.com.", dns.TypeA).Answer); !slices.Equal(got, []string{"A 192.0.2.1"}) {
		t.Errorf("cached answer changed: %v", got)
	}
}
