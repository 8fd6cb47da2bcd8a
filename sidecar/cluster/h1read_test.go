package cluster

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

// parseBoth reads one response from in with the lean reader and with
// net/http's http.ReadResponse, bodies included.
type parsed struct {
	resp    *http.Response
	body    []byte
	err     error // head
	bodyErr error
}

func leanParse(in []byte, method string) parsed {
	br := bufio.NewReaderSize(bytes.NewReader(in), 4096)
	head, err := readHead(br, nil)
	if err != nil {
		return parsed{err: err}
	}
	resp, _, err := parseResponse(head, method)
	if err != nil {
		return parsed{err: err}
	}
	var fr frameReader
	fr.frame(br, resp, method)
	body, berr := io.ReadAll(&fr)
	return parsed{resp: resp, body: body, bodyErr: berr}
}

func stdParse(in []byte, method string) parsed {
	br := bufio.NewReaderSize(bytes.NewReader(in), 4096)
	var req *http.Request
	if method == http.MethodHead {
		req = headRequest
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return parsed{err: err}
	}
	body, berr := io.ReadAll(resp.Body)
	return parsed{resp: resp, body: body, bodyErr: berr}
}

// compare reports how the lean reader differs from net/http on in.
func compare(in []byte, method string) string {
	a, b := leanParse(in, method), stdParse(in, method)
	if (a.err != nil) != (b.err != nil) {
		return "head error: lean " + errString(a.err) + ", net/http " + errString(b.err)
	}
	if a.err != nil {
		return ""
	}
	ra, rb := a.resp, b.resp
	switch {
	case ra.StatusCode != rb.StatusCode || ra.Status != rb.Status:
		return "status " + ra.Status + " vs " + rb.Status
	case ra.Proto != rb.Proto || ra.ProtoMajor != rb.ProtoMajor || ra.ProtoMinor != rb.ProtoMinor:
		return "proto " + ra.Proto + " vs " + rb.Proto
	case !reflect.DeepEqual(ra.Header, rb.Header):
		return "header " + headerString(ra.Header) + " vs " + headerString(rb.Header)
	case ra.ContentLength != rb.ContentLength:
		return "content length"
	case ra.Close != rb.Close:
		return "close"
	case !reflect.DeepEqual(ra.TransferEncoding, rb.TransferEncoding):
		return "transfer encoding"
	case (a.bodyErr != nil) != (b.bodyErr != nil):
		return "body error: lean " + errString(a.bodyErr) + ", net/http " + errString(b.bodyErr)
	case a.bodyErr == nil && !bytes.Equal(a.body, b.body):
		return "body"
	case a.bodyErr == nil && !reflect.DeepEqual(ra.Trailer, rb.Trailer):
		return "trailer " + headerString(ra.Trailer) + " vs " + headerString(rb.Trailer)
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

func headerString(h http.Header) string {
	var b strings.Builder
	_ = h.Write(&b)
	return b.String()
}

var responseSeeds = []string{
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nv1",
	"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-custom-header: a\r\nX-Custom-Header: b\r\n\r\nv1",
	"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
	"HTTP/1.1 304 Not Modified\r\n\r\n",
	"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
	"HTTP/1.0 200 OK\r\n\r\nuntil the end",
	"HTTP/1.1 200 OK\r\n\r\nuntil the end",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nv1\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Grpc-Status\r\n\r\n2\r\nv1\r\n0\r\nGrpc-Status: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
	"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nab",
	"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nab",
	"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nab",
	"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nab",
	"HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nFoo: bar\r\n baz\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\n Foo: bar\r\n\r\n",
	"HTTP/1.1 200 OK\r\nFoo : bar\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nFo\x00o: bar\r\n\r\n",
	"HTTP/1.1 200 OK\r\nFoo: b\x01ar\r\n\r\n",
	"HTTP/1.1 200 OK\r\nFoo: bar  \t\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 200 OK\nFoo: bar\nContent-Length: 0\n\n",
	"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1  200  OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 +12 OK\r\n\r\n",
	"HTTP/1.1 20 OK\r\n\r\n",
	"HTTP/2.0 200 OK\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\n",
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
	"\r\nHTTP/1.1 200 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
	"HTTP/1.1 200 OK\r\n: empty\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
	"",
}

func TestReadResponseMatchesNetHTTP(t *testing.T) {
	for _, in := range responseSeeds {
		for _, m := range []string{http.MethodGet, http.MethodHead} {
			if d := compare([]byte(in), m); d != "" {
				t.Errorf("%s %q: %s", m, in, d)
			}
		}
	}
}

// TestParsePlainAllocs: a plain response head costs a few allocations
// (the head's string, the map, the response with its body and values).
func TestParsePlainAllocs(t *testing.T) {
	head := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\nDate: Sun, 22 Nov 2026 05:00:00 GMT\r\nServer: gunicorn\r\n\r\n")
	if parsePlain(head, http.MethodGet) == nil {
		t.Fatal("not plain")
	}
	if n := testing.AllocsPerRun(100, func() { parsePlain(head, http.MethodGet) }); n > 4 {
		t.Errorf("%v allocations, want at most 4", n)
	}
}

// FuzzReadResponse checks the lean upstream response reader against
// net/http's on arbitrary input: the same heads are accepted and rejected,
// and the accepted ones give the same status, headers, framing and body.
func FuzzReadResponse(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, in []byte, head bool) {
		m := http.MethodGet
		if head {
			m = http.MethodHead
		}
		if d := compare(in, m); d != "" {
			t.Errorf("%s %q: %s", m, in, d)
		}
	})
}

// TestRoundTripStaleConnections: when the upstream closed every pooled
// connection while they were idle, a request retries once on a fresh
// connection rather than on another stale one.
func TestRoundTripStaleConnections(t *testing.T) {
	addr, conns := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond) // overlap, for several pooled connections
		io.WriteString(w, "ok")
	})
	_, c := testCluster(xdsresource.LBRoundRobin, addr)
	h := c.Endpoints()[0].Host
	get := func() error {
		resp, err := c.RoundTrip(context.Background(), h, &Request{Method: "GET", Host: "svc", Path: "/"})
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && string(b) != "ok" {
			err = fmt.Errorf("body %q", b)
		}
		return err
	}
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := get(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	h.mu.Lock()
	idle := append([]*pconn(nil), h.idle...)
	h.mu.Unlock()
	if len(idle) < 2 {
		t.Fatalf("%d idle connections, want at least 2", len(idle))
	}
	// Make every pooled connection stale: the peer's side goes away.
	for _, pc := range idle {
		pc.conn.(*net.TCPConn).CloseRead()
	}
	before := conns.Load()
	if err := get(); err != nil {
		t.Fatalf("request after the pool went stale: %v", err)
	}
	if n := conns.Load() - before; n != 1 {
		t.Fatalf("%d new connections, want 1", n)
	}
}
