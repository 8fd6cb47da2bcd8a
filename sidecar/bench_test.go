package sidecar_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/weft-mesh/weft/sidecar/internal/xdstest"
)

// benchRoutes is a realistic table: 100 services, each with a header canary
// route and a default weighted route, plus the one under test.
func benchRoutes(target string) xdstest.Resources {
	res := base()
	rc := xdstest.RouteConfig("80")
	for i := 0; i < 100; i++ {
		host := fmt.Sprintf("svc%d.default.svc.cluster.local", i)
		c1 := "outbound|80|v1|" + host
		c2 := "outbound|80|v2|" + host
		vh := xdstest.VirtualHost(host, 80, xdstest.PrefixRoute("default", "/", xdstest.Weighted(c1, 90, c2, 10)))
		vh.Domains = append(vh.Domains, fmt.Sprintf("svc%d", i))
		rc.VirtualHosts = append(rc.VirtualHosts, vh)
		res.Add(xdstest.Service(c1, "127.0.0.1:9"))
		res.Add(xdstest.Service(c2, "127.0.0.1:9"))
	}
	rc.VirtualHosts = append(rc.VirtualHosts, vhost(xdstest.PrefixRoute("d", "/", xdstest.ToCluster(v1))))
	res.Routes = append(res.Routes, rc)
	res.Add(xdstest.Service(v1, target))
	return res
}

// rawClient sends keep-alive HTTP/1.1 requests on one connection with no
// client-side allocation, so the benchmark measures the proxy and backend.
type rawClient struct {
	c   net.Conn
	buf []byte
	req []byte
}

func newRawClient(b *testing.B, addr, host string) *rawClient {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return &rawClient{c: c, buf: make([]byte, 64<<10),
		req: []byte("GET http://" + host + "/env/version HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: bench\r\n\r\n")}
}

// do sends one request and reads the response (small, Content-Length).
func (r *rawClient) do(b *testing.B) {
	if _, err := r.c.Write(r.req); err != nil {
		b.Fatal(err)
	}
	n := 0
	for {
		m, err := r.c.Read(r.buf[n:])
		if err != nil {
			b.Fatal(err)
		}
		n += m
		s := r.buf[:n]
		i := indexOf(s, "\r\n\r\n")
		if i < 0 {
			continue
		}
		cl := contentLength(s[:i])
		if n >= i+4+cl {
			if string(s[9:12]) != "200" {
				b.Fatalf("status %q", s[:12])
			}
			return
		}
	}
}

func indexOf(b []byte, s string) int { return strings.Index(string(b), s) }

func contentLength(h []byte) int {
	i := strings.Index(strings.ToLower(string(h)), "content-length: ")
	if i < 0 {
		return 0
	}
	j := i + len("content-length: ")
	k := j
	for k < len(h) && h[k] >= '0' && h[k] <= '9' {
		k++
	}
	n, _ := strconv.Atoi(string(h[j:k]))
	return n
}

func benchBackend(b *testing.B) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Length"] = []string{"2"}
		io.WriteString(w, "v1")
	})}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return ln
}

// BenchmarkDirect is the baseline: client → backend.
func BenchmarkDirect(b *testing.B) {
	ln := benchBackend(b)
	c := newRawClient(b, ln.Addr().String(), "flaskapp")
	b.ReportAllocs()
	for b.Loop() {
		c.do(b)
	}
}

// BenchmarkProxy is client → weft-proxy (host-mode HTTP proxy, 100-service
// route table) → backend, one keep-alive connection each side. Subtract
// BenchmarkDirect for the proxy's own cost. With GOMAXPROCS > 1 this one
// request-at-a-time chain also measures how often the runtime hands it
// between threads (sleeps and wake-ups dominate the kernel time); -cpu 1
// isolates the proxy's CPU cost, BenchmarkProxyParallel the loaded case.
func BenchmarkProxy(b *testing.B) {
	ln := benchBackend(b)
	e := start(b, benchRoutes(ln.Addr().String()))
	c := newRawClient(b, e.proxy.Addr("virtualOutbound"), "flaskapp")
	c.do(b) // warm the upstream pool
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.do(b)
	}
}

// BenchmarkProxyParallel is BenchmarkProxy with 64 client connections at
// once (like the bench harness's req/s run): the proxy's cost under load
// rather than one connection's round-trip latency.
func BenchmarkProxyParallel(b *testing.B) {
	ln := benchBackend(b)
	e := start(b, benchRoutes(ln.Addr().String()))
	addr := e.proxy.Addr("virtualOutbound")
	newRawClient(b, addr, "flaskapp").do(b) // the upstream pool warm
	b.SetParallelism(64 / max(1, runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := newRawClient(b, addr, "flaskapp")
		for pb.Next() {
			c.do(b)
		}
	})
}
