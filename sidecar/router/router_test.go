package router

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

func route(name string, m xdsresource.RouteMatch, cluster string) *xdsresource.Route {
	if m.Path == "" && m.Regex == nil && m.PathKind == xdsresource.PathPrefix {
		m.Path = "/"
	}
	return &xdsresource.Route{Name: name, Match: m, Action: xdsresource.ActionRoute,
		Route: &xdsresource.RouteAction{Clusters: []xdsresource.WeightedCluster{{Name: cluster, Weight: 1}}, TotalWeight: 1}}
}

func exact(v string) xdsresource.StringMatcher {
	return xdsresource.StringMatcher{Kind: xdsresource.MatchExact, Value: v}
}

func testTable() *Table {
	return NewTable(&xdsresource.RouteConfiguration{Name: "80", VirtualHosts: []*xdsresource.VirtualHost{
		{Name: "flaskapp", Domains: []string{"flaskapp", "flaskapp:80", "flaskapp.default.svc.cluster.local"}, Routes: []*xdsresource.Route{
			route("canary", xdsresource.RouteMatch{CaseSensitive: true, Headers: []xdsresource.HeaderMatcher{{Name: "end-user", String: exact("jason")}}}, "v2"),
			route("no-test", xdsresource.RouteMatch{CaseSensitive: true, Headers: []xdsresource.HeaderMatcher{{Name: "x-test", Kind: xdsresource.HeaderPresent, Present: true, Invert: true}},
				PathKind: xdsresource.PathExact, Path: "/exact"}, "exact"),
			route("post", xdsresource.RouteMatch{CaseSensitive: true, Headers: []xdsresource.HeaderMatcher{{Name: ":method", String: exact("POST")}}}, "post"),
			route("query", xdsresource.RouteMatch{CaseSensitive: true, QueryParameters: []xdsresource.QueryParameterMatcher{{Name: "user", String: &xdsresource.StringMatcher{Kind: xdsresource.MatchPrefix, Value: "a b"}}}}, "query"),
			route("regex", xdsresource.RouteMatch{PathKind: xdsresource.PathRegex, Regex: regexp.MustCompile(`^(?:/env/[a-z]+)$`), CaseSensitive: true}, "regex"),
			route("sep", xdsresource.RouteMatch{PathKind: xdsresource.PathSeparatedPrefix, Path: "/api", CaseSensitive: true}, "sep"),
			route("ci", xdsresource.RouteMatch{PathKind: xdsresource.PathPrefix, Path: "/upper", CaseSensitive: false}, "ci"),
			route("default", xdsresource.RouteMatch{CaseSensitive: true}, "v1"),
		}},
		{Name: "wild-suffix", Domains: []string{"*.example.com"}, Routes: []*xdsresource.Route{route("s", xdsresource.RouteMatch{CaseSensitive: true}, "suffix")}},
		{Name: "wild-suffix-long", Domains: []string{"*.api.example.com"}, Routes: []*xdsresource.Route{route("s2", xdsresource.RouteMatch{CaseSensitive: true}, "suffix-long")}},
		{Name: "wild-prefix", Domains: []string{"foo.*"}, Routes: []*xdsresource.Route{route("p", xdsresource.RouteMatch{CaseSensitive: true}, "prefix")}},
		{Name: "any", Domains: []string{"*"}, Routes: []*xdsresource.Route{route("any", xdsresource.RouteMatch{CaseSensitive: true}, "passthrough")}},
	}})
}

func TestMatch(t *testing.T) {
	tb := testTable()
	tests := []struct {
		name                      string
		method, host, path, query string
		header                    http.Header
		want                      string
	}{
		{"canary header", "GET", "flaskapp", "/env/version", "", http.Header{"End-User": {"jason"}}, "canary"},
		{"default", "GET", "flaskapp", "/x", "", nil, "default"},
		{"host with port", "GET", "flaskapp:80", "/x", "", nil, "default"},
		{"host case", "GET", "FlaskApp", "/x", "", nil, "default"},
		{"without header", "GET", "flaskapp", "/exact", "", nil, "no-test"},
		{"without header present", "GET", "flaskapp", "/exact", "", http.Header{"X-Test": {"1"}}, "default"},
		{"method", "POST", "flaskapp", "/x", "", nil, "post"},
		{"query decoded", "GET", "flaskapp", "/q", "x=1&user=a+b+c", nil, "query"},
		{"query missing", "GET", "flaskapp", "/q", "x=1", nil, "default"},
		{"regex full match", "GET", "flaskapp", "/env/version", "", nil, "regex"},
		{"regex not partial", "GET", "flaskapp", "/env/version/x", "", nil, "default"},
		{"separated prefix exact", "GET", "flaskapp", "/api", "", nil, "sep"},
		{"separated prefix child", "GET", "flaskapp", "/api/v1", "", nil, "sep"},
		{"separated prefix other", "GET", "flaskapp", "/apix", "", nil, "default"},
		{"case insensitive", "GET", "flaskapp", "/UPPER/x", "", nil, "ci"},
		{"suffix wildcard longest", "GET", "v1.api.example.com", "/", "", nil, "s2"},
		{"suffix wildcard", "GET", "www.example.com", "/", "", nil, "s"},
		{"prefix wildcard", "GET", "foo.bar", "/", "", nil, "p"},
		{"catch all", "GET", "other", "/", "", nil, "any"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			r := &Request{Method: tt.method, Authority: tt.host, Path: tt.path, Query: tt.query, Scheme: "http", Header: h}
			rt := tb.Match(r)
			if rt == nil || rt.Name != tt.want {
				t.Fatalf("matched %v, want %s", rt, tt.want)
			}
		})
	}
}

func TestNoRoute(t *testing.T) {
	tb := NewTable(&xdsresource.RouteConfiguration{VirtualHosts: []*xdsresource.VirtualHost{{Domains: []string{"a"},
		Routes: []*xdsresource.Route{route("r", xdsresource.RouteMatch{PathKind: xdsresource.PathExact, Path: "/only", CaseSensitive: true}, "c")}}}})
	if rt := tb.Match(&Request{Authority: "b", Path: "/only", Header: http.Header{}}); rt != nil {
		t.Fatalf("unknown host matched %v", rt.Name)
	}
	if rt := tb.Match(&Request{Authority: "a", Path: "/other", Header: http.Header{}}); rt != nil {
		t.Fatalf("unknown path matched %v", rt.Name)
	}
}

func TestPickClusterDistribution(t *testing.T) {
	a := &xdsresource.RouteAction{Clusters: []xdsresource.WeightedCluster{{Name: "v1", Weight: 70}, {Name: "v2", Weight: 30}}, TotalWeight: 100}
	counts := map[string]int{}
	for i := uint64(0); i < 1000; i++ {
		counts[PickCluster(a, i*7919).Name]++
	}
	if counts["v1"] != 700 || counts["v2"] != 300 {
		t.Fatalf("counts = %v", counts)
	}
}

func TestRewriteAndRedirect(t *testing.T) {
	rt := &Route{Route: &xdsresource.Route{Match: xdsresource.RouteMatch{PathKind: xdsresource.PathPrefix, Path: "/old", CaseSensitive: true},
		Route: &xdsresource.RouteAction{PrefixRewrite: "/new"}}}
	if got := RewritePath(rt, "/old/x"); got != "/new/x" {
		t.Errorf("prefix rewrite = %q", got)
	}
	rt.Route.Route = &xdsresource.RouteAction{RegexRewrite: regexp.MustCompile(`^/service/([^/]+)(/.*)$`), RegexSubstitution: "${2}/instance/${1}"}
	if got := RewritePath(rt, "/service/foo/v1/api"); got != "/v1/api/instance/foo" {
		t.Errorf("regex rewrite = %q", got)
	}
	rt.Route.Redirect = &xdsresource.RedirectAction{Scheme: "https", Host: "new.example.com", Code: 301, PrefixRewrite: "/v2"}
	req := &Request{Scheme: "http", Authority: "old:80", Path: "/old/a", Query: "q=1"}
	if got := RedirectLocation(rt, req); got != "https://new.example.com/v2/a?q=1" {
		t.Errorf("redirect = %q", got)
	}
	rt.Route.Redirect = &xdsresource.RedirectAction{Path: "/fixed", Port: 8080, StripQuery: true, Code: 302}
	if got := RedirectLocation(rt, req); got != "http://old:8080/fixed" {
		t.Errorf("redirect = %q", got)
	}
}

func TestApplyHeaders(t *testing.T) {
	h := http.Header{"A": {"1"}, "B": {"2"}, "C": {"3"}}
	ApplyHeaders(h, []xdsresource.HeaderValueOption{
		{Name: "A", Value: "x", Action: xdsresource.AppendIfExistsOrAdd},
		{Name: "B", Value: "y", Action: xdsresource.OverwriteIfExistsOrAdd},
		{Name: "D", Value: "z", Action: xdsresource.AddIfAbsent},
		{Name: "B", Value: "no", Action: xdsresource.AddIfAbsent},
		{Name: "E", Value: "no", Action: xdsresource.OverwriteIfExists},
	}, []string{"C"})
	want := "map[A:[1 x] B:[y] D:[z]]"
	if got := fmt.Sprint(h); got != want {
		t.Fatalf("headers = %s, want %s", got, want)
	}
}

func TestHash(t *testing.T) {
	a := &xdsresource.RouteAction{HashPolicies: []xdsresource.HashPolicy{{Kind: xdsresource.HashHeader, Name: "x-user"}}}
	r1 := &Request{Header: http.Header{"X-User": {"alice"}}}
	r2 := &Request{Header: http.Header{"X-User": {"alice"}}}
	r3 := &Request{Header: http.Header{"X-User": {"bob"}}}
	h1, h2, h3 := Hash(a, r1, "1.1.1.1:1"), Hash(a, r2, "2.2.2.2:2"), Hash(a, r3, "1.1.1.1:1")
	if !h1.OK || h1.Hash != h2.Hash || h1.Hash == h3.Hash {
		t.Fatalf("hashes %v %v %v", h1, h2, h3)
	}
	if h := Hash(a, &Request{Header: http.Header{}}, "1.1.1.1:1"); h.OK {
		t.Fatal("hash without header should not be OK")
	}
	a.HashPolicies = []xdsresource.HashPolicy{{Kind: xdsresource.HashCookie, Name: "sess", CookieTTL: 3600e9, CookiePath: "/"}}
	h := Hash(a, &Request{Header: http.Header{}}, "1.1.1.1:1")
	if !h.OK || h.SetCookie == nil || h.SetCookie.MaxAge != 3600 {
		t.Fatalf("generated cookie: %+v", h)
	}
	h2c := Hash(a, &Request{Header: http.Header{"Cookie": {"a=b; sess=" + h.SetCookie.Value}}}, "9.9.9.9:9")
	if h2c.Hash != h.Hash || h2c.SetCookie != nil {
		t.Fatalf("cookie hash %v vs %v", h2c, h)
	}
	a.HashPolicies = []xdsresource.HashPolicy{{Kind: xdsresource.HashSourceIP}}
	if Hash(a, &Request{}, "1.1.1.1:1").Hash != Hash(a, &Request{}, "1.1.1.1:2").Hash {
		t.Fatal("source ip hash depends on port")
	}
}

// bigTable is a realistic table: 100 services, each with a canary route on
// a header and a default weighted route.
func bigTable() *Table {
	rc := &xdsresource.RouteConfiguration{Name: "80"}
	for i := 0; i < 100; i++ {
		name := fmt.Sprintf("svc%d", i)
		fq := name + ".default.svc.cluster.local"
		rc.VirtualHosts = append(rc.VirtualHosts, &xdsresource.VirtualHost{
			Name:    fq + ":80",
			Domains: []string{fq, fq + ":80", name, name + ":80", name + ".default", fmt.Sprintf("10.96.0.%d", i)},
			Routes: []*xdsresource.Route{
				route("canary", xdsresource.RouteMatch{CaseSensitive: true, Headers: []xdsresource.HeaderMatcher{{Name: "end-user", String: exact("jason")}}}, "outbound|80|v2|"+fq),
				{Name: "default", Match: xdsresource.RouteMatch{Path: "/", CaseSensitive: true}, Action: xdsresource.ActionRoute,
					Route: &xdsresource.RouteAction{TotalWeight: 100, Clusters: []xdsresource.WeightedCluster{
						{Name: "outbound|80|v1|" + fq, Weight: 90}, {Name: "outbound|80|v2|" + fq, Weight: 10}}}},
			},
		})
	}
	rc.VirtualHosts = append(rc.VirtualHosts, &xdsresource.VirtualHost{Name: "allow_any", Domains: []string{"*"},
		Routes: []*xdsresource.Route{route("allow_any", xdsresource.RouteMatch{CaseSensitive: true}, "PassthroughCluster")}})
	return NewTable(rc)
}

func BenchmarkMatch(b *testing.B) {
	tb := bigTable()
	req, _ := http.NewRequest("GET", "http://svc57/env/version?x=1", nil)
	req.Header.Set("User-Agent", "bench")
	req.Header.Set("Accept", "*/*")
	b.ReportAllocs()
	for b.Loop() {
		r := FromHTTP(req)
		rt := tb.Match(&r)
		if rt == nil || rt.Name != "default" {
			b.Fatal("no match")
		}
		_ = PickCluster(rt.Route.Route, 12345)
	}
}

func FuzzMatch(f *testing.F) {
	tb := testTable()
	f.Add("GET", "flaskapp", "/env/version", "user=a%20b", "end-user", "jason")
	f.Add("POST", "x.example.com:80", "/api/v1", "", "x-test", "")
	f.Add("GET", "[::1]:80", "/UPPER", "%zz=1&&=", "cookie", "a=b; sess=1")
	f.Fuzz(func(t *testing.T, method, host, path, query, hk, hv string) {
		h := http.Header{}
		h.Add(hk, hv)
		r := &Request{Method: method, Authority: host, Path: path, Query: query, Scheme: "http", Header: h}
		rt := tb.Match(r)
		if rt == nil {
			if strings.HasPrefix(path, "/") {
				t.Fatalf("catch-all route did not match %+v", r)
			}
			return
		}
		_ = RewritePath(rt, path)
		if !strings.HasPrefix(RedirectLocation(&Route{Route: &xdsresource.Route{Redirect: &xdsresource.RedirectAction{}}, VirtualHost: rt.VirtualHost}, r), "http://") {
			t.Fatal("redirect location lost its scheme")
		}
		_ = Hash(&xdsresource.RouteAction{HashPolicies: []xdsresource.HashPolicy{{Kind: xdsresource.HashCookie, Name: "sess"}, {Kind: xdsresource.HashQueryParameter, Name: "user"}}}, r, host)
	})
}

func TestNormalizePath(t *testing.T) {
	tests := []struct {
		in    string
		merge bool
		want  string
	}{
		{"/a/b", false, "/a/b"},
		{"/a/./b/../c", false, "/a/c"},
		{"/a/b/..", false, "/a/"},
		{"/../../x", false, "/x"},
		{"/a//b///c/", true, "/a/b/c/"},
		{"/a//b", false, "/a//b"},
		{"/a/.hidden", false, "/a/.hidden"},
	}
	for _, tt := range tests {
		if got := NormalizePath(tt.in, tt.merge); got != tt.want {
			t.Errorf("NormalizePath(%q, %v) = %q, want %q", tt.in, tt.merge, got, tt.want)
		}
	}
}
