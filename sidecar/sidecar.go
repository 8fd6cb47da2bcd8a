package sidecar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"github.com/weft-mesh/weft/sidecar/accesslog"
	"github.com/weft-mesh/weft/sidecar/admin"
	"github.com/weft-mesh/weft/sidecar/cluster"
	"github.com/weft-mesh/weft/sidecar/dataplane"
	"github.com/weft-mesh/weft/sidecar/httpproxy"
	"github.com/weft-mesh/weft/sidecar/listener"
	"github.com/weft-mesh/weft/sidecar/metrics"
	"github.com/weft-mesh/weft/sidecar/tcpproxy"
	"github.com/weft-mesh/weft/sidecar/xdsclient"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/protobuf/types/known/structpb"
)

// Config is weft-proxy's bootstrap: everything comes from flags, the rest
// from xDS.
type Config struct {
	// XDSAddr is the control plane's plaintext ADS address (host:port).
	XDSAddr string
	// NodeID is Istio's sidecar~<podIP>~<pod>.<ns>~<ns>.svc.cluster.local.
	NodeID string
	PodIP  string
	// Mode is "sidecar" or "gateway".
	Mode string
	// Network is "netns" or "host" (sidecar mode).
	Network   string
	TokenFile string
	// AdminAddr (127.0.0.1:15000), StatsAddr (:15090, /stats/prometheus) and
	// ReadyAddr (:15021, /healthz/ready); "" disables one, ":0" picks a port.
	AdminAddr, StatsAddr, ReadyAddr string
	// OutboundAddr and InboundAddr, when set, bind virtualOutbound and
	// virtualInbound there instead of their xDS addresses.
	OutboundAddr, InboundAddr string
	// BindIP replaces 0.0.0.0 in listener addresses; defaults to PodIP in
	// host network mode and gateway mode.
	BindIP string
	// Labels are the workload's labels, sent as node metadata LABELS.
	Labels map[string]string
	// Workload is the workload name for metrics (default: from the pod name).
	Workload string
	// DrainTime is how long the proxy keeps serving, draining, after
	// SIGTERM or /quitquitquit (Istio's terminationDrainDuration; 5s).
	DrainTime time.Duration
	// AccessLog is "stdout", "stderr", "off" or a file path.
	AccessLog string
	// Logger, if set, is used as is; else LogLevel builds a JSON logger on stderr.
	Logger   *zap.Logger
	LogLevel string
	// XDSBackoffBase and XDSBackoffMax tune reconnects (tests shorten them).
	XDSBackoffBase, XDSBackoffMax time.Duration
	// XDSDelta selects incremental ADS (DeltaAggregatedResources).
	XDSDelta bool
}

// Validate checks the config and fills defaults.
func (c *Config) Validate() error {
	var errs []error
	if c.XDSAddr == "" {
		errs = append(errs, errors.New("--xds-addr is required"))
	} else if _, _, err := net.SplitHostPort(c.XDSAddr); err != nil {
		errs = append(errs, fmt.Errorf("--xds-addr %q: %w", c.XDSAddr, err))
	}
	if c.NodeID == "" {
		errs = append(errs, errors.New("--node-id is required"))
	} else if parts := strings.Split(c.NodeID, "~"); len(parts) != 4 {
		errs = append(errs, fmt.Errorf("--node-id %q: want type~ip~pod.ns~ns.svc.cluster.local", c.NodeID))
	}
	if c.PodIP != "" && net.ParseIP(c.PodIP) == nil {
		errs = append(errs, fmt.Errorf("--pod-ip %q is not an IP address", c.PodIP))
	}
	switch c.Mode {
	case "":
		c.Mode = listener.Sidecar
	case listener.Sidecar, listener.Gateway:
	default:
		errs = append(errs, fmt.Errorf("--mode %q: want sidecar or gateway", c.Mode))
	}
	switch c.Network {
	case "":
		c.Network = listener.Host
	case listener.Host, listener.NetNS:
	default:
		errs = append(errs, fmt.Errorf("--network %q: want netns or host", c.Network))
	}
	if c.BindIP == "" && (c.Network == listener.Host || c.Mode == listener.Gateway) {
		c.BindIP = c.PodIP
	}
	if c.DrainTime == 0 {
		c.DrainTime = 5 * time.Second
	}
	return errors.Join(errs...)
}

// Proxy is a running weft-proxy.
type Proxy struct {
	cfg   Config
	log   *zap.Logger
	level zap.AtomicLevel

	snaps     dataplane.Holder
	clusters  *cluster.Manager
	xds       *xdsclient.Client
	listeners *listener.Manager
	http      *httpproxy.Proxy
	metrics   *metrics.Metrics
	alog      *accesslog.Logger
	alogClose io.Closer

	ready    atomic.Bool
	draining atomic.Bool
	quit     chan struct{}
	quitOnce sync.Once
	waitOnce sync.Once

	mu      sync.Mutex
	servers map[string]*http.Server
	addrs   map[string]string
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

// New builds a Proxy from cfg (validated).
func New(cfg Config) (*Proxy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	level := zap.NewAtomicLevelAt(zapcore.InfoLevel)
	if cfg.LogLevel != "" {
		if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
			return nil, fmt.Errorf("--log-level: %w", err)
		}
	}
	log := cfg.Logger
	if log == nil {
		zc := zap.NewProductionConfig()
		zc.Level = level
		var err error
		if log, err = zc.Build(); err != nil {
			return nil, fmt.Errorf("logger: %w", err)
		}
	}
	alog, closer, err := accesslog.Open(cfg.AccessLog)
	if err != nil {
		return nil, fmt.Errorf("--access-log: %w", err)
	}
	p := &Proxy{cfg: cfg, log: log, level: level, quit: make(chan struct{}), servers: map[string]*http.Server{}, addrs: map[string]string{}, alog: alog, alogClose: closer}
	p.snaps.Store(dataplane.Empty())
	p.metrics = metrics.New(selfWorkload(cfg))
	p.http = httpproxy.New(httpproxy.Options{Snapshots: &p.snaps, Metrics: p.metrics, AccessLog: alog, Logger: log})
	return p, nil
}

// selfWorkload derives the metrics identity from the node id and labels.
func selfWorkload(cfg Config) metrics.Workload {
	w := metrics.Workload{Principal: "unknown", Cluster: "Kubernetes", App: "unknown", Version: "unknown", Name: "unknown", Namespace: "unknown"}
	parts := strings.Split(cfg.NodeID, "~")
	if len(parts) == 4 {
		pod, ns, _ := strings.Cut(parts[2], ".")
		w.Namespace = ns
		w.Name = workloadFromPod(pod)
	}
	if cfg.Workload != "" {
		w.Name = cfg.Workload
	}
	if a := cfg.Labels["app"]; a != "" {
		w.App = a
	} else if a := cfg.Labels["app.kubernetes.io/name"]; a != "" {
		w.App = a
	}
	if v := cfg.Labels["version"]; v != "" {
		w.Version = v
	}
	return w
}

// workloadFromPod strips a Deployment pod's "-<rs hash>-<pod hash>".
func workloadFromPod(pod string) string {
	parts := strings.Split(pod, "-")
	if len(parts) >= 3 {
		return strings.Join(parts[:len(parts)-2], "-")
	}
	return pod
}

// Node is the xDS node this proxy announces.
func (p *Proxy) Node() *corev3.Node {
	parts := strings.Split(p.cfg.NodeID, "~")
	labels := map[string]any{}
	for k, v := range p.cfg.Labels {
		labels[k] = v
	}
	md := map[string]any{"LABELS": labels, "PROXY_MODE": p.cfg.Mode, "NETWORK_MODE": p.cfg.Network, "CLUSTER_ID": "Kubernetes"}
	if p.cfg.PodIP != "" {
		md["INSTANCE_IPS"] = p.cfg.PodIP
	}
	if len(parts) == 4 {
		pod, ns, _ := strings.Cut(parts[2], ".")
		md["NAME"], md["NAMESPACE"] = pod, ns
	}
	if wl := selfWorkload(p.cfg); wl.Name != "unknown" {
		md["WORKLOAD_NAME"] = wl.Name
	}
	st, _ := structpb.NewStruct(md)
	n := &corev3.Node{Id: p.cfg.NodeID, Metadata: st, UserAgentName: "weft-proxy"}
	if app := p.cfg.Labels["app"]; app != "" && len(parts) == 4 {
		_, ns, _ := strings.Cut(parts[2], ".")
		n.Cluster = app + "." + ns
	}
	return n
}

// Start binds the admin, stats and readiness ports and connects to the
// control plane. Listeners bind as their configuration arrives.
func (p *Proxy) Start(ctx context.Context) error {
	p.ctx, p.cancel = context.WithCancel(ctx)
	p.clusters = cluster.NewManager(p.ctx)
	overrides := map[string]string{}
	if p.cfg.OutboundAddr != "" {
		overrides["virtualOutbound"] = p.cfg.OutboundAddr
	}
	if p.cfg.InboundAddr != "" {
		overrides["virtualInbound"] = p.cfg.InboundAddr
	}
	p.listeners = listener.New(p.ctx, listener.Options{
		Mode: p.cfg.Mode, Network: p.cfg.Network, BindIP: p.cfg.BindIP, Overrides: overrides,
		HTTP: p.http, TCP: &tcpproxy.Proxy{Snapshots: &p.snaps, Metrics: p.metrics, AccessLog: p.alog},
		Snapshots: &p.snaps, Logger: p.log,
	})
	src := &admin.Source{Snapshots: &p.snaps, Metrics: p.metrics, Level: p.level, Addrs: p.listeners.Addrs,
		Ready: p.ready.Load, Draining: p.draining.Load, Quit: p.Quit}
	p.xds = xdsclient.New(xdsclient.Config{Addr: p.cfg.XDSAddr, Node: p.Node(), TokenFile: p.cfg.TokenFile,
		OnUpdate: p.apply, Logger: p.log, BackoffBase: p.cfg.XDSBackoffBase, BackoffMax: p.cfg.XDSBackoffMax, Delta: p.cfg.XDSDelta})
	src.XDS = p.xds
	for _, s := range []struct {
		name, addr string
		h          http.Handler
	}{
		{"admin", p.cfg.AdminAddr, admin.Handler(src)},
		{"stats", p.cfg.StatsAddr, statsHandler(p.metrics)},
		{"ready", p.cfg.ReadyAddr, admin.ReadyHandler(src)},
	} {
		if s.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			p.cancel()
			p.closeServers()
			return fmt.Errorf("%s listener %s: %w", s.name, s.addr, err)
		}
		srv := &http.Server{Handler: s.h, ReadHeaderTimeout: 10 * time.Second}
		p.mu.Lock()
		p.servers[s.name] = srv
		p.addrs[s.name] = ln.Addr().String()
		p.mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			_ = srv.Serve(ln)
		}()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = p.xds.Run(p.ctx)
	}()
	return nil
}

func statsHandler(m *metrics.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/stats/prometheus", m.Handler())
	return mux
}

// apply is the xDS client's callback: build and publish a snapshot, bind
// listeners, and become ready once the first complete config is in.
func (p *Proxy) apply(st *xdsclient.State) error {
	snap, dropped := dataplane.Build(st, p.snaps.Load(), p.clusters)
	p.snaps.Store(snap)
	p.clusters.Retain(snap.Clusters, dropped)
	err := p.listeners.Apply(snap)
	if st.Complete() && !p.ready.Load() {
		p.ready.Store(true)
		p.log.Info("proxy ready", zap.Int("listeners", len(snap.Listeners)), zap.Int("clusters", len(snap.Clusters)))
	}
	if err != nil && st.Changed == xdsresource.ListenerType {
		return err
	}
	if err != nil {
		p.log.Warn("apply", zap.Error(err))
	}
	return nil
}

// Ready reports whether the first complete configuration is applied.
func (p *Proxy) Ready() bool { return p.ready.Load() }

// Addr returns the bound address of "admin", "stats", "ready", or a listener name.
func (p *Proxy) Addr(name string) string {
	p.mu.Lock()
	a := p.addrs[name]
	p.mu.Unlock()
	if a != "" {
		return a
	}
	return p.listeners.Addrs()[name]
}

// Listeners returns the bound listener addresses by name, sorted names first.
func (p *Proxy) Listeners() map[string]string { return p.listeners.Addrs() }

// XDS returns the xDS client (status for tests and the admin page).
func (p *Proxy) XDS() *xdsclient.Client { return p.xds }

// Snapshot returns the current data-plane snapshot.
func (p *Proxy) Snapshot() *dataplane.Snapshot { return p.snaps.Load() }

// Quit starts a graceful shutdown (as /quitquitquit does).
func (p *Proxy) Quit() { p.quitOnce.Do(func() { close(p.quit) }) }

// Wait blocks until ctx ends or Quit is called, then drains: readiness
// fails, listeners keep serving for DrainTime with HTTP/1 connections
// closed after each response, then stop accepting; in-flight work gets a
// few more seconds, and everything closes.
func (p *Proxy) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-p.quit:
	}
	p.waitOnce.Do(p.drain)
	return nil
}

// finalGrace bounds the last step of a drain: in-flight requests and TCP
// connections still open when the drain time is over.
const finalGrace = 5 * time.Second

// drain is Envoy's drain on shutdown (Istio's terminationDrainDuration):
// for DrainTime the proxy fails readiness but keeps its listeners open and
// serves, closing HTTP/1 connections after their responses; then it stops
// accepting and gives in-flight work finalGrace to end. Kept-alive
// connections of other proxies are thus never cut under a request while
// the endpoint's removal travels to them.
func (p *Proxy) drain() {
	p.draining.Store(true)
	p.log.Info("draining", zap.Duration("drain_time", p.cfg.DrainTime))
	p.listeners.StartDrain()
	time.Sleep(p.cfg.DrainTime)
	dctx, cancel := context.WithTimeout(context.Background(), finalGrace)
	defer cancel()
	p.listeners.Drain(dctx)
	p.http.WaitMirrors()
	p.cancel()
	p.closeServers()
	p.wg.Wait()
	_ = p.alogClose.Close()
	_ = p.log.Sync()
}

func (p *Proxy) closeServers() {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, 0, len(p.servers))
	for n := range p.servers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		_ = p.servers[n].Close()
	}
}

// Run starts the proxy and serves until ctx ends (SIGTERM), then drains.
func Run(ctx context.Context, cfg Config) error {
	p, err := New(cfg)
	if err != nil {
		return err
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	for _, n := range []string{"admin", "stats", "ready"} {
		if a := p.Addr(n); a != "" {
			p.log.Info("serving", zap.String("port", n), zap.String("addr", a))
		}
	}
	return p.Wait(ctx)
}
