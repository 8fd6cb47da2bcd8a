// Command weft-demo is the demo application behind Weft's image catalogue
// (DESIGN.md, "Images without a container engine"): one binary that stands
// in for the seeds' images.
//
//	weft-demo flaskapp   GET /env/<NAME> answers that environment variable
//	weft-demo httpbin    httpbin (go-httpbin): /get, /ip, /status/<code>, /delay/<s>, /headers
//	weft-demo static     serves files (default /usr/share/nginx/html) with
//	                     "Server: nginx/<tag>"; GET /_weft/burn?ms=N burns CPU
//	weft-demo curl URL   a small curl for pods (see curlMain)
//	weft-demo bookinfo <service> <version>   Istio's Bookinfo (package bookinfo), on 9080 by default
//
// Each listens on every port in $WEFT_CONTAINER_PORTS (the container's
// TCP containerPorts, set by the agent), else $PORT, else 80 — on $POD_IP
// when set (host mode), else on all addresses. --listen HOST:PORT (repeatable)
// overrides both. It stops cleanly on SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: weft-demo flaskapp|httpbin|static [--listen HOST:PORT]...")
		os.Exit(2)
	}
	mode := os.Args[1]
	if mode == "curl" {
		os.Exit(curlMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	var listen listFlag
	fs.Var(&listen, "listen", "address to listen on (repeatable)")
	root := fs.String("root", "/usr/share/nginx/html", "static: the directory served")
	_ = fs.Parse(os.Args[2:])

	var h http.Handler
	switch mode {
	case "flaskapp":
		h = flaskapp()
	case "httpbin":
		h = httpbinHandler()
	case "static":
		h = static(*root, os.Getenv("WEFT_IMAGE_TAG"))
	case "bookinfo":
		h = bookinfoMain(fs.Args()) // bookinfo.go
	default:
		fmt.Fprintf(os.Stderr, "weft-demo: unknown app %q (flaskapp, httpbin, static)\n", mode)
		os.Exit(2)
	}
	addrs := []string(listen)
	if len(addrs) == 0 {
		addrs = defaultAddrs(os.Getenv("POD_IP"), os.Getenv("WEFT_CONTAINER_PORTS"), os.Getenv("PORT"))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := serve(ctx, addrs, h); err != nil {
		fmt.Fprintln(os.Stderr, "weft-demo:", err)
		os.Exit(1)
	}
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// defaultAddrs are the addresses to listen on from the environment.
func defaultAddrs(podIP, ports, port string) []string {
	var ps []string
	for _, p := range strings.Split(ports, ",") {
		if p = strings.TrimSpace(p); p != "" {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 && port != "" {
		ps = []string{port}
	}
	if len(ps) == 0 {
		ps = []string{"80"}
	}
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, net.JoinHostPort(podIP, p))
	}
	return out
}

// serve listens on every address until ctx ends.
func serve(ctx context.Context, addrs []string, h http.Handler) error {
	var servers []*http.Server
	errc := make(chan error, len(addrs))
	var wg sync.WaitGroup
	for _, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, s := range servers {
				s.Close()
			}
			return fmt.Errorf("listen: %w", err)
		}
		fmt.Printf("listening on %s\n", ln.Addr())
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
		fmt.Println("shutting down")
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(sctx)
	}
	wg.Wait()
	return err
}
