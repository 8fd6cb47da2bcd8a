package httpproxy

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weft-mesh/weft/sidecar/cluster"
	"github.com/weft-mesh/weft/sidecar/dataplane"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

func TestRetriable(t *testing.T) {
	rp := &xdsresource.RetryPolicy{NumRetries: 2, RetriableStatusCodes: []uint32{418}}
	resp := func(code int, grpc string) *http.Response {
		h := http.Header{}
		if grpc != "" {
			h.Set("Grpc-Status", grpc)
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	tests := []struct {
		name   string
		on     xdsresource.RetryOn
		method string
		out    outcome
		resp   *http.Response
		want   bool
	}{
		{"5xx on 500", xdsresource.Retry5xx, "GET", outResponse, resp(500, ""), true},
		{"5xx on 200", xdsresource.Retry5xx, "GET", outResponse, resp(200, ""), false},
		{"gateway-error on 500", xdsresource.RetryGatewayError, "GET", outResponse, resp(500, ""), false},
		{"gateway-error on 503", xdsresource.RetryGatewayError, "GET", outResponse, resp(503, ""), true},
		{"retriable-4xx on 409", xdsresource.RetryRetriable4xx, "GET", outResponse, resp(409, ""), true},
		{"status codes", xdsresource.RetryRetriableStatusCodes, "GET", outResponse, resp(418, ""), true},
		{"grpc unavailable", xdsresource.RetryGRPCUnavailable, "POST", outConnectFail, nil, false},
		{"grpc unavailable on GET", xdsresource.RetryGRPCUnavailable, "GET", outResponse, resp(200, "14"), true},
		{"grpc cancelled not set", xdsresource.RetryGRPCUnavailable, "GET", outResponse, resp(200, "1"), false},
		{"connect failure POST", xdsresource.RetryConnectFailure, "POST", outConnectFail, nil, true},
		{"reset POST is not idempotent", xdsresource.RetryReset, "POST", outReset, nil, false},
		{"reset GET", xdsresource.RetryReset, "GET", outReset, nil, true},
		{"5xx on POST response", xdsresource.Retry5xx, "POST", outResponse, resp(503, ""), false},
		{"5xx on PUT response", xdsresource.Retry5xx, "PUT", outResponse, resp(503, ""), true},
		{"per-try timeout with 5xx", xdsresource.Retry5xx, "GET", outPerTryTimeout, nil, true},
		{"per-try timeout connect-failure only", xdsresource.RetryConnectFailure, "GET", outPerTryTimeout, nil, false},
		{"overflow never", xdsresource.Retry5xx, "GET", outOverflow, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rp.On = tt.on
			x := &exchange{r: &http.Request{Method: tt.method}}
			if got := x.retriable(rp, tt.out, tt.resp); got != tt.want {
				t.Fatalf("retriable = %v, want %v", got, tt.want)
			}
		})
	}
	// A streamed body already read cannot be replayed.
	x := &exchange{r: &http.Request{Method: "PUT"}}
	x.ureq.Body = &x.reqBody
	x.reqBody.n = 10
	rp.On = xdsresource.RetryConnectFailure
	if x.retriable(rp, outConnectFail, nil) {
		t.Fatal("retried a consumed streamed body")
	}
}

func TestRetryBackoff(t *testing.T) {
	rp := &xdsresource.RetryPolicy{BackOffBase: 25 * time.Millisecond, BackOffMax: 250 * time.Millisecond}
	for attempt := 1; attempt < 40; attempt++ {
		limit := time.Duration(1<<min(attempt, 30)-1) * rp.BackOffBase
		if limit > rp.BackOffMax || limit <= 0 {
			limit = rp.BackOffMax
		}
		for i := 0; i < 50; i++ {
			if d := retryBackoff(rp, attempt); d < 0 || d > limit {
				t.Fatalf("attempt %d: back-off %v over %v", attempt, d, limit)
			}
		}
	}
}

func TestParseGRPCTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"100m": 100 * time.Millisecond, "5S": 5 * time.Second, "1H": time.Hour, "20u": 20 * time.Microsecond} {
		if d, ok := parseGRPCTimeout(in); !ok || d != want {
			t.Errorf("%q = %v %v", in, d, ok)
		}
	}
	for _, bad := range []string{"", "m", "10", "10x", "-1S", "1234567890S"} {
		if _, ok := parseGRPCTimeout(bad); ok {
			t.Errorf("%q accepted", bad)
		}
	}
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestRequestID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := newRequestID()
		if !uuidRE.MatchString(id) || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

func TestShadowHost(t *testing.T) {
	for in, want := range map[string]string{"flaskapp": "flaskapp-shadow", "flaskapp:80": "flaskapp-shadow:80", "[::1]:80": "[::1-shadow]:80"} {
		if got := shadowHost(in); got != want {
			t.Errorf("shadowHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRemoveHopHeaders(t *testing.T) {
	h := http.Header{"Connection": {"keep-alive, X-Private"}, "X-Private": {"1"}, "Keep-Alive": {"5"}, "Upgrade": {"h2c"},
		"Te": {"trailers"}, "Transfer-Encoding": {"chunked"}, "Proxy-Authorization": {"x"}, "X-Keep": {"yes"}}
	removeHopHeaders(h)
	if len(h) != 1 || h.Get("X-Keep") != "yes" {
		t.Fatalf("left %v", h)
	}
}

func TestLocalReplyGRPCMapping(t *testing.T) {
	for code, want := range map[int]int{503: 14, 504: 14, 404: 12, 500: 2, 429: 14} {
		if got := httpToGRPC(code); got != want {
			t.Errorf("httpToGRPC(%d) = %d, want %d", code, got, want)
		}
	}
	if cluster.ClassifyStatus(503) != cluster.ResultGateway || cluster.ClassifyStatus(500) != cluster.Result5xx || cluster.ClassifyStatus(404) != cluster.ResultSuccess {
		t.Fatal("status classification")
	}
}

// FuzzHeaders feeds header values to every header parser on the request
// path: none may panic, and hop-by-hop removal always removes Connection.
func FuzzHeaders(f *testing.F) {
	f.Add("keep-alive, X-A", "100m", "upgrade", "a=b; sess=1")
	f.Add(",,,", "99999999999H", "Upgrade , websocket", "=;=;")
	f.Fuzz(func(t *testing.T, conn, grpcTimeout, token, cookie string) {
		h := http.Header{"Connection": {conn}, "Cookie": {cookie}}
		h[http.CanonicalHeaderKey(strings.TrimSpace(conn))] = []string{"x"}
		removeHopHeaders(h)
		if _, ok := h["Connection"]; ok {
			t.Fatal("Connection survived")
		}
		if d, ok := parseGRPCTimeout(grpcTimeout); ok && d < 0 {
			t.Fatalf("negative timeout %v", d)
		}
		_ = hasToken([]string{conn}, token)
		_ = shadowHost(conn)
	})
}

// TestRemoveHopHeadersManyOrFew: both strategies (one pass over few
// headers, deletes by name for many) remove the same.
func TestRemoveHopHeadersManyOrFew(t *testing.T) {
	for _, extra := range []int{0, 30} {
		h := http.Header{"Connection": {"X-Foo, close"}, "X-Foo": {"1"}, "Keep-Alive": {"5"}, "Te": {"trailers"},
			"Transfer-Encoding": {"chunked"}, "Upgrade": {"websocket"}, "Content-Type": {"text/plain"}}
		for i := 0; i < extra; i++ {
			h[fmt.Sprintf("X-Extra-%d", i)] = []string{"v"}
		}
		removeHopHeaders(h)
		for _, k := range append(hopHeaders, "X-Foo") {
			if _, ok := h[k]; ok {
				t.Errorf("%d extra headers: %s kept", extra, k)
			}
		}
		if len(h) != 1+extra || h.Get("Content-Type") != "text/plain" {
			t.Errorf("%d extra headers: left %v", extra, h)
		}
	}
	for _, k := range hopHeaders {
		if !isHopHeader(k) {
			t.Errorf("isHopHeader(%q) = false", k)
		}
	}
}
func TestSharedValues(t *testing.T) {
	for n := 0; n < 12; n++ {
		if v := attemptValue(n); len(v) != 1 || cap(v) != 1 || v[0] != fmt.Sprint(n) {
			t.Errorf("attemptValue(%d) = %q (cap %d)", n, v, cap(v))
		}
	}
	for _, s := range []string{"http", "https", "envoy", "istio-envoy", "other"} {
		if v := oneValue(s); len(v) != 1 || cap(v) != 1 || v[0] != s {
			t.Errorf("oneValue(%q) = %q (cap %d)", s, v, cap(v))
		}
	}
	// Appending to a shared value copies it.
	v := append(oneValue("http"), "x")
	if oneValue("http")[0] != "http" || len(oneValue("http")) != 1 || v[1] != "x" {
		t.Fatal("shared value changed")
	}
}

// TestRetryFindsNoEndpoint: a retry after a 5xx answer that finds the
// cluster without endpoints (an EDS update removed them meanwhile) answers
// 503 "no healthy upstream" with flag UH, not an empty 200.
func TestRetryFindsNoEndpoint(t *testing.T) {
	var (
		m    = cluster.NewManager(context.Background())
		c    *cluster.Cluster
		once sync.Once
	)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		once.Do(func() { m.UpdateEndpoints(c, &xdsresource.ClusterLoadAssignment{}) })
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer backend.Close()
	c = m.Build(&xdsresource.Cluster{Name: "c", LBPolicy: xdsresource.LBRoundRobin, Thresholds: xdsresource.DefaultThresholds,
		ConnectTimeout: time.Second, IdleTimeout: time.Hour, PanicThreshold: 50},
		&xdsresource.ClusterLoadAssignment{Endpoints: []xdsresource.Endpoint{{Address: strings.TrimPrefix(backend.URL, "http://"), Weight: 1}}})
	rc := &xdsresource.RouteConfiguration{Name: "r", VirtualHosts: []*xdsresource.VirtualHost{{Name: "vh", Domains: []string{"*"},
		Routes: []*xdsresource.Route{{Name: "all", Match: xdsresource.RouteMatch{PathKind: xdsresource.PathPrefix, Path: "/"},
			Route: &xdsresource.RouteAction{Clusters: []xdsresource.WeightedCluster{{Name: "c", Weight: 1}}, TotalWeight: 1,
				Retry: &xdsresource.RetryPolicy{On: xdsresource.Retry5xx, NumRetries: 2, BackOffBase: time.Millisecond, BackOffMax: time.Millisecond}}}}}}}
	hcm := &xdsresource.HTTPConnectionManager{RouteConfig: rc}
	snap := dataplane.Empty()
	snap.Clusters["c"] = c
	holder := &dataplane.Holder{}
	holder.Store(snap)
	p := New(Options{Snapshots: holder})
	w := httptest.NewRecorder()
	p.Serve(w, httptest.NewRequest("GET", "http://svc/", nil), &dataplane.ConnInfo{}, hcm)
	if w.Code != http.StatusServiceUnavailable || w.Body.String() != "no healthy upstream" {
		t.Fatalf("got %d %q, want 503 no healthy upstream", w.Code, w.Body.String())
	}
}
