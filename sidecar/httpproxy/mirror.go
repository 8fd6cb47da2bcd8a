package httpproxy

import (
	"bytes"
	"context"
	"net"
	"time"

	"github.com/weft-mesh/weft/sidecar/cluster"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

// mirror sends sampled copies of the request to the mirror clusters. The
// copies go out with "-shadow" appended to the host, their responses are
// dropped, they never delay or fail the primary request, and at most
// MaxMirrors run at once (extra copies are skipped).
func (x *exchange) mirror(ra *xdsresource.RouteAction) {
	for i := range ra.Mirrors {
		m := &ra.Mirrors[i]
		if !hit(m.PerMillion) {
			continue
		}
		cl := x.snap.Clusters[m.Cluster]
		if cl == nil {
			continue
		}
		if x.ureq.Body != nil && x.body == nil {
			continue // a streamed body cannot be sent twice
		}
		select {
		case x.p.mirrors <- struct{}{}:
		default:
			continue
		}
		req := x.ureq
		req.Header = x.ureq.Header.Clone()
		req.Host = shadowHost(x.ureq.Host)
		if x.body != nil {
			req.Body = bytes.NewReader(bytes.Clone(x.body))
		}
		timeout := ra.Timeout
		if timeout == 0 {
			timeout = xdsresource.DefaultRouteTimeout
		}
		x.p.mirrorWG.Add(1)
		go x.p.sendMirror(cl, &req, timeout)
	}
}

func (p *Proxy) sendMirror(cl *cluster.Cluster, req *cluster.Request, timeout time.Duration) {
	defer p.mirrorWG.Done()
	defer func() { <-p.mirrors }()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ep := cl.Pick(0, false, 0)
	if ep == nil {
		return
	}
	resp, err := cl.RoundTrip(ctx, ep.Host, req)
	if err != nil {
		return
	}
	ep.Host.Record(cluster.ClassifyStatus(resp.StatusCode))
	drain(resp.Body)
}

// shadowHost appends "-shadow" to the host part of an authority, as Envoy
// does: "flaskapp:80" → "flaskapp-shadow:80".
func shadowHost(authority string) string {
	if h, p, err := net.SplitHostPort(authority); err == nil {
		return net.JoinHostPort(h+"-shadow", p)
	}
	return authority + "-shadow"
}
