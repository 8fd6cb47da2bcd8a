package dns

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeExchange answers per upstream address; it records every exchange.
type fakeExchange struct {
	mu    sync.Mutex
	calls []string // "network addr"
	by    map[string]func(ctx context.Context, m *dns.Msg, network string) (*dns.Msg, error)
}

func (f *fakeExchange) exchange(ctx context.Context, m *dns.Msg, network, addr string) (*dns.Msg, error) {
	f.mu.Lock()
	f.calls = append(f.calls, network+" "+addr)
	h := f.by[addr]
	f.mu.Unlock()
	return h(ctx, m, network)
}

func okAnswer(ip string) func(context.Context, *dns.Msg, string) (*dns.Msg, error) {
	return func(_ context.Context, m *dns.Msg, _ string) (*dns.Msg, error) {
		return upstreamA(ip)(m), nil
	}
}

func newTestForward(f *fakeExchange, upstreams ...string) *Forward {
	return NewForward(upstreams, 200*time.Millisecond, 4, f.exchange)(nil).(*Forward)
}

func TestForwardAnswers(t *testing.T) {
	f := &fakeExchange{by: map[string]func(context.Context, *dns.Msg, string) (*dns.Msg, error){"10.0.0.53:53": okAnswer("192.0.2.1")}}
	fw := newTestForward(f, "10.0.0.53:53")
	r := new(dns.Msg).SetQuestion("example.com.", dns.TypeA)
	w := newRecorder()
	rcode, err := fw.ServeDNS(context.Background(), w, r)
	if err != nil || rcode != dns.RcodeSuccess {
		t.Fatalf("rcode %d err %v", rcode, err)
	}
	if m := w.last(); m.Id != r.Id || len(m.Answer) != 1 {
		t.Errorf("answer = %v", m)
	}
}

func TestForwardFailsOver(t *testing.T) {
	f := &fakeExchange{by: map[string]func(context.Context, *dns.Msg, string) (*dns.Msg, error){
		"10.0.0.1:53": func(context.Context, *dns.Msg, string) (*dns.Msg, error) {
			return nil, errors.New("connection refused")
		},
		"10.0.0.2:53": func(_ context.Context, m *dns.Msg, _ string) (*dns.Msg, error) {
			return new(dns.Msg).SetRcode(m, dns.RcodeServerFailure), nil
		},
		"10.0.0.3:53": okAnswer("192.0.2.3"),
	}}
	fw := newTestForward(f, "10.0.0.1:53", "10.0.0.2:53", "10.0.0.3:53")
	for range 3 { // whatever upstream it starts with
		w := newRecorder()
		rcode, err := fw.ServeDNS(context.Background(), w, new(dns.Msg).SetQuestion("example.com.", dns.TypeA))
		if err != nil || rcode != dns.RcodeSuccess || len(w.last().Answer) != 1 {
			t.Fatalf("rcode %d err %v", rcode, err)
		}
	}
}

func TestForwardAllFail(t *testing.T) {
	f := &fakeExchange{by: map[string]func(context.Context, *dns.Msg, string) (*dns.Msg, error){
		"10.0.0.1:53": func(context.Context, *dns.Msg, string) (*dns.Msg, error) { return nil, errors.New("boom") },
		"10.0.0.2:53": func(_ context.Context, m *dns.Msg, _ string) (*dns.Msg, error) {
			r := upstreamA("192.0.2.1")(m)
			r.Question[0].Name = "other.example." // answers another question
			return r, nil
		},
	}}
	fw := newTestForward(f, "10.0.0.1:53", "10.0.0.2:53")
	w := newRecorder()
	rcode, err := fw.ServeDNS(context.Background(), w, new(dns.Msg).SetQuestion("example.com.", dns.TypeA))
	if rcode != dns.RcodeServerFailure || !errors.Is(err, ErrBadResponse) || w.count() != 0 {
		t.Errorf("rcode %d err %v written %d", rcode, err, w.count())
	}
}

func TestForwardRetriesTruncatedOverTCP(t *testing.T) {
	f := &fakeExchange{by: map[string]func(context.Context, *dns.Msg, string) (*dns.Msg, error){
		"10.0.0.1:53": func(_ context.Context, m *dns.Msg, network string) (*dns.Msg, error) {
			r := upstreamA("192.0.2.1")(m)
			if network == "udp" {
				r.Answer, r.Truncated = nil, true
			}
			return r, nil
		},
	}}
	fw := newTestForward(f, "10.0.0.1:53")
	w := newRecorder()
	if _, err := fw.ServeDNS(context.Background(), w, new(dns.Msg).SetQuestion("example.com.", dns.TypeA)); err != nil {
		t.Fatal(err)
	}
	if m := w.last(); m.Truncated || len(m.Answer) != 1 {
		t.Errorf("answer = %v", m)
	}
	if len(f.calls) != 2 || f.calls[0] != "udp 10.0.0.1:53" || f.calls[1] != "tcp 10.0.0.1:53" {
		t.Errorf("calls = %v", f.calls)
	}
}

func TestForwardTimeout(t *testing.T) {
	f := &fakeExchange{by: map[string]func(context.Context, *dns.Msg, string) (*dns.Msg, error){
		"10.0.0.1:53": func(ctx context.Context, _ *dns.Msg, _ string) (*dns.Msg, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	}}
	fw := newTestForward(f, "10.0.0.1:53")
	start := time.Now()
	rcode, err := fw.ServeDNS(context.Background(), newRecorder(), new(dns.Msg).SetQuestion("example.com.", dns.TypeA))
	if rcode != dns.RcodeServerFailure || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("rcode %d err %v", rcode, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v with a 200ms timeout", d)
	}
}

func TestForwardBoundsConcurrency(t *testing.T) {
	release := make(chan struct{})
	var inFlight atomic.Int32
	f := &fakeExchange{by: map[string]func(context.Context, *dns.Msg, string) (*dns.Msg, error){
		"10.0.0.1:53": func(_ context.Context, m *dns.Msg, _ string) (*dns.Msg, error) {
			inFlight.Add(1)
			<-release
			return upstreamA("192.0.2.1")(m), nil
		},
	}}
	fw := NewForward([]string{"10.0.0.1:53"}, 5*time.Second, 4, f.exchange)(nil).(*Forward)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = fw.ServeDNS(context.Background(), newRecorder(), new(dns.Msg).SetQuestion("example.com.", dns.TypeA))
		}()
	}
	for inFlight.Load() < 4 {
		time.Sleep(time.Millisecond)
	}
	rcode, err := fw.ServeDNS(context.Background(), newRecorder(), new(dns.Msg).SetQuestion("example.com.", dns.TypeA))
	if rcode != dns.RcodeRefused || !errors.Is(err, ErrOverloaded) {
		t.Errorf("fifth concurrent query: rcode %d err %v, want REFUSED", rcode, err)
	}
	close(release)
	wg.Wait()
	if rcode, err := fw.ServeDNS(context.Background(), newRecorder(), new(dns.Msg).SetQuestion("example.com.", dns.TypeA)); rcode != dns.RcodeSuccess {
		t.Errorf("after the flood: rcode %d err %v", rcode, err)
	}
}

func TestForwardSendsDO(t *testing.T) {
	var sent *dns.Msg
	f := &fakeExchange{by: map[string]func(context.Context, *dns.Msg, string) (*dns.Msg, error){
		"10.0.0.1:53": func(_ context.Context, m *dns.Msg, _ string) (*dns.Msg, error) {
			sent = m
			return upstreamA("192.0.2.1")(m), nil
		},
	}}
	fw := newTestForward(f, "10.0.0.1:53")
	r := new(dns.Msg).SetQuestion("example.com.", dns.TypeA)
	r.SetEdns0(4096, true)
	r.CheckingDisabled = true
	_, _ = fw.ServeDNS(context.Background(), newRecorder(), r)
	opt := sent.IsEdns0()
	if opt == nil || !opt.Do() || opt.UDPSize() != upstreamUDPSize || !sent.RecursionDesired || !sent.CheckingDisabled {
		t.Errorf("sent upstream: %v", sent)
	}
}

func TestParseUpstream(t *testing.T) {
	good := map[string]string{
		"10.0.0.2":          "10.0.0.2:53",
		"10.0.0.2:5353":     "10.0.0.2:5353",
		"dns://10.0.0.2":    "10.0.0.2:53",
		"fd00::2":           "[fd00::2]:53",
		"[fd00::2]:5353":    "[fd00::2]:5353",
		" 127.0.0.53 ":      "127.0.0.53:53",
		"fe80::1%eth0":      "[fe80::1%eth0]:53",
		"[fe80::1%eth0]:53": "[fe80::1%eth0]:53",
	}
	for in, want := range good {
		if got, err := ParseUpstream(in); err != nil || got != want {
			t.Errorf("ParseUpstream(%q) = %q %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "dns.google", "10.0.0.2:0", "10.0.0.2:x", "udp://10.0.0.2"} {
		if got, err := ParseUpstream(in); err == nil {
			t.Errorf("ParseUpstream(%q) = %q, want an error", in, got)
		}
	}
}
