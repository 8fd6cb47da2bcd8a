package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/zap"
)

// Errors of the server.
var (
	// ErrZoneMismatch: SetIndex was handed an index of another zone.
	ErrZoneMismatch = errors.New("index zone differs from the server's")
	// ErrForwardLoop: an upstream is the server itself.
	ErrForwardLoop = errors.New("upstream is this server")
	// ErrStarted: Start was called twice.
	ErrStarted = errors.New("dns server already started")
)

// Server is the cluster DNS server: UDP and TCP on one address, the plugin
// chain of plugins() behind request checks common to every query.
type Server struct {
	cfg     Config
	index   atomic.Pointer[Index]
	handler Handler
	cache   *Cache // nil when off

	ctx    context.Context // canceled by Shutdown: in-flight forwards end
	cancel context.CancelFunc

	mu       sync.Mutex
	udp, tcp *dns.Server
	udpAddr  *net.UDPAddr
	tcpAddr  *net.TCPAddr
	serving  sync.WaitGroup
	serveErr chan error
}

// NewServer checks cfg, reads the upstreams (from cfg.Upstreams or
// resolv.conf) and assembles the plugin chain. It does not listen yet: call
// Start, or Run. Until SetIndex is called, cluster names get SERVFAIL.
func NewServer(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, serveErr: make(chan error, 2)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.handler = Chain(s.plugins()...)
	if k, ok := s.handler.(*Kubernetes); ok {
		s.cache, _ = k.Next.(*Cache)
	}
	return s, nil
}

// SetIndex makes ix the index answering from the next query on. Readers
// never see a partial update: ix is immutable and swapped whole.
func (s *Server) SetIndex(ix *Index) error {
	if ix == nil {
		return fmt.Errorf("set index: nil index")
	}
	if want := dns.CanonicalName(s.cfg.Zone); ix.Zone() != want {
		return fmt.Errorf("set index for %s on a server for %s: %w", ix.Zone(), want, ErrZoneMismatch)
	}
	s.index.Store(ix)
	return nil
}

// Index returns the index in use, nil before the first SetIndex.
func (s *Server) Index() *Index { return s.index.Load() }

// Start listens on cfg.Addr, UDP and TCP on the same port, and serves in
// the background until Shutdown. It returns once both are serving.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udp != nil {
		return ErrStarted
	}
	pc, ln, err := listenBoth(s.cfg.Addr)
	if err != nil {
		return err
	}
	s.udpAddr = pc.LocalAddr().(*net.UDPAddr)
	s.tcpAddr = ln.Addr().(*net.TCPAddr)
	if err := s.checkLoop(); err != nil {
		pc.Close()
		ln.Close()
		return err
	}
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	s.udp = &dns.Server{
		PacketConn:        pc,
		Handler:           s,
		UDPSize:           maxUDPSize,
		NotifyStartedFunc: notify,
	}
	s.tcp = &dns.Server{
		Listener:          newLimitListener(ln, s.cfg.MaxTCPConns),
		Handler:           s,
		ReadTimeout:       2 * time.Second,
		WriteTimeout:      2 * time.Second,
		IdleTimeout:       func() time.Duration { return 8 * time.Second },
		MaxTCPQueries:     1000,
		NotifyStartedFunc: notify,
	}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		s.serving.Add(1)
		go func() {
			defer s.serving.Done()
			if err := srv.ActivateAndServe(); err != nil {
				s.serveErr <- err
			}
		}()
	}
	for range 2 {
		select {
		case <-started:
		case err := <-s.serveErr:
			pc.Close() // ends the other serving goroutine too
			ln.Close()
			s.serving.Wait()
			return fmt.Errorf("serve dns on %s: %w", s.cfg.Addr, err)
		}
	}
	s.cfg.Log.Info("dns serving", zap.String("addr", s.udpAddr.String()), zap.String("zone", s.cfg.Zone),
		zap.Strings("upstreams", s.cfg.Upstreams))
	return nil
}

// listenBoth binds UDP and TCP on one port. With port 0 it retries when the
// port UDP got is taken for TCP.
func listenBoth(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns address %q: %w", addr, err)
	}
	var lastErr error
	for range 10 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listen udp %s: %w", addr, err)
		}
		p := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		ln, err := net.Listen("tcp", net.JoinHostPort(host, p))
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = fmt.Errorf("listen tcp %s: %w", net.JoinHostPort(host, p), err)
		if port != "0" {
			break
		}
	}
	return nil, nil, lastErr
}

// checkLoop refuses an upstream that is this server: every forwarded query
// would come back to it.
func (s *Server) checkLoop() error {
	self := s.udpAddr.AddrPort()
	for _, u := range s.cfg.Upstreams {
		ap, err := netip.ParseAddrPort(u)
		if err != nil || ap.Port() != self.Port() {
			continue
		}
		a := ap.Addr().Unmap()
		if a == self.Addr().Unmap() || (self.Addr().IsUnspecified() && (a.IsLoopback() || a.IsUnspecified())) {
			return fmt.Errorf("upstream %s: %w", u, ErrForwardLoop)
		}
	}
	return nil
}

// Addr returns the address served, host:port (the same port for UDP and
// TCP), once started: what weftd writes as dns= in weftd.addrs.
func (s *Server) Addr() string {
	if a := s.UDPAddr(); a != nil {
		return a.String()
	}
	return ""
}

// UDPAddr returns the UDP address served, nil before Start.
func (s *Server) UDPAddr() *net.UDPAddr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.udpAddr
}

// TCPAddr returns the TCP address served, nil before Start.
func (s *Server) TCPAddr() *net.TCPAddr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcpAddr
}

// Shutdown stops serving: listeners close, queries upstream are abandoned,
// and it returns once every serving goroutine has ended or ctx is done.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	s.mu.Lock()
	servers := []*dns.Server{s.udp, s.tcp}
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		if srv == nil {
			continue
		}
		if err := srv.ShutdownContext(ctx); err != nil && ctx.Err() != nil {
			errs = append(errs, err)
		}
	}
	done := make(chan struct{})
	go func() {
		s.serving.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shut down dns: %w", err)
	}
	return nil
}

// Run starts the server, calls ready (when not nil) with the address
// served, and serves until ctx is done, then shuts down.
func (s *Server) Run(ctx context.Context, ready func(addr string)) error {
	if err := s.Start(); err != nil {
		return err
	}
	if ready != nil {
		ready(s.Addr())
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-s.serveErr:
		err = fmt.Errorf("serve dns: %w", err)
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(err, s.Shutdown(shutCtx))
}

// Stats counts the cache's work.
type Stats struct {
	CacheHits, CacheMisses uint64
	CacheEntries           int
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	if s.cache == nil {
		return Stats{}
	}
	return Stats{CacheHits: s.cache.hits.Load(), CacheMisses: s.cache.misses.Load(), CacheEntries: s.cache.Len()}
}

// ServeDNS implements dns.Handler: it checks the request, runs the plugin
// chain, and writes the error response when no plugin wrote one. Every
// response goes through a writer that fits it to the client (EDNS0,
// truncation).
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	if r.Response {
		return // never answer a response: that is how loops and reflections start
	}
	rw := newResponseWriter(w, r)
	if m := check(r, s.cfg.TTL); m != nil {
		s.write(rw, m)
		return
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.QueryTimeout)
	defer cancel()
	rcode, err := s.handler.ServeDNS(ctx, rw, r)
	if err != nil {
		q := r.Question[0]
		s.cfg.Log.Debug("dns query failed", zap.String("name", q.Name), zap.String("type", dns.TypeToString[q.Qtype]),
			zap.String("rcode", dns.RcodeToString[rcode]), zap.Error(err))
	}
	if !rw.written {
		if clientWrote(rcode) {
			rcode = dns.RcodeServerFailure // a plugin claimed an answer it did not write
		}
		s.write(rw, new(dns.Msg).SetRcode(r, rcode))
	}
}

func (s *Server) write(rw *responseWriter, m *dns.Msg) {
	if err := rw.WriteMsg(m); err != nil {
		s.cfg.Log.Debug("dns write failed", zap.Error(err))
	}
}

// check answers what never reaches the plugins: requests the server
// rejects or answers the same way for every name. nil means "go on".
func check(r *dns.Msg, ttl uint32) *dns.Msg {
	if r.Opcode != dns.OpcodeQuery {
		return reply(r, dns.RcodeNotImplemented) // NOTIFY, UPDATE, IQUERY, STATUS (RFC 1035 §4.1.1)
	}
	if len(r.Question) != 1 {
		return reply(r, dns.RcodeFormatError) // RFC 9619
	}
	opts := 0
	for _, rr := range r.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			opts++
			if opt.Hdr.Name != "." {
				return reply(r, dns.RcodeFormatError) // RFC 6891 §6.1.2
			}
		}
	}
	if opts > 1 {
		return reply(r, dns.RcodeFormatError) // RFC 6891 §6.1.1
	}
	if opt := r.IsEdns0(); opt != nil && opt.Version() != 0 {
		return reply(r, dns.RcodeBadVers) // RFC 6891 §6.1.3
	}
	q := r.Question[0]
	if q.Qclass != dns.ClassINET {
		return reply(r, dns.RcodeRefused) // only class IN is served
	}
	switch q.Qtype {
	case dns.TypeANY:
		// RFC 8482: a minimal answer instead of everything.
		m := reply(r, dns.RcodeSuccess)
		m.Answer = []dns.RR{&dns.HINFO{Hdr: hdr(q.Name, dns.TypeHINFO, ttl), Cpu: "RFC8482"}}
		return m
	case dns.TypeAXFR, dns.TypeIXFR:
		return reply(r, dns.RcodeRefused) // no zone transfers (RFC 5936 §4.2)
	case dns.TypeMAILA, dns.TypeMAILB:
		return reply(r, dns.RcodeNotImplemented) // obsolete (RFC 883)
	case dns.TypeNone, dns.TypeOPT, dns.TypeTSIG, dns.TypeTKEY:
		return reply(r, dns.RcodeFormatError) // not a question
	}
	if q.Qtype >= 128 && q.Qtype <= 255 {
		return reply(r, dns.RcodeFormatError) // unassigned meta-types (RFC 6895 §3.1, RFC 9824 §3.5)
	}
	return nil
}

func reply(r *dns.Msg, rcode int) *dns.Msg {
	return new(dns.Msg).SetRcode(r, rcode)
}

// responseWriter fits every response to the request and the client: ID,
// flags and question of the request; our OPT record when the client sent
// one (EDNS0), none otherwise; and at most the size the client can take
// over UDP (its EDNS0 buffer size, capped at maxUDPSize, else 512), with
// records left out and TC set beyond that, so the client retries over TCP.
type responseWriter struct {
	dns.ResponseWriter
	req     *dns.Msg
	edns    *dns.OPT
	size    int
	written bool
}

func newResponseWriter(w dns.ResponseWriter, r *dns.Msg) *responseWriter {
	rw := &responseWriter{ResponseWriter: w, req: r, edns: r.IsEdns0(), size: dns.MinMsgSize}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); !udp {
		rw.size = dns.MaxMsgSize
	} else if rw.edns != nil {
		rw.size = min(max(int(rw.edns.UDPSize()), dns.MinMsgSize), maxUDPSize)
	}
	return rw
}

// WriteMsg writes m, fitted; only the first call writes.
func (rw *responseWriter) WriteMsg(m *dns.Msg) error {
	if rw.written {
		return errors.New("dns: response already written")
	}
	rw.written = true
	r := rw.req
	m.Id = r.Id
	m.Response = true
	m.Opcode = r.Opcode
	m.RecursionDesired = r.RecursionDesired
	m.RecursionAvailable = true
	m.CheckingDisabled = r.CheckingDisabled
	m.Zero = false
	if len(r.Question) == 1 {
		m.Question = r.Question // the client's spelling (0x20)
	} else {
		m.Question = nil
	}
	m.Extra = withoutOPT(m.Extra)
	if rw.edns != nil {
		opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		opt.SetUDPSize(advertisedUDPSize)
		opt.SetDo(rw.edns.Do())
		m.Extra = append(m.Extra, opt)
	} else if m.Rcode > 0xF {
		m.Rcode = dns.RcodeServerFailure // an extended rcode needs an OPT to travel in
	}
	m.Truncate(rw.size)
	if err := rw.ResponseWriter.WriteMsg(m); err != nil {
		return fmt.Errorf("write response to %s: %w", rw.RemoteAddr(), err)
	}
	return nil
}

// Write writes a packed message, fitted.
func (rw *responseWriter) Write(b []byte) (int, error) {
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, fmt.Errorf("write response: %w", err)
	}
	if err := rw.WriteMsg(m); err != nil {
		return 0, err
	}
	return len(b), nil
}

// limitListener bounds the open TCP connections: Accept waits for one to
// close, and Close ends that wait.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newLimitListener(l net.Listener, n int) *limitListener {
	return &limitListener{Listener: l, sem: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

var (
	_ dns.Handler        = (*Server)(nil)
	_ dns.ResponseWriter = (*responseWriter)(nil)
	_ net.Listener       = (*limitListener)(nil)
)
