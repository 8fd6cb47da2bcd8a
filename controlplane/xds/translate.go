package xds

import (
	"fmt"
	"slices"
	"sort"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Translate computes one proxy's Envoy v3 configuration from the mesh. It
// is a pure function of its inputs: the same mesh and proxy give the same
// resources, in the same order. What cannot be translated is left out (or
// routed to BlackHoleCluster) and reported as a warning; it never stops
// the rest. Every cluster a route or listener names is in the output.
func Translate(m *Mesh, p Proxy) (*Resources, []Warning) {
	return m.index().translate(p)
}

func (idx *index) translate(p Proxy) (*Resources, []Warning) {
	t := newTranslator(idx, withPodLabels(idx, p))
	switch {
	case p.Type == Gateway:
		t.gateway()
	case p.Type == GRPC:
		t.proxyless()
	case p.HostMode:
		t.hostSidecar()
	default:
		// The outbound side of a sidecar is the same for every sidecar of
		// a namespace (and label set, if some VirtualService matches
		// sourceLabels): it is built once per index and shared; only the
		// inbound side is the proxy's own.
		out := idx.sidecarOutbound(t.p)
		t.warnings, t.seen = slices.Clone(out.warnings), map[Warning]bool{}
		for _, w := range t.warnings {
			t.seen[w] = true
		}
		t.inbound()
		in, warnings := t.result()
		return &Resources{
			Listeners: mergeByName(out.res.Listeners, in.Listeners, (*listenerv3.Listener).GetName),
			Routes:    mergeByName(out.res.Routes, in.Routes, (*routev3.RouteConfiguration).GetName),
			Clusters:  mergeByName(out.res.Clusters, in.Clusters, (*clusterv3.Cluster).GetName),
			Endpoints: mergeByName(out.res.Endpoints, in.Endpoints, (*endpointv3.ClusterLoadAssignment).GetClusterName),
		}, warnings
	}
	return t.result()
}

// outboundPart is the shared outbound side of sidecars.
type outboundPart struct {
	res      *Resources
	warnings []Warning
}

// sidecarOutbound returns (building it once per index) a netns-mode
// sidecar's configuration but its inbound side: every outbound cluster,
// the passthrough clusters and the outbound listeners and routes, as seen
// from p's namespace.
func (idx *index) sidecarOutbound(p Proxy) *outboundPart {
	k := p.Namespace
	if idx.usesSourceLabels() {
		k += "|" + labelsKey(p.Labels)
	}
	idx.mu.Lock()
	out := idx.outbound[k]
	idx.mu.Unlock()
	if out != nil {
		return out
	}
	t := newTranslator(idx, p)
	t.allOutboundClusters()
	t.passthroughClusters()
	t.virtualOutbound()
	t.outboundListeners()
	res, warnings := t.result()
	out = &outboundPart{res: res, warnings: warnings}
	idx.mu.Lock()
	idx.outbound[k] = out
	idx.mu.Unlock()
	return out
}

// mergeByName merges two lists sorted by name; a name in both is taken
// from a.
func mergeByName[T any](a, b []T, name func(T) string) []T {
	if len(b) == 0 {
		return a
	}
	out := make([]T, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		na, nb := name(a[i]), name(b[j])
		switch {
		case na < nb:
			out = append(out, a[i])
			i++
		case nb < na:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// translator holds the output for one proxy while it is built.
type translator struct {
	idx  *index
	p    Proxy
	grpc bool

	listeners map[string]*listenerv3.Listener
	routes    map[string]*routev3.RouteConfiguration
	clusters  map[string]*clusterv3.Cluster
	clas      map[string]*endpointv3.ClusterLoadAssignment

	warnings []Warning
	seen     map[Warning]bool
}

func newTranslator(idx *index, p Proxy) *translator {
	t := &translator{
		idx:       idx,
		p:         p,
		grpc:      p.Type == GRPC,
		listeners: map[string]*listenerv3.Listener{},
		routes:    map[string]*routev3.RouteConfiguration{},
		clusters:  map[string]*clusterv3.Cluster{},
		clas:      map[string]*endpointv3.ClusterLoadAssignment{},
		seen:      map[Warning]bool{},
	}
	if t.p.Namespace == "" {
		t.p.Namespace = "default"
	}
	for _, w := range idx.warnings {
		t.addWarning(w)
	}
	return t
}

func (t *translator) addWarning(w Warning) {
	if !t.seen[w] {
		t.seen[w] = true
		t.warnings = append(t.warnings, w)
	}
}

func (t *translator) warn(resource, format string, args ...any) {
	t.addWarning(Warning{Resource: resource, Message: fmt.Sprintf(format, args...)})
}

// toAny packs a message; packing a generated message only fails on an
// invalid UTF-8 string, which is reported and leaves the field empty.
func (t *translator) toAny(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		t.warn("proxy "+t.p.ID, "cannot encode %T: %v", m, err)
		return nil
	}
	return a
}

func (t *translator) result() (*Resources, []Warning) {
	r := &Resources{}
	for _, name := range sortedKeys(t.listeners) {
		r.Listeners = append(r.Listeners, t.listeners[name])
	}
	for _, name := range sortedKeys(t.routes) {
		r.Routes = append(r.Routes, t.routes[name])
	}
	for _, name := range sortedKeys(t.clusters) {
		r.Clusters = append(r.Clusters, t.clusters[name])
		if cla := t.clas[name]; cla != nil {
			r.Endpoints = append(r.Endpoints, cla)
		}
	}
	return r, t.warnings
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// hostSidecar is the host-mode sidecar (no capture): an HTTP proxy on the
// pod IP and one TCP listener per TCP service port.
func (t *translator) hostSidecar() {
	t.allOutboundClusters()
	t.httpProxyListener()
	t.hostTCPListeners()
}

// proxyless is grpc-go's xDS client: API listeners "<host>:<port>".
func (t *translator) proxyless() {
	t.allOutboundClusters()
	t.apiListeners()
}

// gateway is the node proxy: one L4 listener per node port, load-balancer
// port and hostPort of a pod on the node.
func (t *translator) gateway() {
	t.nodePortListeners()
	t.hostPortListeners()
}

// withPodLabels gives a sidecar without LABELS in its node metadata its
// pod's labels, as istiod reads them from the pod: they choose the
// services whose ports the inbound side serves and match sourceLabels.
func withPodLabels(idx *index, p Proxy) Proxy {
	if len(p.Labels) > 0 || p.Type == Gateway {
		return p
	}
	pod := idx.pods[nsName{p.Namespace, p.Name}]
	if pod == nil && p.IP != "" {
		pod = idx.podsByIP[p.IP]
	}
	if pod != nil {
		p.Labels = pod.Labels
	}
	return p
}
