package xds

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/api"
)

// Mesh is the immutable input of translation: the typed objects the caller
// builds from its informer caches. Build a new Mesh for every change and
// never modify one after handing it to Translate or Server.Push; the index
// Translate derives from it is computed once and shared by every proxy.
// Objects without a namespace are taken to be in "default".
type Mesh struct {
	Services         []*corev1.Service
	Endpoints        []*corev1.Endpoints
	Pods             []*corev1.Pod
	VirtualServices  []*api.VirtualService
	DestinationRules []*api.DestinationRule
	// DomainSuffix is the cluster's DNS domain; empty means "cluster.local".
	DomainSuffix string

	once sync.Once
	idx  *index
}

// index returns the mesh's derived index, building it on first use.
func (m *Mesh) index() *index {
	m.once.Do(func() { m.idx = buildIndex(m) })
	return m.idx
}

// Warnings lists what in the mesh cannot be translated as written
// (conflicting VirtualServices, subsets without a DestinationRule, unknown
// destination hosts, ...). They do not depend on any proxy. Translate
// returns these plus the proxy-specific ones.
func (m *Mesh) Warnings() []Warning {
	return append([]Warning(nil), m.index().warnings...)
}

// ProxyType is the kind of xDS client, from the node id's first field and
// the node metadata.
type ProxyType string

const (
	// Sidecar is weft-proxy (or Envoy) beside a pod: node id "sidecar~...".
	Sidecar ProxyType = "sidecar"
	// Gateway is the per-node proxy serving NodePort and LoadBalancer
	// services: node id "router~..." (Istio's word) or "gateway~...".
	Gateway ProxyType = "router"
	// GRPC is a proxyless gRPC client (grpc-go's xDS resolver): node
	// metadata GENERATOR: "grpc", as Istio's agent writes it.
	GRPC ProxyType = "grpc"
)

// Node metadata keys read by ParseNode (Istio's names).
const (
	MetaLabels           = "LABELS"
	MetaNamespace        = "NAMESPACE"
	MetaGenerator        = "GENERATOR"
	MetaInterceptionMode = "INTERCEPTION_MODE"
	MetaHTTPProxyPort    = "HTTP_PROXY_PORT"
)

// DefaultHTTPProxyPort is where a host-mode sidecar's outbound HTTP proxy
// listens on the pod IP unless node metadata HTTP_PROXY_PORT says otherwise.
const DefaultHTTPProxyPort = 15001

// Proxy describes one xDS client: who it is and where it runs.
type Proxy struct {
	// ID is the node id: "sidecar~<podIP>~<pod>.<ns>~<ns>.svc.cluster.local".
	ID   string
	Type ProxyType
	// IP is the pod IP (the node IP for a gateway).
	IP string
	// Name is the pod name (or the gateway's name); Namespace its namespace.
	Name      string
	Namespace string
	// Labels are the pod's labels (node metadata LABELS): they select the
	// services the proxy serves inbound and VirtualService sourceLabels.
	Labels map[string]string
	// HostMode is set for a sidecar without traffic capture (DESIGN.md "Pod
	// networking", host mode; node metadata INTERCEPTION_MODE: NONE): it
	// gets an HTTP proxy listener and per-service TCP listeners on its IP
	// instead of the virtual outbound/inbound listeners.
	HostMode bool
	// HTTPProxyPort is the host-mode HTTP proxy port; 0 means
	// DefaultHTTPProxyPort.
	HTTPProxyPort uint32
}

// ErrBadNode is returned (wrapped) by ParseNode for a node it cannot use.
var ErrBadNode = errors.New("bad xDS node")

// ParseNode reads a Proxy from an xDS node: the id in Istio's form
// "<type>~<ip>~<pod>.<ns>~<ns>.svc.<domain>" and the metadata keys LABELS,
// NAMESPACE, GENERATOR, INTERCEPTION_MODE and HTTP_PROXY_PORT.
func ParseNode(node *corev3.Node) (Proxy, error) {
	if node == nil || node.GetId() == "" {
		return Proxy{}, fmt.Errorf("%w: no node id", ErrBadNode)
	}
	p := Proxy{ID: node.GetId()}
	parts := strings.Split(p.ID, "~")
	if len(parts) != 4 {
		return Proxy{}, fmt.Errorf("%w: id %q is not <type>~<ip>~<pod>.<namespace>~<domain>", ErrBadNode, p.ID)
	}
	switch parts[0] {
	case "sidecar":
		p.Type = Sidecar
	case "router", "gateway":
		p.Type = Gateway
	default:
		return Proxy{}, fmt.Errorf("%w: id %q: unknown proxy type %q (want sidecar or router)", ErrBadNode, p.ID, parts[0])
	}
	p.IP = parts[1]
	if p.IP != "" {
		if _, err := netip.ParseAddr(p.IP); err != nil {
			return Proxy{}, fmt.Errorf("%w: id %q: ip: %w", ErrBadNode, p.ID, err)
		}
	}
	p.Name, p.Namespace, _ = strings.Cut(parts[2], ".")
	if p.Namespace == "" {
		p.Namespace, _, _ = strings.Cut(parts[3], ".")
	}
	fields := node.GetMetadata().GetFields()
	if ns := fields[MetaNamespace].GetStringValue(); ns != "" {
		p.Namespace = ns
	}
	if p.Namespace == "" {
		p.Namespace = "default"
	}
	if l := fields[MetaLabels].GetStructValue(); l != nil {
		p.Labels = make(map[string]string, len(l.GetFields()))
		for k, v := range l.GetFields() {
			p.Labels[k] = v.GetStringValue()
		}
	}
	if fields[MetaGenerator].GetStringValue() == "grpc" {
		p.Type = GRPC
	}
	if strings.EqualFold(fields[MetaInterceptionMode].GetStringValue(), "NONE") {
		p.HostMode = true
	}
	if s := fields[MetaHTTPProxyPort].GetStringValue(); s != "" {
		port, err := strconv.ParseUint(s, 10, 16)
		if err != nil || port == 0 {
			return Proxy{}, fmt.Errorf("%w: metadata %s %q is not a port", ErrBadNode, MetaHTTPProxyPort, s)
		}
		p.HTTPProxyPort = uint32(port)
	}
	return p, nil
}

// Resources is one proxy's configuration, each list sorted by name.
type Resources struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	Endpoints []*endpointv3.ClusterLoadAssignment
}

// Warning is something in the input that could not be translated as
// written. Translation goes on without it.
type Warning struct {
	// Resource names the object: "VirtualService default/reviews".
	Resource string
	Message  string
}

func (w Warning) String() string { return w.Resource + ": " + w.Message }
