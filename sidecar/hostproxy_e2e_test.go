package sidecar_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/weft-mesh/weft/sidecar/internal/xdstest"
)

// TestHostModeHTTPProxyListener: the translator's host-mode listener
// "<podIP>_<port>" with route configuration "http_proxy" is bound on the pod
// IP and routes by Host: absolute-form URLs (HTTP_PROXY clients) and origin
// form alike; an unknown host:port gets 404 NR (no allow_any in host mode);
// CONNECT matches no route either, so it gets 404 NR too.
func TestHostModeHTTPProxyListener(t *testing.T) {
	b := newBackend(t, "v1", nil)
	l := xdstest.GatewayListener("127.0.0.1_0", "127.0.0.1", 0, "http_proxy", "")
	res := xdstest.Resources{Listeners: []types.Resource{l}}
	res.Routes = append(res.Routes, xdstest.RouteConfig("http_proxy", vhost(xdstest.PrefixRoute("d", "/", xdstest.ToCluster(v1)))))
	res.Add(xdstest.Service(v1, b.addr()))
	e := start(t, res)
	waitFor(t, "http_proxy listener bound", func() bool { return e.proxy.Addr("127.0.0.1_0") != "" })
	addr := e.proxy.Addr("127.0.0.1_0")
	for _, tt := range []struct{ line, host, want string }{
		{"GET http://flaskapp/ HTTP/1.1", "flaskapp", "200"},
		{"GET http://flaskapp:80/x HTTP/1.1", "flaskapp:80", "200"},
		{"GET / HTTP/1.1", "flaskapp", "200"},
		{"GET http://unknown:8080/ HTTP/1.1", "unknown:8080", "404"},
		{"CONNECT flaskapp:80 HTTP/1.1", "flaskapp:80", "404"},
	} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "%s\r\nHost: %s\r\n\r\n", tt.line, tt.host)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err != nil || fmt.Sprint(resp.StatusCode) != tt.want {
			t.Errorf("%s: %v %v, want %s", tt.line, resp, err, tt.want)
		}
	}
}
