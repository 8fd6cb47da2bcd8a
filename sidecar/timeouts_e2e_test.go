package sidecar_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/weft-mesh/weft/sidecar"
	"github.com/weft-mesh/weft/sidecar/internal/xdstest"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// gateway runs the proxy in gateway mode with one HTTP listener "gw" on
// 127.0.0.1:0 whose connection manager mod adjusts, routing / to v1 at
// backend (route timeout off, so the connection manager's timeouts show).
func gateway(t *testing.T, backend string, route func(*routev3.RouteAction), mod func(*listenerv3.Listener, *hcmv3.HttpConnectionManager)) (*env, string) {
	t.Helper()
	l := xdstest.GatewayListener("gw", "127.0.0.1", 0, "gw", "")
	h := &hcmv3.HttpConnectionManager{}
	if err := l.FilterChains[0].Filters[0].GetTypedConfig().UnmarshalTo(h); err != nil {
		t.Fatal(err)
	}
	mod(l, h)
	l.FilterChains[0].Filters[0].ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: xdstest.Any(h)}
	ra := xdstest.ToCluster(v1)
	ra.Timeout = durationpb.New(0)
	if route != nil {
		route(ra)
	}
	res := xdstest.Resources{Listeners: []types.Resource{l}}
	vh := vhost(xdstest.PrefixRoute("d", "/", ra))
	vh.Domains = []string{"*"}
	res.Routes = append(res.Routes, xdstest.RouteConfig("gw", vh))
	res.Add(xdstest.Service(v1, backend))
	e := startWith(t, res, func(c *sidecar.Config) { c.Mode = "gateway" })
	waitFor(t, "gw bound", func() bool { return e.proxy.Addr("gw") != "" })
	return e, e.proxy.Addr("gw")
}

func TestSlowlorisHeaders(t *testing.T) {
	b := newBackend(t, "v1", nil)
	_, addr := gateway(t, b.addr(), nil, func(_ *listenerv3.Listener, h *hcmv3.HttpConnectionManager) {
		h.RequestHeadersTimeout = durationpb.New(300 * time.Millisecond)
		h.MaxRequestHeadersKb = wrapperspb.UInt32(8)
	})

	// Headers one byte at a time: cut off at request_headers_timeout
	// although bytes keep coming.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c)
		close(closed)
	}()
	fmt.Fprint(c, "GET / HTTP/1.1\r\nHost: flaskapp\r\nX-Slow: ")
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-closed:
			break wait
		case <-tick.C:
			if time.Since(start) > 10*time.Second {
				t.Fatal("slow headers were never cut off")
			}
			if _, err := c.Write([]byte("a")); err != nil {
				break wait
			}
		}
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("cut off after %v, before the header timeout", d)
	}

	// Oversized headers: refused with 431, never buffered whole.
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	go fmt.Fprintf(c2, "GET / HTTP/1.1\r\nHost: flaskapp\r\nX-Big: %s\r\n\r\n", strings.Repeat("b", 64<<10))
	resp, err := http.ReadResponse(bufio.NewReader(c2), nil)
	if err != nil || resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("oversized headers: %v %v", resp, err)
	}
}

func TestStreamIdleAndRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	b := newBackend(t, "v1", func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		switch r.URL.Path {
		case "/stall-headers":
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return true
		case "/stall-body":
			w.Header().Set("Content-Length", "100")
			w.Write([]byte("0123456789"))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return true
		}
		io.Copy(io.Discard, r.Body)
		return false
	})
	e, addr := gateway(t, b.addr(), nil, func(_ *listenerv3.Listener, h *hcmv3.HttpConnectionManager) {
		h.StreamIdleTimeout = durationpb.New(400 * time.Millisecond)
		h.RequestTimeout = durationpb.New(time.Second)
	})
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + addr + "/stall-headers")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout || string(body) != "stream timeout" {
		t.Fatalf("upstream stalls before headers: %d %q, want 408 stream timeout", resp.StatusCode, body)
	}

	// The response started, then nothing: the stream is reset.
	// (The headers may still sit in the proxy's write buffer: then the
	// client sees the reset at once.)
	if resp, err = client.Get("http://" + addr + "/stall-body"); err == nil {
		if _, err := io.ReadAll(resp.Body); err == nil {
			t.Fatal("a stalled body ended cleanly")
		}
		resp.Body.Close()
	}

	// A request body that trickles (activity, so not idle) but never
	// ends: request_timeout answers 408.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "POST /upload HTTP/1.1\r\nHost: flaskapp\r\nContent-Length: 1000\r\n\r\n")
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if _, err := c.Write([]byte("x")); err != nil {
					return
				}
			}
		}
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err = http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || string(body) != "request timeout" {
		t.Fatalf("trickling body: %d %q, want 408 request timeout", resp.StatusCode, body)
	}
	m := e.metrics()
	if !strings.Contains(m, `response_flags="SI"`) {
		t.Fatalf("no SI series:\n%s", grep(m, "istio_requests_total"))
	}
}

// TestUpstreamResetMidBody: an upstream that dies mid-body gives UC, the
// client sees a broken body, and no goroutine is left behind.
func TestUpstreamResetMidBody(t *testing.T) {
	b := newBackend(t, "v1", func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		if r.URL.Path != "/reset" {
			return false
		}
		c, brw, _ := w.(http.Hijacker).Hijack()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("x", 1000))
		brw.Flush()
		if tc, ok := c.(*net.TCPConn); ok && r.URL.Query().Get("rst") != "" {
			tc.SetLinger(0)
		}
		c.Close()
		return true
	})
	e, addr := gateway(t, b.addr(), nil, func(*listenerv3.Listener, *hcmv3.HttpConnectionManager) {})
	tr := &http.Transport{}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	get := func(path string) error {
		resp, err := client.Get("http://" + addr + path)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		return err
	}
	if err := get("/"); err != nil {
		t.Fatal(err)
	}
	tr.CloseIdleConnections()
	before := settle(0)
	for i := 0; i < 20; i++ {
		path := "/reset"
		if i%2 == 1 {
			path += "?rst=1"
		}
		if err := get(path); err == nil {
			t.Fatalf("%s: body ended cleanly", path)
		}
	}
	tr.CloseIdleConnections()
	if after := settle(before); after > before+2 {
		buf := make([]byte, 1<<20)
		t.Fatalf("goroutines %d before, %d after\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
	m := e.metrics()
	if !strings.Contains(m, `response_flags="UC"`) {
		t.Fatalf("no UC series:\n%s", grep(m, "istio_requests_total"))
	}
}

// settle waits (up to 10s) for the goroutine count to drop to target, or
// to stop changing when target is 0, and returns it.
func settle(target int) int {
	n, last, stable := runtime.NumGoroutine(), -1, 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if target > 0 && n <= target {
			return n
		}
		if n == last {
			if stable++; target == 0 && stable >= 10 {
				return n
			}
		} else {
			stable = 0
		}
		last = n
		time.Sleep(50 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

// TestBufferLimit: a body within per_connection_buffer_limit_bytes is
// buffered and retried; a bigger one streams and is not.
func TestBufferLimit(t *testing.T) {
	b := newBackend(t, "v1", func(w http.ResponseWriter, r *http.Request, n int64) bool {
		io.Copy(io.Discard, r.Body)
		if n%2 == 1 {
			w.WriteHeader(503)
			return true
		}
		return false
	})
	_, addr := gateway(t, b.addr(), func(ra *routev3.RouteAction) {
		ra.RetryPolicy = &routev3.RetryPolicy{RetryOn: "5xx", NumRetries: wrapperspb.UInt32(1)}
	}, func(l *listenerv3.Listener, _ *hcmv3.HttpConnectionManager) {
		l.PerConnectionBufferLimitBytes = wrapperspb.UInt32(1024)
	})
	for _, tt := range []struct {
		size int
		want int
	}{{512, 200}, {4096, 503}} {
		req, _ := http.NewRequest("PUT", "http://"+addr+"/", strings.NewReader(strings.Repeat("b", tt.size)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%d-byte body: %d, want %d", tt.size, resp.StatusCode, tt.want)
		}
	}
}
