package dns

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// fakeHandler answers every question with answer (nil: writes nothing and
// returns rcode) and records the questions it got.
type fakeHandler struct {
	answer func(r *dns.Msg) *dns.Msg
	rcode  int
	err    error
	asked  []dns.Question
}

func (f *fakeHandler) Name() string { return "fake" }

func (f *fakeHandler) ServeDNS(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	f.asked = append(f.asked, r.Question[0])
	if f.answer == nil {
		return f.rcode, f.err
	}
	m := f.answer(r)
	return m.Rcode, w.WriteMsg(m)
}

// named records the order plugins see a query in.
type named struct {
	name  string
	next  Handler
	trace *[]string
}

func (n named) Name() string { return n.name }

func (n named) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	*n.trace = append(*n.trace, n.name)
	return n.next.ServeDNS(ctx, w, r)
}

func TestChainOrder(t *testing.T) {
	var trace []string
	p := func(name string) Plugin {
		return func(next Handler) Handler { return named{name, next, &trace} }
	}
	h := Chain(p("a"), p("b"), p("c"))
	if h.Name() != "a" {
		t.Errorf("first plugin = %s", h.Name())
	}
	r := new(dns.Msg).SetQuestion("example.com.", dns.TypeA)
	rcode, err := h.ServeDNS(context.Background(), newRecorder(), r)
	if !slices.Equal(trace, []string{"a", "b", "c"}) {
		t.Errorf("order = %v", trace)
	}
	if rcode != dns.RcodeServerFailure || !errors.Is(err, ErrNoNext) {
		t.Errorf("end of chain = %d %v, want SERVFAIL ErrNoNext", rcode, err)
	}
}

func TestServerChainIsKubernetesCacheForward(t *testing.T) {
	s, err := NewServer(Config{Upstreams: []string{"127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for h := s.handler; h != nil; {
		names = append(names, h.Name())
		switch x := h.(type) {
		case *Kubernetes:
			h = x.Next
		case *Cache:
			h = x.Next
		default:
			h = nil
		}
	}
	if !slices.Equal(names, []string{"kubernetes", "cache", "forward"}) {
		t.Errorf("chain = %v", names)
	}
	s, err = NewServer(Config{Upstreams: []string{"127.0.0.1"}, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	if k := s.handler.(*Kubernetes); k.Next.Name() != "forward" {
		t.Errorf("cache off: kubernetes → %s", k.Next.Name())
	}
}
