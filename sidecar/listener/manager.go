package listener

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weft-mesh/weft/sidecar/dataplane"
	"github.com/weft-mesh/weft/sidecar/httpproxy"
	"github.com/weft-mesh/weft/sidecar/internal/h1server"
	"github.com/weft-mesh/weft/sidecar/tcpproxy"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
	"go.uber.org/zap"
)

// Network modes.
const (
	// NetNS: the pod has its own network namespace; iptables redirect
	// traffic to virtualOutbound (15001) and virtualInbound (15006), and
	// SO_ORIGINAL_DST gives the real destination.
	NetNS = "netns"
	// Host: pods share the host network; virtualOutbound is an HTTP proxy
	// on the pod IP (HTTP_PROXY) and TCP-only listeners bind on the pod IP.
	Host = "host"
)

// Modes.
const (
	Sidecar = "sidecar"
	Gateway = "gateway"
)

// Options configure a Manager.
type Options struct {
	Mode    string
	Network string
	// BindIP replaces 0.0.0.0 in listener addresses (host and gateway
	// modes bind on the pod or node IP). Empty keeps the address.
	BindIP string
	// Overrides binds the named listeners elsewhere, e.g. virtualOutbound
	// on 127.0.0.1:0 in tests.
	Overrides map[string]string
	HTTP      *httpproxy.Proxy
	TCP       *tcpproxy.Proxy
	Snapshots *dataplane.Holder
	Logger    *zap.Logger
	// NetHTTPOnly serves every HTTP connection with net/http's server, not
	// the lean HTTP/1.1 server first (also set by the environment variable
	// WEFT_PROXY_H1_FASTPATH=off).
	NetHTTPOnly bool
}

// Manager binds the listeners of each snapshot and dispatches connections
// to filter chains: HTTP chains to per-listener HTTP servers, TCP chains to
// the TCP proxy.
type Manager struct {
	o   Options
	log *zap.Logger
	ctx context.Context

	mu        sync.Mutex
	live      map[string]*live
	servers   map[string]*server
	hostProxy *server
	closing   bool
	// draining is set by StartDrain: listeners keep accepting, and every
	// HTTP/1 response closes its connection.
	draining atomic.Bool
	tcpConns map[net.Conn]struct{}
	// retired are HTTP servers of replaced listeners still draining;
	// drainCh closes when the Manager drains and takes them over.
	retired map[*server]struct{}
	drainCh chan struct{}
	wg      sync.WaitGroup
}

type live struct {
	name      string
	addr      string
	ln        net.Listener
	cfg       *xdsresource.Listener
	hostProxy bool
	mu        sync.Mutex
}

func (l *live) config() *xdsresource.Listener {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cfg
}

// server serves the connections dispatched to one listener version: the
// lean HTTP/1.1 server (fast) takes them first when the codec allows
// HTTP/1, and hands what it does not take (h2c, upgrades, CONNECT, odd or
// malformed requests) to an http.Server through ln.
type server struct {
	cfg  *xdsresource.Listener
	hcm  *xdsresource.HTTPConnectionManager
	srv  *http.Server
	fast *h1server.Server
	ln   *chanListener
}

// serve serves one connection; it may block until the connection ends.
func (s *server) serve(c net.Conn) {
	if s.fast != nil {
		s.fast.ServeConn(c)
		return
	}
	s.ln.push(c)
}

// handOver gives a connection the lean server declined to the http.Server,
// with the bytes already read replayed.
func (s *server) handOver(c net.Conn, replay []byte) {
	if cc, ok := c.(*ciConn); ok {
		s.ln.push(&ciConn{Conn: &peekConn{Conn: cc.Conn, buf: replay}, ci: cc.ci, m: cc.m})
		return
	}
	s.ln.push(&peekConn{Conn: c, buf: replay})
}

func (s *server) setKeepAlivesEnabled(v bool) {
	s.srv.SetKeepAlivesEnabled(v)
	if s.fast != nil {
		s.fast.SetKeepAlivesEnabled(v)
	}
}

// shutdown shuts both servers down as http.Server.Shutdown does, and
// closes what is left when ctx ends first.
func (s *server) shutdown(ctx context.Context) {
	var wg sync.WaitGroup
	if s.fast != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.fast.Shutdown(ctx); err != nil {
				_ = s.fast.Close()
			}
		}()
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	wg.Wait()
}

type ciKey struct{}

type ciConn struct {
	net.Conn
	ci     *dataplane.ConnInfo
	m      *Manager
	closed sync.Once
}

// Close applies the connection manager's delayed_close_timeout: the write
// side closes at once (the peer sees the end of the last response), then
// the socket closes when the peer closes its side or the timeout passes,
// whichever is first, so the peer does not get a reset while it reads.
// The wait runs on a goroutine the Manager owns; Close does not block.
func (c *ciConn) Close() error {
	var d time.Duration
	if h := c.ci.Chain.HTTP; h != nil {
		d = h.DelayedCloseTimeout
	}
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if d <= 0 || !ok || c.m == nil {
		return c.Conn.Close()
	}
	c.closed.Do(func() {
		if err := cw.CloseWrite(); err != nil {
			_ = c.Conn.Close()
			return
		}
		_ = c.Conn.SetReadDeadline(time.Now().Add(d))
		c.m.wg.Add(1)
		go func() {
			defer c.m.wg.Done()
			// Bounded: at most d, and at most 64 KiB read into nothing.
			_, _ = io.CopyN(io.Discard, c.Conn, 64<<10)
			_ = c.Conn.Close()
		}()
	})
	return nil
}

// CloseWrite half-closes the underlying connection.
func (c *ciConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// New returns a Manager; ctx bounds the connections it serves.
func New(ctx context.Context, o Options) *Manager {
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if os.Getenv("WEFT_PROXY_H1_FASTPATH") == "off" {
		o.NetHTTPOnly = true
	}
	m := &Manager{o: o, log: o.Logger, ctx: ctx, live: map[string]*live{}, servers: map[string]*server{}, tcpConns: map[net.Conn]struct{}{},
		retired: map[*server]struct{}{}, drainCh: make(chan struct{})}
	return m
}

// Addrs returns the bound address of every bound listener, by name.
func (m *Manager) Addrs() map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for n, l := range m.live {
		out[n] = l.ln.Addr().String()
	}
	return out
}

// desired says where a listener binds, if at all.
func (m *Manager) desired(l *xdsresource.Listener) (addr string, hostProxy, bind bool) {
	host := l.Host
	if m.o.BindIP != "" && (host == "0.0.0.0" || host == "::") {
		host = m.o.BindIP
	}
	addr = net.JoinHostPort(host, strconv.Itoa(int(l.Port)))
	if a, ok := m.o.Overrides[l.Name]; ok {
		addr = a
	}
	switch {
	case m.o.Mode == Gateway:
		return addr, false, l.BindToPort
	case m.o.Network == Host:
		if l.UseOriginalDst && dataplane.DirectionOf(l) == dataplane.Outbound {
			return addr, true, true
		}
		if dataplane.DirectionOf(l) == dataplane.Inbound || l.UseOriginalDst {
			return "", false, false
		}
		// The translator's host-mode HTTP proxy "<podIP>_<port>" (route
		// configuration "http_proxy"): bound on its own address; it routes
		// by Host, absolute URLs included, and answers 404 NR for unknown
		// hosts (no allow_any).
		if l.Host != "0.0.0.0" && l.Host != "::" {
			return addr, false, l.BindToPort && len(l.FilterChains) > 0
		}
		for _, fc := range l.FilterChains {
			if fc.TCP == nil {
				return "", false, false
			}
		}
		return addr, false, len(l.FilterChains) > 0
	default:
		return addr, false, l.BindToPort
	}
}

// Apply binds the listeners of snap and closes those no longer wanted.
// Listeners that keep their address keep their socket; new connections use
// the new config, existing ones finish on the old. Bind failures are
// returned (the xDS client NACKs with them); the other listeners apply.
func (m *Manager) Apply(snap *dataplane.Snapshot) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closing {
		return nil
	}
	var errs []error
	want := map[string]bool{}
	names := make([]string, 0, len(snap.Listeners))
	for n := range snap.Listeners {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		l := snap.Listeners[name]
		addr, hostProxy, bind := m.desired(l)
		if !bind {
			continue
		}
		want[name] = true
		if cur := m.live[name]; cur != nil {
			if cur.addr == addr && cur.hostProxy == hostProxy {
				cur.mu.Lock()
				cur.cfg = l
				cur.mu.Unlock()
				continue
			}
			_ = cur.ln.Close()
			delete(m.live, name)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("listener %q: bind %s: %w", name, addr, err))
			continue
		}
		lv := &live{name: name, addr: addr, ln: ln, cfg: l, hostProxy: hostProxy}
		m.live[name] = lv
		m.wg.Add(1)
		go m.accept(lv)
		m.log.Info("listener bound", zap.String("listener", name), zap.String("addr", ln.Addr().String()))
	}
	for name, lv := range m.live {
		if !want[name] {
			_ = lv.ln.Close()
			delete(m.live, name)
		}
	}
	// HTTP servers of removed or replaced listeners drain in the background.
	for name, s := range m.servers {
		if l := snap.Listeners[name]; l != s.cfg {
			delete(m.servers, name)
			m.retire(s)
		}
	}
	return errors.Join(errs...)
}

// drainGrace bounds how long in-flight requests of a retired connection
// manager may run after its final GOAWAY before their connections close.
const drainGrace = 30 * time.Second

// retire drains the HTTP server of a replaced or removed listener, as
// Envoy's connection manager drains with drain_timeout: HTTP/1 keep-alive
// stops at once (Connection: close on the current response, idle
// connections close), HTTP/2 connections may open streams for
// drain_timeout more, then Shutdown sends the final GOAWAY and waits up to
// drainGrace for in-flight requests. Drain takes over retired servers.
// The caller holds m.mu.
func (m *Manager) retire(s *server) {
	s.setKeepAlivesEnabled(false)
	m.retired[s] = struct{}{}
	d := 5 * time.Second
	if s.hcm != nil {
		d = s.hcm.DrainTimeout
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-m.drainCh:
			t.Stop()
			return
		}
		ctx, cancel := context.WithTimeout(m.ctx, drainGrace)
		defer cancel()
		s.shutdown(ctx)
		m.mu.Lock()
		delete(m.retired, s)
		m.mu.Unlock()
	}()
}

func (m *Manager) accept(lv *live) {
	defer m.wg.Done()
	var delay time.Duration
	for {
		conn, err := lv.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off and go on.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			m.log.Warn("accept", zap.String("listener", lv.name), zap.Error(err))
			time.Sleep(delay)
			continue
		}
		delay = 0
		go m.handle(lv, conn)
	}
}

func (m *Manager) handle(lv *live, conn net.Conn) {
	if lv.hostProxy {
		m.hostProxyServer().serve(conn)
		return
	}
	cfg := lv.config()
	local, _ := conn.LocalAddr().(*net.TCPAddr)
	orig := local
	if m.o.Network == NetNS && (cfg.UseOriginalDst || cfg.OriginalDstFilter) {
		if od, err := originalDst(conn); err == nil {
			orig = od
		}
	}
	target := cfg
	if cfg.UseOriginalDst && orig != nil && orig.String() != local.String() {
		if l := m.o.Snapshots.Load().ListenerFor(orig.IP.String(), uint32(orig.Port)); l != nil {
			target = l
		}
	}
	m.Dispatch(target, conn, orig)
}

// Dispatch serves conn on listener l; orig is its original destination.
func (m *Manager) Dispatch(l *xdsresource.Listener, conn net.Conn, orig *net.TCPAddr) {
	var c net.Conn = conn
	transport, app := "raw_buffer", ""
	if dataplane.NeedsSniffing(l) {
		c, transport, app = sniff(conn, l.SniffTimeout)
	}
	var ip net.IP
	var port uint32
	if orig != nil {
		ip, port = orig.IP, uint32(orig.Port)
	}
	chain, err := dataplane.SelectChain(l, ip, port, transport, app)
	if err != nil {
		m.log.Debug("no filter chain", zap.Error(err))
		_ = conn.Close()
		return
	}
	ci := &dataplane.ConnInfo{Listener: l, Chain: chain, Remote: conn.RemoteAddr().String(), Direction: dataplane.DirectionOf(l)}
	if orig != nil {
		ci.OriginalDst = orig.String()
	}
	if chain.TCP != nil {
		if !m.trackTCP(c, true) {
			_ = c.Close()
			return
		}
		defer m.trackTCP(c, false)
		m.o.TCP.Serve(m.ctx, c, chain.TCP, ci)
		return
	}
	m.serverFor(l).serve(&ciConn{Conn: c, ci: ci, m: m})
}

func (m *Manager) trackTCP(c net.Conn, add bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if add {
		if m.closing {
			return false
		}
		m.tcpConns[c] = struct{}{}
	} else {
		delete(m.tcpConns, c)
	}
	return true
}

func (m *Manager) serverFor(l *xdsresource.Listener) *server {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.servers[l.Name]; s != nil && s.cfg == l {
		return s
	}
	var hcm *xdsresource.HTTPConnectionManager
	for _, fc := range l.FilterChains {
		if fc.HTTP != nil {
			hcm = fc.HTTP
			break
		}
	}
	if hcm == nil && l.DefaultFilterChain != nil {
		hcm = l.DefaultFilterChain.HTTP
	}
	s := m.newServer(l, hcm, func(w http.ResponseWriter, r *http.Request) {
		ci := r.Context().Value(ciKey{}).(*dataplane.ConnInfo)
		m.o.HTTP.Serve(w, r, ci, ci.Chain.HTTP)
	})
	if old := m.servers[l.Name]; old != nil {
		m.retire(old)
	}
	m.servers[l.Name] = s
	return s
}

func (m *Manager) newServer(l *xdsresource.Listener, hcm *xdsresource.HTTPConnectionManager, h http.HandlerFunc) *server {
	ln := newChanListener()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && m.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		h(w, r)
	})
	connContext := func(ctx context.Context, c net.Conn) context.Context {
		if cc, ok := c.(*ciConn); ok {
			return context.WithValue(ctx, ciKey{}, cc.ci)
		}
		return ctx
	}
	errorLog := zap.NewStdLog(m.log.WithOptions(zap.IncreaseLevel(zap.ErrorLevel)))
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 60 * time.Second,
		MaxHeaderBytes:    60 << 10,
		IdleTimeout:       time.Hour,
		ErrorLog:          errorLog,
		ConnContext:       connContext,
		Protocols:         new(http.Protocols),
	}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	if hcm != nil {
		srv.MaxHeaderBytes = hcm.MaxHeaderBytes
		if hcm.RequestHeadersTimeout > 0 {
			srv.ReadHeaderTimeout = hcm.RequestHeadersTimeout
		}
		if hcm.IdleTimeout > 0 {
			srv.IdleTimeout = hcm.IdleTimeout
		}
		switch hcm.Codec {
		case xdsresource.CodecHTTP1:
			srv.Protocols.SetUnencryptedHTTP2(false)
		case xdsresource.CodecHTTP2:
			srv.Protocols.SetHTTP1(false)
		}
		if hcm.MaxConcurrentStreams > 0 {
			srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: int(hcm.MaxConcurrentStreams)}
		}
	}
	go func() { _ = srv.Serve(ln) }()
	s := &server{cfg: l, hcm: hcm, srv: srv, ln: ln}
	if srv.Protocols.HTTP1() && !m.o.NetHTTPOnly {
		s.fast = &h1server.Server{
			Handler: handler, Fallback: s.handOver, ConnContext: connContext, ErrorLog: errorLog,
			ReadHeaderTimeout: srv.ReadHeaderTimeout, IdleTimeout: srv.IdleTimeout, MaxHeaderBytes: srv.MaxHeaderBytes,
		}
	}
	return s
}

func (m *Manager) hostProxyServer() *server {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hostProxy == nil {
		m.hostProxy = m.newServer(nil, nil, m.serveHostProxy)
	}
	return m.hostProxy
}

// serveHostProxy is the host-mode outbound HTTP proxy: each request picks
// the outbound listener of its destination port (0.0.0.0_<port>) and is
// served by that listener's HTTP connection manager.
func (m *Manager) serveHostProxy(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		m.connect(w, r)
		return
	}
	port := uint32(80)
	// (SplitHostPort's error for a host without a port allocates.)
	if strings.IndexByte(r.Host, ':') >= 0 {
		if _, p, err := net.SplitHostPort(r.Host); err == nil {
			if n, err := strconv.Atoi(p); err == nil {
				port = uint32(n)
			}
		}
	}
	l := m.o.Snapshots.Load().ListenerFor("0.0.0.0", port)
	var chain *xdsresource.FilterChain
	if l != nil {
		for _, fc := range l.FilterChains {
			if fc.HTTP != nil && (fc.Match.DestinationPort == 0 || fc.Match.DestinationPort == port) {
				chain = fc
				break
			}
		}
	}
	if chain == nil {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	ci := &dataplane.ConnInfo{Listener: l, Chain: chain, Remote: r.RemoteAddr, Direction: dataplane.Outbound, HostProxy: true}
	m.o.HTTP.Serve(w, r, ci, chain.HTTP)
}

// connect tunnels a CONNECT request: the tunnel is served by the listener
// of the destination port (HTTP or TCP), else the virtual outbound
// listener's passthrough chain.
func (m *Manager) connect(w http.ResponseWriter, r *http.Request) {
	host, portStr, err := net.SplitHostPort(r.Host)
	port, perr := strconv.Atoi(portStr)
	if err != nil || perr != nil {
		http.Error(w, "bad CONNECT target", http.StatusBadRequest)
		return
	}
	snap := m.o.Snapshots.Load()
	l := snap.ListenerFor("0.0.0.0", uint32(port))
	if l == nil {
		for _, cand := range snap.Listeners {
			if cand.UseOriginalDst && dataplane.DirectionOf(cand) == dataplane.Outbound {
				l = cand
			}
		}
	}
	if l == nil {
		http.Error(w, "no listener for "+r.Host, http.StatusNotFound)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "cannot tunnel", http.StatusInternalServerError)
		return
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		conn.Close()
		return
	}
	var c net.Conn = conn
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		c = &peekConn{Conn: conn, buf: append([]byte(nil), b...)}
	}
	ip := net.ParseIP(host)
	if ip == nil {
		// A name: ORIGINAL_DST dials it; chain matching sees no IP.
		ip = net.IPv4zero
	}
	orig := &net.TCPAddr{IP: ip, Port: port}
	m.DispatchTo(l, c, orig, r.Host)
}

// DispatchTo is Dispatch with the original destination given as
// "host:port" (a name is allowed, for the host-mode proxy).
func (m *Manager) DispatchTo(l *xdsresource.Listener, c net.Conn, orig *net.TCPAddr, dst string) {
	chain, err := dataplane.SelectChain(l, orig.IP, uint32(orig.Port), "raw_buffer", "")
	if err != nil {
		_ = c.Close()
		return
	}
	ci := &dataplane.ConnInfo{Listener: l, Chain: chain, OriginalDst: dst, Remote: c.RemoteAddr().String(), Direction: dataplane.Outbound}
	if chain.TCP != nil {
		if !m.trackTCP(c, true) {
			_ = c.Close()
			return
		}
		defer m.trackTCP(c, false)
		m.o.TCP.Serve(m.ctx, c, chain.TCP, ci)
		return
	}
	m.serverFor(l).serve(&ciConn{Conn: c, ci: ci, m: m})
}

// StartDrain begins a graceful drain, as Envoy's on shutdown: the
// listeners stay open and keep serving, but every HTTP/1 response now
// carries Connection: close, so that clients move their keep-alive
// connections elsewhere instead of having them cut. Drain ends it.
func (m *Manager) StartDrain() { m.draining.Store(true) }

// Drain stops accepting, lets in-flight HTTP requests finish and TCP
// connections end until ctx is done, then closes everything.
func (m *Manager) Drain(ctx context.Context) {
	m.draining.Store(true)
	m.mu.Lock()
	m.closing = true
	close(m.drainCh)
	for _, lv := range m.live {
		_ = lv.ln.Close()
	}
	servers := make([]*server, 0, len(m.servers)+len(m.retired)+1)
	for _, s := range m.servers {
		servers = append(servers, s)
	}
	for s := range m.retired {
		servers = append(servers, s)
	}
	if m.hostProxy != nil {
		servers = append(servers, m.hostProxy)
	}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.shutdown(ctx)
		}()
	}
	wg.Wait()
	for {
		m.mu.Lock()
		n := len(m.tcpConns)
		if n == 0 || ctx.Err() != nil {
			for c := range m.tcpConns {
				_ = c.Close()
			}
			m.mu.Unlock()
			break
		}
		m.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	m.wg.Wait()
}

// chanListener is a net.Listener fed by Dispatch.
type chanListener struct {
	ch     chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newChanListener() *chanListener {
	return &chanListener{ch: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) push(c net.Conn) {
	select {
	case l.ch <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{} }
