package xds

import (
	"net/netip"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Istio's names for resources, which tools, dashboards and the sidecar
// rely on.
const (
	// VirtualOutbound is the capture listener for outbound traffic (port 15001).
	VirtualOutbound = "virtualOutbound"
	// VirtualInbound is the capture listener for inbound traffic (port 15006).
	VirtualInbound = "virtualInbound"
	// VirtualOutboundPort and VirtualInboundPort are Istio's capture ports.
	VirtualOutboundPort = 15001
	VirtualInboundPort  = 15006

	// PassthroughCluster forwards to the original destination.
	PassthroughCluster = "PassthroughCluster"
	// InboundPassthroughCluster forwards inbound traffic for undeclared ports.
	InboundPassthroughCluster = "InboundPassthroughCluster"
	// BlackHoleCluster has no endpoints: requests routed to it fail with 503.
	BlackHoleCluster = "BlackHoleCluster"

	// HTTPProxyRoute is the route configuration of a host-mode sidecar's
	// outbound HTTP proxy listener (Istio's "http_proxy").
	HTTPProxyRoute = "http_proxy"

	// Filter names, as Istio writes them.
	filterHCM        = "envoy.filters.network.http_connection_manager"
	filterTCPProxy   = "envoy.filters.network.tcp_proxy"
	filterRouter     = "envoy.filters.http.router"
	filterFault      = "envoy.filters.http.fault"
	filterOrigDst    = "envoy.filters.listener.original_dst"
	upstreamHTTPOpts = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
)

// OutboundCluster is Istio's outbound cluster name "outbound|<port>|<subset>|<fqdn>".
func OutboundCluster(port uint32, subset, fqdn string) string {
	return "outbound|" + strconv.FormatUint(uint64(port), 10) + "|" + subset + "|" + fqdn
}

// InboundCluster is Istio's inbound cluster name "inbound|<port>||".
func InboundCluster(port uint32) string {
	return "inbound|" + strconv.FormatUint(uint64(port), 10) + "||"
}

// HostPortCluster is the node gateway's cluster for a pod's hostPort:
// "hostport|<hostPort>||<pod>.<namespace>" (Istio has none: kube's CNI
// portmap plugin serves hostPorts there).
func HostPortCluster(hostPort uint32, p *corev1.Pod) string {
	return "hostport|" + strconv.FormatUint(uint64(hostPort), 10) + "||" + p.Name + "." + nsOrDefault(p.Namespace)
}

// ListenerName is Istio's listener name "<ip>_<port>".
func ListenerName(ip string, port uint32) string {
	return ip + "_" + strconv.FormatUint(uint64(port), 10)
}

// RouteName is the name of an outbound HTTP route configuration: the port.
func RouteName(port uint32) string { return strconv.FormatUint(uint64(port), 10) }

// hostPort joins a host and a port the way Envoy domains and gRPC
// listener names spell them.
func hostPort(host string, port uint32) string {
	p := strconv.FormatUint(uint64(port), 10)
	if a, err := netip.ParseAddr(host); err == nil && a.Is6() {
		return "[" + host + "]:" + p
	}
	return host + ":" + p
}

// protocol is a service port's application protocol, as Istio reads it
// from the port name's prefix or appProtocol.
type protocol int

const (
	protoTCP protocol = iota
	protoHTTP
	protoHTTP2
	protoGRPC
	protoUDP // not proxied
)

func (p protocol) isHTTP() bool  { return p == protoHTTP || p == protoHTTP2 || p == protoGRPC }
func (p protocol) isHTTP2() bool { return p == protoHTTP2 || p == protoGRPC }

func (p protocol) String() string {
	switch p {
	case protoHTTP:
		return "http"
	case protoHTTP2:
		return "http2"
	case protoGRPC:
		return "grpc"
	case protoUDP:
		return "udp"
	}
	return "tcp"
}

// parseProtocol maps Istio's protocol names (case-insensitive) and the
// Kubernetes appProtocol values; ok is false for an unknown name.
func parseProtocol(s string) (protocol, bool) {
	switch strings.ToLower(s) {
	case "http", "http_proxy", "grpc-web", "kubernetes.io/ws":
		return protoHTTP, true
	case "http2", "kubernetes.io/h2c", "h2c":
		return protoHTTP2, true
	case "grpc":
		return protoGRPC, true
	case "tcp", "tls", "https", "mongo", "redis", "mysql", "kubernetes.io/wss":
		return protoTCP, true
	case "udp":
		return protoUDP, true
	}
	return protoTCP, false
}

// portProtocol is Istio's rule: appProtocol if it names a protocol, else
// the port name up to its first '-'. Unknown protocols are treated as TCP
// (Weft does not sniff protocols).
func portProtocol(name string, appProtocol *string, k8sProtocol string) protocol {
	if k8sProtocol == "UDP" || k8sProtocol == "SCTP" {
		return protoUDP
	}
	if appProtocol != nil {
		if p, ok := parseProtocol(*appProtocol); ok {
			return p
		}
	}
	prefix, _, _ := strings.Cut(name, "-")
	p, _ := parseProtocol(prefix)
	return p
}
