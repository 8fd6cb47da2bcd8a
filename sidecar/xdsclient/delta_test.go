package xdsclient

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/weft-mesh/weft/sidecar/internal/xdstest"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

func TestDeltaClient(t *testing.T) {
	srv := xdstest.NewServer(t, "")
	srv.Set(t, node, resources("outbound|80||flaskapp", okRoute("outbound|80||flaskapp")))

	rec := &recorder{ch: make(chan struct{}, 1)}
	c := New(Config{Addr: srv.Addr, Node: &corev3.Node{Id: node}, OnUpdate: rec.update, Delta: true,
		BackoffBase: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, "complete state", func() bool { s := rec.last(); return s != nil && s.Complete() })
	s := c.State()
	if s.Routes["80"] == nil || s.Endpoints["outbound|80||flaskapp"] == nil || s.Listeners["0.0.0.0_80"] == nil {
		t.Fatalf("state = %+v", s)
	}
	if s.ResourceVersions[xdsresource.ClusterType]["outbound|80||flaskapp"] == "" {
		t.Fatalf("no resource version recorded: %v", s.ResourceVersions)
	}
	// The first requests: wildcards for LDS and CDS, RDS and EDS by name.
	subs := map[string][]string{}
	for _, r := range srv.DeltaRequests() {
		subs[r.GetTypeUrl()] = append(subs[r.GetTypeUrl()], r.GetResourceNamesSubscribe()...)
	}
	if !slices.Equal(subs[xdsresource.ListenerType], []string{"*"}) || !slices.Equal(subs[xdsresource.RouteType], []string{"80"}) ||
		!slices.Equal(subs[xdsresource.EndpointType], []string{"outbound|80||flaskapp"}) {
		t.Fatalf("subscriptions = %v", subs)
	}

	// An unsupported field: NACK naming it, last good route keeps serving.
	bad := okRoute("outbound|80||flaskapp")
	bad.VirtualHosts[0].Routes[0].GetRoute().Cors = &routev3.CorsPolicy{}
	srv.Set(t, node, resources("outbound|80||flaskapp", bad))
	waitFor(t, "NACK", func() bool { n, _ := srv.NACKCount(xdsresource.RouteType); return n > 0 })
	if _, msg := srv.NACKCount(xdsresource.RouteType); !strings.Contains(msg, "virtual_hosts[0].routes[0].route.cors") {
		t.Fatalf("NACK message %q does not name the field", msg)
	}
	if got := c.State().Routes["80"]; got != s.Routes["80"] {
		t.Fatal("NACKed route replaced the last good one")
	}

	// A new cluster replaces the old: the old one arrives as removed, its
	// endpoints are unsubscribed and dropped, the new ones followed.
	srv.Set(t, node, resources("outbound|80|v2|flaskapp", okRoute("outbound|80|v2|flaskapp")))
	waitFor(t, "new cluster endpoints", func() bool {
		s := c.State()
		return s.Endpoints["outbound|80|v2|flaskapp"] != nil && s.Routes["80"].VirtualHosts[0].Routes[0].Route.Clusters[0].Name == "outbound|80|v2|flaskapp"
	})
	s = c.State()
	if s.Clusters["outbound|80||flaskapp"] != nil || s.Endpoints["outbound|80||flaskapp"] != nil || s.ResourceVersions[xdsresource.EndpointType]["outbound|80||flaskapp"] != "" {
		t.Fatal("removed cluster or its endpoints are still there")
	}
	waitFor(t, "EDS unsubscribe", func() bool {
		for _, r := range srv.DeltaRequests() {
			if r.GetTypeUrl() == xdsresource.EndpointType && slices.Contains(r.GetResourceNamesUnsubscribe(), "outbound|80||flaskapp") {
				return true
			}
		}
		return false
	})

	// The control plane goes away: state stays. It comes back with a
	// changed config: the client re-subscribes with the versions it holds
	// and gets the difference, removals included.
	held := c.State().ResourceVersions[xdsresource.ClusterType]
	addr := srv.Addr
	srv.Stop()
	waitFor(t, "disconnect", func() bool { _, up := c.Status(); return !up })
	if c.State().Routes["80"] == nil {
		t.Fatal("state lost when the control plane went away")
	}
	srv2 := xdstest.NewServer(t, addr)
	srv2.Set(t, node, resources("outbound|80|v3|flaskapp", okRoute("outbound|80|v3|flaskapp")))
	waitFor(t, "reconnect and update", func() bool {
		s := c.State()
		return s.Endpoints["outbound|80|v3|flaskapp"] != nil && s.Clusters["outbound|80|v2|flaskapp"] == nil
	})
	var first *discoveryv3.DeltaDiscoveryRequest
	for _, r := range srv2.DeltaRequests() {
		if r.GetTypeUrl() == xdsresource.ClusterType {
			first = r
			break
		}
	}
	if first == nil || first.GetInitialResourceVersions()["outbound|80|v2|flaskapp"] != held["outbound|80|v2|flaskapp"] {
		t.Fatalf("reconnect CDS request %v, want initial_resource_versions %v", first, held)
	}
}

func TestDecodeDelta(t *testing.T) {
	const cl = "outbound|80||flaskapp"
	r := resources(cl, okRoute(cl))
	any := func(res types.Resource) *discoveryv3.Resource {
		return &discoveryv3.Resource{Name: xdstestName(res), Version: "1", Resource: xdstest.Any(res)}
	}
	base, err := decodeDelta(newState(), xdsresource.ClusterType, []*discoveryv3.Resource{any(r.Clusters[0])}, nil)
	if err != nil {
		t.Fatal(err)
	}
	base, err = decodeDelta(base, xdsresource.EndpointType, []*discoveryv3.Resource{any(r.Endpoints[0])}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		typ     string
		added   []*discoveryv3.Resource
		removed []string
		err     string
		check   func(*State) bool
	}{
		{name: "remove cluster drops endpoints", typ: xdsresource.ClusterType, removed: []string{cl},
			check: func(s *State) bool {
				return len(s.Clusters) == 0 && len(s.Endpoints) == 0 && len(s.Raw[xdsresource.EndpointType]) == 0
			}},
		{name: "remove unknown is a no-op", typ: xdsresource.ClusterType, removed: []string{"nope"},
			check: func(s *State) bool { return s.Clusters[cl] != nil && s.Endpoints[cl] != nil }},
		{name: "no body", typ: xdsresource.ClusterType, added: []*discoveryv3.Resource{{Name: "x"}}, err: `resource "x": no body`},
		{name: "name mismatch", typ: xdsresource.ClusterType, added: []*discoveryv3.Resource{{Name: "x", Resource: xdstest.Any(r.Clusters[0])}}, err: "is named"},
		{name: "twice", typ: xdsresource.ClusterType, added: []*discoveryv3.Resource{any(r.Clusters[0]), any(r.Clusters[0])}, err: "sent twice"},
		{name: "added and removed", typ: xdsresource.ClusterType, added: []*discoveryv3.Resource{any(r.Clusters[0])}, removed: []string{cl}, err: "both added and removed"},
		{name: "unknown type", typ: "type.googleapis.com/foo", err: "unsupported resource type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeDelta(base, tt.typ, tt.added, tt.removed)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(got) {
				t.Fatalf("state %+v", got)
			}
			if base.Clusters[cl] == nil || base.Endpoints[cl] == nil {
				t.Fatal("the old state was modified")
			}
		})
	}
}

func xdstestName(r types.Resource) string {
	type named interface{ GetName() string }
	type cla interface{ GetClusterName() string }
	if n, ok := r.(cla); ok {
		return n.GetClusterName()
	}
	return r.(named).GetName()
}
