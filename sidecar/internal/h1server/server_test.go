package h1server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testHandler answers by path; both servers run it.
func testHandler(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	switch r.URL.Path {
	case "/small":
		io.WriteString(w, "hello")
	case "/html":
		io.WriteString(w, "<html><body>hi</body></html>")
	case "/big":
		w.Write([]byte(strings.Repeat("x", 5000)))
	case "/twobig":
		w.Write([]byte(strings.Repeat("x", 1500)))
		w.Write([]byte(strings.Repeat("y", 1500)))
	case "/flush":
		io.WriteString(w, "a")
		w.(http.Flusher).Flush()
		io.WriteString(w, "b")
	case "/trailers":
		h.Set("Trailer", "X-T, Content-Length")
		w.WriteHeader(200)
		io.WriteString(w, "x")
		h.Set("X-T", "v")
		h[http.TrailerPrefix+"X-U"] = []string{"u"}
	case "/cl":
		h.Set("Content-Length", "3")
		io.WriteString(w, "abcdef")
	case "/clshort":
		h.Set("Content-Length", "5")
		io.WriteString(w, "abc")
	case "/badcl":
		h.Set("Content-Length", "x")
		io.WriteString(w, "abc")
	case "/204":
		h.Set("Content-Length", "3")
		h.Set("Content-Type", "text/plain")
		w.WriteHeader(204)
		io.WriteString(w, "abc")
	case "/304":
		h.Set("Content-Length", "3")
		h.Set("Content-Type", "text/plain")
		h.Set("Etag", `"x"`)
		w.WriteHeader(304)
	case "/close":
		h.Set("Connection", "close")
		io.WriteString(w, "bye")
	case "/notype":
		h["Content-Type"] = nil
		h["Date"] = nil
		io.WriteString(w, "<html>")
	case "/te":
		h.Set("Transfer-Encoding", "chunked")
		h.Set("Content-Length", "2")
		io.WriteString(w, "ab")
	case "/identity":
		h.Set("Transfer-Encoding", "identity")
		io.WriteString(w, "ab")
	case "/multi":
		h.Add("X-A", "1")
		h.Add("X-A", " 2 ")
		h.Add("X-B", "a\r\nb")
		h.Add("Bad Name", "x")
		io.WriteString(w, "m")
	case "/early":
		w.WriteHeader(103)
		h.Set("X-Late", "1")
		io.WriteString(w, "e")
	case "/echo":
		b, err := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s|%v|%d|%v|%v", b, err, r.ContentLength, r.TransferEncoding, r.Trailer)
	case "/noread":
		io.WriteString(w, "ignored")
	case "/closebody":
		r.Body.Close()
		io.WriteString(w, "closed")
	case "/info":
		fmt.Fprintf(w, "%s %s %s %q %v %v %d", r.Method, r.Host, r.URL, r.RequestURI, r.Close, r.Header, r.ContentLength)
	case "/abort":
		w.(http.Flusher).Flush()
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	default:
		http.NotFound(w, r)
	}
}

// chanListener feeds http.Server with handed-over connections.
type chanListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}
func (l *chanListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{} }

type replayConn struct {
	net.Conn
	buf []byte
}

func (p *replayConn) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

type testServer struct {
	addr     string
	srv      *Server
	std      *http.Server
	handover atomic.Int64
}

// startLean serves h with a Server, falling back to an http.Server.
func startLean(t *testing.T, h http.Handler, cfg func(*Server)) *testServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &chanListener{ch: make(chan net.Conn), done: make(chan struct{})}
	ts := &testServer{addr: ln.Addr().String(), std: &http.Server{Handler: h}}
	ts.srv = &Server{Handler: h, MaxHeaderBytes: 1 << 20, IdleTimeout: time.Minute, Fallback: func(c net.Conn, replay []byte) {
		ts.handover.Add(1)
		select {
		case cl.ch <- &replayConn{Conn: c, buf: replay}:
		case <-cl.done:
			c.Close()
		}
	}}
	if cfg != nil {
		cfg(ts.srv)
	}
	go ts.std.Serve(cl)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go ts.srv.ServeConn(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); ts.srv.Close(); ts.std.Close() })
	return ts
}

func startStd(t *testing.T, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// roundTrip sends raw on a new connection, reads one response, then tries
// a second request on the same connection; it returns a summary.
func roundTrip(t *testing.T, addr, raw string) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, raw)
	br := bufio.NewReader(c)
	method := raw[:strings.IndexByte(raw, ' ')]
	out := summarize(br, method)
	io.WriteString(c, "GET /small HTTP/1.1\r\nHost: again\r\n\r\n")
	next := summarize(br, "GET")
	if strings.HasPrefix(next, "error") {
		next = "closed" // EOF or reset, as timing has it
	}
	return out + "\n-- then: " + next
}

func summarize(br *bufio.Reader, method string) string {
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		return "error: " + err.Error()
	}
	body, berr := io.ReadAll(resp.Body)
	var b strings.Builder
	fmt.Fprintf(&b, "%s cl=%d te=%v close=%v\n", resp.Status, resp.ContentLength, resp.TransferEncoding, resp.Close)
	keys := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "Date" {
			fmt.Fprintf(&b, "Date: (set)\n")
			continue
		}
		fmt.Fprintf(&b, "%s: %q\n", k, resp.Header[k])
	}
	fmt.Fprintf(&b, "body %q err %v trailer %v", body, berr != nil, resp.Trailer)
	return b.String()
}

var diffRequests = []string{
	"GET /small HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /html HTTP/1.1\r\nHost: a\r\n\r\n",
	"HEAD /small HTTP/1.1\r\nHost: a\r\n\r\n",
	"HEAD /big HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /big HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /twobig HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /flush HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /trailers HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /cl HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /clshort HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /badcl HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /204 HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /304 HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /close HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /small HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
	"GET /notype HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /te HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /identity HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /multi HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /early HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /missing HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /info?q=1 HTTP/1.1\r\nHost: a:80\r\nX-A: 1\r\nx-a: 2\r\n\r\n",
	"GET http://b.example:8080/info HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
	"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
	"POST /noread HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	"POST /noread HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"POST /closebody HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	"POST /noread HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n" + strings.Repeat("z", 300000),
	"GET /abort HTTP/1.1\r\nHost: a\r\n\r\n",
	// Handed over to net/http:
	"POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
	"GET /small HTTP/1.0\r\n\r\n",
	"GET /small HTTP/1.1\r\n\r\n",
	"GET /small HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
	"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"GET /small HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", 5000) + "\r\n\r\n",
	"GET /small HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
}

// TestSameAsNetHTTP sends the same bytes to Server and to net/http and
// compares what comes back.
func TestSameAsNetHTTP(t *testing.T) {
	lean := startLean(t, http.HandlerFunc(testHandler), nil)
	std := startStd(t, http.HandlerFunc(testHandler))
	for _, raw := range diffRequests {
		got, want := roundTrip(t, lean.addr, raw), roundTrip(t, std, raw)
		if got != want {
			t.Errorf("%.80q:\nlean:\n%s\nnet/http:\n%s", raw, got, want)
		}
	}
	if lean.handover.Load() < 7 {
		t.Errorf("handed over %d connections, want at least 7", lean.handover.Load())
	}
}

// TestKeepAlivePipelined: requests sent back to back are answered in order
// on one connection.
func TestKeepAlivePipelined(t *testing.T) {
	lean := startLean(t, http.HandlerFunc(testHandler), nil)
	c, err := net.Dial("tcp", lean.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /small HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiGET /small HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(c)
	for _, want := range []string{"hello", "hi|<nil>|2|[]|map[]", "hello"} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) != want {
			t.Fatalf("body %q, want %q", b, want)
		}
	}
	if lean.handover.Load() != 0 {
		t.Fatal("handed over")
	}
}

// TestClientGoneCancels: a client that goes away mid-request cancels the
// request's context.
func TestClientGoneCancels(t *testing.T) {
	cancelled := make(chan error, 1)
	lean := startLean(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			io.ReadAll(r.Body)
		}
		select {
		case <-r.Context().Done():
			cancelled <- r.Context().Err()
		case <-time.After(10 * time.Second):
			cancelled <- nil
		}
	}), nil)
	for _, raw := range []string{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"} {
		c, err := net.Dial("tcp", lean.addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, raw)
		time.Sleep(50 * time.Millisecond)
		c.Close()
		if err := <-cancelled; !errors.Is(err, context.Canceled) {
			t.Fatalf("%q: context not cancelled: %v", raw, err)
		}
	}
}

// TestShutdown: idle connections close at once; an in-flight request
// finishes (with Connection: close) before its connection closes.
func TestShutdown(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	lean := startLean(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			started <- struct{}{}
			<-release
		}
		io.WriteString(w, "ok")
	}), nil)
	idle, _ := net.Dial("tcp", lean.addr)
	defer idle.Close()
	io.WriteString(idle, "GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	ibr := bufio.NewReader(idle)
	if resp, err := http.ReadResponse(ibr, nil); err != nil {
		t.Fatal(err)
	} else {
		io.ReadAll(resp.Body)
	}
	busy, _ := net.Dial("tcp", lean.addr)
	defer busy.Close()
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	<-started
	done := make(chan error, 1)
	go func() { done <- lean.srv.Shutdown(context.Background()) }()
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := ibr.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Close {
		t.Error("response during shutdown does not close")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestIdleTimeout closes a keep-alive connection left idle.
func TestIdleTimeout(t *testing.T) {
	lean := startLean(t, http.HandlerFunc(testHandler), func(s *Server) { s.IdleTimeout = 100 * time.Millisecond })
	c, _ := net.Dial("tcp", lean.addr)
	defer c.Close()
	io.WriteString(c, "GET /small HTTP/1.1\r\nHost: a\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(resp.Body)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("got %v, want EOF", err)
	}
}

// TestReadHeaderTimeout closes a connection whose head does not arrive.
func TestReadHeaderTimeout(t *testing.T) {
	lean := startLean(t, http.HandlerFunc(testHandler), func(s *Server) { s.ReadHeaderTimeout = 100 * time.Millisecond })
	c, _ := net.Dial("tcp", lean.addr)
	defer c.Close()
	io.WriteString(c, "GET /small HTTP/1.1\r\nHo")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("got %v, want EOF", err)
	}
}
