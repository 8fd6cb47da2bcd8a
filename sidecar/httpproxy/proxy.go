package httpproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/weft-mesh/weft/sidecar/accesslog"
	"github.com/weft-mesh/weft/sidecar/cluster"
	"github.com/weft-mesh/weft/sidecar/dataplane"
	"github.com/weft-mesh/weft/sidecar/internal/bufpool"
	"github.com/weft-mesh/weft/sidecar/metrics"
	"github.com/weft-mesh/weft/sidecar/router"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
	"go.uber.org/zap"
)

// Response flags, as in Envoy's access log.
const (
	FlagNoRoute          = "NR"
	FlagNoHealthy        = "UH"
	FlagOverflow         = "UO"
	FlagTimeout          = "UT"
	FlagConnectFailure   = "UF"
	FlagReset            = "UR"
	FlagConnTermination  = "UC"
	FlagStreamIdle       = "SI"
	FlagDelayInjected    = "DI"
	FlagFaultInjected    = "FI"
	FlagNoCluster        = "NC"
	FlagDownstreamCancel = "DC"
)

// Options configure a Proxy.
type Options struct {
	Snapshots *dataplane.Holder
	Metrics   *metrics.Metrics
	AccessLog *accesslog.Logger
	Logger    *zap.Logger
	// BodyBufferLimit bounds request bodies buffered for retries and
	// mirrors (default 1 MiB, Envoy's default buffer limit) when the
	// listener sets no per_connection_buffer_limit_bytes.
	BodyBufferLimit int64
	// MaxMirrors bounds concurrent mirrored requests (default 64).
	MaxMirrors int
}

// Proxy serves HTTP requests for listeners' connection managers.
type Proxy struct {
	snaps   *dataplane.Holder
	metrics *metrics.Metrics
	alog    *accesslog.Logger
	log     *zap.Logger
	limit   int64
	mirrors chan struct{}
	// mirrorWG tracks mirror goroutines (for tests and drain).
	mirrorWG sync.WaitGroup
}

// New returns a Proxy.
func New(o Options) *Proxy {
	if o.BodyBufferLimit == 0 {
		o.BodyBufferLimit = 1 << 20
	}
	if o.MaxMirrors == 0 {
		o.MaxMirrors = 64
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return &Proxy{snaps: o.Snapshots, metrics: o.Metrics, alog: o.AccessLog, log: o.Logger, limit: o.BodyBufferLimit,
		mirrors: make(chan struct{}, o.MaxMirrors)}
}

// WaitMirrors waits for in-flight mirrored requests.
func (p *Proxy) WaitMirrors() { p.mirrorWG.Wait() }

// exchange is the per-request state, pooled.
type exchange struct {
	p    *Proxy
	w    http.ResponseWriter
	r    *http.Request
	ci   *dataplane.ConnInfo
	hcm  *xdsresource.HTTPConnectionManager
	snap *dataplane.Snapshot
	// ctx is the stream's context: the request's, cancelled with a cause
	// when a connection manager timeout expires (watch).
	ctx      context.Context
	watch    *watch
	respBody activityReader
	entry    accesslog.Entry
	flags    [4]string
	nflag    int

	rt      *router.Route
	wc      *xdsresource.WeightedCluster
	cl      *cluster.Cluster
	ep      *cluster.Endpoint
	grpc    bool
	grpcSt  string
	reqBody countingReader
	body    []byte
	bodyBuf *[]byte
	reader  bytes.Reader
	ureq    cluster.Request
	prev    [8]*cluster.Host
	nprev   int
}

var exchanges = sync.Pool{New: func() any { return new(exchange) }}

// countingReader counts request body bytes read, touches the stream's
// watch, and disarms request_timeout at the end of the body.
type countingReader struct {
	r  io.Reader
	n  int64
	wt *watch
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if n > 0 {
		c.wt.touch()
	}
	if err == io.EOF {
		c.wt.readingBody(false)
		c.wt.requestDone()
	}
	return n, err
}

// Serve handles one request on a connection manager. The caller (the
// listener) found the connection's filter chain; ci describes the
// connection.
func (p *Proxy) Serve(w http.ResponseWriter, r *http.Request, ci *dataplane.ConnInfo, hcm *xdsresource.HTTPConnectionManager) {
	x := exchanges.Get().(*exchange)
	*x = exchange{p: p, w: w, r: r, ci: ci, hcm: hcm, snap: p.snaps.Load()}
	x.entry.Start = time.Now()
	ctx, cancel := context.WithCancelCause(r.Context())
	x.ctx = ctx
	x.watch = newWatch(w, cancel, hcm.StreamIdleTimeout, hcm.RequestTimeout)
	x.serve()
	x.watch.stop()
	x.watch = nil
	cancel(nil)
	x.finish()
	if x.bodyBuf != nil {
		bufpool.Put(x.bodyBuf)
	}
	*x = exchange{}
	exchanges.Put(x)
}

func (x *exchange) flag(f string) {
	if x.nflag < len(x.flags) {
		x.flags[x.nflag] = f
		x.nflag++
	}
}

func (x *exchange) flagString() string {
	switch x.nflag {
	case 0:
		return "-"
	case 1:
		return x.flags[0]
	}
	return strings.Join(x.flags[:x.nflag], ",")
}

func (x *exchange) serve() {
	r, hcm := x.r, x.hcm
	e := &x.entry
	e.Method, e.Authority, e.Protocol, e.Downstream = r.Method, r.Host, r.Proto, r.RemoteAddr
	e.Path = r.URL.Path
	if r.URL.RawQuery != "" || r.URL.RawPath != "" {
		e.Path = r.URL.RequestURI()
	}
	e.UserAgent = r.Header.Get("User-Agent")
	if l := x.ci.Listener; l != nil {
		e.Listener = l.Name
	}
	x.grpc = strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc")

	rid := r.Header.Get("X-Request-Id")
	if rid == "" && hcm.GenerateRequestID {
		rid = newRequestID()
		r.Header["X-Request-Id"] = []string{rid}
	}
	e.RequestID = rid

	tbl := x.snap.Table(hcm)
	if tbl == nil {
		x.flag(FlagNoRoute)
		x.local(http.StatusNotFound, "", nil)
		return
	}
	req := router.FromHTTP(r)
	if hcm.NormalizePath || hcm.MergeSlashes {
		if hcm.NormalizePath {
			req.Path = router.NormalizePath(req.Path, hcm.MergeSlashes)
		} else if strings.Contains(req.Path, "//") {
			req.Path = router.NormalizePath(req.Path, true)
		}
	}
	rt := tbl.Match(&req)
	if rt == nil {
		x.flag(FlagNoRoute)
		x.local(http.StatusNotFound, "", nil)
		return
	}
	x.rt = rt
	e.RouteName = rt.Name
	switch rt.Action {
	case xdsresource.ActionRedirect:
		x.w.Header()["Location"] = []string{router.RedirectLocation(rt, &req)}
		x.respondLocal(rt.Redirect.Code, "")
		return
	case xdsresource.ActionDirectResponse:
		router.ResponseHeaders(x.w.Header(), rt, nil)
		x.respondLocal(rt.DirectResponse.Status, rt.DirectResponse.Body)
		return
	}
	ra := rt.Route.Route

	// Fault injection (envoy.filters.http.fault): delay, then abort.
	if hcm.Fault {
		f := rt.Fault
		if f == nil {
			f = hcm.FaultDefault
		}
		if f != nil {
			if f.Delay > 0 && hit(f.DelayPerMillion) {
				x.flag(FlagDelayInjected)
				t := time.NewTimer(f.Delay)
				select {
				case <-t.C:
				case <-x.ctx.Done():
					t.Stop()
					x.localFor(x.ctxOutcome())
					return
				}
			}
			if (f.AbortStatus != 0 || f.AbortGRPC != nil) && hit(f.AbortPerMillion) {
				x.flag(FlagFaultInjected)
				if f.AbortGRPC != nil {
					x.grpcLocal(int(*f.AbortGRPC), "fault filter abort")
					return
				}
				x.local(f.AbortStatus, "fault filter abort", nil)
				return
			}
		}
	}

	x.wc = router.PickCluster(ra, rand.Uint64())
	x.cl = x.snap.Clusters[x.wc.Name]
	e.UpstreamCluster = x.wc.Name
	if x.cl == nil {
		x.flag(FlagNoCluster)
		x.local(ra.ClusterNotFoundCode, "", nil)
		return
	}

	// Timeout: the route's, bounded by grpc-timeout when configured.
	ctx := x.ctx
	timeout := ra.Timeout
	if ra.GRPCTimeoutHeaderMax != nil && x.grpc {
		if d, ok := parseGRPCTimeout(r.Header.Get("Grpc-Timeout")); ok {
			if max := *ra.GRPCTimeoutHeaderMax; max > 0 && d > max {
				d = max
			}
			timeout = d
		}
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}

	if upgrade := x.upgradeType(ra); upgrade != "" {
		// Upgraded streams are bound by the route's timeouts only.
		x.watch.stop()
		x.watch, x.reqBody.wt = nil, nil
		x.websocket(ctx, &req, upgrade)
		return
	}

	x.prepare(&req)
	if !x.readBody() {
		return
	}
	if len(ra.Mirrors) > 0 {
		x.mirror(ra)
	}
	x.forward(ctx, ra, &req)
}

func hit(perMillion uint32) bool {
	return perMillion >= 1e6 || (perMillion > 0 && rand.Uint32N(1e6) < perMillion)
}

// hopHeaders are removed before forwarding (RFC 9110 7.6.1), plus what the
// proxy itself consumes.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopHeaders(h http.Header) {
	if c := h["Connection"]; len(c) > 0 {
		for _, v := range c {
			for _, f := range strings.Split(v, ",") {
				if f = strings.TrimSpace(f); f != "" {
					delete(h, http.CanonicalHeaderKey(f))
				}
			}
		}
	}
	if len(h) > 2*len(hopHeaders) {
		for _, k := range hopHeaders {
			delete(h, k)
		}
		return
	}
	// Fewer headers than hop-by-hop names: one pass over the headers.
	for k := range h {
		if isHopHeader(k) {
			delete(h, k)
		}
	}
}

// isHopHeader reports whether k is one of hopHeaders.
func isHopHeader(k string) bool {
	switch k {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// prepare builds the upstream request in x.ureq from the downstream one.
func (x *exchange) prepare(req *router.Request) {
	r, rt, ra := x.r, x.rt, x.rt.Route.Route
	h := r.Header
	te := h["Te"]
	removeHopHeaders(h)
	if x.grpc || (len(te) > 0 && strings.Contains(te[0], "trailers")) {
		h["Te"] = []string{"trailers"}
	}
	if _, ok := h["X-Forwarded-Proto"]; !ok {
		h["X-Forwarded-Proto"] = oneValue(req.Scheme)
	}
	if x.hcm.UseRemoteAddress {
		if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			h["X-Forwarded-For"] = append(h["X-Forwarded-For"], ip)
		}
	}
	router.RequestHeaders(h, rt, x.wc)
	host := r.Host
	switch {
	case x.wc.HostRewrite != "":
		host = x.wc.HostRewrite
	case ra.HostRewrite != "":
		host = ra.HostRewrite
	}
	x.ureq = cluster.Request{
		Method: r.Method, Host: host, Path: router.RewritePath(rt, req.Path), Query: req.Query,
		Header: h, ContentLength: r.ContentLength, Trailer: r.Trailer, HTTP2: r.ProtoMajor == 2,
	}
	if x.ureq.Host != r.Host {
		h["X-Forwarded-Host"] = []string{r.Host}
	}
}

// readBody buffers small bodies so retries and mirrors can replay them;
// bigger or streamed bodies go through as they come.
func (x *exchange) readBody() bool {
	r := x.r
	if r.Body == nil || r.Body == http.NoBody || (r.ContentLength == 0 && r.ProtoMajor == 1 && len(r.TransferEncoding) == 0) {
		x.ureq.Body = nil
		x.ureq.ContentLength = 0
		x.watch.requestDone()
		return true
	}
	x.reqBody = countingReader{r: r.Body, wt: x.watch}
	x.watch.readingBody(true)
	limit := x.p.limit
	if l := x.ci.Listener; l != nil && l.BufferLimit > 0 {
		limit = l.BufferLimit
	}
	needReplay := x.rt.Retry != nil && x.rt.Retry.NumRetries > 0 || len(x.rt.Route.Route.Mirrors) > 0
	if !needReplay || r.ContentLength < 0 || r.ContentLength > limit {
		x.ureq.Body = &x.reqBody
		return true
	}
	n := int(r.ContentLength)
	var buf []byte
	if n <= bufpool.Size {
		x.bodyBuf = bufpool.Get()
		buf = (*x.bodyBuf)[:n]
	} else {
		buf = make([]byte, n)
	}
	if _, err := io.ReadFull(&x.reqBody, buf); err != nil {
		if out := x.ctxOutcome(); out != outCancelled && x.ctx.Err() != nil {
			x.localFor(out)
			return false
		}
		x.flag(FlagDownstreamCancel)
		x.entry.Code = 0
		return false
	}
	x.watch.requestDone()
	x.body = buf
	x.reader.Reset(buf)
	x.ureq.Body = &x.reader
	return true
}

// isIdempotent reports whether a method may be retried after it reached the
// upstream (RFC 9110 9.2.2).
func isIdempotent(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// attempt outcome kinds.
type outcome uint8

const (
	outResponse outcome = iota
	outConnectFail
	outReset
	outPerTryTimeout
	outTimeout
	outOverflow
	outCancelled
	outStreamIdle
	outRequestTimeout
	outConnTerminated
)

// ctxOutcome says why the stream's context (or one derived from it)
// ended: the downstream went away, a connection manager timeout, or else
// the route timeout.
func (x *exchange) ctxOutcome() outcome {
	// Our cause first: unblocking a body read cancels the request's
	// context too.
	switch context.Cause(x.ctx) {
	case errStreamIdle:
		return outStreamIdle
	case errRequestTimeout:
		return outRequestTimeout
	}
	switch {
	case x.r.Context().Err() != nil:
		return outCancelled
	case x.ctx.Err() == nil:
		return outTimeout
	}
	return outCancelled
}

func (x *exchange) forward(ctx context.Context, ra *xdsresource.RouteAction, req *router.Request) {
	rp := x.rt.Retry
	var hash router.HashResult
	if len(ra.HashPolicies) > 0 {
		hash = router.Hash(ra, req, x.r.RemoteAddr)
		if hash.SetCookie != nil {
			http.SetCookie(x.w, hash.SetCookie)
		}
	}
	vh := x.rt.VirtualHost
	retries := uint32(0)
	if rp != nil {
		retries = rp.NumRetries
	}
	var lastOut outcome
	for attempt := 1; ; attempt++ {
		x.entry.Attempts = attempt
		ep := x.pick(hash, rp, uint64(attempt))
		if ep == nil {
			// No endpoint left: at the first attempt, or for a retry of an
			// answer (drained, so there is none to pass on), 503 UH.
			if attempt == 1 || lastOut == outResponse {
				x.flag(FlagNoHealthy)
				x.local(http.StatusServiceUnavailable, "no healthy upstream", nil)
				return
			}
			x.localFor(lastOut)
			return
		}
		x.ep = ep
		x.entry.UpstreamHost = ep.Host.Addr
		if x.nprev < len(x.prev) {
			x.prev[x.nprev] = ep.Host
			x.nprev++
		}
		if ra.AutoHostRewrite && ep.Hostname != "" {
			x.ureq.Host = ep.Hostname
		}
		if vh.IncludeAttemptCount {
			x.ureq.Header["X-Envoy-Attempt-Count"] = attemptValue(attempt)
		}
		if attempt > 1 && x.body != nil {
			x.reader.Reset(x.body)
		}
		actx := ctx
		var cancel context.CancelFunc
		if rp != nil && rp.PerTryTimeout > 0 {
			actx, cancel = context.WithTimeout(ctx, rp.PerTryTimeout)
		}
		resp, err := x.cl.RoundTrip(actx, ep.Host, &x.ureq)
		out := outResponse
		switch {
		case err == nil:
		case errors.Is(err, cluster.ErrOverflow):
			out = outOverflow
		case ctx.Err() != nil:
			out = x.ctxOutcome()
		case actx.Err() != nil:
			out = outPerTryTimeout
		default:
			var ce *cluster.ConnectError
			switch {
			case errors.As(err, &ce):
				out = outConnectFail
			case connTerminated(err):
				out = outConnTerminated
			default:
				out = outReset
			}
		}
		// Outlier detection and host counters.
		switch out {
		case outResponse:
			ep.Host.Record(cluster.ClassifyStatus(resp.StatusCode))
		case outConnectFail, outReset, outConnTerminated, outPerTryTimeout:
			ep.Host.Record(cluster.ResultGateway)
			if out == outPerTryTimeout {
				ep.Host.RqTimeout.Add(1)
			}
		}
		retry := attempt <= int(retries) && x.retriable(rp, out, resp)
		if retry && !x.cl.AcquireRetry() {
			retry = false
		}
		if !retry {
			if out == outResponse {
				// Keep the per-try context alive while the body streams.
				x.respondWith(resp, cancel)
				return
			}
			if cancel != nil {
				cancel()
			}
			x.localFor(out)
			return
		}
		// Retry: drop this answer, back off, go again.
		if resp != nil {
			drain(resp.Body)
		}
		if cancel != nil {
			cancel()
		}
		lastOut = out
		backoff := retryBackoff(rp, attempt)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			x.cl.ReleaseRetry()
			x.localFor(x.ctxOutcome())
			return
		}
		x.cl.ReleaseRetry()
	}
}

// pick chooses an endpoint, avoiding hosts already tried when the route
// uses the previous_hosts predicate.
func (x *exchange) pick(hash router.HashResult, rp *xdsresource.RetryPolicy, attempt uint64) *cluster.Endpoint {
	if x.cl.Config.Type == xdsresource.DiscoveryOriginalDst {
		dst := x.ci.OriginalDst
		if x.cl.Config.UseHTTPHeader {
			if v := x.r.Header.Get(x.cl.Config.OriginalDstHeader); v != "" {
				dst = v
			}
		}
		if x.ci.HostProxy {
			dst = hostPort(x.r.Host)
		}
		if dst == "" {
			return nil
		}
		return x.cl.OriginalDst(dst)
	}
	ep := x.cl.Pick(hash.Hash, hash.OK, attempt)
	if ep == nil || rp == nil || !rp.PreviousHosts || x.nprev == 0 {
		return ep
	}
	tries := rp.HostSelectionMaxAttempts
	for i := int64(1); i <= tries && x.tried(ep.Host); i++ {
		if next := x.cl.Pick(hash.Hash, hash.OK, attempt*131+uint64(i)); next != nil {
			ep = next
		}
	}
	return ep
}

func hostPort(host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(host, "80")
}

func (x *exchange) tried(h *cluster.Host) bool {
	for i := 0; i < x.nprev; i++ {
		if x.prev[i] == h {
			return true
		}
	}
	return false
}

// retriable applies Envoy's retry_on conditions and the idempotency rule:
// a request that may have reached the upstream is retried only when its
// method is idempotent; one that never left (connect failure) always is.
func (x *exchange) retriable(rp *xdsresource.RetryPolicy, out outcome, resp *http.Response) bool {
	if rp == nil {
		return false
	}
	on := rp.On
	switch out {
	case outConnectFail:
		return on&(xdsresource.RetryConnectFailure|xdsresource.Retry5xx|xdsresource.RetryGatewayError|xdsresource.RetryReset) != 0 && x.bodyReplayable()
	case outReset, outConnTerminated:
		return on&(xdsresource.RetryReset|xdsresource.Retry5xx) != 0 && isIdempotent(x.r.Method) && x.bodyReplayable()
	case outPerTryTimeout:
		return on&(xdsresource.Retry5xx|xdsresource.RetryGatewayError|xdsresource.RetryReset) != 0 && isIdempotent(x.r.Method) && x.bodyReplayable()
	case outResponse:
	default:
		return false
	}
	if !isIdempotent(x.r.Method) || !x.bodyReplayable() {
		return false
	}
	code := resp.StatusCode
	switch {
	case on&xdsresource.Retry5xx != 0 && code >= 500:
		return true
	case on&xdsresource.RetryGatewayError != 0 && (code == 502 || code == 503 || code == 504):
		return true
	case on&xdsresource.RetryRetriable4xx != 0 && code == 409:
		return true
	case on&xdsresource.RetryRetriableStatusCodes != 0:
		for _, c := range rp.RetriableStatusCodes {
			if int(c) == code {
				return true
			}
		}
	}
	if on&(xdsresource.RetryGRPCCancelled|xdsresource.RetryGRPCDeadlineExceeded|xdsresource.RetryGRPCInternal|
		xdsresource.RetryGRPCResourceExhausted|xdsresource.RetryGRPCUnavailable) != 0 {
		if gs := resp.Header.Get("Grpc-Status"); gs != "" {
			switch gs {
			case "1":
				return on&xdsresource.RetryGRPCCancelled != 0
			case "4":
				return on&xdsresource.RetryGRPCDeadlineExceeded != 0
			case "13":
				return on&xdsresource.RetryGRPCInternal != 0
			case "8":
				return on&xdsresource.RetryGRPCResourceExhausted != 0
			case "14":
				return on&xdsresource.RetryGRPCUnavailable != 0
			}
		}
	}
	return false
}

// bodyReplayable: no body, a buffered body, or a streamed one not yet read.
func (x *exchange) bodyReplayable() bool {
	return x.ureq.Body == nil || x.body != nil || x.reqBody.n == 0
}

// retryBackoff is Envoy's fully jittered exponential back-off:
// uniform in [0, (2^(n)-1)*base], capped at max.
func retryBackoff(rp *xdsresource.RetryPolicy, attempt int) time.Duration {
	mult := int64(1)<<min(attempt, 30) - 1
	d := time.Duration(mult) * rp.BackOffBase
	if d > rp.BackOffMax || d <= 0 {
		d = rp.BackOffMax
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

func drain(b io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, b, 64<<10)
	_ = b.Close()
}

func (x *exchange) localFor(out outcome) {
	switch out {
	case outOverflow:
		x.flag(FlagOverflow)
		x.local(http.StatusServiceUnavailable, "upstream connect error or disconnect/reset before headers. reset reason: overflow",
			http.Header{"X-Envoy-Overloaded": {"true"}})
	case outTimeout:
		x.flag(FlagTimeout)
		if x.ep != nil {
			x.ep.Host.RqTimeout.Add(1)
		}
		x.local(http.StatusGatewayTimeout, "upstream request timeout", nil)
	case outPerTryTimeout:
		x.flag(FlagTimeout)
		x.local(http.StatusGatewayTimeout, "upstream request timeout", nil)
	case outConnectFail:
		x.flag(FlagConnectFailure)
		x.local(http.StatusServiceUnavailable, "upstream connect error or disconnect/reset before headers. reset reason: connection failure", nil)
	case outReset:
		x.flag(FlagReset)
		x.local(http.StatusServiceUnavailable, "upstream connect error or disconnect/reset before headers. reset reason: remote reset", nil)
	case outConnTerminated:
		x.flag(FlagConnTermination)
		x.local(http.StatusServiceUnavailable, "upstream connect error or disconnect/reset before headers. reset reason: connection termination", nil)
	case outStreamIdle:
		x.flag(FlagStreamIdle)
		x.local(http.StatusRequestTimeout, "stream timeout", nil)
	case outRequestTimeout:
		x.local(http.StatusRequestTimeout, "request timeout", nil)
	case outCancelled:
		x.flag(FlagDownstreamCancel)
		x.entry.Code = 0
	}
}

func (x *exchange) respond(resp *http.Response) { x.respondWith(resp, nil) }

// respondWith streams the upstream response downstream.
func (x *exchange) respondWith(resp *http.Response, cancel context.CancelFunc) {
	if cancel != nil {
		defer cancel()
	}
	defer resp.Body.Close()
	h := x.w.Header()
	removeHopHeaders(resp.Header)
	for k, v := range resp.Header {
		h[k] = v
	}
	x.responseHeaders(h)
	if x.vhIncludeAttemptResp() {
		h["X-Envoy-Attempt-Count"] = attemptValue(x.entry.Attempts)
	}
	if x.grpc {
		x.grpcSt = resp.Header.Get("Grpc-Status")
	}
	x.entry.Code = resp.StatusCode
	x.watch.requestDone()
	x.w.WriteHeader(resp.StatusCode)
	x.watch.touch()
	var fl bufpool.Flusher
	if resp.ContentLength < 0 || x.grpc {
		if f, ok := x.w.(http.Flusher); ok {
			fl = f
			f.Flush()
		}
	}
	var body io.Reader = resp.Body
	if x.watch != nil {
		x.respBody = activityReader{r: resp.Body, wt: x.watch}
		body = &x.respBody
	}
	n, readErr, err := bufpool.Copy(x.w, body, fl)
	x.entry.BytesSent = n
	if err != nil {
		if readErr {
			// The upstream ended mid-body, or a timeout did: reset
			// downstream too, with the flag saying which.
			switch out := x.ctxOutcome(); {
			case out == outCancelled && x.r.Context().Err() != nil:
				x.flag(FlagDownstreamCancel)
			case out == outStreamIdle:
				x.flag(FlagStreamIdle)
			case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
				x.flag(FlagReset)
				x.flag(FlagTimeout)
			case connTerminated(err):
				x.flag(FlagConnTermination)
			default:
				x.flag(FlagReset)
			}
		} else {
			x.flag(FlagDownstreamCancel)
		}
		x.finish()
		x.entry.Code = -1 // logged already
		panic(http.ErrAbortHandler)
	}
	for k, v := range resp.Trailer {
		h[http.TrailerPrefix+k] = v
		if k == "Grpc-Status" && x.grpc {
			x.grpcSt = v[0]
		}
	}
}

func (x *exchange) vhIncludeAttemptResp() bool {
	return x.rt != nil && x.rt.VirtualHost.IncludeAttemptCountResp
}

// responseHeaders applies the route's response header mutations and the
// server header policy.
func (x *exchange) responseHeaders(h http.Header) {
	if x.rt != nil && x.rt.HasResponseHeaderOps() || (x.wc != nil && len(x.wc.ResponseHeadersToAdd)+len(x.wc.ResponseHeadersToRemove) > 0) {
		router.ResponseHeaders(h, x.rt, x.wc)
	}
	if x.hcm.ServerName != "" {
		h["Server"] = oneValue(x.hcm.ServerName)
	}
}

// Header values the proxy sets on most requests, shared: a header value
// slice is never written in place (appending to one of capacity 1 copies).
var (
	valueHTTP       = []string{"http"}[:1:1]
	valueHTTPS      = []string{"https"}[:1:1]
	valueEnvoy      = []string{"envoy"}[:1:1]
	valueIstioEnvoy = []string{"istio-envoy"}[:1:1]
	// attemptValues[n] is X-Envoy-Attempt-Count n.
	attemptValues = func() (v [8][]string) {
		for n := range v {
			v[n] = []string{strconv.Itoa(n)}[:1:1]
		}
		return v
	}()
)

// attemptValue is the X-Envoy-Attempt-Count value for attempt n.
func attemptValue(n int) []string {
	if n >= 0 && n < len(attemptValues) {
		return attemptValues[n]
	}
	return []string{strconv.Itoa(n)}
}

// oneValue returns a header value slice holding v, shared for the common
// values.
func oneValue(v string) []string {
	switch v {
	case "http":
		return valueHTTP
	case "https":
		return valueHTTPS
	case "envoy":
		return valueEnvoy
	case "istio-envoy":
		return valueIstioEnvoy
	}
	return []string{v}
}

// local sends a proxy-generated response (Envoy's local reply).
func (x *exchange) local(code int, body string, extra http.Header) {
	if x.grpc {
		x.grpcLocal(httpToGRPC(code), body)
		for k, v := range extra {
			x.w.Header()[k] = v
		}
		return
	}
	h := x.w.Header()
	for k, v := range extra {
		h[k] = v
	}
	x.respondLocal(code, body)
}

func (x *exchange) respondLocal(code int, body string) {
	h := x.w.Header()
	if x.hcm.ServerName != "" {
		h["Server"] = oneValue(x.hcm.ServerName)
	}
	if body != "" {
		h["Content-Type"] = []string{"text/plain"}
	}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	x.entry.Code = code
	x.watch.requestDone()
	x.w.WriteHeader(code)
	if body != "" {
		n, _ := io.WriteString(x.w, body)
		x.entry.BytesSent = int64(n)
	}
}

// grpcLocal answers a gRPC request with a trailers-only response.
func (x *exchange) grpcLocal(status int, msg string) {
	h := x.w.Header()
	h["Content-Type"] = []string{"application/grpc"}
	h["Grpc-Status"] = []string{strconv.Itoa(status)}
	if msg != "" {
		h["Grpc-Message"] = []string{msg}
	}
	x.grpcSt = strconv.Itoa(status)
	x.entry.Code = http.StatusOK
	x.w.WriteHeader(http.StatusOK)
}

// httpToGRPC is Envoy's HTTP → gRPC status mapping for local replies.
func httpToGRPC(code int) int {
	switch code {
	case 400:
		return 13
	case 401:
		return 16
	case 403:
		return 7
	case 404:
		return 12
	case 429, 502, 503, 504:
		return 14
	}
	return 2
}

// finish writes the access log line and the metrics, once.
func (x *exchange) finish() {
	e := &x.entry
	if e.Code == -1 {
		return
	}
	e.Duration = time.Since(e.Start)
	e.Flags = x.flagString()
	e.BytesReceived = x.reqBody.n
	x.p.alog.Log(e)
	if m := x.p.metrics; m != nil {
		rep := metrics.Source
		var d *metrics.Dest
		if x.ci.Direction == dataplane.Inbound {
			rep = metrics.Destination
			d = m.SelfDest(e.UpstreamCluster)
		} else if x.ep != nil {
			d = m.Dest(e.UpstreamCluster, x.ep.Workload, x.ep.Namespace, x.ep.App, x.ep.Version)
		} else {
			d = m.Dest(e.UpstreamCluster, "", "", "", "")
		}
		proto := "http"
		if x.grpc {
			proto = "grpc"
		}
		m.Request(rep, d, proto, e.Code, x.grpcSt, e.Flags, float64(e.Duration.Microseconds())/1000, e.BytesReceived, e.BytesSent)
	}
}

// parseGRPCTimeout parses a grpc-timeout header value ("100m", "5S").
func parseGRPCTimeout(v string) (time.Duration, bool) {
	if len(v) < 2 || len(v) > 9 {
		return 0, false
	}
	n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	var unit time.Duration
	switch v[len(v)-1] {
	case 'H':
		unit = time.Hour
	case 'M':
		unit = time.Minute
	case 'S':
		unit = time.Second
	case 'm':
		unit = time.Millisecond
	case 'u':
		unit = time.Microsecond
	case 'n':
		unit = time.Nanosecond
	default:
		return 0, false
	}
	if n > int64(math.MaxInt64/unit) {
		return math.MaxInt64, true
	}
	return time.Duration(n) * unit, true
}

const hexDigits = "0123456789abcdef"

// newRequestID returns a random UUID v4.
func newRequestID() string {
	var b [36]byte
	a, c := rand.Uint64(), rand.Uint64()
	a = a&^(0xf<<12) | 4<<12   // version 4
	c = c&^(0x3<<62) | 0x2<<62 // variant 10
	var raw [16]byte
	for i := 0; i < 8; i++ {
		raw[i] = byte(a >> (56 - 8*i))
		raw[8+i] = byte(c >> (56 - 8*i))
	}
	j := 0
	for i, v := range raw {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[v>>4], hexDigits[v&0xf]
		j += 2
	}
	return string(b[:])
}
