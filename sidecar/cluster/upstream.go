package cluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/weft-mesh/weft/sidecar/internal/bufpool"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

// Request is an upstream HTTP request as the proxy prepared it: hop-by-hop
// headers are gone, the path is rewritten.
type Request struct {
	Method string
	// Host is the Host header (:authority) to send.
	Host string
	// Path is the escaped path, Query the raw query.
	Path   string
	Query  string
	Header http.Header
	// Body is nil when the request has none.
	Body io.Reader
	// ContentLength is -1 when unknown (chunked).
	ContentLength int64
	// Trailer holds request trailers (HTTP/2 downstream, gRPC); may be nil.
	Trailer http.Header
	// HTTP2 says the downstream request was HTTP/2 (for
	// use_downstream_protocol_config).
	HTTP2 bool
	// Upgrade is "websocket" for an upgrade request.
	Upgrade string
}

// ConnectError is a failure to connect to the upstream (flag UF). The
// request was never sent, so it is always safe to retry.
type ConnectError struct{ Err error }

func (e *ConnectError) Error() string { return "upstream connect error: " + e.Err.Error() }
func (e *ConnectError) Unwrap() error { return e.Err }

// ResetError is a connection failure after the request was (maybe) sent
// (flag UR).
type ResetError struct{ Err error }

func (e *ResetError) Error() string { return "upstream reset: " + e.Err.Error() }
func (e *ResetError) Unwrap() error { return e.Err }

var aLongTimeAgo = time.Unix(1, 0)

// headRequest lets http.ReadResponse know a HEAD response has no body.
var headRequest = &http.Request{Method: http.MethodHead}

// RoundTrip sends req to host h of the cluster, enforcing the circuit
// breakers. The response body must be read to EOF or closed; that releases
// the connection and the circuit breaker slots. Errors: ErrOverflow,
// *ConnectError, *ResetError, or ctx.Err().
func (c *Cluster) RoundTrip(ctx context.Context, h *Host, req *Request) (*http.Response, error) {
	s := c.state
	if !s.acquireRequest() {
		return nil, ErrOverflow
	}
	h.RqActive.Add(1)
	h.RqTotal.Add(1)
	if req.Upgrade == "" && (c.Config.Protocol == xdsresource.UpstreamHTTP2 || (c.Config.Protocol == xdsresource.UpstreamDownstream && req.HTTP2)) {
		resp, err := c.roundTripH2(ctx, h, req)
		if err != nil {
			c.done(h, false)
			return nil, err
		}
		resp.Body = &h2Body{rc: resp.Body, c: c, h: h}
		return resp, nil
	}
	if err := s.acquireConn(ctx); err != nil {
		c.done(h, false)
		return nil, err
	}
	resp, err := c.roundTripH1(ctx, h, req)
	if err != nil {
		s.releaseConn()
		c.done(h, false)
		return nil, err
	}
	return resp, nil
}

// done releases what RoundTrip took for one request.
func (c *Cluster) done(h *Host, _ bool) {
	c.state.releaseRequest()
	h.RqActive.Add(-1)
}

// pconn is a pooled HTTP/1.1 upstream connection.
type pconn struct {
	conn      net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	host      *Host
	uses      uint32
	born      int64
	idleSince int64
	// head is scratch for reading response heads (readHead).
	head []byte
	// abort unblocks the connection's I/O (context.AfterFunc of a
	// request's context), made once per connection.
	abort func()
}

func (pc *pconn) close() {
	_ = pc.conn.Close()
	pc.host.CxActive.Add(-1)
	pc.host.cluster.open.Add(-1)
}

// getConn takes an idle connection to h, or dials one; fresh skips the
// idle ones.
func (c *Cluster) getConn(ctx context.Context, h *Host, fresh bool) (*pconn, bool, error) {
	now := nanotime()
	cfg := c.Config
	for !fresh {
		h.mu.Lock()
		n := len(h.idle)
		if n == 0 {
			h.mu.Unlock()
			break
		}
		pc := h.idle[n-1]
		h.idle[n-1] = nil
		h.idle = h.idle[:n-1]
		h.mu.Unlock()
		if (cfg.IdleTimeout > 0 && now-pc.idleSince > int64(cfg.IdleTimeout)) ||
			(cfg.MaxConnDuration > 0 && now-pc.born > int64(cfg.MaxConnDuration)) {
			pc.close()
			continue
		}
		return pc, true, nil
	}
	conn, err := c.dialer.DialContext(ctx, "tcp", h.Addr)
	if err != nil {
		h.CxFailed.Add(1)
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		return nil, false, &ConnectError{Err: err}
	}
	h.CxActive.Add(1)
	h.CxTotal.Add(1)
	c.state.open.Add(1)
	pc := &pconn{conn: conn, br: bufio.NewReaderSize(conn, 4096), bw: bufio.NewWriterSize(conn, 4096), host: h, born: now}
	pc.abort = func() { _ = conn.SetDeadline(aLongTimeAgo) }
	return pc, false, nil
}

func (c *Cluster) putConn(pc *pconn) {
	h := pc.host
	cfg := c.Config
	if (cfg.MaxRequestsPerConn > 0 && pc.uses >= cfg.MaxRequestsPerConn) ||
		c.state.open.Load() > int64(c.state.limits.Load().MaxConnections) {
		pc.close()
		return
	}
	pc.idleSince = nanotime()
	h.mu.Lock()
	if h.retired {
		h.mu.Unlock()
		pc.close()
		return
	}
	h.idle = append(h.idle, pc)
	h.mu.Unlock()
}

func (c *Cluster) roundTripH1(ctx context.Context, h *Host, req *Request) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		// The retry after a stale kept-alive connection dials: the other
		// idle ones are as old and may be as stale.
		pc, reused, err := c.getConn(ctx, h, attempt > 0)
		if err != nil {
			return nil, err
		}
		pc.uses++
		stop := context.AfterFunc(ctx, pc.abort)
		err = writeRequest(pc.bw, req, c.Config.MaxRequestsPerConn > 0 && pc.uses >= c.Config.MaxRequestsPerConn)
		var resp *http.Response
		var b *h1Body
		if err == nil {
			resp, b, err = pc.readResponse(req.Method)
		}
		if err != nil {
			stop()
			pc.close()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// A kept-alive connection the upstream closed while idle: the
			// request never reached it, so try once on a fresh connection.
			if reused && req.Body == nil && attempt == 0 && (errors.Is(err, io.EOF) || isConnReset(err)) {
				continue
			}
			return nil, &ResetError{Err: err}
		}
		if resp.StatusCode == http.StatusSwitchingProtocols {
			resp.Body = &UpgradedConn{pc: pc, c: c, stop: stop}
			return resp, nil
		}
		if b == nil {
			b = new(h1Body)
		}
		*b = h1Body{pc: pc, c: c, stop: stop, reusable: !resp.Close}
		b.fr.frame(pc.br, resp, req.Method)
		resp.Body = b
		return resp, nil
	}
}

func isConnReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !op.Timeout()
}

// writeRequest writes req in HTTP/1.1 form. It allocates nothing beyond the
// connection's buffer.
func writeRequest(w *bufio.Writer, req *Request, closeConn bool) error {
	w.WriteString(req.Method)
	w.WriteByte(' ')
	if req.Path == "" {
		w.WriteByte('/')
	} else {
		w.WriteString(req.Path)
	}
	if req.Query != "" {
		w.WriteByte('?')
		w.WriteString(req.Query)
	}
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(req.Host)
	w.WriteString("\r\n")
	for k, vs := range req.Header {
		for _, v := range vs {
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	chunked := false
	switch {
	case req.Body == nil:
		if req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch {
			w.WriteString("Content-Length: 0\r\n")
		}
	case req.ContentLength >= 0:
		var num [20]byte
		w.WriteString("Content-Length: ")
		w.Write(strconv.AppendInt(num[:0], req.ContentLength, 10))
		w.WriteString("\r\n")
	default:
		chunked = true
		w.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if req.Upgrade != "" {
		w.WriteString("Connection: Upgrade\r\nUpgrade: ")
		w.WriteString(req.Upgrade)
		w.WriteString("\r\n")
	} else if closeConn {
		w.WriteString("Connection: close\r\n")
	}
	if _, err := w.WriteString("\r\n"); err != nil {
		return err
	}
	if req.Body != nil {
		if err := writeBody(w, req, chunked); err != nil {
			return err
		}
	}
	return w.Flush()
}

func writeBody(w *bufio.Writer, req *Request, chunked bool) error {
	if !chunked {
		n, _, err := bufpool.Copy(writerOnly{w}, io.LimitReader(req.Body, req.ContentLength), nil)
		if err != nil {
			return err
		}
		if n != req.ContentLength {
			return fmt.Errorf("request body: %d bytes of %d: %w", n, req.ContentLength, io.ErrUnexpectedEOF)
		}
		return nil
	}
	bp := bufpool.Get()
	defer bufpool.Put(bp)
	buf := *bp
	var num [16]byte
	for {
		n, err := req.Body.Read(buf)
		if n > 0 {
			w.Write(strconv.AppendInt(num[:0], int64(n), 16))
			w.WriteString("\r\n")
			w.Write(buf[:n])
			if _, werr := w.WriteString("\r\n"); werr != nil {
				return werr
			}
			if werr := w.Flush(); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	w.WriteString("0\r\n")
	for k, vs := range req.Trailer {
		for _, v := range vs {
			w.WriteString(k)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteString("\r\n")
		}
	}
	_, err := w.WriteString("\r\n")
	return err
}

type writerOnly struct{ io.Writer }

// readResponse reads the head of the next response other than an interim
// one (1xx but 101); the caller frames the body.
func (pc *pconn) readResponse(method string) (*http.Response, *h1Body, error) {
	for {
		head, err := readHead(pc.br, pc.head)
		if cap(head) <= 4096 {
			pc.head = head[:0]
		}
		if err != nil {
			return nil, nil, err
		}
		resp, body, err := parseResponse(head, method)
		if err != nil {
			return nil, nil, err
		}
		// Skip interim responses other than 101.
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		return resp, body, nil
	}
}

// h1Body releases the connection and circuit breaker slots when the
// response is done: to the pool after a clean EOF, closed otherwise.
type h1Body struct {
	fr       frameReader
	pc       *pconn
	c        *Cluster
	stop     func() bool
	reusable bool
	done     bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.fr.Read(p)
	if err == io.EOF {
		b.finish(true)
	} else if err != nil {
		b.finish(false)
	}
	return n, err
}

func (b *h1Body) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

func (b *h1Body) finish(eof bool) {
	b.done = true
	stopped := b.stop()
	if eof && stopped && b.reusable && b.pc.br.Buffered() == 0 {
		b.c.putConn(b.pc)
	} else {
		b.pc.close()
	}
	b.c.state.releaseConn()
	b.c.done(b.pc.host, eof)
}

// UpgradedConn is the body of a 101 response: the raw upstream connection,
// readable and writable. Close releases it.
type UpgradedConn struct {
	pc   *pconn
	c    *Cluster
	stop func() bool
	done bool
}

func (u *UpgradedConn) Read(p []byte) (int, error)  { return u.pc.br.Read(p) }
func (u *UpgradedConn) Write(p []byte) (int, error) { return u.pc.conn.Write(p) }

// CloseWrite half-closes the upstream connection when it is TCP.
func (u *UpgradedConn) CloseWrite() error {
	if cw, ok := u.pc.conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close closes the upstream connection and releases its slots.
func (u *UpgradedConn) Close() error {
	if u.done {
		return nil
	}
	u.done = true
	u.stop()
	u.pc.close()
	u.c.state.releaseConn()
	u.c.done(u.pc.host, true)
	return nil
}

// h2Body releases the request slot when the HTTP/2 response is done.
type h2Body struct {
	rc   io.ReadCloser
	c    *Cluster
	h    *Host
	done bool
}

func (b *h2Body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && !b.done {
		b.done = true
		b.c.done(b.h, err == io.EOF)
	}
	return n, err
}

func (b *h2Body) Close() error {
	err := b.rc.Close()
	if !b.done {
		b.done = true
		b.c.done(b.h, false)
	}
	return err
}

func (c *Cluster) roundTripH2(ctx context.Context, h *Host, req *Request) (*http.Response, error) {
	hr := &http.Request{
		Method:        req.Method,
		URL:           &url.URL{Scheme: "http", Host: h.Addr, Opaque: pathOrSlash(req.Path), RawQuery: req.Query},
		Host:          req.Host,
		Header:        req.Header,
		ContentLength: req.ContentLength,
		Trailer:       req.Trailer,
		Proto:         "HTTP/2.0",
		ProtoMajor:    2,
	}
	if req.Body != nil {
		hr.Body = io.NopCloser(req.Body)
	}
	hr = hr.WithContext(ctx)
	resp, err := c.state.h2Transport(c).RoundTrip(hr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			h.CxFailed.Add(1)
			return nil, &ConnectError{Err: err}
		}
		return nil, &ResetError{Err: err}
	}
	return resp, nil
}

func pathOrSlash(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// DialTCP connects to h for a TCP proxy connection. The connection counts
// against max_connections (ErrOverflow when full; TCP has no pending queue)
// and releases its slot on Close.
func (c *Cluster) DialTCP(ctx context.Context, h *Host) (net.Conn, error) {
	s := c.state
	lim := s.limits.Load()
	s.mu.Lock()
	if s.busy >= int(lim.MaxConnections) {
		s.mu.Unlock()
		s.OverflowPending.Add(1)
		return nil, ErrOverflow
	}
	s.busy++
	s.mu.Unlock()
	conn, err := c.dialer.DialContext(ctx, "tcp", h.Addr)
	if err != nil {
		s.releaseConn()
		h.CxFailed.Add(1)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &ConnectError{Err: err}
	}
	h.CxActive.Add(1)
	h.CxTotal.Add(1)
	s.open.Add(1)
	return &tcpConn{Conn: conn, c: c, h: h}, nil
}

type tcpConn struct {
	net.Conn
	c    *Cluster
	h    *Host
	once sync.Once
}

func (t *tcpConn) Close() error {
	err := t.Conn.Close()
	t.once.Do(func() {
		t.h.CxActive.Add(-1)
		t.c.state.open.Add(-1)
		t.c.state.releaseConn()
	})
	return err
}

// CloseWrite half-closes the connection.
func (t *tcpConn) CloseWrite() error {
	if cw, ok := t.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
