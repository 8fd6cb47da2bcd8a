package xds

import (
	"fmt"
	"net/netip"
	"strconv"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	origdstv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/original_dst/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// reservedPorts are the proxy's own ports, never used for a host-mode
// service listener.
var reservedPorts = map[uint32]bool{15000: true, 15001: true, 15006: true, 15020: true, 15021: true, 15090: true}

func (t *translator) filter(name string, m proto.Message) *listenerv3.Filter {
	return &listenerv3.Filter{Name: name, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: t.toAny(m)}}
}

// httpFilters is the outbound HTTP filter chain: fault (so per-route fault
// configs apply), then the router.
func (t *translator) httpFilters(withFault bool) []*hcmv3.HttpFilter {
	var out []*hcmv3.HttpFilter
	if withFault {
		out = append(out, &hcmv3.HttpFilter{Name: filterFault, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: t.toAny(&faultv3.HTTPFault{})}})
	}
	return append(out, &hcmv3.HttpFilter{Name: filterRouter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: t.toAny(&routerv3.Router{})}})
}

func rds(name string) *hcmv3.HttpConnectionManager_Rds {
	return &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: adsConfigSource(), RouteConfigName: name}}
}

func (t *translator) tcpProxy(statPrefix string, spec tcpTarget) *listenerv3.Filter {
	tp := &tcpv3.TcpProxy{StatPrefix: statPrefix}
	if len(spec) == 1 {
		tp.ClusterSpecifier = &tcpv3.TcpProxy_Cluster{Cluster: spec[0].name}
	} else {
		wc := &tcpv3.TcpProxy_WeightedCluster{}
		for _, c := range spec {
			wc.Clusters = append(wc.Clusters, &tcpv3.TcpProxy_WeightedCluster_ClusterWeight{Name: c.name, Weight: c.weight})
		}
		tp.ClusterSpecifier = &tcpv3.TcpProxy_WeightedClusters{WeightedClusters: wc}
	}
	return t.filter(filterTCPProxy, tp)
}

// virtualOutbound is Istio's 0.0.0.0_15001 capture listener: it hands each
// connection to the listener of its original destination
// (use_original_dst) and passes the rest through.
func (t *translator) virtualOutbound() {
	t.listeners[VirtualOutbound] = &listenerv3.Listener{
		Name:             VirtualOutbound,
		Address:          socketAddress("0.0.0.0", VirtualOutboundPort),
		UseOriginalDst:   wrapperspb.Bool(true),
		TrafficDirection: corev3.TrafficDirection_OUTBOUND,
		FilterChains: []*listenerv3.FilterChain{{
			Name:    "virtualOutbound-catchall-tcp",
			Filters: []*listenerv3.Filter{t.tcpProxy(PassthroughCluster, tcpTarget{{name: PassthroughCluster}})},
		}},
	}
}

// outboundListeners adds, for a sidecar with capture, "0.0.0.0_<port>" for
// each HTTP port (HCM with RDS route "<port>") and "<clusterIP>_<port>"
// (or "0.0.0.0_<port>" when headless) for each TCP service port. They are
// not bound (bind_to_port false): virtualOutbound hands connections over.
func (t *translator) outboundListeners() {
	httpPorts := map[uint32][]*routev3.VirtualHost{}
	for _, s := range t.idx.services {
		for i := range s.ports {
			sp := &s.ports[i]
			if sp.proto.isHTTP() {
				httpPorts[sp.port] = append(httpPorts[sp.port], t.virtualHost(s, sp, true))
			}
		}
	}
	for port, vhs := range httpPorts {
		name := ListenerName("0.0.0.0", port)
		t.routes[RouteName(port)] = t.routeConfig(RouteName(port), vhs, true)
		t.listeners[name] = &listenerv3.Listener{
			Name:             name,
			Address:          socketAddress("0.0.0.0", port),
			BindToPort:       wrapperspb.Bool(false),
			TrafficDirection: corev3.TrafficDirection_OUTBOUND,
			FilterChains: []*listenerv3.FilterChain{{
				Filters: []*listenerv3.Filter{t.filter(filterHCM, &hcmv3.HttpConnectionManager{
					StatPrefix:     "outbound_" + name,
					RouteSpecifier: rds(RouteName(port)),
					HttpFilters:    t.httpFilters(true),
				})},
			}},
		}
	}
	for _, s := range t.idx.services {
		for i := range s.ports {
			sp := &s.ports[i]
			if sp.proto.isHTTP() {
				continue
			}
			ip := s.clusterIP
			if ip == "" {
				ip = "0.0.0.0"
			}
			name := ListenerName(ip, sp.port)
			if _, taken := t.listeners[name]; taken {
				t.warn("Service "+key(s.ns, s.name), "port %d: listener %s is already used by another service; not reachable by port through this proxy", sp.port, name)
				continue
			}
			target := t.tcpRoute(s, sp)
			t.listeners[name] = &listenerv3.Listener{
				Name:             name,
				Address:          socketAddress(ip, sp.port),
				BindToPort:       wrapperspb.Bool(false),
				TrafficDirection: corev3.TrafficDirection_OUTBOUND,
				FilterChains: []*listenerv3.FilterChain{{
					Filters: []*listenerv3.Filter{t.tcpProxy(OutboundCluster(sp.port, "", s.fqdn), target)},
				}},
			}
		}
	}
}

// routeConfig assembles an outbound route configuration; a domain already
// claimed by an earlier virtual host is dropped from later ones (Envoy
// rejects duplicates). allowAny adds Istio's "allow_any" virtual host,
// which passes unknown hosts through to their original destination.
func (t *translator) routeConfig(name string, vhs []*routev3.VirtualHost, allowAny bool) *routev3.RouteConfiguration {
	sortVirtualHosts(vhs)
	claimed := map[string]string{}
	for i, vh := range vhs {
		var kept []string
		for _, d := range vh.Domains {
			if other, dup := claimed[d]; dup {
				t.warn("route "+name, "domain %q of %s is already served by %s; dropped", d, vh.Name, other)
				continue
			}
			claimed[d] = vh.Name
			kept = append(kept, d)
		}
		if len(kept) != len(vh.Domains) {
			// Virtual hosts are shared: change a copy.
			c := proto.Clone(vh).(*routev3.VirtualHost)
			c.Domains = kept
			vhs[i] = c
		}
	}
	if allowAny {
		vhs = append(vhs, &routev3.VirtualHost{
			Name:    "allow_any",
			Domains: []string{"*"},
			Routes: []*routev3.Route{{
				Name:  "allow_any",
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: PassthroughCluster},
					Timeout:          durationpb.New(0),
				}},
			}},
		})
	}
	return &routev3.RouteConfiguration{Name: name, VirtualHosts: vhs, ValidateClusters: wrapperspb.Bool(false)}
}

func sortVirtualHosts(vhs []*routev3.VirtualHost) {
	for i := 1; i < len(vhs); i++ {
		for j := i; j > 0 && vhs[j].Name < vhs[j-1].Name; j-- {
			vhs[j], vhs[j-1] = vhs[j-1], vhs[j]
		}
	}
}

// tcpTarget is where a TCP connection goes: one cluster, or several with
// weights.
type tcpTarget []struct {
	name   string
	weight uint32
}

// tcpRoute applies the first TCP route of the service's VirtualService
// whose match applies (port, sourceLabels, destinationSubnets against the
// ClusterIP); else the service's own cluster.
func (t *translator) tcpRoute(s *service, sp *servicePort) tcpTarget {
	if v := t.idx.vs[s.fqdn]; v != nil {
		for i, r := range v.spec.GetTcp() {
			if !t.tcpMatches(r.GetMatch(), s, sp.port) {
				continue
			}
			var out tcpTarget
			dests := r.GetRoute()
			for j, d := range dests {
				if len(dests) > 1 && d.GetWeight() == 0 {
					continue
				}
				name, _, _ := t.destination(v, fmt.Sprintf("tcp[%d].route[%d]", i, j), d.GetDestination(), s, sp.port)
				out = append(out, struct {
					name   string
					weight uint32
				}{name, uint32(d.GetWeight())})
			}
			if len(out) > 0 {
				return out
			}
		}
	}
	return tcpTarget{{name: t.outboundCluster(s, sp, "")}}
}

func (t *translator) tcpMatches(matches []*networking.L4MatchAttributes, s *service, port uint32) bool {
	if len(matches) == 0 {
		return true
	}
	for _, m := range matches {
		if m.GetPort() != 0 && m.GetPort() != port {
			continue
		}
		if !labelsMatch(m.GetSourceLabels(), t.p.Labels) {
			continue
		}
		if subnets := m.GetDestinationSubnets(); len(subnets) > 0 && !inSubnets(s.clusterIP, subnets) {
			continue
		}
		return true
	}
	return false
}

func inSubnets(ip string, subnets []string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, s := range subnets {
		if p, err := netip.ParsePrefix(s); err == nil && p.Contains(addr) {
			return true
		}
		if a, err := netip.ParseAddr(s); err == nil && a == addr {
			return true
		}
	}
	return false
}

// inbound adds Istio's virtualInbound (0.0.0.0_15006) with one filter chain
// per port the pod serves (matched on the original destination port) to
// "inbound|<port>||", and a catch-all passthrough chain.
func (t *translator) inbound() {
	type inPort struct {
		port  uint32
		proto protocol
	}
	var ports []inPort
	seen := map[uint32]bool{}
	pod := t.idx.pods[nsName{t.p.Namespace, t.p.Name}]
	if pod == nil && t.p.IP != "" {
		pod = t.idx.podsByIP[t.p.IP]
	}
	for _, s := range t.idx.services {
		if s.ns != t.p.Namespace || len(s.selector) == 0 || !labelsMatch(s.selector, t.p.Labels) {
			continue
		}
		for _, sp := range s.ports {
			tp, ok := t.targetPort(sp, pod)
			if !ok {
				t.warn("Service "+key(s.ns, s.name), "port %d: target port %q is not a port of pod %s; no inbound listener for it", sp.port, sp.targetPort.String(), key(t.p.Namespace, t.p.Name))
				continue
			}
			if !seen[tp] {
				seen[tp] = true
				ports = append(ports, inPort{tp, sp.proto})
			}
		}
	}
	var chains []*listenerv3.FilterChain
	for i := 1; i < len(ports); i++ {
		for j := i; j > 0 && ports[j].port < ports[j-1].port; j-- {
			ports[j], ports[j-1] = ports[j-1], ports[j]
		}
	}
	for _, ip := range ports {
		cluster := t.inboundCluster(ip.port, ip.proto)
		name := ListenerName("0.0.0.0", ip.port)
		fc := &listenerv3.FilterChain{
			Name:             name,
			FilterChainMatch: &listenerv3.FilterChainMatch{DestinationPort: wrapperspb.UInt32(ip.port)},
		}
		if ip.proto.isHTTP() {
			fc.Filters = []*listenerv3.Filter{t.filter(filterHCM, &hcmv3.HttpConnectionManager{
				StatPrefix: "inbound_" + name,
				RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{RouteConfig: &routev3.RouteConfiguration{
					Name:             cluster,
					ValidateClusters: wrapperspb.Bool(false),
					VirtualHosts: []*routev3.VirtualHost{{
						Name:    "inbound|http|" + strconv.FormatUint(uint64(ip.port), 10),
						Domains: []string{"*"},
						Routes: []*routev3.Route{{
							Name:  "default",
							Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
							Action: &routev3.Route_Route{Route: &routev3.RouteAction{
								ClusterSpecifier:  &routev3.RouteAction_Cluster{Cluster: cluster},
								Timeout:           durationpb.New(0),
								MaxStreamDuration: t.maxStreamDuration(0),
							}},
						}},
					}},
				}},
				HttpFilters: t.httpFilters(false),
			})}
		} else {
			fc.Filters = []*listenerv3.Filter{t.tcpProxy(cluster, tcpTarget{{name: cluster}})}
		}
		chains = append(chains, fc)
	}
	chains = append(chains, &listenerv3.FilterChain{
		Name:    "virtualInbound-catchall-tcp",
		Filters: []*listenerv3.Filter{t.tcpProxy(InboundPassthroughCluster, tcpTarget{{name: InboundPassthroughCluster}})},
	})
	t.listeners[VirtualInbound] = &listenerv3.Listener{
		Name:             VirtualInbound,
		Address:          socketAddress("0.0.0.0", VirtualInboundPort),
		TrafficDirection: corev3.TrafficDirection_INBOUND,
		ListenerFilters: []*listenerv3.ListenerFilter{{
			Name:       filterOrigDst,
			ConfigType: &listenerv3.ListenerFilter_TypedConfig{TypedConfig: t.toAny(&origdstv3.OriginalDst{})},
		}},
		FilterChains: chains,
	}
}

// targetPort resolves a service port's targetPort against the pod: a
// number as is (0: the service port), a name through the pod's container
// ports.
func (t *translator) targetPort(sp servicePort, pod *corev1.Pod) (uint32, bool) {
	tp := sp.targetPort
	if tp.Type == intstr.Int {
		if tp.IntVal <= 0 {
			return sp.port, true
		}
		return uint32(tp.IntVal), true
	}
	if tp.StrVal == "" {
		return sp.port, true
	}
	if pod == nil {
		return 0, false
	}
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == tp.StrVal {
				return uint32(cp.ContainerPort), true
			}
		}
	}
	return 0, false
}

// httpProxyListener is a host-mode sidecar's outbound HTTP proxy
// "<podIP>_<port>" (port HTTP_PROXY_PORT, default 15001), bound on the pod
// IP, routing by Host through route configuration "http_proxy": every HTTP
// service port, domains with ":<port>", and bare names for port 80.
func (t *translator) httpProxyListener() {
	if t.p.IP == "" {
		t.warn("proxy "+t.p.ID, "host mode needs the pod IP; no listeners")
		return
	}
	port := t.p.HTTPProxyPort
	if port == 0 {
		port = DefaultHTTPProxyPort
	}
	var vhs []*routev3.VirtualHost
	for _, s := range t.idx.services {
		for i := range s.ports {
			sp := &s.ports[i]
			if sp.proto.isHTTP() {
				vhs = append(vhs, t.virtualHost(s, sp, sp.port == 80))
			}
		}
	}
	t.routes[HTTPProxyRoute] = t.routeConfig(HTTPProxyRoute, vhs, false)
	name := ListenerName(t.p.IP, port)
	t.listeners[name] = &listenerv3.Listener{
		Name:             name,
		Address:          socketAddress(t.p.IP, port),
		TrafficDirection: corev3.TrafficDirection_OUTBOUND,
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{t.filter(filterHCM, &hcmv3.HttpConnectionManager{
				StatPrefix:          "outbound_" + HTTPProxyRoute,
				RouteSpecifier:      rds(HTTPProxyRoute),
				HttpProtocolOptions: &corev3.Http1ProtocolOptions{AllowAbsoluteUrl: wrapperspb.Bool(true)},
				HttpFilters:         t.httpFilters(true),
			})},
		}},
	}
}

// hostTCPListeners gives a host-mode sidecar one bound listener
// "<podIP>_<port>" per TCP service port: the app connects to
// $POD_IP:<service port>. A port the pod serves itself, a proxy port, or a
// port already taken by another service (same namespace first, then by
// name) is skipped with a warning.
func (t *translator) hostTCPListeners() {
	if t.p.IP == "" {
		return
	}
	own := map[uint32]bool{}
	if pod := t.idx.pods[nsName{t.p.Namespace, t.p.Name}]; pod != nil {
		for _, c := range pod.Spec.Containers {
			for _, cp := range c.Ports {
				own[uint32(cp.ContainerPort)] = true
			}
		}
	}
	httpPort := t.p.HTTPProxyPort
	if httpPort == 0 {
		httpPort = DefaultHTTPProxyPort
	}
	// Same-namespace services claim ports first.
	ordered := make([]*service, 0, len(t.idx.services))
	for _, s := range t.idx.services {
		if s.ns == t.p.Namespace {
			ordered = append(ordered, s)
		}
	}
	for _, s := range t.idx.services {
		if s.ns != t.p.Namespace {
			ordered = append(ordered, s)
		}
	}
	taken := map[uint32]string{}
	for _, s := range ordered {
		for i := range s.ports {
			sp := &s.ports[i]
			if sp.proto.isHTTP() {
				continue
			}
			svcRef := "Service " + key(s.ns, s.name)
			switch {
			case own[sp.port]:
				t.warn(svcRef, "port %d: pod %s serves this port itself; host-mode proxy %s has no listener for it", sp.port, key(t.p.Namespace, t.p.Name), t.p.ID)
				continue
			case reservedPorts[sp.port] || sp.port == httpPort:
				t.warn(svcRef, "port %d is a proxy port; host-mode proxies have no listener for it", sp.port)
				continue
			case taken[sp.port] != "":
				t.warn(svcRef, "port %d is already served by %s on host-mode proxy %s", sp.port, taken[sp.port], t.p.ID)
				continue
			}
			taken[sp.port] = s.fqdn
			name := ListenerName(t.p.IP, sp.port)
			t.listeners[name] = &listenerv3.Listener{
				Name:             name,
				Address:          socketAddress(t.p.IP, sp.port),
				TrafficDirection: corev3.TrafficDirection_OUTBOUND,
				FilterChains: []*listenerv3.FilterChain{{
					Filters: []*listenerv3.Filter{t.tcpProxy(OutboundCluster(sp.port, "", s.fqdn), t.tcpRoute(s, sp))},
				}},
			}
		}
	}
}

// apiListeners serves proxyless gRPC: for every service port, API
// listeners "<host>:<port>" for each name a client may dial (FQDN,
// name.ns.svc, name.ns, and the short name in its own namespace), whose
// HTTP connection manager names RDS route "outbound|<port>||<fqdn>".
func (t *translator) apiListeners() {
	for _, s := range t.idx.services {
		for i := range s.ports {
			sp := &s.ports[i]
			routeName := OutboundCluster(sp.port, "", s.fqdn)
			vh := t.virtualHost(s, sp, true)
			t.routes[routeName] = &routev3.RouteConfiguration{Name: routeName, VirtualHosts: []*routev3.VirtualHost{vh}}
			hcm := t.toAny(&hcmv3.HttpConnectionManager{
				StatPrefix:     routeName,
				RouteSpecifier: rds(routeName),
				HttpFilters:    t.httpFilters(true),
			})
			addr := s.clusterIP
			if addr == "" {
				addr = "0.0.0.0"
			}
			hosts := []string{s.fqdn, s.name + "." + s.ns + ".svc", s.name + "." + s.ns}
			if s.ns == t.p.Namespace {
				hosts = append(hosts, s.name)
			}
			for _, h := range hosts {
				name := hostPort(h, sp.port)
				t.listeners[name] = &listenerv3.Listener{
					Name:        name,
					Address:     socketAddress(addr, sp.port),
					ApiListener: &listenerv3.ApiListener{ApiListener: hcm},
				}
			}
		}
	}
}

// nodePortListeners gives the node proxy one bound L4 listener
// "<nodeIP>_<nodePort>" per port of each NodePort and LoadBalancer
// service, forwarding to the service's cluster like kube-proxy would
// (VirtualServices for the mesh do not apply, as in Istio). A
// LoadBalancer service is also served at "<nodeIP>_<port>": the agent
// publishes the node's IP as the service's load-balancer ingress, so its
// EXTERNAL-IP:PORT answers, as with k3s' ServiceLB.
func (t *translator) nodePortListeners() {
	ip := t.p.IP
	if ip == "" {
		ip = "0.0.0.0"
	}
	for _, s := range t.idx.services {
		if !s.nodePortType {
			continue
		}
		for i := range s.ports {
			sp := &s.ports[i]
			if sp.nodePort != 0 {
				t.nodeListener(s, sp, ip, sp.nodePort, "node port")
			}
			if s.loadBalancer {
				t.nodeListener(s, sp, ip, sp.port, "load-balancer port")
			}
		}
	}
}

// nodeListener binds ip:port on the node proxy to a service port's cluster.
func (t *translator) nodeListener(s *service, sp *servicePort, ip string, port uint32, what string) {
	name := ListenerName(ip, port)
	if _, taken := t.listeners[name]; taken {
		t.warn("Service "+key(s.ns, s.name), "%s %d is already used on the node by another service", what, port)
		return
	}
	cluster := t.outboundCluster(s, sp, "")
	t.listeners[name] = &listenerv3.Listener{
		Name:             name,
		Address:          socketAddress(ip, port),
		TrafficDirection: corev3.TrafficDirection_INBOUND,
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{t.tcpProxy(cluster, tcpTarget{{name: cluster}})},
		}},
	}
}

// hostPortListeners serves the hostPorts of the pods running on the
// gateway's node (their status.hostIP is its IP), as the CNI portmap
// plugin does: "<nodeIP>_<hostPort>" forwards to the pod's IP at the
// containerPort. A hostIP other than the node's address (or 0.0.0.0,
// taken as the node's address), a UDP or SCTP hostPort, and a port another
// listener of the node holds are warned about and not served.
func (t *translator) hostPortListeners() {
	ip := t.p.IP
	if ip == "" {
		return
	}
	for _, p := range t.idx.hostPorts {
		if p.Status.HostIP != ip {
			continue
		}
		res := "Pod " + key(nsOrDefault(p.Namespace), p.Name)
		for _, hp := range hostPortsOf(p) {
			switch {
			case hp.Protocol != "" && hp.Protocol != corev1.ProtocolTCP:
				t.warn(res, "hostPort %d/%s is not served: the node gateway forwards TCP only", hp.HostPort, hp.Protocol)
				continue
			case hp.HostIP != "" && hp.HostIP != "0.0.0.0" && hp.HostIP != ip:
				t.warn(res, "hostPort %d is not served: its hostIP %s is not the node's address %s", hp.HostPort, hp.HostIP, ip)
				continue
			}
			name := ListenerName(ip, uint32(hp.HostPort))
			if _, taken := t.listeners[name]; taken {
				t.warn(res, "hostPort %d is already used on the node", hp.HostPort)
				continue
			}
			cluster := t.staticCluster(HostPortCluster(uint32(hp.HostPort), p), p.Status.PodIP, uint32(hp.ContainerPort), protoTCP)
			t.listeners[name] = &listenerv3.Listener{
				Name:             name,
				Address:          socketAddress(ip, uint32(hp.HostPort)),
				TrafficDirection: corev3.TrafficDirection_INBOUND,
				FilterChains: []*listenerv3.FilterChain{{
					Filters: []*listenerv3.Filter{t.tcpProxy(cluster, tcpTarget{{name: cluster}})},
				}},
			}
		}
	}
}

// servesHostPorts reports whether a pod has hostPorts a node gateway
// should serve: it runs (not finished, not terminating) with an IP of its
// own (a pod on the host's network binds its ports itself).
func servesHostPorts(p *corev1.Pod) bool {
	if p.Spec.HostNetwork || p.Status.PodIP == "" || p.Status.HostIP == "" || p.DeletionTimestamp != nil ||
		p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return false
	}
	return len(hostPortsOf(p)) > 0
}

// hostPortsOf lists the container ports of a pod that have a hostPort
// (app containers and init containers alike: a sidecar's count).
func hostPortsOf(p *corev1.Pod) []corev1.ContainerPort {
	var out []corev1.ContainerPort
	for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for _, c := range cs {
			for _, port := range c.Ports {
				if port.HostPort != 0 {
					out = append(out, port)
				}
			}
		}
	}
	return out
}
