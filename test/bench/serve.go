package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/weft-mesh/weft/controlplane/xds"
	"github.com/weft-mesh/weft/dns"
)

// The harness binary doubles as the small programs the comparisons run in
// processes of their own, so that their CPU time and memory can be read
// apart from the load generator's:
//
//	bench -serve backend                      the HTTP backend every proxy forwards to
//	bench -serve revproxy -upstream ADDR      Go's httputil.ReverseProxy, tuned
//	bench -serve xds -services N -endpoints M weft's xDS server (package xds) with a mesh of N services
//	bench -serve dns -services N -upstream A  weft's DNS server (package dns) with N services
//
// Each prints "serving <address>" on standard output once it serves, and
// stops on SIGTERM or SIGINT. Started by the harness (-parent, set by
// startServe) it also stops when its standard input closes (the harness
// died), and the xds server reads commands there (see serveXDS); started
// by hand it leaves standard input alone.
const servingPrefix = "serving "

func listenTCP(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// serveMain runs one -serve kind with its arguments and returns the exit code.
func serveMain(kind string, args []string) int {
	fs := flag.NewFlagSet("serve "+kind, flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	upstream := fs.String("upstream", "", "revproxy: the backend; dns: the upstream resolver")
	services := fs.Int("services", 1000, "xds, dns: services in the mesh")
	endpoints := fs.Int("endpoints", 10, "xds: endpoints per service")
	debounce := fs.Duration("debounce", 100*time.Millisecond, "xds: push debounce (weftd's default)")
	parent := fs.Bool("parent", false, "started by the harness: stop when standard input closes; xds: read commands there")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) of the whole run here")
	sidecarBackend := fs.Int("sidecar-backend", 0, "xds: serve the sidecar comparison's mesh at once, its backend on this port of 127.0.0.1")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench -serve "+kind+":", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "bench -serve "+kind+":", err)
			return 1
		}
		defer pprof.StopCPUProfile()
		// And the heap at the end, beside it (kind.pprof.heap).
		defer func() {
			runtime.GC()
			if f, err := os.Create(*cpuProfile + ".heap"); err == nil {
				_ = pprof.WriteHeapProfile(f)
				_ = f.Close()
			}
		}()
	}
	if *parent {
		var cancel func()
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		if kind != "xds" {
			stopOnStdinEOF(cancel)
		}
	}
	var err error
	switch kind {
	case "backend":
		err = serveBackend(ctx, *addr)
	case "revproxy":
		err = serveRevproxy(ctx, *addr, *upstream)
	case "xds":
		err = serveXDS(ctx, *addr, *services, *endpoints, *debounce, *sidecarBackend, *parent)
	case "dns":
		err = serveDNS(ctx, *addr, *services, *upstream)
	default:
		err = fmt.Errorf("unknown -serve %q (backend, revproxy, xds, dns)", kind)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench -serve "+kind+":", err)
		return 1
	}
	return 0
}

// stopOnStdinEOF cancels when standard input closes: the harness holds the
// other end, so a harness that dies takes its servers with it (besides
// PR_SET_PDEATHSIG).
func stopOnStdinEOF(cancel func()) {
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
}

// serveHTTP serves h on addr until ctx ends.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Println(servingPrefix + ln.Addr().String())
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

// backendHandler is the backend: a fixed two-byte body with its length
// set, the cheapest answer net/http gives, so that the figures are the
// proxies'.
func backendHandler() http.Handler {
	body := []byte("ok")
	clen := []string{"2"}
	ctype := []string{"text/plain"}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h["Content-Length"] = clen
		h["Content-Type"] = ctype
		_, _ = w.Write(body)
	})
}

func serveBackend(ctx context.Context, addr string) error {
	ln, err := listenTCP(addr)
	if err != nil {
		return err
	}
	return serveHTTP(ctx, ln, backendHandler())
}

// bufferPool is httputil.BufferPool over sync.Pool: without it the
// reverse proxy allocates a 32 KiB copy buffer per request.
type bufferPool struct{ p sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{p: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (b *bufferPool) Get() []byte  { return *(b.p.Get().(*[]byte)) }
func (b *bufferPool) Put(x []byte) { b.p.Put(&x) }

// revproxy is httputil.ReverseProxy as one would tune it for this: a
// buffer pool, a keep-alive pool big enough for every client connection,
// no compression negotiation, errors not logged.
func revproxy(upstream string) *httputil.ReverseProxy {
	target := &url.URL{Scheme: "http", Host: upstream}
	tr := &http.Transport{
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	}
	return &httputil.ReverseProxy{
		Rewrite:    func(r *httputil.ProxyRequest) { r.SetURL(target); r.Out.Host = r.In.Host },
		Transport:  tr,
		BufferPool: newBufferPool(),
		ErrorLog:   log.New(io.Discard, "", 0),
	}
}

func serveRevproxy(ctx context.Context, addr, upstream string) error {
	if upstream == "" {
		return fmt.Errorf("-upstream is required")
	}
	rp := revproxy(upstream)
	// Warm the transport: the first request dials.
	if resp, err := http.Get("http://" + upstream + "/"); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ln, err := listenTCP(addr)
	if err != nil {
		return err
	}
	return serveHTTP(ctx, ln, rp)
}

// serveXDS runs weft's xDS server (package xds, as weftd runs it, with
// weftd's default debounce) over a mesh of services × endpoints
// (meshSpec) and takes commands, one per line, on standard input:
//
//	vs W      push the mesh with the VirtualServices' weight W (a route change)
//	ep G      push the mesh with endpoint generation G (one endpoint's address changes)
//	prep CMD  build the mesh of vs W or ep G, answer "prepared", push nothing
//	push      push the prepared mesh
//	proxies   answer "proxies N": the proxies connected
//
// Each push answers "pushed" once Push has returned (it returns at once;
// the server recomputes after the debounce). prep lets the harness time a
// change from its push, not from the harness's building 1,000 services'
// objects anew (tens of milliseconds, which weftd does not spend: its
// informers hand it the objects). The first push is the initial
// configuration. End of input stops the server. Commands are
// read only when the harness started the server (commands). With
// sidecarBackend set it serves the sidecar comparison's mesh at once
// (sidecarMesh), for reproducing that comparison by hand.
func serveXDS(ctx context.Context, addr string, services, endpoints int, debounce time.Duration, sidecarBackend int, commands bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	spec := meshSpec{services: services, endpoints: endpoints, weight: 90}
	srv := xds.NewServer(xds.Options{Debounce: debounce})
	ln, err := listenTCP(addr)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, ln) }()
	if sidecarBackend > 0 {
		srv.Push(sidecarMesh(sidecarServices, sidecarBackend))
	}
	fmt.Println(servingPrefix + ln.Addr().String())

	go func() {
		if !commands {
			return
		}
		defer cancel() // standard input closed: the harness is gone
		sc := bufio.NewScanner(os.Stdin)
		var prepared *xds.Mesh
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 0 {
				continue
			}
			arg := 0
			if len(f) > 1 {
				arg, _ = strconv.Atoi(f[1])
			}
			prep := f[0] == "prep" && len(f) == 3
			if prep {
				f = f[1:]
				arg, _ = strconv.Atoi(f[1])
			}
			switch f[0] {
			case "vs", "ep":
				if f[0] == "vs" {
					spec.weight = int32(arg)
				} else {
					spec.generation = arg
				}
				prepared = spec.mesh()
				if prep {
					fmt.Println("prepared")
					continue
				}
				srv.Push(prepared)
				fmt.Println("pushed")
			case "push":
				srv.Push(prepared)
				fmt.Println("pushed")
			case "proxies":
				fmt.Printf("proxies %d\n", len(srv.Status()))
			default:
				fmt.Printf("unknown command %q\n", f[0])
			}
		}
	}()
	select {
	case <-ctx.Done():
		return <-errc
	case err := <-errc:
		return err
	}
}

// serveDNS runs weft's DNS server (package dns, as weftd runs it) with
// the index of services (clusterSpec) and upstream for other names.
func serveDNS(ctx context.Context, addr string, services int, upstream string) error {
	srv, err := dns.NewServer(dns.Config{Addr: addr, Upstreams: []string{upstream}})
	if err != nil {
		return err
	}
	svcs, eps, pods := dnsCluster(services)
	if err := srv.SetIndex(dns.BuildIndex("cluster.local", svcs, eps, pods)); err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	fmt.Println(servingPrefix + srv.Addr())
	<-ctx.Done()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	return srv.Shutdown(sctx)
}
