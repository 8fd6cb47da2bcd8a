package h1server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Server serves HTTP/1.1 connections handed to ServeConn, and hands each
// connection it does not take to Fallback.
type Server struct {
	// Handler serves requests.
	Handler http.Handler
	// Fallback takes over a connection the server declines, with replay
	// the bytes already read from it (to be read first). It is called on
	// ServeConn's goroutine; ServeConn returns when it does.
	Fallback func(c net.Conn, replay []byte)
	// ReadHeaderTimeout bounds the reading of a request head, from its
	// first byte (from the start of the connection for the first
	// request). Zero means none.
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes a keep-alive connection with no request for that
	// long. Zero means none.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request head; bigger heads (and any head
	// over the reader's 4 KiB) go to Fallback, which answers 431 as
	// net/http does.
	MaxHeaderBytes int
	// ConnContext returns the context of a connection's requests, derived
	// from ctx.
	ConnContext func(ctx context.Context, c net.Conn) context.Context
	// ErrorLog logs handler panics; nil means the log package's logger.
	ErrorLog *log.Logger

	noKeepAlives atomic.Bool
	inShutdown   atomic.Bool
	mu           sync.Mutex
	conns        map[*conn]struct{}
}

// bufSize is the size of a connection's reader and writer.
const bufSize = 4 << 10

var (
	readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, bufSize) }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, bufSize) }}
)

// aLongTimeAgo is a read deadline in the past: it wakes a pending read.
var aLongTimeAgo = time.Unix(1, 0)

// Connection states, for Shutdown.
const (
	stateNew int32 = iota
	stateActive
	stateIdle
)

// watchDelay is how long a request runs, its body read, before a
// background read starts watching for the client going away (which
// cancels the request's context). net/http starts one for every request;
// most requests are answered well within watchDelay, and so never pay for
// it.
const watchDelay = 20 * time.Millisecond

// Background read states.
const (
	watchOff     = iota
	watchArmed   // the timer runs
	watchReading // bgRead is reading
)

// conn is one connection, served by one goroutine (serve) that reads
// request heads and runs the handler.
type conn struct {
	s      *Server
	rwc    net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	ctx    context.Context
	cancel context.CancelFunc
	remote string
	state  atomic.Int32
	since  int64 // unix seconds of the connection's start

	tmpl       *http.Request // carries ctx; copied into req
	req        *http.Request
	url        url.URL
	reqHeader  http.Header
	respHeader http.Header
	strs       [16]string // header value slots, reused
	body       body
	w          response
	lastPOST   bool

	// The background read (see watchDelay): cr is the bufio reader's
	// source, which returns the byte bgRead read first.
	cr       connReader
	watchT   *time.Timer
	watchMu  sync.Mutex
	watchSt  int
	aborting bool
	watchEnd *sync.Cond

	keys     []string
	clBuf    [20]byte
	sniffBuf [512]byte
}

// SetKeepAlivesEnabled(false) makes every response close its connection
// and closes idle connections, as http.Server's does.
func (s *Server) SetKeepAlivesEnabled(v bool) {
	s.noKeepAlives.Store(!v)
	if !v {
		s.closeIdle()
	}
}

// ServeConn serves c until it closes or is handed to Fallback.
func (s *Server) ServeConn(rwc net.Conn) {
	c := &conn{s: s, rwc: rwc, since: time.Now().Unix()}
	if !s.track(c, true) {
		_ = rwc.Close()
		return
	}
	defer s.track(c, false)
	c.serve()
}

func (s *Server) track(c *conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.inShutdown.Load() {
			return false
		}
		if s.conns == nil {
			s.conns = map[*conn]struct{}{}
		}
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
	return true
}

// Shutdown stops taking connections, closes idle ones, and waits for the
// others to finish their request and close, or for ctx (then it returns
// ctx's error and the caller may Close), as http.Server.Shutdown does.
func (s *Server) Shutdown(ctx context.Context) error {
	s.inShutdown.Store(true)
	wait := time.Millisecond
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		if s.closeIdle() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			wait = min(2*wait, 500*time.Millisecond)
			t.Reset(wait)
		}
	}
}

// closeIdle closes idle connections (and new ones quiet for 5 s) and
// reports whether none is left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	quiet := true
	for c := range s.conns {
		st := c.state.Load()
		if st == stateIdle || st == stateNew && c.since < time.Now().Unix()-5 {
			_ = c.rwc.Close()
		}
		quiet = false
	}
	return quiet
}

// Close closes every connection at once.
func (s *Server) Close() error {
	s.inShutdown.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.rwc.Close()
	}
	return nil
}

func (c *conn) serve() {
	s := c.s
	ctx := context.Background()
	if s.ConnContext != nil {
		ctx = s.ConnContext(ctx, c.rwc)
	}
	c.ctx, c.cancel = context.WithCancel(ctx)
	defer c.cancel()
	c.tmpl = new(http.Request).WithContext(c.ctx)
	c.req = new(http.Request)
	c.remote = c.rwc.RemoteAddr().String()
	c.reqHeader, c.respHeader = http.Header{}, http.Header{}
	c.cr.c = c
	c.watchEnd = sync.NewCond(&c.watchMu)
	c.br = readers.Get().(*bufio.Reader)
	c.br.Reset(&c.cr)
	c.bw = writers.Get().(*bufio.Writer)
	c.bw.Reset(c.rwc)
	defer func() {
		c.unwatch()
		if c.br != nil {
			c.br.Reset(nil)
			readers.Put(c.br)
		}
		c.bw.Reset(nil)
		writers.Put(c.bw)
	}()

	if d := s.ReadHeaderTimeout; d > 0 {
		_ = c.rwc.SetReadDeadline(time.Now().Add(d))
	}
	first := true
	for {
		if !first {
			// Idle: the deadline is the idle timeout.
			if _, err := c.br.Peek(1); err != nil {
				_ = c.rwc.Close()
				return
			}
		}
		c.state.Store(stateActive)
		n, err := c.readHead(first)
		first = false
		if s.inShutdown.Load() {
			_ = c.rwc.Close()
			return
		}
		if err != nil {
			if n < 0 {
				c.handOver()
			} else {
				_ = c.rwc.Close()
			}
			return
		}
		raw, _ := c.br.Peek(n)
		hs := string(raw)
		*c.req = *c.tmpl
		clear(c.reqHeader)
		clear(c.strs[:])
		hd, _, ok := parsePlain(hs, c.req, &c.url, c.reqHeader, c.strs[:])
		if !ok {
			c.handOver()
			return
		}
		_, _ = c.br.Discard(n)
		_ = c.rwc.SetReadDeadline(time.Time{})
		c.lastPOST = c.req.Method == http.MethodPost
		c.req.RemoteAddr = c.remote
		var b *body
		if hd.chunked || hd.contentLength > 0 {
			c.body.reset(c.br, c.req, hd, c.watch)
			b = &c.body
			c.req.Body = b
			if hd.chunked {
				c.req.TransferEncoding = chunkedTE
			}
		} else {
			c.req.Body = http.NoBody
		}
		clear(c.respHeader)
		c.w.reset(c, c.req, b, hd)
		if b == nil {
			c.watch()
		}
		closeAfter := c.serveRequest()
		c.unwatch()
		if closeAfter {
			_ = c.rwc.Close()
			return
		}
		c.state.Store(stateIdle)
		if d := s.IdleTimeout; d > 0 {
			_ = c.rwc.SetReadDeadline(time.Now().Add(d))
		}
	}
}

var chunkedTE = []string{"chunked"}[:1:1]

// readHead waits for a complete request head in the reader and returns its
// length. It returns n < 0 with an error when the head is one to hand
// over (too big, not CRLF, or cut short after some bytes), and n >= 0 with
// an error when the connection failed (nothing to answer, as net/http).
func (c *conn) readHead(first bool) (int, error) {
	if c.lastPOST {
		// RFC 9112 2.2 tolerance, as net/http after a POST.
		if b, _ := c.br.Peek(min(4, c.br.Buffered())); len(b) > 0 {
			k := 0
			for k < len(b) && (b[k] == '\r' || b[k] == '\n') {
				k++
			}
			_, _ = c.br.Discard(k)
		}
	}
	limit := bufSize
	if m := c.s.MaxHeaderBytes; m > 0 && m < limit {
		limit = m
	}
	timed := first
	for {
		buf, _ := c.br.Peek(c.br.Buffered())
		switch n := headEnd(buf); {
		case n > 0 && n <= limit:
			return n, nil
		case n != 0:
			return -1, errHandOver
		case len(buf) >= limit:
			return -1, errHandOver
		}
		if !timed {
			timed = true
			if d := c.s.ReadHeaderTimeout; d > 0 {
				_ = c.rwc.SetReadDeadline(time.Now().Add(d))
			}
		}
		if _, err := c.br.Peek(len(buf) + 1); err != nil {
			var ne net.Error
			if len(buf) == 0 || errors.As(err, &ne) && ne.Timeout() || !errors.Is(err, io.EOF) {
				return 0, err
			}
			return -1, errHandOver // cut short: net/http answers 400
		}
	}
}

var errHandOver = errors.New("hand over to net/http")

// handOver gives the connection to Fallback with what was read.
func (c *conn) handOver() {
	buf, _ := c.br.Peek(c.br.Buffered())
	replay := append([]byte(nil), buf...)
	_ = c.rwc.SetReadDeadline(time.Time{})
	c.s.track(c, false)
	c.s.Fallback(c.rwc, replay)
}

// watch arms the background read: the request's body is read (or it has
// none), so the next bytes on the connection are the next request's, or
// its end.
func (c *conn) watch() {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if c.watchSt != watchOff {
		return
	}
	c.watchSt = watchArmed
	if c.watchT == nil {
		c.watchT = time.AfterFunc(watchDelay, c.bgRead)
	} else {
		c.watchT.Reset(watchDelay)
	}
}

// unwatch stops the background read, waiting for a read in progress.
func (c *conn) unwatch() {
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	switch c.watchSt {
	case watchArmed:
		// A timer that fired already finds watchOff and returns.
		c.watchT.Stop()
	case watchReading:
		c.aborting = true
		_ = c.rwc.SetReadDeadline(aLongTimeAgo)
		for c.watchSt == watchReading {
			c.watchEnd.Wait()
		}
		c.aborting = false
		_ = c.rwc.SetReadDeadline(time.Time{})
	}
	c.watchSt = watchOff
}

// bgRead reads one byte while the handler runs: the end of the connection
// cancels the request's context; a byte (a pipelined request) is kept for
// the reader.
func (c *conn) bgRead() {
	c.watchMu.Lock()
	if c.watchSt != watchArmed {
		c.watchMu.Unlock()
		return
	}
	c.watchSt = watchReading
	c.watchMu.Unlock()
	n, err := c.rwc.Read(c.cr.b[:])
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if n == 1 {
		c.cr.has = true
	}
	var ne net.Error
	if err != nil && !(c.aborting && errors.As(err, &ne) && ne.Timeout()) {
		c.cancel()
		c.cr.err = err
	}
	c.watchSt = watchOff
	c.watchEnd.Broadcast()
}

// connReader reads the connection, after what bgRead read.
type connReader struct {
	c   *conn
	b   [1]byte
	has bool
	err error
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.has && len(p) > 0 {
		r.has = false
		p[0] = r.b[0]
		return 1, nil
	}
	if r.err != nil {
		return 0, r.err
	}
	return r.c.rwc.Read(p)
}

// serveRequest runs the handler and ends the response; it reports whether
// the connection must close.
func (c *conn) serveRequest() (closeAfter bool) {
	w := &c.w
	defer func() {
		if err := recover(); err != nil {
			if err != http.ErrAbortHandler {
				buf := make([]byte, 64<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.logf("h1server: panic serving %v: %v\n%s", c.remote, err, buf)
			}
			_ = c.bw.Flush()
			closeAfter = true
		}
	}()
	c.s.Handler.ServeHTTP(w, c.req)
	w.finish()
	closeAfter = !w.reusable()
	if b := w.body; b != nil && !closeAfter {
		b.mu.Lock()
		if !b.sawEOF && (b.closed || b.discardLocked() != nil) {
			closeAfter = true
		}
		b.mu.Unlock()
	}
	if !closeAfter && (c.s.noKeepAlives.Load() || c.s.inShutdown.Load()) {
		closeAfter = true
	}
	return closeAfter
}

func (c *conn) logf(format string, args ...any) {
	if l := c.s.ErrorLog; l != nil {
		l.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}
