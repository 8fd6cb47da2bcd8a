package xdsclient

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/weft-mesh/weft/sidecar/internal/xdstest"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

const node = "sidecar~127.0.0.1~sleep-1.default~default.svc.cluster.local"

func resources(cluster string, route *routev3.RouteConfiguration) xdstest.Resources {
	r := xdstest.Resources{
		Listeners: []types.Resource{xdstest.HTTPListener(80)},
		Routes:    []types.Resource{route},
	}
	r.Add(xdstest.Service(cluster, "127.0.0.1:9"))
	return r
}

func okRoute(cluster string) *routev3.RouteConfiguration {
	return xdstest.RouteConfig("80", xdstest.VirtualHost("flaskapp", 80, xdstest.PrefixRoute("default", "/", xdstest.ToCluster(cluster))))
}

type recorder struct {
	mu     sync.Mutex
	states []*State
	ch     chan struct{}
}

func (r *recorder) update(s *State) error {
	r.mu.Lock()
	r.states = append(r.states, s)
	r.mu.Unlock()
	select {
	case r.ch <- struct{}{}:
	default:
	}
	return nil
}

func (r *recorder) last() *State {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.states) == 0 {
		return nil
	}
	return r.states[len(r.states)-1]
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestClientACKNACKReconnect(t *testing.T) {
	srv := xdstest.NewServer(t, "")
	srv.Set(t, node, resources("outbound|80||flaskapp", okRoute("outbound|80||flaskapp")))

	rec := &recorder{ch: make(chan struct{}, 1)}
	c := New(Config{Addr: srv.Addr, Node: &corev3.Node{Id: node}, OnUpdate: rec.update,
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

	// An unsupported field: NACK naming it, last good route keeps serving.
	bad := okRoute("outbound|80||flaskapp")
	bad.VirtualHosts[0].Routes[0].GetRoute().Cors = &routev3.CorsPolicy{}
	srv.Set(t, node, resources("outbound|80||flaskapp", bad))
	waitFor(t, "NACK", func() bool { n, _ := srv.NACKCount(xdsresource.RouteType); return n > 0 })
	_, msg := srv.NACKCount(xdsresource.RouteType)
	if !strings.Contains(msg, "virtual_hosts[0].routes[0].route.cors") {
		t.Fatalf("NACK message %q does not name the field", msg)
	}
	if got := c.State().Routes["80"]; got != s.Routes["80"] {
		t.Fatal("NACKed route replaced the last good one")
	}
	st, _ := c.Status()
	if st[xdsresource.RouteType].NACKs == 0 || st[xdsresource.RouteType].LastNACK == "" {
		t.Fatalf("status = %+v", st[xdsresource.RouteType])
	}

	// A good update after the NACK is accepted, with a new cluster and its
	// endpoints followed by name.
	srv.Set(t, node, resources("outbound|80|v2|flaskapp", okRoute("outbound|80|v2|flaskapp")))
	waitFor(t, "new cluster endpoints", func() bool {
		s := c.State()
		return s.Endpoints["outbound|80|v2|flaskapp"] != nil && s.Routes["80"].VirtualHosts[0].Routes[0].Route.Clusters[0].Name == "outbound|80|v2|flaskapp"
	})
	if c.State().Endpoints["outbound|80||flaskapp"] != nil {
		t.Fatal("endpoints of a removed cluster are still there")
	}

	// The control plane goes away: state stays; it comes back: reconnect.
	addr := srv.Addr
	srv.Stop()
	waitFor(t, "disconnect", func() bool { _, up := c.Status(); return !up })
	if c.State().Routes["80"] == nil {
		t.Fatal("state lost when the control plane went away")
	}
	srv2 := xdstest.NewServer(t, addr)
	srv2.Set(t, node, resources("outbound|80|v3|flaskapp", okRoute("outbound|80|v3|flaskapp")))
	waitFor(t, "reconnect and update", func() bool { return c.State().Endpoints["outbound|80|v3|flaskapp"] != nil })
}

func TestBackoff(t *testing.T) {
	for n := 0; n < 20; n++ {
		d := backoff(100*time.Millisecond, time.Second, n)
		if d < 50*time.Millisecond || d > time.Second {
			t.Fatalf("backoff(%d) = %v", n, d)
		}
	}
}
