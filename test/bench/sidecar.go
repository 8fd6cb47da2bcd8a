package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/weft-mesh/weft/controlplane/xds"
)

// The sidecar and mesh comparisons: one backend, and side by side in front
// of it nginx, haproxy, Go's httputil.ReverseProxy and weft-proxy, each a
// process of its own on 127.0.0.1, loaded by the same wrk and fortio.

// Targets of the benchmark issue for the sidecar.
const (
	targetVsNginxRate   = 0.8  // req/s at 64 connections, × nginx's
	targetVsNginxP50    = 1.25 // added p50 at 1,000 req/s, × nginx's
	targetCPUPerRequest = 35   // µs of proxy CPU per request
	targetRSS           = 25   // MB with 100 services configured
	targetTwoHopVsNginx = 2    // two sidecars' added latency, × nginx's single hop
	sidecarServices     = 100  // services in the proxy's configuration besides those measured
)

// Subject names, as the tables show them.
const (
	subjDirect   = "direct (client → backend)"
	subjNginx    = "nginx"
	subjHAProxy  = "haproxy"
	subjGo       = "Go httputil.ReverseProxy, tuned"
	subjWeft     = "weft-proxy"
	subjWeft2Hop = "weft-proxy × 2 (outbound → inbound)"
)

// subject is one path to the backend.
type subject struct {
	name string
	url  string // what the load generators ask
	host string // the Host header they send
	p    *proc  // the proxy, nil for the direct path
}

// sidecarRig is everything the sidecar and mesh comparisons run.
type sidecarRig struct {
	dir      string
	backend  *proc
	procs    []*proc
	subjects []subject // single hop, in the order they are measured
	twoHop   subject
	xdsStop  context.CancelFunc
	xdsDone  chan error
	versions map[string]string
}

func (r *sidecarRig) stop() {
	for i := len(r.procs) - 1; i >= 0; i-- {
		r.procs[i].stop()
	}
	if r.xdsStop != nil {
		r.xdsStop()
		<-r.xdsDone
	}
}

// startSidecarRig starts the backend, the four proxies and the
// control plane that feeds weft-proxy, and waits until every path answers.
func startSidecarRig(ctx context.Context, bins, dir string, versions map[string]string) (rig *sidecarRig, err error) {
	r := &sidecarRig{dir: dir, versions: versions}
	defer func() {
		if err != nil {
			r.stop()
		}
	}()
	if r.backend, err = startServe(ctx, "backend"); err != nil {
		return nil, err
	}
	r.procs = append(r.procs, r.backend)
	backend := r.backend.ready
	_, portText, _ := net.SplitHostPort(backend)
	backendPort, _ := strconv.Atoi(portText)
	r.subjects = append(r.subjects, subject{name: subjDirect, url: "http://" + backend + "/", host: directHost})

	// nginx, haproxy: Debian's, each with a generated configuration.
	for _, s := range []struct {
		name  string
		start func(context.Context, string, string) (*proc, string, error)
	}{{subjNginx, startNginx}, {subjHAProxy, startHAProxy}} {
		p, addr, err := s.start(ctx, filepath.Join(dir, s.name), backend)
		if err != nil {
			return nil, err
		}
		r.procs = append(r.procs, p)
		r.subjects = append(r.subjects, subject{name: s.name, url: "http://" + addr + "/", host: directHost, p: p})
	}

	goproxy, err := startServe(ctx, "revproxy", "-upstream", backend)
	if err != nil {
		return nil, err
	}
	r.procs = append(r.procs, goproxy)
	r.subjects = append(r.subjects, subject{name: subjGo, url: "http://" + goproxy.ready + "/", host: directHost, p: goproxy})

	// weft-proxy: fed by weft's xDS server, run here, with the
	// translation of a mesh of 100 services besides the two measured.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := xds.NewServer(xds.Options{Debounce: 10 * time.Millisecond})
	xctx, xstop := context.WithCancel(context.Background())
	r.xdsStop, r.xdsDone = xstop, make(chan error, 1)
	go func() { r.xdsDone <- srv.Serve(xctx, ln) }()
	// The server-side proxy's inbound listener takes the backend's port
	// on 127.0.0.2, as a pod's port on its own IP (see sidecarMesh).
	if l, err := net.Listen("tcp", net.JoinHostPort(serverPodIP, portText)); err != nil {
		return nil, fmt.Errorf("the server-side weft-proxy needs %s:%s: %w", serverPodIP, portText, err)
	} else {
		l.Close()
	}
	srv.Push(sidecarMesh(sidecarServices, backendPort))

	proxyBin := filepath.Join(bins, "weft-proxy")
	client, clientAddr, err := startWeftProxy(ctx, proxyBin, ln.Addr().String(), clientProxyID, clientPodIP, "host", "app=bench-client,version=v1", "")
	if err != nil {
		return nil, err
	}
	r.procs = append(r.procs, client)
	server, _, err := startWeftProxy(ctx, proxyBin, ln.Addr().String(), serverProxyID, serverPodIP, "netns", "app=bench-mesh,version=v1", net.JoinHostPort(serverPodIP, portText))
	if err != nil {
		return nil, err
	}
	r.procs = append(r.procs, server)
	r.subjects = append(r.subjects, subject{name: subjWeft, url: "http://" + clientAddr + "/", host: directHost, p: client})
	r.twoHop = subject{name: subjWeft2Hop, url: "http://" + clientAddr + "/", host: meshHost, p: client}

	for _, s := range append(r.subjects, r.twoHop) {
		if err := awaitOK(ctx, s, 60*time.Second); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// startWeftProxy starts weft-proxy as the sidecar of pod podIP: in host
// network mode its outbound side is an HTTP proxy (HTTP_PROXY) on a free
// port of 127.0.0.1; with inbound set (netns mode, the server side) its
// inbound listener is bound there instead of 15006. Access logs are off,
// as they are for nginx and haproxy.
func startWeftProxy(ctx context.Context, bin, xdsAddr, nodeID, podIP, network, labels, inbound string) (*proc, string, error) {
	port, err := freePort("127.0.0.1")
	if err != nil {
		return nil, "", err
	}
	outbound := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := weftProxyArgs(xdsAddr, nodeID, podIP, network, labels, outbound, inbound)
	p, err := startProc(ctx, "weft-proxy "+nodeID, exec.Command(bin, args...), "", 0)
	return p, outbound, err
}

func weftProxyArgs(xdsAddr, nodeID, podIP, network, labels, outbound, inbound string) []string {
	args := []string{"--xds-addr", xdsAddr, "--node-id", nodeID, "--pod-ip", podIP, "--mode", "sidecar", "--network", network,
		"--labels", labels, "--outbound-addr", outbound, "--admin-addr", "127.0.0.1:0", "--stats-addr", "", "--ready-addr", "",
		"--access-log", "off", "--log-level", "error"}
	if inbound != "" {
		args = append(args, "--inbound-addr", inbound)
	}
	return args
}

// awaitOK waits until a GET through s answers 200.
func awaitOK(ctx context.Context, s subject, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	var last error
	for time.Now().Before(deadline) {
		if s.p != nil {
			select {
			case <-s.p.exited:
				return fmt.Errorf("%s exited:\n%s", s.name, tail(s.p.log.String(), 20))
			default:
			}
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
		req.Host = s.host
		resp, err := hc.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	msg := ""
	if s.p != nil {
		msg = "\n" + tail(s.p.log.String(), 20)
	}
	return fmt.Errorf("%s (%s, Host %s) not answering 200 after %s: %v%s", s.name, s.url, s.host, limit, last, msg)
}

// nginxConf is nginx's configuration: its defaults (a worker per CPU),
// no access log, and a keep-alive upstream pool, as one would run it as a
// reverse proxy.
func nginxConf(dir, listen, backend string) string {
	return fmt.Sprintf(`# Generated by test/bench.
worker_processes auto;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    upstream backend {
        server %[3]s;
        keepalive 256;
    }
    server {
        listen %[2]s;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }
    }
}
`, dir, listen, backend)
}

// haproxyConf is haproxy's configuration: its defaults (one thread per
// CPU, http-reuse safe), HTTP mode, timeouts set because it warns without.
func haproxyConf(listen, backend string) string {
	return fmt.Sprintf(`# Generated by test/bench.
global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend bench
    bind %s
    default_backend backend
backend backend
    server backend %s
`, listen, backend)
}

func startNginx(ctx context.Context, dir, backend string) (*proc, string, error) {
	port, err := freePort("127.0.0.1")
	if err != nil {
		return nil, "", err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(nginxConf(dir, addr, backend)), 0o644); err != nil {
		return nil, "", err
	}
	if _, err := exec.LookPath("nginx"); err != nil {
		return nil, "", fmt.Errorf("nginx is not installed (apt-get install nginx): %w", err)
	}
	p, err := startProc(ctx, "nginx", exec.Command("nginx", "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", conf), "", 0)
	return p, addr, err
}

func startHAProxy(ctx context.Context, dir, backend string) (*proc, string, error) {
	port, err := freePort("127.0.0.1")
	if err != nil {
		return nil, "", err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	conf := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(conf, []byte(haproxyConf(addr, backend)), 0o644); err != nil {
		return nil, "", err
	}
	if _, err := exec.LookPath("haproxy"); err != nil {
		return nil, "", fmt.Errorf("haproxy is not installed (apt-get install haproxy): %w", err)
	}
	p, err := startProc(ctx, "haproxy", exec.Command("haproxy", "-f", conf, "-db"), "", 0)
	return p, addr, err
}

// Columns of the sidecar table.
const (
	colRate16  = "@16 conns"
	colRate64  = "@64 conns"
	colRatio64 = "@64 × direct"
	colP50     = "added p50"
	colP90     = "added p90"
	colP99     = "added p99"
	colCPU     = "CPU per request"
	colRSS     = "RSS"
	colPeak    = "peak RSS"
	colAnon    = "private (anon)"
)

// benchSidecar measures every single-hop path once: first wrk at 16 and
// 64 connections against each path in turn, then fortio at a fixed rate
// against each path in turn, each after a second of quiet so that the
// latency is not measured in the wake of the last saturating run. The
// subjects take turns in the same order every round (A B C … A B C …).
func (b *bench) benchSidecar(ctx context.Context, rig *sidecarRig, round int) error {
	sz := b.sz
	m := b.res.matrix(areaSidecar, "Side by side",
		column{colRate16, "req/s"}, column{colRate64, "req/s"}, column{colRatio64, "×"},
		column{colP50, "µs"}, column{colP90, "µs"}, column{colP99, "µs"},
		column{colCPU, "µs"}, column{colRSS, "MB"}, column{colPeak, "MB"}, column{colAnon, "MB"})
	rates := map[string]float64{}
	for _, s := range rig.subjects {
		r16, err := runWrk(ctx, 16, sz.wrk16For, s.host, s.url)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		var meter *procMeter
		if s.p != nil {
			if meter, err = s.p.startCPU(); err != nil {
				return err
			}
		}
		r64, err := runWrk(ctx, 64, sz.wrkFor, s.host, s.url)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		m.add(s.name, colRate16, r16.rate)
		m.add(s.name, colRate64, r64.rate)
		rates[s.name] = r64.rate
		if meter != nil {
			cpu, _, err := meter.stop()
			if err != nil {
				return err
			}
			m.add(s.name, colCPU, micros(cpu)/float64(r64.requests))
			rss, peak, err := s.p.memory()
			if err != nil {
				return err
			}
			m.add(s.name, colRSS, float64(rss)/1e6)
			m.add(s.name, colPeak, float64(peak)/1e6)
			anon, err := s.p.private()
			if err != nil {
				return err
			}
			m.add(s.name, colAnon, float64(anon)/1e6)
		}
	}
	lat := map[string]latency{}
	for _, s := range rig.subjects {
		l, err := quietFortio(ctx, s, sz)
		if err != nil {
			return err
		}
		lat[s.name] = l
		b.res.samples(areaSidecar, "fortio at "+count(int(sz.fortioQPS))+" req/s, "+s.name, int(l.count))
	}
	direct := lat[subjDirect]
	for _, s := range rig.subjects {
		m.add(s.name, colRatio64, rates[s.name]/rates[subjDirect])
		if s.name == subjDirect {
			continue
		}
		l := lat[s.name]
		m.add(s.name, colP50, l.p50-direct.p50)
		m.add(s.name, colP90, l.p90-direct.p90)
		m.add(s.name, colP99, l.p99-direct.p99)
	}
	b.res.add(areaSidecar, "direct: latency at 1,000 req/s, p50 (the baseline the added latencies subtract)", "µs", direct.p50)
	b.res.add(areaSidecar, "direct: latency at 1,000 req/s, p99", "µs", direct.p99)
	b.res.addTarget(areaSidecar, "weft-proxy req/s at 64 connections ÷ nginx's", "× nginx", rates[subjWeft]/rates[subjNginx], targetVsNginxRate)
	b.addedRatio(areaSidecar, round, "weft-proxy added p50 at 1,000 req/s ÷ nginx's", "p50",
		lat[subjWeft].p50-direct.p50, lat[subjNginx].p50-direct.p50, targetVsNginxP50)
	cpu := m.values(subjWeft, colCPU)
	b.res.addAtMost(areaSidecar, "weft-proxy CPU per request (at 64 connections)", "µs", cpu[len(cpu)-1], targetCPUPerRequest)
	rss := m.values(subjWeft, colRSS)
	b.res.addAtMost(areaSidecar, fmt.Sprintf("weft-proxy RSS with %d services configured (after the load)", sidecarServices+2), "MB", rss[len(rss)-1], targetRSS)
	anon := m.values(subjWeft, colAnon)
	b.res.add(areaSidecar, fmt.Sprintf("weft-proxy private memory (RssAnon, without the shared pages of its binary) with %d services configured", sidecarServices+2), "MB", anon[len(anon)-1])
	return nil
}

// quietFortio waits a second, then runs fortio against s.
func quietFortio(ctx context.Context, s subject, sz sizes) (latency, error) {
	select {
	case <-ctx.Done():
		return latency{}, ctx.Err()
	case <-time.After(time.Second):
	}
	l, err := runFortio(s.url, s.host, sz.fortioQPS, sz.fortioConns, sz.fortioFor)
	if err != nil {
		return l, fmt.Errorf("%s: %w", s.name, err)
	}
	return l, nil
}

// Columns of the mesh table.
const (
	colMeshP50 = "p50"
	colMeshP99 = "p99"
	colAddP50  = "added p50"
	colAddP99  = "added p99"
)

// benchMesh measures latency at a fixed rate through no proxy, nginx,
// one weft-proxy and two (the client's outbound sidecar, then the server's
// inbound one), in turn.
func (b *bench) benchMesh(ctx context.Context, rig *sidecarRig, round int) error {
	sz := b.sz
	m := b.res.matrix(areaMesh, "Latency at a fixed rate",
		column{colMeshP50, "µs"}, column{colMeshP99, "µs"}, column{colAddP50, "µs"}, column{colAddP99, "µs"})
	var paths []subject
	for _, s := range rig.subjects {
		if s.name == subjDirect || s.name == subjNginx || s.name == subjWeft {
			paths = append(paths, s)
		}
	}
	paths = append(paths, rig.twoHop)
	lat := map[string]latency{}
	for _, s := range paths {
		l, err := quietFortio(ctx, s, sz)
		if err != nil {
			return err
		}
		lat[s.name] = l
	}
	d := lat[subjDirect]
	for _, s := range paths {
		l := lat[s.name]
		m.add(s.name, colMeshP50, l.p50)
		m.add(s.name, colMeshP99, l.p99)
		if s.name != subjDirect {
			m.add(s.name, colAddP50, l.p50-d.p50)
			m.add(s.name, colAddP99, l.p99-d.p99)
		}
	}
	n, w := lat[subjNginx], lat[subjWeft2Hop]
	b.addedRatio(areaMesh, round, "two weft-proxies' added p50 ÷ nginx's single hop", "p50", w.p50-d.p50, n.p50-d.p50, targetTwoHopVsNginx)
	b.addedRatio(areaMesh, round, "two weft-proxies' added p99 ÷ nginx's single hop", "p99", w.p99-d.p99, n.p99-d.p99, targetTwoHopVsNginx)
	return nil
}

// addedRatio records weft's added latency over nginx's, against a target
// it must not exceed. A round where nginx's added latency is not above
// zero — the direct path's percentile was the higher one, noise from other
// work on the machine — has no meaningful ratio: it is left out, and the
// report says so.
func (b *bench) addedRatio(area string, round int, name, pct string, weft, nginx, limit float64) {
	if nginx <= 0 {
		b.res.notes[area] = append(b.res.notes[area], fmt.Sprintf("Round %d: nginx's added %s was %s µs (the direct path's %s was the higher), so \"%s\" has no value for that round.", round, pct, num(nginx, "µs"), pct, name))
		return
	}
	b.res.addAtMost(area, name, "× nginx", weft/nginx, limit)
}

// runSidecarAreas starts the rig once and runs the sidecar and mesh rounds
// on it. An error stops both areas; the report says why.
func (b *bench) runSidecarAreas(ctx context.Context) error {
	dir := filepath.Join(b.tmp, "sidecar")
	progress("sidecar: starting the backend, nginx, haproxy, Go's reverse proxy and two weft-proxies")
	rig, err := startSidecarRig(ctx, b.bins, dir, b.versions)
	if err != nil {
		return err
	}
	defer rig.stop()
	for round := 1; round <= b.sz.rounds; round++ {
		t := time.Now()
		if err := b.benchSidecar(ctx, rig, round); err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		progress("round %d/%d: sidecar done in %s", round, b.sz.rounds, time.Since(t).Round(10*time.Millisecond))
	}
	for round := 1; round <= b.sz.rounds; round++ {
		t := time.Now()
		if err := b.benchMesh(ctx, rig, round); err != nil {
			// The sidecar figures stand; only the mesh area failed.
			b.res.failed[areaMesh] = fmt.Sprintf("round %d: %v", round, err)
			return nil
		}
		progress("round %d/%d: mesh done in %s", round, b.sz.rounds, time.Since(t).Round(10*time.Millisecond))
	}
	return nil
}
