package xds

import (
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
)

// baseMesh: web (http 80, pods v1 and v2), db (tcp 5432), api (grpc 9000,
// http 8080) and a client pod, all in default.
const baseMesh = `
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  selector: {app: db}
  ports: [{name: tcp, port: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  selector: {app: api}
  ports: [{name: grpc, port: 9000}, {name: http-admin, port: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-v1, labels: {app: web, version: v1}}
spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-v2, labels: {app: web, version: v2}}
spec: {containers: [{name: c, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, labels: {app: db}}
spec: {containers: [{name: c, image: postgres}]}
---
apiVersion: v1
kind: Pod
metadata: {name: api-0, labels: {app: api}}
spec: {containers: [{name: c, image: api}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, labels: {app: client, version: v1}}
spec: {containers: [{name: c, image: busybox}]}
`

const webSubsets = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web}
spec:
  host: web
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
`

const (
	webFQDN = "web.default.svc.cluster.local"
	webV1   = "outbound|80|v1|web.default.svc.cluster.local"
	webV2   = "outbound|80|v2|web.default.svc.cluster.local"
	webAll  = "outbound|80||web.default.svc.cluster.local"
)

func meshOf(t *testing.T, docs ...string) *Mesh {
	t.Helper()
	b := &meshBuilder{}
	for i, y := range append([]string{baseMesh}, docs...) {
		ds, err := api.DecodeReader("doc"+itoa(i), strings.NewReader(y))
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if !accepted(d.Object) {
				t.Fatalf("test document %d is not valid: %s", i, d.Object.GetName())
			}
			b.add(d.Object)
		}
	}
	return b.mesh()
}

func translateFor(t *testing.T, m *Mesh, p Proxy) (*Resources, []Warning) {
	t.Helper()
	res, w := Translate(m, p)
	checkConsistent(t, res)
	return res, w
}

func client(m *Mesh) Proxy { return sidecarFor(m, "default", "client") }

// webRoutes returns the routes of web's virtual host.
func webRoutes(t *testing.T, res *Resources) []*routev3.Route {
	t.Helper()
	return webVHost(t, res).GetRoutes()
}

func webVHost(t *testing.T, res *Resources) *routev3.VirtualHost {
	t.Helper()
	for _, rc := range res.Routes {
		for _, vh := range rc.GetVirtualHosts() {
			if vh.GetName() == webFQDN+":80" {
				return vh
			}
		}
	}
	t.Fatal("no virtual host for web")
	return nil
}

func clusterNamed(t *testing.T, res *Resources, name string) *clusterv3.Cluster {
	t.Helper()
	for _, c := range res.Clusters {
		if c.GetName() == name {
			return c
		}
	}
	t.Fatalf("no cluster %s among %v", name, names(res.Clusters))
	return nil
}

func hasWarning(ws []Warning, substr string) bool {
	for _, w := range ws {
		if strings.Contains(w.String(), substr) {
			return true
		}
	}
	return false
}

func vs(http string) string {
	return `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: [web]
  http:
` + http
}

func TestDefaultRoute(t *testing.T) {
	m := meshOf(t)
	res, _ := translateFor(t, m, client(m))
	rs := webRoutes(t, res)
	if len(rs) != 1 || rs[0].GetName() != "default" || rs[0].GetRoute().GetCluster() != webAll {
		t.Fatalf("default route = %v", rs)
	}
	a := rs[0].GetRoute()
	if a.GetTimeout().AsDuration() != 0 {
		t.Errorf("timeout %v, want 0s (Istio: none)", a.GetTimeout())
	}
	rp := a.GetRetryPolicy()
	if rp.GetRetryOn() != DefaultRetryOn || rp.GetNumRetries().GetValue() != 2 || rp.GetRetriableStatusCodes()[0] != 503 {
		t.Errorf("default retry policy = %v", rp)
	}
}

func TestVirtualHostDomains(t *testing.T) {
	m := meshOf(t)
	res, _ := translateFor(t, m, client(m))
	got := webVHost(t, res).GetDomains()
	want := []string{webFQDN, webFQDN + ":80", "web", "web:80", "web.default.svc", "web.default.svc:80", "web.default", "web.default:80", "10.96.0.1", "10.96.0.1:80"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("domains\n got %v\nwant %v", got, want)
	}
	// From another namespace there is no short name.
	p := client(m)
	p.Namespace = "other"
	res, _ = translateFor(t, m, p)
	for _, d := range webVHost(t, res).GetDomains() {
		if d == "web" || d == "web:80" {
			t.Errorf("short name %q served to another namespace", d)
		}
	}
}

func TestMatches(t *testing.T) {
	m := meshOf(t, webSubsets, vs(`
  - match:
    - uri: {exact: /a}
      headers:
        x-exact: {exact: "1"}
        x-prefix: {prefix: "p"}
        x-regex: {regex: "r+"}
        x-present: {}
      withoutHeaders:
        x-absent: {}
      queryParams:
        q: {exact: "v"}
      method: {exact: POST}
      authority: {prefix: web}
      scheme: {exact: http}
    - uri: {prefix: /b}
      ignoreUriCase: true
    - uri: {regex: "/c[0-9]+"}
    - port: 8080
      uri: {prefix: /other-port}
    - sourceLabels: {app: someone-else}
      uri: {prefix: /not-me}
    - sourceLabels: {app: client}
      uri: {prefix: /me}
    route:
    - destination: {host: web, subset: v1}
`))
	res, _ := translateFor(t, m, client(m))
	rs := webRoutes(t, res)
	if len(rs) != 4 {
		t.Fatalf("%d routes, want 4 (port 8080 and foreign sourceLabels dropped)", len(rs))
	}
	m0 := rs[0].GetMatch()
	if m0.GetPath() != "/a" {
		t.Errorf("exact uri → path: %v", m0)
	}
	hm := map[string]*routev3.HeaderMatcher{}
	for _, h := range m0.GetHeaders() {
		hm[h.GetName()] = h
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"x-exact", hm["x-exact"].GetStringMatch().GetExact() == "1"},
		{"x-prefix", hm["x-prefix"].GetStringMatch().GetPrefix() == "p"},
		{"x-regex", hm["x-regex"].GetStringMatch().GetSafeRegex().GetRegex() == "r+"},
		{"x-present", hm["x-present"].GetPresentMatch()},
		{"x-absent", hm["x-absent"].GetPresentMatch() && hm["x-absent"].GetInvertMatch()},
		{":method", hm[":method"].GetStringMatch().GetExact() == "POST"},
		{":authority", hm[":authority"].GetStringMatch().GetPrefix() == "web"},
		{":scheme", hm[":scheme"].GetStringMatch().GetExact() == "http"},
		{"query", m0.GetQueryParameters()[0].GetName() == "q" && m0.GetQueryParameters()[0].GetStringMatch().GetExact() == "v"},
		{"prefix", rs[1].GetMatch().GetPrefix() == "/b"},
		{"ignoreUriCase", rs[1].GetMatch().GetCaseSensitive() != nil && !rs[1].GetMatch().GetCaseSensitive().GetValue()},
		{"regex", rs[2].GetMatch().GetSafeRegex().GetRegex() == "/c[0-9]+"},
		{"sourceLabels", rs[3].GetMatch().GetPrefix() == "/me"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s not translated: %v", c.name, rs)
		}
	}
}

func TestCatchAllStops(t *testing.T) {
	m := meshOf(t, webSubsets, vs(`
  - route: [{destination: {host: web, subset: v1}}]
  - match: [{uri: {prefix: /never}}]
    route: [{destination: {host: web, subset: v2}}]
`))
	res, _ := translateFor(t, m, client(m))
	if rs := webRoutes(t, res); len(rs) != 1 {
		t.Errorf("%d routes after a catch-all, want 1", len(rs))
	}
}

func TestWeightsAndDestinations(t *testing.T) {
	m := meshOf(t, webSubsets, vs(`
  - match: [{uri: {prefix: /split}}]
    route:
    - {destination: {host: web, subset: v1}, weight: 70}
    - {destination: {host: web, subset: v2}, weight: 30}
    - {destination: {host: web, subset: v1}, weight: 0}
  - match: [{uri: {prefix: /missing-subset}}]
    route:
    - {destination: {host: web, subset: v9}, weight: 50}
    - {destination: {host: web, subset: v1}, weight: 50}
  - match: [{uri: {prefix: /unknown-host}}]
    route: [{destination: {host: nowhere}}]
  - match: [{uri: {prefix: /bad-port}}]
    route: [{destination: {host: web, port: {number: 81}}}]
  - match: [{uri: {prefix: /other-service}}]
    route: [{destination: {host: api, port: {number: 8080}}}]
`))
	res, w := translateFor(t, m, client(m))
	rs := webRoutes(t, res)
	wc := rs[0].GetRoute().GetWeightedClusters().GetClusters()
	if len(wc) != 2 || wc[0].GetName() != webV1 || wc[0].GetWeight().GetValue() != 70 || wc[1].GetName() != webV2 || wc[1].GetWeight().GetValue() != 30 {
		t.Errorf("weighted clusters = %v", wc)
	}
	wc = rs[1].GetRoute().GetWeightedClusters().GetClusters()
	if len(wc) != 2 || wc[0].GetName() != BlackHoleCluster || wc[1].GetName() != webV1 {
		t.Errorf("missing subset keeps its share on BlackHoleCluster: %v", wc)
	}
	if !hasWarning(w, `subset "v9" is not defined`) {
		t.Errorf("no warning for the missing subset: %v", w)
	}
	if rs[2].GetRoute().GetCluster() != BlackHoleCluster || !hasWarning(w, `"nowhere" is not a service`) {
		t.Errorf("unknown host: %v, %v", rs[2].GetRoute(), w)
	}
	if rs[3].GetRoute().GetCluster() != BlackHoleCluster || !hasWarning(w, "has no port 81") {
		t.Errorf("bad port: %v, %v", rs[3].GetRoute(), w)
	}
	if rs[4].GetRoute().GetCluster() != "outbound|8080||api.default.svc.cluster.local" {
		t.Errorf("other service: %v", rs[4].GetRoute())
	}
}

func TestSubsetWithoutDestinationRule(t *testing.T) {
	m := meshOf(t, vs(`
  - route: [{destination: {host: web, subset: v1}}]
`))
	res, w := translateFor(t, m, client(m))
	if c := webRoutes(t, res)[0].GetRoute().GetCluster(); c != BlackHoleCluster {
		t.Errorf("cluster %s, want BlackHoleCluster", c)
	}
	if !hasWarning(w, "has no DestinationRule") {
		t.Errorf("warnings %v", w)
	}
}

func TestRedirectDirectResponseRewriteHeaders(t *testing.T) {
	m := meshOf(t, webSubsets, vs(`
  - match: [{uri: {exact: /old}}]
    redirect: {uri: /new, authority: example.com, port: 8443, scheme: https, redirectCode: 308}
  - match: [{uri: {exact: /gone}}]
    directResponse: {status: 410, body: {string: gone}}
  - match: [{uri: {prefix: /v1}}]
    rewrite: {uri: /, authority: backend}
    headers:
      request: {set: {x-a: "1"}, add: {x-b: "2"}, remove: [x-c]}
      response: {set: {x-d: "3"}, remove: [x-e]}
    route:
    - destination: {host: web, subset: v1}
      headers: {request: {set: {x-f: "4"}}}
  - match: [{uri: {regex: "/re/.*"}}]
    rewrite: {uriRegexRewrite: {match: "^/re/(.*)", rewrite: "/\\1"}}
    route: [{destination: {host: web}}]
`))
	res, _ := translateFor(t, m, client(m))
	rs := webRoutes(t, res)
	rd := rs[0].GetRedirect()
	if rd.GetPathRedirect() != "/new" || rd.GetHostRedirect() != "example.com" || rd.GetPortRedirect() != 8443 || rd.GetSchemeRedirect() != "https" || rd.GetResponseCode() != routev3.RedirectAction_PERMANENT_REDIRECT {
		t.Errorf("redirect = %v", rd)
	}
	if d := rs[1].GetDirectResponse(); d.GetStatus() != 410 || d.GetBody().GetInlineString() != "gone" {
		t.Errorf("direct response = %v", d)
	}
	a := rs[2].GetRoute()
	if a.GetPrefixRewrite() != "/" || a.GetHostRewriteLiteral() != "backend" {
		t.Errorf("rewrite = %v", a)
	}
	var add []string
	for _, h := range rs[2].GetRequestHeadersToAdd() {
		add = append(add, h.GetHeader().GetKey()+"="+h.GetHeader().GetValue()+":"+h.GetAppendAction().String())
	}
	want := "x-a=1:OVERWRITE_IF_EXISTS_OR_ADD x-b=2:APPEND_IF_EXISTS_OR_ADD x-f=4:OVERWRITE_IF_EXISTS_OR_ADD"
	if strings.Join(add, " ") != want {
		t.Errorf("request headers to add = %v, want %s", add, want)
	}
	if rs[2].GetRequestHeadersToRemove()[0] != "x-c" || rs[2].GetResponseHeadersToAdd()[0].GetHeader().GetKey() != "x-d" || rs[2].GetResponseHeadersToRemove()[0] != "x-e" {
		t.Errorf("header ops = %v", rs[2])
	}
	if rr := rs[3].GetRoute().GetRegexRewrite(); rr.GetPattern().GetRegex() != "^/re/(.*)" || rr.GetSubstitution() != `/\1` {
		t.Errorf("regex rewrite = %v", rr)
	}
}

func TestTimeoutAndRetries(t *testing.T) {
	m := meshOf(t, webSubsets, vs(`
  - match: [{uri: {prefix: /a}}]
    timeout: 3s
    retries: {attempts: 3, perTryTimeout: 1s, retryOn: "gateway-error,503,504"}
    route: [{destination: {host: web}}]
  - match: [{uri: {prefix: /b}}]
    retries: {attempts: 0}
    route: [{destination: {host: web}}]
  - match: [{uri: {prefix: /c}}]
    retries: {attempts: 2, retryIgnorePreviousHosts: false}
    route: [{destination: {host: web}}]
`))
	res, _ := translateFor(t, m, client(m))
	rs := webRoutes(t, res)
	a := rs[0].GetRoute()
	if a.GetTimeout().AsDuration() != 3*time.Second || a.GetMaxStreamDuration().GetGrpcTimeoutHeaderMax().AsDuration() != 3*time.Second {
		t.Errorf("timeout = %v / %v", a.GetTimeout(), a.GetMaxStreamDuration())
	}
	rp := a.GetRetryPolicy()
	if rp.GetNumRetries().GetValue() != 3 || rp.GetPerTryTimeout().AsDuration() != time.Second ||
		rp.GetRetryOn() != "gateway-error,retriable-status-codes" || len(rp.GetRetriableStatusCodes()) != 2 {
		t.Errorf("retry policy = %v", rp)
	}
	if rs[1].GetRoute().GetRetryPolicy() != nil {
		t.Errorf("attempts 0 must disable retries: %v", rs[1].GetRoute().GetRetryPolicy())
	}
	if rp := rs[2].GetRoute().GetRetryPolicy(); rp.GetRetryOn() != DefaultRetryOn || len(rp.GetRetryHostPredicate()) != 0 {
		t.Errorf("retryOn default / no previous_hosts: %v", rp)
	}

	// Proxyless gRPC reads max_stream_duration.
	p := client(m)
	p.Type = GRPC
	res, _ = translateFor(t, m, p)
	for _, rc := range res.Routes {
		if rc.GetName() == webAll {
			if d := rc.GetVirtualHosts()[0].GetRoutes()[0].GetRoute().GetMaxStreamDuration().GetMaxStreamDuration(); d.AsDuration() != 3*time.Second {
				t.Errorf("grpc max_stream_duration = %v", d)
			}
		}
	}
}

func TestFault(t *testing.T) {
	m := meshOf(t, webSubsets, vs(`
  - match: [{uri: {prefix: /a}}]
    fault:
      delay: {fixedDelay: 5s, percentage: {value: 12.5}}
      abort: {httpStatus: 500}
    route: [{destination: {host: web}}]
  - match: [{uri: {prefix: /b}}]
    fault:
      delay: {fixedDelay: 1s}
      abort: {grpcStatus: UNAVAILABLE, percentage: {value: 100}}
    route: [{destination: {host: web}}]
`))
	res, _ := translateFor(t, m, client(m))
	rs := webRoutes(t, res)
	get := func(r *routev3.Route) *faultv3.HTTPFault {
		f := &faultv3.HTTPFault{}
		if err := r.GetTypedPerFilterConfig()[filterFault].UnmarshalTo(f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	f := get(rs[0])
	if f.GetDelay().GetFixedDelay().AsDuration() != 5*time.Second || !proto.Equal(f.GetDelay().GetPercentage(), &typev3.FractionalPercent{Numerator: 125000, Denominator: typev3.FractionalPercent_MILLION}) {
		t.Errorf("delay = %v", f.GetDelay())
	}
	if f.GetAbort().GetHttpStatus() != 500 || f.GetAbort().GetPercentage().GetNumerator() != 100 || f.GetAbort().GetPercentage().GetDenominator() != typev3.FractionalPercent_HUNDRED {
		t.Errorf("abort without percentage = %v, want 100%%", f.GetAbort())
	}
	f = get(rs[1])
	if f.GetDelay().GetPercentage().GetNumerator() != 0 {
		t.Errorf("delay without percentage = %v, want 0%%", f.GetDelay().GetPercentage())
	}
	if f.GetAbort().GetGrpcStatus() != 14 {
		t.Errorf("grpc abort = %v", f.GetAbort())
	}
}

func TestMirror(t *testing.T) {
	m := meshOf(t, webSubsets, vs(`
  - match: [{uri: {prefix: /a}}]
    route: [{destination: {host: web, subset: v1}}]
    mirror: {host: web, subset: v2}
  - match: [{uri: {prefix: /b}}]
    route: [{destination: {host: web, subset: v1}}]
    mirror: {host: web, subset: v2}
    mirrorPercentage: {value: 0}
  - match: [{uri: {prefix: /c}}]
    route: [{destination: {host: web, subset: v1}}]
    mirrors:
    - {destination: {host: web, subset: v2}, percentage: {value: 10}}
    - {destination: {host: api, port: {number: 8080}}}
`))
	res, _ := translateFor(t, m, client(m))
	rs := webRoutes(t, res)
	mp := rs[0].GetRoute().GetRequestMirrorPolicies()
	if len(mp) != 1 || mp[0].GetCluster() != webV2 || mp[0].GetRuntimeFraction().GetDefaultValue().GetNumerator() != 1000000 {
		t.Errorf("mirror = %v", mp)
	}
	if mp := rs[1].GetRoute().GetRequestMirrorPolicies(); len(mp) != 0 {
		t.Errorf("mirror at 0%% = %v, want none", mp)
	}
	mp = rs[2].GetRoute().GetRequestMirrorPolicies()
	if len(mp) != 2 || mp[0].GetRuntimeFraction().GetDefaultValue().GetNumerator() != 100000 || mp[1].GetCluster() != "outbound|8080||api.default.svc.cluster.local" {
		t.Errorf("mirrors = %v", mp)
	}
}

func dr(spec string) string {
	return `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web}
spec:
  host: web
` + indent(spec)
}

// indent indents a one-line spec to sit under spec:.
func indent(spec string) string {
	if spec == "" || strings.HasPrefix(spec, "\n") {
		return spec
	}
	return "  " + spec + "\n"
}

func TestLoadBalancer(t *testing.T) {
	cases := []struct {
		spec string
		want clusterv3.Cluster_LbPolicy
		grpc clusterv3.Cluster_LbPolicy
	}{
		{"", clusterv3.Cluster_LEAST_REQUEST, clusterv3.Cluster_ROUND_ROBIN},
		{"trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}", clusterv3.Cluster_ROUND_ROBIN, clusterv3.Cluster_ROUND_ROBIN},
		{"trafficPolicy: {loadBalancer: {simple: LEAST_CONN}}", clusterv3.Cluster_LEAST_REQUEST, clusterv3.Cluster_LEAST_REQUEST},
		{"trafficPolicy: {loadBalancer: {simple: RANDOM}}", clusterv3.Cluster_RANDOM, clusterv3.Cluster_ROUND_ROBIN},
		{"trafficPolicy: {loadBalancer: {consistentHash: {useSourceIp: true}}}", clusterv3.Cluster_RING_HASH, clusterv3.Cluster_RING_HASH},
		{"trafficPolicy: {loadBalancer: {consistentHash: {httpQueryParameterName: u, maglev: {tableSize: 65537}}}}", clusterv3.Cluster_MAGLEV, clusterv3.Cluster_RING_HASH},
	}
	for _, c := range cases {
		m := meshOf(t, dr(c.spec))
		res, _ := translateFor(t, m, client(m))
		if got := clusterNamed(t, res, webAll).GetLbPolicy(); got != c.want {
			t.Errorf("%q: lb %v, want %v", c.spec, got, c.want)
		}
		p := client(m)
		p.Type = GRPC
		res, _ = translateFor(t, m, p)
		if got := clusterNamed(t, res, webAll).GetLbPolicy(); got != c.grpc {
			t.Errorf("%q: grpc lb %v, want %v", c.spec, got, c.grpc)
		}
	}
	m := meshOf(t, dr("trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: s, ttl: 10s}, ringHash: {minimumRingSize: 4096}}}}"))
	res, _ := translateFor(t, m, client(m))
	if got := clusterNamed(t, res, webAll).GetRingHashLbConfig().GetMinimumRingSize().GetValue(); got != 4096 {
		t.Errorf("minimum ring size %d", got)
	}
	hp := webRoutes(t, res)[0].GetRoute().GetHashPolicy()
	if len(hp) != 1 || hp[0].GetCookie().GetName() != "s" || hp[0].GetCookie().GetTtl().AsDuration() != 10*time.Second {
		t.Errorf("cookie hash policy = %v", hp)
	}
	m = meshOf(t, dr("trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}"))
	res, _ = translateFor(t, m, client(m))
	if c := clusterNamed(t, res, webAll); c.GetType() != clusterv3.Cluster_ORIGINAL_DST || c.GetLbPolicy() != clusterv3.Cluster_CLUSTER_PROVIDED {
		t.Errorf("PASSTHROUGH = %v", c)
	}
}

func TestConnectionPoolAndOutlierDetection(t *testing.T) {
	m := meshOf(t, dr(`
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 1, connectTimeout: 250ms}
      http: {http1MaxPendingRequests: 2, http2MaxRequests: 3, maxRetries: 4, maxRequestsPerConnection: 5, idleTimeout: 6s}
    outlierDetection:
      consecutive5xxErrors: 7
      interval: 1s
      baseEjectionTime: 3m
      maxEjectionPercent: 100
`))
	res, _ := translateFor(t, m, client(m))
	c := clusterNamed(t, res, webAll)
	th := c.GetCircuitBreakers().GetThresholds()[0]
	if th.GetMaxConnections().GetValue() != 1 || th.GetMaxPendingRequests().GetValue() != 2 || th.GetMaxRequests().GetValue() != 3 || th.GetMaxRetries().GetValue() != 4 {
		t.Errorf("circuit breakers = %v", th)
	}
	if c.GetConnectTimeout().AsDuration() != 250*time.Millisecond {
		t.Errorf("connect timeout = %v", c.GetConnectTimeout())
	}
	od := c.GetOutlierDetection()
	if od.GetConsecutive_5Xx().GetValue() != 7 || od.GetEnforcingConsecutive_5Xx().GetValue() != 100 || od.GetInterval().AsDuration() != time.Second ||
		od.GetBaseEjectionTime().AsDuration() != 3*time.Minute || od.GetMaxEjectionPercent().GetValue() != 100 || od.GetEnforcingSuccessRate().GetValue() != 0 {
		t.Errorf("outlier detection = %v", od)
	}
	if c.GetCommonLbConfig().GetHealthyPanicThreshold().GetValue() != 0 {
		t.Errorf("panic threshold = %v", c.GetCommonLbConfig())
	}
	opts := c.GetTypedExtensionProtocolOptions()[upstreamHTTPOpts]
	if opts == nil {
		t.Fatal("no upstream HTTP options")
	}
	// Unset thresholds are Istio's "unlimited".
	m = meshOf(t)
	res, _ = translateFor(t, m, client(m))
	if th := clusterNamed(t, res, webAll).GetCircuitBreakers().GetThresholds()[0]; th.GetMaxConnections().GetValue() != unlimited {
		t.Errorf("default thresholds = %v", th)
	}
}

// TestPolicyPrecedence: the subset's policy over the top-level one, field
// by field; port-level settings replace a whole policy.
func TestPolicyPrecedence(t *testing.T) {
	m := meshOf(t, dr(`
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    connectionPool: {tcp: {maxConnections: 10}}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy:
      loadBalancer: {simple: RANDOM}
  - name: v2
    labels: {version: v2}
    trafficPolicy:
      portLevelSettings:
      - port: {number: 80}
        connectionPool: {tcp: {maxConnections: 3}}
`))
	res, _ := translateFor(t, m, client(m))
	v1, v2, all := clusterNamed(t, res, webV1), clusterNamed(t, res, webV2), clusterNamed(t, res, webAll)
	if all.GetLbPolicy() != clusterv3.Cluster_ROUND_ROBIN || all.GetCircuitBreakers().GetThresholds()[0].GetMaxConnections().GetValue() != 10 {
		t.Errorf("top-level: %v", all)
	}
	if v1.GetLbPolicy() != clusterv3.Cluster_RANDOM || v1.GetCircuitBreakers().GetThresholds()[0].GetMaxConnections().GetValue() != 10 {
		t.Errorf("subset v1 (lb overridden, pool inherited): %v", v1)
	}
	if v2.GetLbPolicy() != clusterv3.Cluster_LEAST_REQUEST || v2.GetCircuitBreakers().GetThresholds()[0].GetMaxConnections().GetValue() != 3 {
		t.Errorf("subset v2 port level (replaces all, lb back to default): %v", v2)
	}
	// Endpoints are filtered by subset labels.
	for _, e := range res.Endpoints {
		if e.GetClusterName() == webV1 && len(e.GetEndpoints()[0].GetLbEndpoints()) != 1 {
			t.Errorf("v1 endpoints = %v", e)
		}
		if e.GetClusterName() == webAll && len(e.GetEndpoints()[0].GetLbEndpoints()) != 2 {
			t.Errorf("all endpoints = %v", e)
		}
	}
}

func TestTCPRoutes(t *testing.T) {
	m := meshOf(t, `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db}
spec:
  host: db
  subsets: [{name: a, labels: {app: db}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db}
spec:
  hosts: [db]
  tcp:
  - match: [{port: 5432, sourceLabels: {app: client}}]
    route:
    - {destination: {host: db}, weight: 75}
    - {destination: {host: db, subset: a}, weight: 25}
`)
	res, _ := translateFor(t, m, client(m))
	for _, l := range res.Listeners {
		if l.GetName() != "10.96.0.2_5432" {
			continue
		}
		if l.GetBindToPort().GetValue() {
			t.Error("outbound TCP listener must not bind")
		}
		tp := &tcpv3.TcpProxy{}
		if err := l.GetFilterChains()[0].GetFilters()[0].GetTypedConfig().UnmarshalTo(tp); err != nil {
			t.Fatal(err)
		}
		wc := tp.GetWeightedClusters().GetClusters()
		if len(wc) != 2 || wc[0].GetName() != "outbound|5432||db.default.svc.cluster.local" || wc[0].GetWeight() != 75 || wc[1].GetName() != "outbound|5432|a|db.default.svc.cluster.local" {
			t.Errorf("tcp weighted clusters = %v", wc)
		}
		return
	}
	t.Fatalf("no listener 10.96.0.2_5432 in %v", names(res.Listeners))
}

func TestConflictingVirtualServices(t *testing.T) {
	older := `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: first}
spec:
  hosts: [web]
  http: [{route: [{destination: {host: web, subset: v1}}]}]
`
	m := meshOf(t, webSubsets, older, strings.ReplaceAll(strings.ReplaceAll(older, "first", "second"), "subset: v1", "subset: v2"))
	m.VirtualServices[0].CreationTimestamp = metav1.NewTime(time.Unix(100, 0))
	m.VirtualServices[1].CreationTimestamp = metav1.NewTime(time.Unix(200, 0))
	res, w := translateFor(t, m, client(m))
	if c := webRoutes(t, res)[0].GetRoute().GetCluster(); c != webV1 {
		t.Errorf("route to %s, want the older VirtualService's %s", c, webV1)
	}
	if !hasWarning(w, "VirtualService default/second: host \"web.default.svc.cluster.local\" is also claimed by VirtualService default/first") {
		t.Errorf("warnings %v", w)
	}
}

func TestDestinationRuleNamespacePrecedence(t *testing.T) {
	m := meshOf(t, dr("trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}"), `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web-from-other, namespace: other}
spec:
  host: web.default.svc.cluster.local
  trafficPolicy: {loadBalancer: {simple: RANDOM}}
`)
	res, _ := translateFor(t, m, client(m))
	if lb := clusterNamed(t, res, webAll).GetLbPolicy(); lb != clusterv3.Cluster_ROUND_ROBIN {
		t.Errorf("from default: %v", lb)
	}
	p := client(m)
	p.Namespace = "other"
	res, _ = translateFor(t, m, p)
	if lb := clusterNamed(t, res, webAll).GetLbPolicy(); lb != clusterv3.Cluster_RANDOM {
		t.Errorf("from other (its own DestinationRule first): %v", lb)
	}
}

func TestProtocols(t *testing.T) {
	app := "kubernetes.io/h2c"
	cases := []struct {
		name string
		app  *string
		want protocol
	}{
		{"http", nil, protoHTTP}, {"http-web", nil, protoHTTP}, {"HTTP2", nil, protoHTTP2}, {"grpc", nil, protoGRPC},
		{"grpc-web", nil, protoGRPC}, {"tcp-db", nil, protoTCP}, {"mysql", nil, protoTCP}, {"", nil, protoTCP},
		{"web", nil, protoTCP}, {"tcp", &app, protoHTTP2},
	}
	for _, c := range cases {
		if got := portProtocol(c.name, c.app, "TCP"); got != c.want {
			t.Errorf("port %q: %v, want %v", c.name, got, c.want)
		}
	}
	if portProtocol("dns", nil, "UDP") != protoUDP {
		t.Error("UDP ports are not proxied")
	}
}

func TestParseNode(t *testing.T) {
	md, _ := structpb.NewStruct(map[string]any{"LABELS": map[string]any{"app": "a"}, "INTERCEPTION_MODE": "NONE", "HTTP_PROXY_PORT": "15080"})
	p, err := ParseNode(&corev3.Node{Id: "sidecar~127.1.0.5~a-0.team~team.svc.cluster.local", Metadata: md})
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != Sidecar || p.IP != "127.1.0.5" || p.Name != "a-0" || p.Namespace != "team" || p.Labels["app"] != "a" || !p.HostMode || p.HTTPProxyPort != 15080 {
		t.Errorf("parsed %+v", p)
	}
	md, _ = structpb.NewStruct(map[string]any{"GENERATOR": "grpc"})
	if p, _ := ParseNode(&corev3.Node{Id: "sidecar~1.2.3.4~c.ns~ns.svc.cluster.local", Metadata: md}); p.Type != GRPC {
		t.Errorf("GENERATOR grpc: %v", p.Type)
	}
	if p, _ := ParseNode(&corev3.Node{Id: "router~127.0.0.2~gw.weft-system~weft-system.svc.cluster.local"}); p.Type != Gateway {
		t.Errorf("router: %v", p.Type)
	}
	for _, bad := range []string{"", "sidecar", "ztunnel~1.2.3.4~a.b~b.svc", "sidecar~not-an-ip~a.b~b.svc.cluster.local"} {
		if _, err := ParseNode(&corev3.Node{Id: bad}); err == nil {
			t.Errorf("ParseNode(%q) accepted", bad)
		}
	}
}

func TestHostModeListeners(t *testing.T) {
	m := meshOf(t, `
apiVersion: v1
kind: Service
metadata: {name: cache}
spec:
  selector: {app: cache}
  ports: [{name: redis, port: 5432}]
`)
	p := client(m)
	p.HostMode = true
	res, w := translateFor(t, m, p)
	got := strings.Join(names(res.Listeners), " ")
	ip := p.IP
	if got != ip+"_15001 "+ip+"_5432" {
		t.Errorf("listeners %s", got)
	}
	if !hasWarning(w, "port 5432 is already served by") {
		t.Errorf("warnings %v", w)
	}
	var vh *routev3.VirtualHost
	for _, v := range res.Routes[0].GetVirtualHosts() {
		if v.GetName() == webFQDN+":80" {
			vh = v
		}
	}
	if res.Routes[0].GetName() != HTTPProxyRoute || vh == nil || vh.GetDomains()[0] != webFQDN || vh.GetDomains()[1] != webFQDN+":80" {
		t.Errorf("http_proxy route: %v", res.Routes[0])
	}
}

// TestGatewayNodeListeners: the node proxy serves every NodePort and
// LoadBalancer service on its node ports, and a LoadBalancer service on
// its own ports too (the node's IP is its EXTERNAL-IP).
func TestGatewayNodeListeners(t *testing.T) {
	m := meshOf(t, `
apiVersion: v1
kind: Service
metadata: {name: np}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{name: http, port: 8080, targetPort: 8080, nodePort: 30080}]
---
apiVersion: v1
kind: Service
metadata: {name: lb}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{name: http, port: 8081, targetPort: 8080, nodePort: 30081}]
---
apiVersion: v1
kind: Service
metadata: {name: lz-clash}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{name: http, port: 8081, targetPort: 8080, nodePort: 30082}]
`)
	gw := Proxy{ID: "router~127.0.0.9~gw.weft-system~weft-system.svc.cluster.local", Type: Gateway, IP: "127.0.0.9", Name: "gw", Namespace: "weft-system"}
	res, w := translateFor(t, m, gw)
	got := map[string]string{}
	for _, l := range res.Listeners {
		tp := &tcpv3.TcpProxy{}
		for _, f := range l.GetFilterChains()[0].GetFilters() {
			_ = f.GetTypedConfig().UnmarshalTo(tp)
		}
		got[l.GetName()] = tp.GetCluster()
	}
	want := map[string]string{
		"127.0.0.9_30080": "outbound|8080||np.default.svc.cluster.local",
		"127.0.0.9_30081": "outbound|8081||lb.default.svc.cluster.local",
		"127.0.0.9_8081":  "outbound|8081||lb.default.svc.cluster.local",
		"127.0.0.9_30082": "outbound|8081||lz-clash.default.svc.cluster.local",
	}
	for name, cluster := range want {
		if got[name] != cluster {
			t.Errorf("listener %s: cluster %q, want %q (all: %v)", name, got[name], cluster, got)
		}
	}
	if !hasWarning(w, "load-balancer port 8081 is already used on the node by another service") {
		t.Errorf("no warning about the clash: %v", w)
	}
}

// TestGatewayHostPorts: the node gateway serves the hostPorts of the pods
// on its node, forwarding to the pod's IP at the container port; other
// nodes' pods, finished pods, UDP ports and foreign hostIPs are not.
func TestGatewayHostPorts(t *testing.T) {
	m := meshOf(t, `
apiVersion: v1
kind: Pod
metadata: {name: web-hp, labels: {app: hp}}
spec:
  containers:
  - name: c
    image: nginx
    ports:
    - {containerPort: 80, hostPort: 8888, hostIP: "0.0.0.0"}
    - {containerPort: 53, hostPort: 5353, protocol: UDP}
    - {containerPort: 81, hostPort: 9999, hostIP: 10.0.0.103}
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere}
spec: {containers: [{name: c, image: nginx, ports: [{containerPort: 80, hostPort: 7777}]}]}
`)
	for _, p := range m.Pods {
		switch p.Name {
		case "web-hp":
			p.Status.HostIP, p.Status.PodIP, p.Status.Phase = "127.0.0.9", "10.244.0.77", "Running"
		case "elsewhere":
			p.Status.HostIP, p.Status.PodIP, p.Status.Phase = "127.0.0.10", "10.244.1.5", "Running"
		}
	}
	gw := Proxy{ID: "router~127.0.0.9~gw.weft-system~weft-system.svc.cluster.local", Type: Gateway, IP: "127.0.0.9", Name: "gw", Namespace: "weft-system"}
	res, w := translateFor(t, m, gw)
	if got := strings.Join(names(res.Listeners), " "); got != "127.0.0.9_8888" {
		t.Fatalf("listeners %s", got)
	}
	c := clusterNamed(t, res, "hostport|8888||web-hp.default")
	ep := c.GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	if ep.GetAddress() != "10.244.0.77" || ep.GetPortValue() != 80 {
		t.Errorf("hostPort 8888 goes to %s:%d", ep.GetAddress(), ep.GetPortValue())
	}
	for _, want := range []string{"hostPort 5353/UDP is not served", "hostPort 9999 is not served: its hostIP 10.0.0.103"} {
		if !hasWarning(w, want) {
			t.Errorf("no warning %q: %v", want, w)
		}
	}
}
