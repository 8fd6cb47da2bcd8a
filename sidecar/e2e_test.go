package sidecar_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	faultcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/fault/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/weft-mesh/weft/sidecar"
	"github.com/weft-mesh/weft/sidecar/internal/xdstest"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
	"go.uber.org/zap"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const nodeID = "sidecar~127.0.0.1~sleep-7d9f8-x2k4q.default~default.svc.cluster.local"

const (
	v1 = "outbound|80|v1|flaskapp.default.svc.cluster.local"
	v2 = "outbound|80|v2|flaskapp.default.svc.cluster.local"
)

type env struct {
	t      testing.TB
	xds    *xdstest.Server
	proxy  *sidecar.Proxy
	client *http.Client
	base   xdstest.Resources
}

// base is what every test config has: Istio's virtualOutbound with its
// passthrough cluster and the outbound HTTP listener for port 80.
func base() xdstest.Resources {
	return xdstest.Resources{
		Listeners: []types.Resource{xdstest.VirtualOutbound(), xdstest.HTTPListener(80)},
		Clusters:  []types.Resource{xdstest.Passthrough()},
	}
}

func withRoute(r xdstest.Resources, rc *routev3.RouteConfiguration, services ...xdstest.Resources) xdstest.Resources {
	r.Routes = append(r.Routes, rc)
	for _, s := range services {
		r.Add(s)
	}
	return r
}

// start runs the control plane and the proxy in host network mode: the
// client talks to virtualOutbound as its HTTP proxy, like a host-mode pod
// with HTTP_PROXY set.
func start(t testing.TB, res xdstest.Resources) *env {
	t.Helper()
	return startWith(t, res, nil)
}

// startWith is start with the proxy's config adjusted by opt.
func startWith(t testing.TB, res xdstest.Resources, opt func(*sidecar.Config)) *env {
	t.Helper()
	srv := xdstest.NewServer(t, "")
	srv.Set(t, nodeID, res)
	cfg := sidecar.Config{
		XDSAddr: srv.Addr, NodeID: nodeID, PodIP: "127.0.0.1", Mode: "sidecar", Network: "host",
		OutboundAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", StatsAddr: "127.0.0.1:0", ReadyAddr: "127.0.0.1:0",
		AccessLog: "off", Logger: zap.NewNop(), Labels: map[string]string{"app": "sleep", "version": "v1"},
		XDSBackoffBase: 20 * time.Millisecond, XDSBackoffMax: 200 * time.Millisecond,
		// Every test's cleanup drains: keep it short (TestGracefulDrain
		// sets its own).
		DrainTime: 100 * time.Millisecond,
	}
	if opt != nil {
		opt(&cfg)
	}
	p, err := sidecar.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = p.Wait(ctx)
	})
	waitFor(t, "proxy ready", p.Ready)
	proxyURL, _ := url.Parse("http://" + p.Addr("virtualOutbound"))
	tr := &http.Transport{Proxy: http.ProxyURL(proxyURL), MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &env{t: t, xds: srv, proxy: p, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, base: res}
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// backend is a real HTTP server on 127.0.0.1:0 answering its name.
type backend struct {
	*httptest.Server
	name  string
	hits  atomic.Int64
	mu    sync.Mutex
	hosts []string
}

func newBackend(t *testing.T, name string, h func(w http.ResponseWriter, r *http.Request, n int64) bool) *backend {
	b := &backend{name: name}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := b.hits.Add(1)
		b.mu.Lock()
		b.hosts = append(b.hosts, r.Host)
		b.mu.Unlock()
		if h != nil && h(w, r, n) {
			return
		}
		w.Header().Set("X-Backend", name)
		fmt.Fprint(w, name)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) addr() string { return strings.TrimPrefix(b.URL, "http://") }

func (e *env) get(host, path string, hdr http.Header) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+host+path, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("GET %s%s: %v", host, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func vhost(routes ...*routev3.Route) *routev3.VirtualHost {
	return xdstest.VirtualHost("flaskapp", 80, routes...)
}

func TestWeightedSplit(t *testing.T) {
	b1, b2 := newBackend(t, "v1", nil), newBackend(t, "v2", nil)
	e := start(t, withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("split", "/", xdstest.Weighted(v1, 70, v2, 30)))),
		xdstest.Service(v1, b1.addr()), xdstest.Service(v2, b2.addr())))
	counts := map[string]int{}
	const n = 600
	for i := 0; i < n; i++ {
		resp, body := e.get("flaskapp", "/env/version", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		counts[body]++
	}
	// 30% of 600: sd ≈ 11; allow ±5 sd.
	if c := counts["v2"]; c < 180-55 || c > 180+55 {
		t.Fatalf("v2 got %d of %d, want about 180: %v", c, n, counts)
	}
}

func TestCanaryHeader(t *testing.T) {
	b1, b2 := newBackend(t, "v1", nil), newBackend(t, "v2", nil)
	canary := xdstest.PrefixRoute("canary", "/", xdstest.ToCluster(v2))
	canary.Match.Headers = []*routev3.HeaderMatcher{{Name: "end-user", HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
		StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "jason"}}}}}
	e := start(t, withRoute(base(), xdstest.RouteConfig("80", vhost(canary, xdstest.PrefixRoute("default", "/", xdstest.ToCluster(v1)))),
		xdstest.Service(v1, b1.addr()), xdstest.Service(v2, b2.addr())))
	for i := 0; i < 20; i++ {
		if _, body := e.get("flaskapp", "/", http.Header{"End-User": {"jason"}}); body != "v2" {
			t.Fatalf("canary user got %q", body)
		}
		if _, body := e.get("flaskapp", "/", http.Header{"End-User": {"mary"}}); body != "v1" {
			t.Fatalf("other user got %q", body)
		}
		if resp, body := e.get("flaskapp:80", "/", nil); body != "v1" || resp.Header.Get("X-Backend") != "v1" {
			t.Fatalf("no header got %q", body)
		}
	}
}

func TestMirror(t *testing.T) {
	primary := newBackend(t, "primary", nil)
	shadow := newBackend(t, "shadow", func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
		w.WriteHeader(500) // the mirror's answer must not matter
		return true
	})
	const mirror = "outbound|80||httpbin.default.svc.cluster.local"
	ra := xdstest.ToCluster(v1)
	ra.RequestMirrorPolicies = []*routev3.RouteAction_RequestMirrorPolicy{{Cluster: mirror,
		RuntimeFraction: &corev3.RuntimeFractionalPercent{DefaultValue: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}}}}
	e := start(t, withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("m", "/", ra))),
		xdstest.Service(v1, primary.addr()), xdstest.Service(mirror, shadow.addr())))
	for i := 0; i < 20; i++ {
		if resp, body := e.get("flaskapp", "/", nil); resp.StatusCode != 200 || body != "primary" {
			t.Fatalf("primary answer %d %q", resp.StatusCode, body)
		}
	}
	waitFor(t, "20 mirrored requests", func() bool { return shadow.hits.Load() == 20 })
	shadow.mu.Lock()
	defer shadow.mu.Unlock()
	for _, h := range shadow.hosts {
		if h != "flaskapp-shadow" {
			t.Fatalf("shadow saw Host %q, want flaskapp-shadow", h)
		}
	}
}

// istioCircuitBreaker is what istiod sends for the seed DestinationRule:
// maxConnections 1, http1MaxPendingRequests 1, maxRequestsPerConnection 1.
func istioCircuitBreaker(name string) *clusterv3.Cluster {
	c := xdstest.EDSCluster(name)
	c.CircuitBreakers.Thresholds[0].MaxConnections = wrapperspb.UInt32(1)
	c.CircuitBreakers.Thresholds[0].MaxPendingRequests = wrapperspb.UInt32(1)
	c.TypedExtensionProtocolOptions = map[string]*anypb.Any{xdsresource.UpstreamHTTPOptions: xdstest.Any(&upstreamhttpv3.HttpProtocolOptions{
		CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{MaxRequestsPerConnection: wrapperspb.UInt32(1)},
		UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{}}}},
	})}
	return c
}

func TestCircuitBreaker(t *testing.T) {
	slow := newBackend(t, "slow", func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
		time.Sleep(150 * time.Millisecond)
		return false
	})
	res := withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("d", "/", xdstest.ToCluster(v1)))))
	res.Clusters = append(res.Clusters, istioCircuitBreaker(v1))
	res.Endpoints = append(res.Endpoints, xdstest.Endpoints(v1, slow.addr()))
	e := start(t, res)

	// One connection at a time: never overflows.
	for i := 0; i < 5; i++ {
		if resp, body := e.get("flaskapp", "/", nil); resp.StatusCode != 200 {
			t.Fatalf("sequential request: %d %s", resp.StatusCode, body)
		}
	}
	// Three at once: one in flight, one pending, the third overflows.
	var overflow, ok atomic.Int64
	for wave := 0; wave < 3; wave++ {
		var wg sync.WaitGroup
		for i := 0; i < 3; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, _ := e.get("flaskapp", "/", nil)
				switch {
				case resp.StatusCode == 503 && resp.Header.Get("X-Envoy-Overloaded") == "true":
					overflow.Add(1)
				case resp.StatusCode == 200:
					ok.Add(1)
				default:
					t.Errorf("unexpected status %d", resp.StatusCode)
				}
			}()
		}
		wg.Wait()
	}
	if overflow.Load() == 0 || ok.Load() == 0 {
		t.Fatalf("overflow=%d ok=%d: want both", overflow.Load(), ok.Load())
	}
	_, stats := e.admin("/stats")
	if !strings.Contains(stats, "cluster."+v1+".upstream_rq_pending_overflow: ") || strings.Contains(stats, "cluster."+v1+".upstream_rq_pending_overflow: 0\n") {
		t.Errorf("stats do not show the overflow:\n%s", stats)
	}
}

func (e *env) admin(path string) (int, string) {
	e.t.Helper()
	resp, err := http.Get("http://" + e.proxy.Addr("admin") + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestRetriesHideFlakyBackend(t *testing.T) {
	flaky := newBackend(t, "flaky", func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		if n%2 == 0 {
			w.WriteHeader(503)
			return true
		}
		return false
	})
	ra := xdstest.ToCluster(v1)
	// Istio's translation of retries: {attempts: 3, retryOn: 5xx}.
	ra.RetryPolicy = &routev3.RetryPolicy{RetryOn: "5xx", NumRetries: wrapperspb.UInt32(3), PerTryTimeout: durationpb.New(2 * time.Second),
		RetryHostPredicate: []*routev3.RetryPolicy_RetryHostPredicate{{Name: xdsresource.PredicatePreviousHosts}}, HostSelectionRetryMaxAttempts: 5}
	e := start(t, withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("r", "/", ra))), xdstest.Service(v1, flaky.addr())))
	for i := 0; i < 100; i++ {
		if resp, body := e.get("flaskapp", "/", nil); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	if flaky.hits.Load() < 150 {
		t.Fatalf("backend saw %d requests for 100 answers; retries did not happen", flaky.hits.Load())
	}
}

func TestTimeout(t *testing.T) {
	stuck := newBackend(t, "stuck", func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
		return false
	})
	ra := xdstest.ToCluster(v1)
	ra.Timeout = durationpb.New(300 * time.Millisecond)
	e := start(t, withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("t", "/", ra))), xdstest.Service(v1, stuck.addr())))
	start := time.Now()
	resp, body := e.get("flaskapp", "/", nil)
	if resp.StatusCode != 504 || body != "upstream request timeout" {
		t.Fatalf("got %d %q, want 504 upstream request timeout", resp.StatusCode, body)
	}
	if time.Since(start) > 8*time.Second {
		t.Fatalf("timeout took %v", time.Since(start))
	}
	metrics := e.metrics()
	if !strings.Contains(metrics, `response_code="504"`) || !strings.Contains(metrics, `response_flags="UT"`) {
		t.Fatalf("metrics lack the 504 UT series:\n%s", grep(metrics, "istio_requests_total"))
	}
}

func (e *env) metrics() string {
	resp, err := http.Get("http://" + e.proxy.Addr("stats") + "/stats/prometheus")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestNACKKeepsLastConfig(t *testing.T) {
	b1, b2 := newBackend(t, "v1", nil), newBackend(t, "v2", nil)
	good := withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("d", "/", xdstest.ToCluster(v1)))),
		xdstest.Service(v1, b1.addr()), xdstest.Service(v2, b2.addr()))
	e := start(t, good)
	if _, body := e.get("flaskapp", "/", nil); body != "v1" {
		t.Fatalf("got %q", body)
	}
	// A route with a field the proxy cannot honour (CORS): NACK, keep v1.
	badRA := xdstest.ToCluster(v2)
	badRA.Cors = &routev3.CorsPolicy{}
	bad := withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("d", "/", badRA))),
		xdstest.Service(v1, b1.addr()), xdstest.Service(v2, b2.addr()))
	e.xds.Set(t, nodeID, bad)
	waitFor(t, "RDS NACK", func() bool { n, _ := e.xds.NACKCount(xdsresource.RouteType); return n > 0 })
	_, msg := e.xds.NACKCount(xdsresource.RouteType)
	if !strings.Contains(msg, "cors") {
		t.Fatalf("NACK message %q does not name the field", msg)
	}
	for i := 0; i < 5; i++ {
		if _, body := e.get("flaskapp", "/", nil); body != "v1" {
			t.Fatalf("after NACK got %q, want the last good route (v1)", body)
		}
	}
	_, dump := e.admin("/config_dump")
	if !strings.Contains(dump, "ListenersConfigDump") || !strings.Contains(dump, v1) {
		t.Fatalf("config_dump lacks the accepted config")
	}
	// The next good config applies.
	fixed := withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("d", "/", xdstest.ToCluster(v2)))),
		xdstest.Service(v1, b1.addr()), xdstest.Service(v2, b2.addr()))
	e.xds.Set(t, nodeID, fixed)
	waitFor(t, "new route", func() bool { _, body := e.get("flaskapp", "/", nil); return body == "v2" })
}

func TestKeepsServingWithoutControlPlane(t *testing.T) {
	b1 := newBackend(t, "v1", nil)
	e := start(t, withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("d", "/", xdstest.ToCluster(v1)))), xdstest.Service(v1, b1.addr())))
	e.xds.Stop()
	waitFor(t, "disconnect", func() bool { _, up := e.proxy.XDS().Status(); return !up })
	for i := 0; i < 5; i++ {
		if _, body := e.get("flaskapp", "/", nil); body != "v1" {
			t.Fatalf("got %q without the control plane", body)
		}
	}
}

func TestLocalReplies(t *testing.T) {
	b1 := newBackend(t, "v1", nil)
	const empty = "outbound|80||empty.default.svc.cluster.local"
	redirect := &routev3.Route{Name: "redir", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/old"}},
		Action: &routev3.Route_Redirect{Redirect: &routev3.RedirectAction{PathRewriteSpecifier: &routev3.RedirectAction_PathRedirect{PathRedirect: "/new"}}}}
	direct := &routev3.Route{Name: "direct", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/direct"}},
		Action: &routev3.Route_DirectResponse{DirectResponse: &routev3.DirectResponseAction{Status: 418, Body: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "teapot"}}}}}
	abort := xdstest.PrefixRoute("abort", "/abort", xdstest.ToCluster(v1))
	abort.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.fault": xdstest.Any(&faultv3.HTTPFault{
		Abort: &faultv3.FaultAbort{ErrorType: &faultv3.FaultAbort_HttpStatus{HttpStatus: 503}, Percentage: &typev3.FractionalPercent{Numerator: 100}}})}
	delay := xdstest.PrefixRoute("delay", "/delay", xdstest.ToCluster(v1))
	delay.TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.fault": xdstest.Any(&faultv3.HTTPFault{
		Delay: &faultcommonv3.FaultDelay{FaultDelaySecifier: &faultcommonv3.FaultDelay_FixedDelay{FixedDelay: durationpb.New(200 * time.Millisecond)},
			Percentage: &typev3.FractionalPercent{Numerator: 100}}})}
	rc := xdstest.RouteConfig("80",
		vhost(redirect, direct, abort, delay, xdstest.PrefixRoute("uh", "/uh", xdstest.ToCluster(empty)),
			xdstest.PrefixRoute("nc", "/nc", xdstest.ToCluster("outbound|80||missing")), xdstest.PrefixRoute("d", "/", xdstest.ToCluster(v1))))
	e := start(t, withRoute(base(), rc, xdstest.Service(v1, b1.addr()), xdstest.Service(empty)))
	e.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	tests := []struct {
		host, path string
		code       int
		body       string
	}{
		{"unknown", "/", 404, ""},
		{"flaskapp", "/old", 301, ""},
		{"flaskapp", "/direct", 418, "teapot"},
		{"flaskapp", "/abort", 503, "fault filter abort"},
		{"flaskapp", "/uh", 503, "no healthy upstream"},
		{"flaskapp", "/nc", 503, ""},
		{"flaskapp", "/delay", 200, "v1"},
	}
	for _, tt := range tests {
		resp, body := e.get(tt.host, tt.path, nil)
		if resp.StatusCode != tt.code || body != tt.body {
			t.Errorf("%s%s: %d %q, want %d %q", tt.host, tt.path, resp.StatusCode, body, tt.code, tt.body)
		}
		if tt.code == 301 && resp.Header.Get("Location") != "http://flaskapp/new" {
			t.Errorf("redirect Location %q", resp.Header.Get("Location"))
		}
		if resp.Header.Get("X-Request-Id") != "" {
			t.Errorf("x-request-id leaked into the response")
		}
	}
	m := e.metrics()
	for _, f := range []string{"NR", "UH", "FI", "DI", "NC"} {
		if !strings.Contains(m, `response_flags="`+f+`"`) {
			t.Errorf("no istio_requests_total series with flag %s", f)
		}
	}
}

func TestRequestIDAndHeaders(t *testing.T) {
	var got http.Header
	var mu sync.Mutex
	b := newBackend(t, "v1", func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
		return false
	})
	ra := xdstest.ToCluster(v1)
	route := xdstest.PrefixRoute("h", "/", ra)
	route.RequestHeadersToAdd = []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-added", Value: "yes"}}}
	route.RequestHeadersToRemove = []string{"x-secret"}
	route.ResponseHeadersToAdd = []*corev3.HeaderValueOption{{Header: &corev3.HeaderValue{Key: "x-resp", Value: "1"}, AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD}}
	e := start(t, withRoute(base(), xdstest.RouteConfig("80", vhost(route)), xdstest.Service(v1, b.addr())))
	resp, _ := e.get("flaskapp", "/", http.Header{"X-Secret": {"s"}, "Traceparent": {"00-abc-def-01"}})
	mu.Lock()
	defer mu.Unlock()
	if got.Get("X-Request-Id") == "" || got.Get("X-Added") != "yes" || got.Get("X-Secret") != "" || got.Get("Traceparent") != "00-abc-def-01" {
		t.Fatalf("upstream headers %v", got)
	}
	if got.Get("X-Envoy-Attempt-Count") != "1" {
		t.Errorf("attempt count %q", got.Get("X-Envoy-Attempt-Count"))
	}
	if resp.Header.Get("X-Resp") != "1" {
		t.Errorf("response header missing: %v", resp.Header)
	}
}

func TestTCPProxyAndWebSocket(t *testing.T) {
	// An echo server behind a TCP-only listener (bound on the pod IP in
	// host mode; port 0 picks a free one).
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	const tcpCluster = "outbound|6379||redis.default.svc.cluster.local"
	ws := newBackend(t, "ws", func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		if r.Header.Get("Upgrade") != "websocket" {
			return false
		}
		c, brw, _ := w.(http.Hijacker).Hijack()
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo:" + line)
		brw.Flush()
		return true
	})
	res := withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("d", "/", xdstest.ToCluster(v1)))), xdstest.Service(v1, ws.addr()))
	tcpL := &listenerv3.Listener{Name: "0.0.0.0_6379", Address: socketAddr("0.0.0.0", 0), BindToPort: wrapperspb.Bool(false),
		TrafficDirection: corev3.TrafficDirection_OUTBOUND,
		FilterChains:     []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{xdstest.TCPProxy(tcpCluster, tcpCluster)}}}}
	res.Listeners = append(res.Listeners, tcpL)
	res.Add(xdstest.Service(tcpCluster, echo.Addr().String()))
	e := start(t, res)

	addr := e.proxy.Addr("0.0.0.0_6379")
	if addr == "" {
		t.Fatal("TCP listener not bound")
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(c, "PING\r\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if err != nil || line != "PING\r\n" {
		t.Fatalf("tcp echo %q %v", line, err)
	}

	// WebSocket through the HTTP proxy port.
	wc, err := net.Dial("tcp", e.proxy.Addr("virtualOutbound"))
	if err != nil {
		t.Fatal(err)
	}
	defer wc.Close()
	fmt.Fprint(wc, "GET http://flaskapp/ws HTTP/1.1\r\nHost: flaskapp\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	br := bufio.NewReader(wc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	fmt.Fprint(wc, "hello\n")
	got, err := br.ReadString('\n')
	if err != nil || got != "echo:hello\n" {
		t.Fatalf("websocket echo %q %v", got, err)
	}
}

func socketAddr(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
}

func TestReadinessAndAdmin(t *testing.T) {
	b1 := newBackend(t, "v1", nil)
	e := start(t, withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("d", "/", xdstest.ToCluster(v1)))), xdstest.Service(v1, b1.addr())))
	resp, err := http.Get("http://" + e.proxy.Addr("ready") + "/healthz/ready")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readiness %v %v", resp, err)
	}
	resp.Body.Close()
	e.get("flaskapp", "/", nil)
	_, clusters := e.admin("/clusters")
	if !strings.Contains(clusters, v1+"::"+b1.addr()+"::rq_total::1") || !strings.Contains(clusters, "health_flags::healthy") {
		t.Fatalf("/clusters:\n%s", clusters)
	}
	_, listeners := e.admin("/listeners")
	if !strings.Contains(listeners, "virtualOutbound::0.0.0.0:15001::127.0.0.1:") {
		t.Fatalf("/listeners:\n%s", listeners)
	}
	if code, _ := e.admin("/logging?level=debug"); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET /logging?level= changed the level")
	}
	m := e.metrics()
	if !strings.Contains(m, `istio_requests_total{`) || !strings.Contains(m, `destination_service="flaskapp.default.svc.cluster.local"`) ||
		!strings.Contains(m, `source_workload="sleep"`) || !strings.Contains(m, `source_app="sleep"`) {
		t.Fatalf("metrics:\n%s", grep(m, "istio_requests_total"))
	}
}

func TestGRPCOverH2C(t *testing.T) {
	const grpcCluster = "outbound|80||grpcsvc.default.svc.cluster.local"
	h2 := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 || r.Header.Get("Content-Type") != "application/grpc" || r.Header.Get("Te") != "trailers" {
			w.WriteHeader(400)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Trailer", "Grpc-Status")
		w.WriteHeader(200)
		for i := 0; i < 3; i++ { // a server stream
			w.Write(body)
			w.(http.Flusher).Flush()
		}
		w.Header().Set("Grpc-Status", "0")
	}))
	h2.Config.Protocols = new(http.Protocols)
	h2.Config.Protocols.SetUnencryptedHTTP2(true)
	h2.Start()
	defer h2.Close()
	c := xdstest.EDSCluster(grpcCluster)
	c.TypedExtensionProtocolOptions = map[string]*anypb.Any{xdsresource.UpstreamHTTPOptions: xdstest.Any(&upstreamhttpv3.HttpProtocolOptions{
		UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_UseDownstreamProtocolConfig{
			UseDownstreamProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_UseDownstreamHttpConfig{
				HttpProtocolOptions: &corev3.Http1ProtocolOptions{}, Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}}}})}
	res := base()
	res.Routes = append(res.Routes, xdstest.RouteConfig("80", xdstest.VirtualHost("grpcsvc", 80, xdstest.PrefixRoute("g", "/", xdstest.ToCluster(grpcCluster)))))
	res.Clusters = append(res.Clusters, c)
	res.Endpoints = append(res.Endpoints, xdstest.Endpoints(grpcCluster, strings.TrimPrefix(h2.URL, "http://")))
	e := start(t, res)

	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequest("POST", "http://"+e.proxy.Addr("virtualOutbound")+"/pkg.Echo/Say", strings.NewReader("msg"))
	req.Host = "grpcsvc:80"
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	resp, err := (&http.Client{Transport: tr, Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || string(body) != "msgmsgmsg" || resp.Trailer.Get("Grpc-Status") != "0" {
		t.Fatalf("status %d proto %d body %q trailer %v", resp.StatusCode, resp.ProtoMajor, body, resp.Trailer)
	}
}

func TestOutlierEjection(t *testing.T) {
	good := newBackend(t, "good", nil)
	bad := newBackend(t, "bad", func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
		w.WriteHeader(500)
		return true
	})
	c := xdstest.EDSCluster(v1)
	c.LbPolicy = clusterv3.Cluster_ROUND_ROBIN
	// Istio: outlierDetection {consecutive5xxErrors: 2, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100}.
	c.OutlierDetection = &clusterv3.OutlierDetection{Consecutive_5Xx: wrapperspb.UInt32(2), EnforcingConsecutive_5Xx: wrapperspb.UInt32(100),
		Interval: durationpb.New(time.Second), BaseEjectionTime: durationpb.New(3 * time.Minute), MaxEjectionPercent: wrapperspb.UInt32(100),
		EnforcingSuccessRate: wrapperspb.UInt32(0)}
	res := withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("d", "/", xdstest.ToCluster(v1)))))
	res.Clusters = append(res.Clusters, c)
	res.Endpoints = append(res.Endpoints, xdstest.Endpoints(v1, good.addr(), bad.addr()))
	e := start(t, res)
	for i := 0; i < 20; i++ {
		e.get("flaskapp", "/", nil)
	}
	before := bad.hits.Load()
	for i := 0; i < 20; i++ {
		if resp, body := e.get("flaskapp", "/", nil); resp.StatusCode != 200 {
			t.Fatalf("request after ejection: %d %q", resp.StatusCode, body)
		}
	}
	if bad.hits.Load() != before {
		t.Fatalf("ejected host still got %d requests", bad.hits.Load()-before)
	}
	_, clusters := e.admin("/clusters")
	if !strings.Contains(clusters, v1+"::"+bad.addr()+"::health_flags::/failed_outlier_check") {
		t.Fatalf("/clusters does not show the ejection:\n%s", clusters)
	}
}

func TestGracefulDrain(t *testing.T) {
	release := make(chan struct{})
	slow := newBackend(t, "slow", func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
		<-release
		return false
	})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the backend's Close, which waits for handlers
	e := startWith(t, withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("d", "/", xdstest.ToCluster(v1)))), xdstest.Service(v1, slow.addr())),
		func(c *sidecar.Config) { c.DrainTime = 3 * time.Second })
	got := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://flaskapp/", nil)
		resp, err := e.client.Do(req)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	waitFor(t, "request in flight", func() bool { return slow.hits.Load() == 1 })
	e.proxy.Quit()
	waited := make(chan error, 1)
	go func() { waited <- e.proxy.Wait(context.Background()) }()
	waitFor(t, "readiness to fail", func() bool {
		resp, err := http.Get("http://" + e.proxy.Addr("ready") + "/healthz/ready")
		if err != nil {
			return true
		}
		resp.Body.Close()
		return resp.StatusCode == 503
	})
	unblock()
	if b := <-got; b != "slow" {
		t.Fatalf("in-flight request during drain got %q", b)
	}
	// Still draining: a new request is served, and its connection closes
	// after the response (Envoy's drain: clients move, nothing is cut).
	resp, err := e.client.Get("http://flaskapp/")
	select {
	case <-waited:
		t.Log("the drain time was over before the second request (a slow machine): not checked")
		return
	default:
	}
	if err != nil {
		t.Fatalf("a new request during the drain: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !resp.Close {
		t.Fatalf("a new request during the drain: %s, Connection: close %v; want 200 and the connection closed", resp.Status, resp.Close)
	}
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Get("http://flaskapp/"); err == nil {
		t.Fatal("the proxy still serves after its drain")
	}
}
