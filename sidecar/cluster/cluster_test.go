package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

func testCluster(policy xdsresource.LBPolicy, addrs ...string) (*Manager, *Cluster) {
	m := NewManager(context.Background())
	cfg := &xdsresource.Cluster{Name: "c", LBPolicy: policy, ChoiceCount: 2, RingMinSize: 1024, RingMaxSize: 8 << 20,
		MaglevTableSize: 65537, PanicThreshold: 50, Thresholds: xdsresource.DefaultThresholds, ConnectTimeout: time.Second, IdleTimeout: time.Hour}
	cla := &xdsresource.ClusterLoadAssignment{}
	for _, a := range addrs {
		cla.Endpoints = append(cla.Endpoints, xdsresource.Endpoint{Address: a, Weight: 1})
	}
	return m, m.Build(cfg, cla)
}

func TestRoundRobinWeighted(t *testing.T) {
	m, c := testCluster(xdsresource.LBRoundRobin)
	cla := &xdsresource.ClusterLoadAssignment{Endpoints: []xdsresource.Endpoint{{Address: "a:1", Weight: 3}, {Address: "b:1", Weight: 1}}}
	m.UpdateEndpoints(c, cla)
	counts := map[string]int{}
	for i := 0; i < 400; i++ {
		counts[c.Pick(0, false, 0).Host.Addr]++
	}
	if counts["a:1"] != 300 || counts["b:1"] != 100 {
		t.Fatalf("counts = %v", counts)
	}
}

func TestPoliciesSpreadAndHash(t *testing.T) {
	addrs := []string{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80"}
	for _, p := range []xdsresource.LBPolicy{xdsresource.LBRoundRobin, xdsresource.LBLeastRequest, xdsresource.LBRandom, xdsresource.LBRingHash, xdsresource.LBMaglev} {
		t.Run(p.String(), func(t *testing.T) {
			_, c := testCluster(p, addrs...)
			counts := map[string]int{}
			for i := 0; i < 4000; i++ {
				counts[c.Pick(uint64(i)*0x9E3779B97F4A7C15, p == xdsresource.LBRingHash || p == xdsresource.LBMaglev, 0).Host.Addr]++
			}
			for _, a := range addrs {
				if counts[a] < 500 {
					t.Errorf("%s got %d of 4000: %v", a, counts[a], counts)
				}
			}
			if p == xdsresource.LBRingHash || p == xdsresource.LBMaglev {
				first := c.Pick(42, true, 0)
				for i := 0; i < 10; i++ {
					if c.Pick(42, true, 0) != first {
						t.Fatal("hash pick is not stable")
					}
				}
			}
		})
	}
}

func TestConsistentHashMovesLittle(t *testing.T) {
	for _, p := range []xdsresource.LBPolicy{xdsresource.LBRingHash, xdsresource.LBMaglev} {
		t.Run(p.String(), func(t *testing.T) {
			m, c := testCluster(p, "10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80", "10.0.0.4:80")
			before := make([]string, 2000)
			for i := range before {
				before[i] = c.Pick(uint64(i)*0x9E3779B97F4A7C15, true, 0).Host.Addr
			}
			m.UpdateEndpoints(c, &xdsresource.ClusterLoadAssignment{Endpoints: []xdsresource.Endpoint{
				{Address: "10.0.0.1:80", Weight: 1}, {Address: "10.0.0.2:80", Weight: 1}, {Address: "10.0.0.3:80", Weight: 1},
				{Address: "10.0.0.4:80", Weight: 1}, {Address: "10.0.0.5:80", Weight: 1}}})
			moved := 0
			for i := range before {
				if c.Pick(uint64(i)*0x9E3779B97F4A7C15, true, 0).Host.Addr != before[i] {
					moved++
				}
			}
			if moved > 2000*35/100 {
				t.Fatalf("%d of 2000 keys moved when adding a 5th host", moved)
			}
		})
	}
}

func TestPickSkipsUnhealthyAndPanics(t *testing.T) {
	m, c := testCluster(xdsresource.LBRoundRobin)
	m.UpdateEndpoints(c, &xdsresource.ClusterLoadAssignment{Endpoints: []xdsresource.Endpoint{
		{Address: "a:1", Weight: 1}, {Address: "b:1", Weight: 1, Health: xdsresource.Unhealthy}, {Address: "c:1", Weight: 1}}})
	for i := 0; i < 30; i++ {
		if c.Pick(0, false, 0).Host.Addr == "b:1" {
			t.Fatal("picked an unhealthy host")
		}
	}
	// 1 of 3 healthy is under the 50% panic threshold: every host is used.
	m.UpdateEndpoints(c, &xdsresource.ClusterLoadAssignment{Endpoints: []xdsresource.Endpoint{
		{Address: "a:1", Weight: 1}, {Address: "b:1", Weight: 1, Health: xdsresource.Unhealthy}, {Address: "c:1", Weight: 1, Health: xdsresource.Unhealthy}}})
	seen := map[string]bool{}
	for i := 0; i < 30; i++ {
		seen[c.Pick(0, false, 0).Host.Addr] = true
	}
	if len(seen) != 3 {
		t.Fatalf("panic mode used %v", seen)
	}
	// Without panic mode, no healthy host means nil (503 UH).
	c.Config.PanicThreshold = 0
	m.UpdateEndpoints(c, &xdsresource.ClusterLoadAssignment{Endpoints: []xdsresource.Endpoint{{Address: "a:1", Weight: 1, Health: xdsresource.Unhealthy}}})
	if e := c.Pick(0, false, 0); e != nil {
		t.Fatalf("picked %v with no healthy host", e.Host.Addr)
	}
}

func TestOutlierEjection(t *testing.T) {
	m, c := testCluster(xdsresource.LBRoundRobin)
	c.Config.Outlier = &xdsresource.OutlierDetection{Consecutive5xx: 2, EnforcingConsecutive5xx: 100, Interval: time.Second,
		BaseEjectionTime: time.Hour, MaxEjectionTime: 2 * time.Hour, MaxEjectionPercent: 50}
	c.Config.PanicThreshold = 0
	m.UpdateEndpoints(c, &xdsresource.ClusterLoadAssignment{Endpoints: []xdsresource.Endpoint{
		{Address: "a:1", Weight: 1}, {Address: "b:1", Weight: 1}, {Address: "c:1", Weight: 1}, {Address: "d:1", Weight: 1}}})
	eps := c.Endpoints()
	eps[0].Host.Record(Result5xx)
	eps[0].Host.Record(ResultSuccess) // resets the streak
	eps[0].Host.Record(Result5xx)
	if eps[0].Host.Ejected() {
		t.Fatal("ejected without consecutive errors")
	}
	eps[0].Host.Record(ResultGateway)
	if !eps[0].Host.Ejected() || eps[0].Host.EjectionCount() != 1 {
		t.Fatal("not ejected after 2 consecutive 5xx")
	}
	for i := 0; i < 30; i++ {
		if c.Pick(0, false, 0) == eps[0] {
			t.Fatal("picked an ejected host")
		}
	}
	// max_ejection_percent 50 of 4: a second ejection is allowed, a third not.
	for _, e := range eps[1:] {
		e.Host.Record(Result5xx)
		e.Host.Record(Result5xx)
	}
	ejected := 0
	for _, e := range eps {
		if e.Host.Ejected() {
			ejected++
		}
	}
	if ejected != 2 {
		t.Fatalf("%d hosts ejected, max 50%% of 4 is 2", ejected)
	}
	// Host state survives an EDS update.
	m.UpdateEndpoints(c, &xdsresource.ClusterLoadAssignment{Endpoints: []xdsresource.Endpoint{{Address: "a:1", Weight: 1}, {Address: "e:1", Weight: 1}}})
	if !c.Endpoints()[0].Host.Ejected() {
		t.Fatal("ejection lost across an EDS update")
	}
}

func TestCircuitBreakerPending(t *testing.T) {
	s := newState("c")
	s.limits.Store(&xdsresource.Thresholds{MaxConnections: 1, MaxPendingRequests: 1, MaxRequests: 100, MaxRetries: 1})
	ctx := context.Background()
	if err := s.acquireConn(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() { got <- s.acquireConn(ctx) }()
	for s.pending() != 1 {
		time.Sleep(time.Millisecond)
	}
	if err := s.acquireConn(ctx); !errors.Is(err, ErrOverflow) {
		t.Fatalf("third request: %v, want overflow", err)
	}
	s.releaseConn()
	if err := <-got; err != nil {
		t.Fatalf("pending request: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() { got <- s.acquireConn(cctx) }()
	for s.pending() != 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled pending: %v", err)
	}
	s.releaseConn()
	if s.busy != 0 {
		t.Fatalf("busy = %d", s.busy)
	}
	if !s.acquireRetry() || s.acquireRetry() {
		t.Fatal("max_retries 1 not enforced")
	}
}

func upstream(t *testing.T, h http.HandlerFunc) (string, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), &conns
}

func TestRoundTripKeepAlive(t *testing.T) {
	addr, conns := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %s %s %s", r.Method, r.Host, r.URL.RequestURI(), b, r.Header.Get("X-A"))
	})
	_, c := testCluster(xdsresource.LBRoundRobin, addr)
	h := c.Endpoints()[0].Host
	for i := 0; i < 5; i++ {
		var body io.Reader
		cl := int64(0)
		if i%2 == 1 {
			body, cl = strings.NewReader("payload"), -1 // chunked
		}
		resp, err := c.RoundTrip(context.Background(), h, &Request{Method: "POST", Host: "svc", Path: "/p", Query: "q=1",
			Header: http.Header{"X-A": {"b"}}, Body: body, ContentLength: cl})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		want := "POST svc /p?q=1  b"
		if i%2 == 1 {
			want = "POST svc /p?q=1 payload b"
		}
		if string(b) != want {
			t.Fatalf("got %q, want %q", b, want)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 5 sequential requests, want 1", n)
	}
	if h.RqActive.Load() != 0 || c.state.requests.Load() != 0 || c.state.busy != 0 {
		t.Fatal("slots leaked")
	}
}

func TestRoundTripMaxRequestsPerConnection(t *testing.T) {
	addr, conns := upstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	_, c := testCluster(xdsresource.LBRoundRobin, addr)
	c.Config.MaxRequestsPerConn = 2
	h := c.Endpoints()[0].Host
	for i := 0; i < 6; i++ {
		resp, err := c.RoundTrip(context.Background(), h, &Request{Method: "GET", Host: "svc", Path: "/"})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections, want 3 (2 requests each)", n)
	}
}

func TestRoundTripErrors(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	_, c := testCluster(xdsresource.LBRoundRobin, dead)
	_, err := c.RoundTrip(context.Background(), c.Endpoints()[0].Host, &Request{Method: "GET", Host: "x", Path: "/"})
	var ce *ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want ConnectError", err)
	}

	var wg sync.WaitGroup
	wg.Add(1)
	hang := make(chan struct{})
	addr, _ := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		defer wg.Done()
		<-hang
	})
	defer func() { close(hang); wg.Wait() }()
	_, c = testCluster(xdsresource.LBRoundRobin, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.RoundTrip(ctx, c.Endpoints()[0].Host, &Request{Method: "GET", Host: "x", Path: "/"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if c.state.busy != 0 || c.state.requests.Load() != 0 {
		t.Fatal("slots leaked after timeout")
	}
}

func BenchmarkPick(b *testing.B) {
	addrs := make([]string, 50)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("10.0.%d.%d:8080", i/250, i%250)
	}
	for _, p := range []xdsresource.LBPolicy{xdsresource.LBRoundRobin, xdsresource.LBLeastRequest, xdsresource.LBRandom, xdsresource.LBRingHash, xdsresource.LBMaglev} {
		b.Run(p.String(), func(b *testing.B) {
			_, c := testCluster(p, addrs...)
			b.ReportAllocs()
			var i uint64
			for b.Loop() {
				i++
				if c.Pick(i*0x9E3779B97F4A7C15, true, 0) == nil {
					b.Fatal("nil pick")
				}
			}
		})
	}
}
