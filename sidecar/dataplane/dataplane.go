// Package dataplane holds the snapshot every data path reads: listeners,
// compiled route tables and clusters, built whole from an accepted xDS state
// and published through an atomic pointer. Each connection or request loads
// the snapshot once; a config change builds a new snapshot and swaps it in,
// so nobody ever sees a half-applied update.
package dataplane

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/weft-mesh/weft/sidecar/cluster"
	"github.com/weft-mesh/weft/sidecar/router"
	"github.com/weft-mesh/weft/sidecar/xdsclient"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

// Snapshot is an immutable view of the configuration.
type Snapshot struct {
	State     *xdsclient.State
	Listeners map[string]*xdsresource.Listener
	// Routes are the RDS tables by name.
	Routes map[string]*router.Table
	// inline are tables of connection managers with an inline route_config.
	inline map[*xdsresource.HTTPConnectionManager]*router.Table
	// retired memoizes tables of connection managers not in this snapshot.
	retired  sync.Map
	Clusters map[string]*cluster.Cluster
	// byAddr and byPort index listeners for original-destination dispatch.
	byAddr map[string]*xdsresource.Listener
	byPort map[uint32]*xdsresource.Listener
	// applied remembers which endpoint assignment each cluster uses.
	applied map[string]*xdsresource.ClusterLoadAssignment
}

// Table returns the route table of a connection manager, nil when its RDS
// resource has not arrived. A connection manager of a listener this
// snapshot no longer has (a kept-alive connection accepted before a
// listener update) keeps its own inline routes, as Envoy's draining
// listeners do: its table is built once and remembered here.
func (s *Snapshot) Table(h *xdsresource.HTTPConnectionManager) *router.Table {
	if h.RouteConfig == nil {
		return s.Routes[h.RouteConfigName]
	}
	if t := s.inline[h]; t != nil {
		return t
	}
	if t, ok := s.retired.Load(h); ok {
		return t.(*router.Table)
	}
	t, _ := s.retired.LoadOrStore(h, router.NewTable(h.RouteConfig))
	return t.(*router.Table)
}

// ListenerFor finds the listener for an original destination "ip:port":
// the exact address first, then 0.0.0.0:port (Envoy's order).
func (s *Snapshot) ListenerFor(ip string, port uint32) *xdsresource.Listener {
	if l := s.byAddr[net.JoinHostPort(ip, strconv.Itoa(int(port)))]; l != nil {
		return l
	}
	return s.byPort[port]
}

// Holder publishes snapshots.
type Holder struct{ p atomic.Pointer[Snapshot] }

// Load returns the current snapshot (never nil after the first Store).
func (h *Holder) Load() *Snapshot { return h.p.Load() }

// Store publishes s.
func (h *Holder) Store(s *Snapshot) { h.p.Store(s) }

// Empty is the snapshot before any configuration arrived.
func Empty() *Snapshot {
	return &Snapshot{State: &xdsclient.State{}, Listeners: map[string]*xdsresource.Listener{}, Routes: map[string]*router.Table{},
		inline: map[*xdsresource.HTTPConnectionManager]*router.Table{}, Clusters: map[string]*cluster.Cluster{},
		byAddr: map[string]*xdsresource.Listener{}, byPort: map[uint32]*xdsresource.Listener{}, applied: map[string]*xdsresource.ClusterLoadAssignment{}}
}

// Build makes the snapshot for st, reusing what did not change in prev:
// route tables of unchanged route configurations and clusters of unchanged
// cluster resources (their endpoint sets are swapped when EDS changed).
// dropped are clusters of prev no longer used; pass them to
// cluster.Manager.Retain after publishing.
func Build(st *xdsclient.State, prev *Snapshot, m *cluster.Manager) (next *Snapshot, dropped []*cluster.Cluster) {
	if prev == nil {
		prev = Empty()
	}
	s := Empty()
	s.State = st
	s.Listeners = st.Listeners
	for name, rc := range st.Routes {
		if t := prev.Routes[name]; t != nil && t.Config == rc {
			s.Routes[name] = t
		} else {
			s.Routes[name] = router.NewTable(rc)
		}
	}
	for _, l := range st.Listeners {
		for _, fc := range chains(l) {
			if fc.HTTP != nil && fc.HTTP.RouteConfig != nil {
				if t := prev.inline[fc.HTTP]; t != nil {
					s.inline[fc.HTTP] = t
				} else {
					s.inline[fc.HTTP] = router.NewTable(fc.HTTP.RouteConfig)
				}
			}
		}
		if l.UseOriginalDst {
			continue
		}
		s.byAddr[net.JoinHostPort(l.Host, strconv.Itoa(int(l.Port)))] = l
		if l.Host == "0.0.0.0" || l.Host == "::" {
			s.byPort[l.Port] = l
		}
	}
	for name, cfg := range st.Clusters {
		var cla *xdsresource.ClusterLoadAssignment
		if cfg.Type == xdsresource.DiscoveryEDS {
			cla = st.Endpoints[cfg.EDSServiceName]
		}
		if c := prev.Clusters[name]; c != nil && c.Config == cfg {
			if cfg.Type == xdsresource.DiscoveryEDS && prev.applied[name] != cla {
				m.UpdateEndpoints(c, cla)
			}
			s.Clusters[name] = c
		} else {
			s.Clusters[name] = m.Build(cfg, cla)
		}
		s.applied[name] = cla
	}
	for name, c := range prev.Clusters {
		if s.Clusters[name] != c {
			dropped = append(dropped, c)
		}
	}
	return s, dropped
}

func chains(l *xdsresource.Listener) []*xdsresource.FilterChain {
	if l.DefaultFilterChain == nil {
		return l.FilterChains
	}
	return append(append([]*xdsresource.FilterChain(nil), l.FilterChains...), l.DefaultFilterChain)
}

// Direction of traffic through a listener.
type Direction uint8

// Directions.
const (
	Outbound Direction = iota
	Inbound
)

// ConnInfo describes a downstream connection: which listener and filter
// chain took it and where it was going.
type ConnInfo struct {
	Listener *xdsresource.Listener
	Chain    *xdsresource.FilterChain
	// OriginalDst is the "ip:port" the client dialled (SO_ORIGINAL_DST in
	// netns mode, the local address otherwise).
	OriginalDst string
	Remote      string
	Direction   Direction
	// HostProxy is set for the host-mode HTTP proxy, where each request
	// picks its listener by port.
	HostProxy bool
}

// DirectionOf derives a listener's direction (traffic_direction, else
// Istio's naming).
func DirectionOf(l *xdsresource.Listener) Direction {
	switch {
	case l.Direction == xdsresource.DirectionInbound:
		return Inbound
	case l.Direction == xdsresource.DirectionOutbound:
		return Outbound
	case l.Name == "virtualInbound" || (len(l.Name) > 8 && l.Name[:8] == "inbound|"):
		return Inbound
	}
	return Outbound
}

// SelectChain picks the filter chain for a connection following Envoy's
// most-specific-first order: destination port, destination IP prefix,
// transport protocol, application protocol; then the default chain.
func SelectChain(l *xdsresource.Listener, dstIP net.IP, dstPort uint32, transport, appProto string) (*xdsresource.FilterChain, error) {
	var best *xdsresource.FilterChain
	bestScore := -1
	for _, fc := range l.FilterChains {
		m := &fc.Match
		score := 0
		if m.DestinationPort != 0 {
			if m.DestinationPort != dstPort {
				continue
			}
			score += 1000
		}
		if len(m.PrefixRanges) > 0 {
			bits := -1
			for _, p := range m.PrefixRanges {
				if ip, ok := netipAddr(dstIP); ok && p.Contains(ip) && p.Bits() > bits {
					bits = p.Bits()
				}
			}
			if bits < 0 {
				continue
			}
			score += 100 + bits
		}
		if m.TransportProtocol != "" {
			if m.TransportProtocol != transport {
				continue
			}
			score += 10
		}
		if len(m.ApplicationProtocols) > 0 {
			found := false
			for _, p := range m.ApplicationProtocols {
				if p == appProto || (p == "http/1.0" && appProto == "http/1.1") {
					found = true
				}
			}
			if !found {
				continue
			}
			score++
		}
		if score > bestScore {
			best, bestScore = fc, score
		}
	}
	if best == nil {
		best = l.DefaultFilterChain
	}
	if best == nil {
		return nil, fmt.Errorf("listener %q: no filter chain matches %v:%d (%s, %s)", l.Name, dstIP, dstPort, transport, appProto)
	}
	return best, nil
}

// NeedsSniffing reports whether choosing a chain needs the first bytes.
func NeedsSniffing(l *xdsresource.Listener) bool {
	for _, fc := range l.FilterChains {
		if fc.Match.TransportProtocol != "" || len(fc.Match.ApplicationProtocols) > 0 {
			return true
		}
	}
	return false
}

func netipAddr(ip net.IP) (netip.Addr, bool) {
	a, ok := netip.AddrFromSlice(ip)
	return a.Unmap(), ok
}
