package sidecar_test

import (
	"net/http"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"github.com/weft-mesh/weft/sidecar"
	"github.com/weft-mesh/weft/sidecar/internal/xdstest"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

// TestDeltaXDS runs the proxy on incremental ADS against go-control-plane's
// delta server: the config applies, a NACK keeps the last good route,
// changes and removals apply, and it keeps serving without the control
// plane.
func TestDeltaXDS(t *testing.T) {
	b1, b2 := newBackend(t, "v1", nil), newBackend(t, "v2", nil)
	cfg := func(cluster string) xdstest.Resources {
		return withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("d", "/", xdstest.ToCluster(cluster)))),
			xdstest.Service(v1, b1.addr()), xdstest.Service(v2, b2.addr()))
	}
	e := startWith(t, cfg(v1), func(c *sidecar.Config) { c.XDSDelta = true })
	if _, body := e.get("flaskapp", "/", nil); body != "v1" {
		t.Fatalf("got %q", body)
	}
	if len(e.xds.DeltaRequests()) == 0 {
		t.Fatal("the proxy did not speak delta xDS")
	}

	bad := cfg(v2)
	bad.Routes[0].(*routev3.RouteConfiguration).VirtualHosts[0].Routes[0].GetRoute().Cors = &routev3.CorsPolicy{}
	e.xds.Set(t, nodeID, bad)
	waitFor(t, "RDS NACK", func() bool { n, _ := e.xds.NACKCount(xdsresource.RouteType); return n > 0 })
	if _, body := e.get("flaskapp", "/", nil); body != "v1" {
		t.Fatalf("after NACK got %q, want the last good route (v1)", body)
	}

	// v2 only: the route moves, v1's cluster is removed.
	only := withRoute(base(), xdstest.RouteConfig("80", vhost(xdstest.PrefixRoute("d", "/", xdstest.ToCluster(v2)))), xdstest.Service(v2, b2.addr()))
	e.xds.Set(t, nodeID, only)
	waitFor(t, "new route", func() bool { _, body := e.get("flaskapp", "/", nil); return body == "v2" })
	waitFor(t, "v1 removed", func() bool { return e.proxy.Snapshot().Clusters[v1] == nil })
	if _, clusters := e.admin("/clusters"); strings.Contains(clusters, v1) {
		t.Fatalf("/clusters still lists the removed cluster:\n%s", clusters)
	}

	e.xds.Stop()
	waitFor(t, "disconnect", func() bool { _, up := e.proxy.XDS().Status(); return !up })
	if resp, body := e.get("flaskapp", "/", nil); resp.StatusCode != http.StatusOK || body != "v2" {
		t.Fatalf("without the control plane: %d %q", resp.StatusCode, body)
	}
}
