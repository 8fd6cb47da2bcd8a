package xds

import (
	"fmt"
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
	idx := m.index()
	t := newTranslator(idx, withPodLabels(idx, p))
	switch {
	case p.Type == Gateway:
		t.gateway()
	case p.Type == GRPC:
		t.proxyless()
	case p.HostMode:
		t.hostSidecar()
	default:
		t.sidecar()
	}
	return t.result()
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

// sidecar is the netns-mode sidecar: Istio's capture listeners, one
// outbound listener per port, inbound for the pod's own ports.
func (t *translator) sidecar() {
	t.allOutboundClusters()
	t.passthroughClusters()
	t.virtualOutbound()
	t.outboundListeners()
	t.inbound()
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

// gateway is the node proxy: one L4 listener per node port.
func (t *translator) gateway() {
	t.nodePortListeners()
}

// withPodLabels gives a sidecar without LABELS in its node metadata its
// pod's labels, as istiod reads them from the pod: they choose the
// services whose ports the inbound side serves and match sourceLabels.
func withPodLabels(idx *index, p Proxy) Proxy {
	if len(p.Labels) > 0 || p.Type == Gateway {
		return p
	}
	pod := idx.pods[key(p.Namespace, p.Name)]
	if pod == nil && p.IP != "" {
		pod = idx.podsByIP[p.IP]
	}
	if pod != nil {
		p.Labels = pod.Labels
	}
	return p
}
