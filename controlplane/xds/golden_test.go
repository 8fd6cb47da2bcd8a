package xds

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden is what a golden file holds, each list in translation order.
type golden struct {
	Warnings  []string          `json:"warnings,omitempty"`
	Listeners []json.RawMessage `json:"listeners,omitempty"`
	Routes    []json.RawMessage `json:"routes,omitempty"`
	Clusters  []json.RawMessage `json:"clusters,omitempty"`
	Endpoints []json.RawMessage `json:"endpoints,omitempty"`
}

// which parts of Resources a golden file keeps.
type parts struct{ listeners, routes, clusters, endpoints bool }

var allParts = parts{true, true, true, true}

func rawJSON(t *testing.T, m proto.Message) json.RawMessage {
	t.Helper()
	b, err := protojson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	// protojson's whitespace is deliberately unstable; normalise it.
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func goldenOf[T proto.Message](t *testing.T, list []T) []json.RawMessage {
	var out []json.RawMessage
	for _, m := range list {
		out = append(out, rawJSON(t, m))
	}
	return out
}

// checkGolden compares res (the selected parts) and warnings with a golden
// file, or rewrites it with -update.
func checkGolden(t *testing.T, path string, res *Resources, warnings []Warning, p parts) {
	t.Helper()
	g := golden{}
	for _, w := range warnings {
		g.Warnings = append(g.Warnings, w.String())
	}
	if p.listeners {
		g.Listeners = goldenOf(t, res.Listeners)
	}
	if p.routes {
		g.Routes = goldenOf(t, res.Routes)
	}
	if p.clusters {
		g.Clusters = goldenOf(t, res.Clusters)
	}
	if p.endpoints {
		g.Endpoints = goldenOf(t, res.Endpoints)
	}
	got, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the translation (run go test -update and review the diff):\n%s", path, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n- " + w + "\n+ " + g
		}
	}
	return ""
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// checkConsistent asserts what every translation promises: resources pass
// Envoy's proto validation, every cluster named by a route, weighted
// cluster, mirror or tcp_proxy is in the output, every EDS cluster has its
// assignment, and every RDS name a listener uses is in the output.
func checkConsistent(t *testing.T, res *Resources) {
	t.Helper()
	type validator interface{ ValidateAll() error }
	check := func(kind, name string, m proto.Message) {
		if v, ok := m.(validator); ok {
			if err := v.ValidateAll(); err != nil {
				t.Errorf("%s %s is not valid Envoy config: %v", kind, name, err)
			}
		}
	}
	clusters := map[string]*clusterv3.Cluster{}
	for _, c := range res.Clusters {
		check("cluster", c.GetName(), c)
		clusters[c.GetName()] = c
	}
	cla := map[string]bool{}
	for _, e := range res.Endpoints {
		check("endpoints", e.GetClusterName(), e)
		cla[e.GetClusterName()] = true
	}
	for _, c := range res.Clusters {
		if c.GetType() == clusterv3.Cluster_EDS && !cla[c.GetEdsClusterConfig().GetServiceName()] {
			t.Errorf("EDS cluster %s has no ClusterLoadAssignment", c.GetName())
		}
	}
	need := func(where, name string) {
		if clusters[name] == nil {
			t.Errorf("%s names cluster %q, which is not in the output", where, name)
		}
	}
	checkRoutes := func(rc *routev3.RouteConfiguration) {
		for _, vh := range rc.GetVirtualHosts() {
			for _, r := range vh.GetRoutes() {
				where := "route " + rc.GetName() + "/" + vh.GetName()
				a := r.GetRoute()
				if a == nil {
					continue
				}
				if c := a.GetCluster(); c != "" {
					need(where, c)
				}
				for _, w := range a.GetWeightedClusters().GetClusters() {
					need(where, w.GetName())
				}
				for _, m := range a.GetRequestMirrorPolicies() {
					need(where, m.GetCluster())
				}
			}
		}
	}
	routes := map[string]bool{}
	for _, r := range res.Routes {
		check("route", r.GetName(), r)
		routes[r.GetName()] = true
		checkRoutes(r)
	}
	checkHCM := func(where string, hcm *hcmv3.HttpConnectionManager) {
		if n := hcm.GetRds().GetRouteConfigName(); n != "" && !routes[n] {
			t.Errorf("%s uses RDS %q, which is not in the output", where, n)
		}
		if rc := hcm.GetRouteConfig(); rc != nil {
			checkRoutes(rc)
		}
	}
	for _, l := range res.Listeners {
		check("listener", l.GetName(), l)
		if a := l.GetApiListener().GetApiListener(); a != nil {
			hcm := &hcmv3.HttpConnectionManager{}
			if err := a.UnmarshalTo(hcm); err != nil {
				t.Fatal(err)
			}
			checkHCM("listener "+l.GetName(), hcm)
		}
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				switch f.GetName() {
				case filterHCM:
					hcm := &hcmv3.HttpConnectionManager{}
					if err := f.GetTypedConfig().UnmarshalTo(hcm); err != nil {
						t.Fatal(err)
					}
					checkHCM("listener "+l.GetName(), hcm)
				case filterTCPProxy:
					tp := &tcpv3.TcpProxy{}
					if err := f.GetTypedConfig().UnmarshalTo(tp); err != nil {
						t.Fatal(err)
					}
					if c := tp.GetCluster(); c != "" {
						need("listener "+l.GetName(), c)
					}
					for _, w := range tp.GetWeightedClusters().GetClusters() {
						need("listener "+l.GetName(), w.GetName())
					}
				}
			}
		}
	}
}

// TestGoldenBookinfo translates Bookinfo with each of its networking rules
// for productpage's sidecar. The base case keeps everything; the rule
// cases keep what the rule changes (routes for VirtualServices, clusters
// for DestinationRules).
func TestGoldenBookinfo(t *testing.T) {
	rules, err := filepath.Glob(bookinfoDir + "/networking/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("base", func(t *testing.T) {
		m := bookinfoMesh(t)
		res, w := Translate(m, sidecarFor(m, "default", "productpage-v1-0"))
		checkConsistent(t, res)
		checkGolden(t, "testdata/bookinfo/base.golden.json", res, w, allParts)
	})
	for _, rule := range rules {
		name := strings.TrimSuffix(filepath.Base(rule), ".yaml")
		t.Run(name, func(t *testing.T) {
			b := (&meshBuilder{}).addFile(t, bookinfoDir+"/platform/kube/bookinfo.yaml")
			if !strings.HasPrefix(name, "destination-rule") {
				b.addFile(t, bookinfoDir+"/networking/destination-rule-all.yaml")
			}
			b.addFile(t, rule)
			m := b.mesh()
			res, w := Translate(m, sidecarFor(m, "default", "productpage-v1-0"))
			checkConsistent(t, res)
			p := parts{routes: true}
			if strings.HasPrefix(name, "destination-rule") {
				p = parts{clusters: true}
			}
			checkGolden(t, "testdata/bookinfo/"+name+".golden.json", res, w, p)
		})
	}
}

// TestGoldenCases translates each testdata/cases/*.yaml for the proxies
// its "# proxy:" lines describe:
//
//	# proxy: <node id> [LABELS=k=v,k=v] [GENERATOR=grpc] [INTERCEPTION_MODE=NONE] ...
func TestGoldenCases(t *testing.T) {
	files, err := filepath.Glob("testdata/cases/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no cases")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := (&meshBuilder{}).addFile(t, f).mesh()
		n := 0
		for _, line := range strings.Split(string(data), "\n") {
			spec, ok := strings.CutPrefix(line, "# proxy: ")
			if !ok {
				continue
			}
			n++
			node := nodeFromSpec(t, spec)
			p, err := ParseNode(node)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			name := strings.TrimSuffix(filepath.Base(f), ".yaml") + "." + itoa(n)
			t.Run(name, func(t *testing.T) {
				res, w := Translate(m, p)
				checkConsistent(t, res)
				checkGolden(t, "testdata/cases/"+name+".golden.json", res, w, allParts)
			})
		}
	}
}

func nodeFromSpec(t *testing.T, spec string) *corev3.Node {
	t.Helper()
	fields := strings.Fields(spec)
	meta := map[string]any{}
	for _, kv := range fields[1:] {
		k, v, _ := strings.Cut(kv, "=")
		if k == "LABELS" {
			labels := map[string]any{}
			for _, pair := range strings.Split(v, ",") {
				lk, lv, _ := strings.Cut(pair, "=")
				labels[lk] = lv
			}
			meta[k] = labels
			continue
		}
		meta[k] = v
	}
	md, err := structpb.NewStruct(meta)
	if err != nil {
		t.Fatal(err)
	}
	return &corev3.Node{Id: fields[0], Metadata: md}
}
