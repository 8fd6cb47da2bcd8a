// Package tcpproxy is weft-proxy's L4 path (Envoy's tcp_proxy filter):
// it picks a weighted cluster and an endpoint (or the original destination
// for ORIGINAL_DST clusters), connects within the cluster's circuit
// breakers and connect attempts, and copies bytes both ways with an idle
// timeout, then writes the access log and Istio's TCP metrics.
package tcpproxy

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"sync/atomic"
	"time"

	"github.com/weft-mesh/weft/sidecar/accesslog"
	"github.com/weft-mesh/weft/sidecar/cluster"
	"github.com/weft-mesh/weft/sidecar/dataplane"
	"github.com/weft-mesh/weft/sidecar/internal/bufpool"
	"github.com/weft-mesh/weft/sidecar/metrics"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

// Proxy forwards TCP connections.
type Proxy struct {
	Snapshots *dataplane.Holder
	Metrics   *metrics.Metrics
	AccessLog *accesslog.Logger
}

// Serve proxies conn until either side closes or the idle timeout passes.
// It closes conn.
func (p *Proxy) Serve(ctx context.Context, conn net.Conn, tp *xdsresource.TCPProxy, ci *dataplane.ConnInfo) {
	defer conn.Close()
	e := accesslog.Entry{Start: time.Now(), Protocol: "tcp", Downstream: conn.RemoteAddr().String(), Flags: "-"}
	if ci.Listener != nil {
		e.Listener = ci.Listener.Name
	}
	snap := p.Snapshots.Load()
	wc := pick(tp)
	e.UpstreamCluster = wc.Name
	cl := snap.Clusters[wc.Name]
	var ep *cluster.Endpoint
	var up net.Conn
	switch {
	case cl == nil:
		e.Flags = "NC"
	default:
		var err error
		for attempt := uint32(0); attempt < tp.MaxConnectAttempts; attempt++ {
			if cl.Config.Type == xdsresource.DiscoveryOriginalDst {
				ep = cl.OriginalDst(ci.OriginalDst)
			} else {
				ep = cl.Pick(0, false, uint64(attempt))
			}
			if ep == nil {
				e.Flags = "UH"
				break
			}
			e.UpstreamHost = ep.Host.Addr
			dctx, cancel := context.WithTimeout(ctx, cl.Config.ConnectTimeout)
			up, err = cl.DialTCP(dctx, ep.Host)
			cancel()
			if err == nil {
				e.Flags = "-"
				break
			}
			if errors.Is(err, cluster.ErrOverflow) {
				e.Flags = "UO"
				break
			}
			ep.Host.Record(cluster.ResultGateway)
			e.Flags = "UF"
		}
	}
	d := p.dest(ci, wc.Name, ep)
	if p.Metrics != nil {
		p.Metrics.TCPOpen(rep(ci), d)
	}
	if up != nil {
		ep.Host.Record(cluster.ResultSuccess)
		e.BytesReceived, e.BytesSent = splice(conn, up, tp.IdleTimeout)
		up.Close()
	}
	e.Duration = time.Since(e.Start)
	p.AccessLog.Log(&e)
	if p.Metrics != nil {
		p.Metrics.TCPClose(rep(ci), d, e.Flags, e.BytesSent, e.BytesReceived)
	}
}

func rep(ci *dataplane.ConnInfo) metrics.Reporter {
	if ci.Direction == dataplane.Inbound {
		return metrics.Destination
	}
	return metrics.Source
}

func (p *Proxy) dest(ci *dataplane.ConnInfo, cl string, ep *cluster.Endpoint) *metrics.Dest {
	if p.Metrics == nil {
		return nil
	}
	if ci.Direction == dataplane.Inbound {
		return p.Metrics.SelfDest(cl)
	}
	if ep != nil {
		return p.Metrics.Dest(cl, ep.Workload, ep.Namespace, ep.App, ep.Version)
	}
	return p.Metrics.Dest(cl, "", "", "", "")
}

func pick(tp *xdsresource.TCPProxy) *xdsresource.WeightedCluster {
	if len(tp.Clusters) == 1 {
		return &tp.Clusters[0]
	}
	n := rand.Uint32N(tp.TotalWeight)
	for i := range tp.Clusters {
		if n < tp.Clusters[i].Weight {
			return &tp.Clusters[i]
		}
		n -= tp.Clusters[i].Weight
	}
	return &tp.Clusters[len(tp.Clusters)-1]
}

// splice copies both ways until both directions end (half-closes are
// passed on) or nothing moves for idle. It returns bytes from the
// downstream and bytes to it.
func splice(down, up net.Conn, idle time.Duration) (received, sent int64) {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	done := make(chan struct{})
	if idle > 0 {
		go func() {
			t := time.NewTicker(min(idle/4+time.Millisecond, time.Second))
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case now := <-t.C:
					if now.UnixNano()-last.Load() > int64(idle) {
						down.Close()
						up.Close()
						return
					}
				}
			}
		}()
	}
	res := make(chan int64, 1)
	go func() {
		n := copyHalf(up, down, &last)
		res <- n
	}()
	sent = copyHalf(down, up, &last)
	received = <-res
	close(done)
	return received, sent
}

type touchWriter struct {
	w    io.Writer
	last *atomic.Int64
}

func (t touchWriter) Write(p []byte) (int, error) {
	t.last.Store(time.Now().UnixNano())
	return t.w.Write(p)
}

// copyHalf copies src to dst, then half-closes dst (or closes both when
// the copy failed).
func copyHalf(dst, src net.Conn, last *atomic.Int64) int64 {
	n, _, err := bufpool.Copy(touchWriter{dst, last}, src, nil)
	if cw, ok := dst.(interface{ CloseWrite() error }); ok && err == nil {
		_ = cw.CloseWrite()
	} else {
		dst.Close()
		src.Close()
	}
	return n
}
