package cluster

import (
	"context"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

// Cluster is one upstream cluster of a snapshot: its decoded config, its
// current endpoint set (swapped whole on EDS updates) and the persistent
// per-name state (circuit breakers, hosts).
type Cluster struct {
	Name   string
	Config *xdsresource.Cluster
	state  *state
	set    atomic.Pointer[EndpointSet]
	dialer *net.Dialer

	// originals caches ORIGINAL_DST endpoints by address.
	originals sync.Map
	cancel    context.CancelFunc
}

// EndpointSet is an immutable view of a cluster's endpoints with the
// selector built over them.
type EndpointSet struct {
	Endpoints []*Endpoint
	selector  Selector
}

// Endpoints returns the cluster's current endpoints.
func (c *Cluster) Endpoints() []*Endpoint {
	if s := c.set.Load(); s != nil {
		return s.Endpoints
	}
	return nil
}

// Pick chooses an endpoint with the cluster's load balancer; nil means no
// healthy upstream (503 UH). Outside panic mode it skips unhealthy and
// ejected hosts; in panic mode (too few healthy hosts, Envoy's
// healthy_panic_threshold) it routes to any host.
func (c *Cluster) Pick(hash uint64, hasHash bool, salt uint64) *Endpoint {
	set := c.set.Load()
	if set == nil || len(set.Endpoints) == 0 {
		return nil
	}
	eps := set.Endpoints
	i := set.selector.Pick(eps, hash, hasHash, salt)
	e := eps[i]
	if e.Available() {
		return e
	}
	avail := 0
	for _, x := range eps {
		if x.Available() {
			avail++
		}
	}
	if float64(avail)*100 < c.Config.PanicThreshold*float64(len(eps)) {
		return e
	}
	if avail == 0 {
		return nil
	}
	for k := 1; k < len(eps); k++ {
		if x := eps[(i+k)%len(eps)]; x.Available() {
			return x
		}
	}
	return nil
}

// OriginalDst returns the endpoint for an ORIGINAL_DST cluster's
// destination address.
func (c *Cluster) OriginalDst(addr string) *Endpoint {
	if v, ok := c.originals.Load(addr); ok {
		e := v.(*Endpoint)
		e.Host.lastUsed.Store(nanotime())
		return e
	}
	h := &Host{Addr: addr, cluster: c.state}
	h.lastUsed.Store(nanotime())
	e := &Endpoint{Host: h, Weight: 1, Healthy: true}
	v, _ := c.originals.LoadOrStore(addr, e)
	return v.(*Endpoint)
}

// AcquireRetry takes a retry slot (max_retries or retry budget); release it
// with ReleaseRetry when the retry is done.
func (c *Cluster) AcquireRetry() bool { return c.state.acquireRetry() }

// ReleaseRetry gives back a retry slot.
func (c *Cluster) ReleaseRetry() { c.state.releaseRetry() }

// Stats is a snapshot of a cluster's counters.
type Stats struct {
	RqActive, Pending, RetriesActive, CxOpen                                     int64
	RqTotal, RetriesTotal, OverflowRq, OverflowPending, OverflowRetry, Ejections uint64
}

// Stats reads the cluster's counters.
func (c *Cluster) Stats() Stats {
	s := c.state
	return Stats{
		RqActive: s.requests.Load(), Pending: int64(s.pending()), RetriesActive: s.retries.Load(), CxOpen: s.open.Load(),
		RqTotal: s.RqTotal.Load(), RetriesTotal: s.RetriesTotal.Load(), OverflowRq: s.OverflowRq.Load(),
		OverflowPending: s.OverflowPending.Load(), OverflowRetry: s.OverflowRetry.Load(), Ejections: s.EjectionsTotal.Load(),
	}
}

type h2t struct {
	t   *http.Transport
	cfg *xdsresource.Cluster
}

// h2Transport returns the cluster's h2c transport, built once per cluster
// config so its connections stay warm across snapshots that keep the config.
func (s *state) h2Transport(c *Cluster) *http.Transport {
	if cur := s.h2.Load(); cur != nil && cur.cfg == c.Config {
		return cur.t
	}
	s.h2mu.Lock()
	defer s.h2mu.Unlock()
	cur := s.h2.Load()
	if cur != nil && cur.cfg == c.Config {
		return cur.t
	}
	if cur != nil {
		cur.t.CloseIdleConnections()
	}
	t := &http.Transport{
		DialContext:         c.dialer.DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     c.Config.IdleTimeout,
		DisableCompression:  true,
	}
	t.Protocols = new(http.Protocols)
	t.Protocols.SetUnencryptedHTTP2(true)
	s.h2.Store(&h2t{t: t, cfg: c.Config})
	return t
}

// Manager owns the state that outlives snapshots: per-cluster circuit
// breakers and per-endpoint hosts with their connection pools and outlier
// state. Build makes the clusters of a new snapshot; Retain, after the swap,
// retires what the new snapshot no longer uses.
type Manager struct {
	ctx    context.Context
	mu     sync.Mutex
	states map[string]*state
	hosts  map[hostKey]*Host
	// Resolver resolves STRICT_DNS/LOGICAL_DNS clusters; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

type hostKey struct{ cluster, addr string }

// NewManager returns a Manager; ctx bounds its DNS resolution goroutines.
func NewManager(ctx context.Context) *Manager {
	return &Manager{ctx: ctx, states: map[string]*state{}, hosts: map[hostKey]*Host{}}
}

// Build makes a Cluster for cfg with endpoints from cla (nil for an EDS
// cluster whose assignment has not arrived: no endpoints yet).
func (m *Manager) Build(cfg *xdsresource.Cluster, cla *xdsresource.ClusterLoadAssignment) *Cluster {
	m.mu.Lock()
	s := m.states[cfg.Name]
	if s == nil {
		s = newState(cfg.Name)
		m.states[cfg.Name] = s
	}
	m.mu.Unlock()
	lim := cfg.Thresholds
	s.limits.Store(&lim)
	c := &Cluster{Name: cfg.Name, Config: cfg, state: s, dialer: &net.Dialer{Timeout: cfg.ConnectTimeout, KeepAlive: 30 * time.Second}}
	if cfg.UpstreamBindAddress != "" {
		c.dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(cfg.UpstreamBindAddress)}
	}
	switch cfg.Type {
	case xdsresource.DiscoveryStrictDNS, xdsresource.DiscoveryLogicalDNS:
		c.SetEndpoints(nil)
		ctx, cancel := context.WithCancel(m.ctx)
		c.cancel = cancel
		go m.resolveLoop(ctx, c)
	case xdsresource.DiscoveryOriginalDst:
		c.SetEndpoints(nil)
	case xdsresource.DiscoveryStatic:
		c.setEndpoints(m, cfg.LoadAssignment)
	default:
		c.setEndpoints(m, cla)
	}
	return c
}

// UpdateEndpoints swaps c's endpoint set for a new EDS assignment.
func (m *Manager) UpdateEndpoints(c *Cluster, cla *xdsresource.ClusterLoadAssignment) {
	c.setEndpoints(m, cla)
}

func (c *Cluster) setEndpoints(m *Manager, cla *xdsresource.ClusterLoadAssignment) {
	var eps []*Endpoint
	if cla != nil {
		eps = m.endpoints(c, cla.Endpoints)
	}
	c.SetEndpoints(eps)
}

// SetEndpoints publishes a new endpoint set.
func (c *Cluster) SetEndpoints(eps []*Endpoint) {
	c.set.Store(&EndpointSet{Endpoints: eps, selector: newSelector(c.Config, eps)})
	hosts := make([]*Host, len(eps))
	for i, e := range eps {
		hosts[i] = e.Host
	}
	c.state.hosts.Store(&hosts)
}

// endpoints resolves Hosts for the endpoints of the best priority that has
// a healthy endpoint (Envoy's priority failover, without spill-over).
func (m *Manager) endpoints(c *Cluster, in []xdsresource.Endpoint) []*Endpoint {
	if len(in) == 0 {
		return nil
	}
	best := ^uint32(0)
	for _, e := range in {
		if e.Health == xdsresource.Healthy && e.Priority < best {
			best = e.Priority
		}
	}
	if best == ^uint32(0) {
		best = 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Endpoint, 0, len(in))
	for _, e := range in {
		if e.Priority != best {
			continue
		}
		k := hostKey{c.Name, e.Address}
		h := m.hosts[k]
		if h == nil {
			h = &Host{Addr: e.Address, cluster: c.state}
			m.hosts[k] = h
		}
		if od := c.Config.Outlier; od != nil {
			if o := h.outlier.Load(); o == nil || *o.cfg != *od {
				h.outlier.Store(newOutlier(h, od))
			}
		} else {
			h.outlier.Store(nil)
			h.ejectedUntil.Store(0)
		}
		w := e.Weight
		if !c.Config.LocalityWeighted || w == 0 {
			w = max(w, 1)
		}
		out = append(out, &Endpoint{Host: h, Weight: w, Healthy: e.Health == xdsresource.Healthy,
			Hostname: e.Hostname, Workload: e.Workload, Namespace: e.Namespace, App: e.CanonicalService, Version: e.CanonicalRevision})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Host.Addr < out[j].Host.Addr })
	return out
}

// Retain keeps the state of the given clusters and retires everything else
// (idle connections closed, DNS loops stopped). Call it after swapping in a
// snapshot built from these clusters; old clusters whose Cluster object was
// replaced should be passed in dropped.
func (m *Manager) Retain(current map[string]*Cluster, dropped []*Cluster) {
	for _, c := range dropped {
		if c.cancel != nil {
			c.cancel()
		}
		c.originals.Range(func(_, v any) bool {
			v.(*Endpoint).Host.retire()
			return true
		})
	}
	used := map[hostKey]bool{}
	for name, c := range current {
		for _, e := range c.Endpoints() {
			used[hostKey{name, e.Host.Addr}] = true
		}
	}
	m.mu.Lock()
	var retired []*Host
	for k, h := range m.hosts {
		if !used[k] {
			delete(m.hosts, k)
			retired = append(retired, h)
		}
	}
	for name := range m.states {
		if current[name] == nil {
			if t := m.states[name].h2.Load(); t != nil {
				t.t.CloseIdleConnections()
			}
			delete(m.states, name)
		}
	}
	m.mu.Unlock()
	for _, h := range retired {
		h.retire()
	}
}

func (m *Manager) resolveLoop(ctx context.Context, c *Cluster) {
	r := m.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var in []xdsresource.Endpoint
		for _, e := range c.Config.LoadAssignment.Endpoints {
			host, port, err := net.SplitHostPort(e.Address)
			if err != nil {
				continue
			}
			lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			addrs, err := r.LookupHost(lctx, host)
			cancel()
			if err != nil || len(addrs) == 0 {
				continue
			}
			if c.Config.Type == xdsresource.DiscoveryLogicalDNS {
				addrs = addrs[:1]
			}
			for _, a := range addrs {
				ne := e
				ne.Address = net.JoinHostPort(a, port)
				ne.Hostname = host
				in = append(in, ne)
			}
		}
		if len(in) > 0 || len(c.Endpoints()) == 0 {
			c.SetEndpoints(m.endpoints(c, in))
		}
		t.Reset(c.Config.DNSRefreshRate)
	}
}

// Port returns the port of an "ip:port" address, or 0.
func Port(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}
