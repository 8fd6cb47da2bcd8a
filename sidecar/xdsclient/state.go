package xdsclient

import (
	"sort"
	"time"

	"github.com/weft-mesh/weft/sidecar/xdsresource"
	"google.golang.org/protobuf/types/known/anypb"
)

// Types in the order the client requests them (Envoy's warming order).
var Types = []string{xdsresource.ClusterType, xdsresource.EndpointType, xdsresource.ListenerType, xdsresource.RouteType}

// State is the accepted configuration: the last good resources of every
// type. A State is never modified after it is handed to OnUpdate.
type State struct {
	Listeners map[string]*xdsresource.Listener
	Routes    map[string]*xdsresource.RouteConfiguration
	Clusters  map[string]*xdsresource.Cluster
	Endpoints map[string]*xdsresource.ClusterLoadAssignment
	// Raw holds the accepted resources as received, by type URL and name.
	Raw map[string]map[string]*anypb.Any
	// Versions holds the accepted version_info (delta: system_version_info)
	// by type URL.
	Versions map[string]string
	// ResourceVersions holds, in delta mode, the accepted version of each
	// resource by type URL and name: the initial_resource_versions of a
	// reconnect.
	ResourceVersions map[string]map[string]string
	// Changed says which type URL this update changed.
	Changed string
}

func newState() *State {
	return &State{
		Listeners: map[string]*xdsresource.Listener{},
		Routes:    map[string]*xdsresource.RouteConfiguration{},
		Clusters:  map[string]*xdsresource.Cluster{},
		Endpoints: map[string]*xdsresource.ClusterLoadAssignment{},
		Raw:       map[string]map[string]*anypb.Any{},
		Versions:  map[string]string{},

		ResourceVersions: map[string]map[string]string{},
	}
}

// clone copies the maps of s (the values are immutable and shared).
func (s *State) clone() *State {
	n := newState()
	for k, v := range s.Listeners {
		n.Listeners[k] = v
	}
	for k, v := range s.Routes {
		n.Routes[k] = v
	}
	for k, v := range s.Clusters {
		n.Clusters[k] = v
	}
	for k, v := range s.Endpoints {
		n.Endpoints[k] = v
	}
	for t, m := range s.Raw {
		c := make(map[string]*anypb.Any, len(m))
		for k, v := range m {
			c[k] = v
		}
		n.Raw[t] = c
	}
	for k, v := range s.Versions {
		n.Versions[k] = v
	}
	for t, m := range s.ResourceVersions {
		c := make(map[string]string, len(m))
		for k, v := range m {
			c[k] = v
		}
		n.ResourceVersions[t] = c
	}
	return n
}

// RouteNames are the RDS resources the listeners reference.
func (s *State) RouteNames() []string {
	set := map[string]bool{}
	for _, l := range s.Listeners {
		for _, fc := range allChains(l) {
			if fc.HTTP != nil && fc.HTTP.RouteConfigName != "" {
				set[fc.HTTP.RouteConfigName] = true
			}
		}
	}
	return sorted(set)
}

// EndpointNames are the EDS resources the clusters reference.
func (s *State) EndpointNames() []string {
	set := map[string]bool{}
	for _, c := range s.Clusters {
		if c.Type == xdsresource.DiscoveryEDS {
			set[c.EDSServiceName] = true
		}
	}
	return sorted(set)
}

// Complete reports whether listeners and clusters arrived and every route
// configuration and endpoint assignment they reference arrived too: the
// proxy is warm.
func (s *State) Complete() bool {
	if _, ok := s.Versions[xdsresource.ListenerType]; !ok {
		return false
	}
	if _, ok := s.Versions[xdsresource.ClusterType]; !ok {
		return false
	}
	for _, n := range s.RouteNames() {
		if s.Routes[n] == nil {
			return false
		}
	}
	for _, n := range s.EndpointNames() {
		if s.Endpoints[n] == nil {
			return false
		}
	}
	return true
}

func allChains(l *xdsresource.Listener) []*xdsresource.FilterChain {
	if l.DefaultFilterChain == nil {
		return l.FilterChains
	}
	return append(append([]*xdsresource.FilterChain(nil), l.FilterChains...), l.DefaultFilterChain)
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TypeStatus is the client's view of one resource type, for the admin page
// and tests.
type TypeStatus struct {
	Version  string
	Nonce    string
	Names    []string
	LastNACK string
	NACKs    int
	ACKs     int
	Updated  time.Time
}
