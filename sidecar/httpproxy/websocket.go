package httpproxy

import (
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/weft-mesh/weft/sidecar/cluster"
	"github.com/weft-mesh/weft/sidecar/internal/bufpool"
	"github.com/weft-mesh/weft/sidecar/router"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

// upgradeType returns "websocket" for an allowed WebSocket upgrade request
// and "" for an ordinary request. A disallowed upgrade is answered 403, as
// Envoy does, and returns "-".
func (x *exchange) upgradeType(ra *xdsresource.RouteAction) string {
	r := x.r
	if r.ProtoMajor != 1 || !hasToken(r.Header["Connection"], "upgrade") || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return ""
	}
	on := x.hcm.WebSocket
	if ra.WebSocket != nil {
		on = *ra.WebSocket
	}
	if !on {
		x.local(http.StatusForbidden, "upgrade not allowed", nil)
		return "-"
	}
	return "websocket"
}

func hasToken(values []string, token string) bool {
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), token) {
				return true
			}
		}
	}
	return false
}

// websocket forwards an upgrade request and, on 101, splices the two
// connections until either side closes.
func (x *exchange) websocket(_ context.Context, req *router.Request, upgrade string) {
	if upgrade == "-" {
		return
	}
	x.prepare(req)
	x.ureq.Upgrade = upgrade
	x.ureq.Body, x.ureq.ContentLength = nil, 0
	ep := x.pick(router.HashResult{}, nil, 1)
	if ep == nil {
		x.flag(FlagNoHealthy)
		x.local(http.StatusServiceUnavailable, "no healthy upstream", nil)
		return
	}
	x.ep = ep
	x.entry.UpstreamHost = ep.Host.Addr
	x.entry.Attempts = 1
	// The tunnel lives as long as the downstream request, not the route
	// timeout.
	resp, err := x.cl.RoundTrip(x.r.Context(), ep.Host, &x.ureq)
	if err != nil {
		ep.Host.Record(cluster.ResultGateway)
		var ce *cluster.ConnectError
		switch {
		case err == cluster.ErrOverflow:
			x.localFor(outOverflow)
		case asConnect(err, &ce):
			x.localFor(outConnectFail)
		default:
			x.localFor(outReset)
		}
		return
	}
	ep.Host.Record(cluster.ResultSuccess)
	up, ok := resp.Body.(*cluster.UpgradedConn)
	if !ok {
		x.respond(resp)
		return
	}
	defer up.Close()
	hj, ok := x.w.(http.Hijacker)
	if !ok {
		x.local(http.StatusInternalServerError, "connection cannot be upgraded", nil)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		x.flag(FlagDownstreamCancel)
		return
	}
	defer conn.Close()
	x.entry.Code = http.StatusSwitchingProtocols
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	_ = resp.Header.Write(brw)
	brw.WriteString("\r\n")
	if err := brw.Flush(); err != nil {
		return
	}
	done := make(chan int64, 1)
	go func() {
		n, _, _ := bufpool.Copy(up, brw.Reader, nil)
		_ = up.CloseWrite()
		done <- n
	}()
	n, _, _ := bufpool.Copy(conn, up, nil)
	x.entry.BytesSent = n
	// The upstream is done: close the downstream so the other direction ends.
	_ = conn.Close()
	x.reqBody.n = <-done
}

func asConnect(err error, target **cluster.ConnectError) bool {
	ce, ok := err.(*cluster.ConnectError)
	if ok {
		*target = ce
	}
	return ok
}

var _ io.ReadWriteCloser = (*cluster.UpgradedConn)(nil)
