package xdsresource

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	httpinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/http_inspector/v3"
	originaldstv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/original_dst/v3"
	tlsinspectorv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/tls_inspector/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// DefaultTCPIdleTimeout is Envoy's tcp_proxy idle timeout when unset.
const DefaultTCPIdleTimeout = time.Hour

// UnmarshalListener decodes and validates an LDS resource.
func UnmarshalListener(a *anypb.Any) (*Listener, error) {
	l := &listenerv3.Listener{}
	if err := decodeAny(a, l, ""); err != nil {
		return nil, fmt.Errorf("listener: %w", err)
	}
	out, err := listener(l)
	if err != nil {
		return nil, fmt.Errorf("listener %q: %w", l.GetName(), err)
	}
	return out, nil
}

func listener(l *listenerv3.Listener) (*Listener, error) {
	if l.GetName() == "" {
		return nil, invalid("name: empty")
	}
	out := &Listener{
		Name:           l.GetName(),
		UseOriginalDst: l.GetUseOriginalDst().GetValue(),
		BindToPort:     l.GetBindToPort() == nil || l.GetBindToPort().GetValue(),
		SniffTimeout:   15 * time.Second,
		BufferLimit:    DefaultBufferLimit,
	}
	if b := l.GetPerConnectionBufferLimitBytes(); b != nil {
		if b.GetValue() == 0 {
			return nil, invalid("per_connection_buffer_limit_bytes: must be > 0")
		}
		out.BufferLimit = int64(b.GetValue())
	}
	sa := l.GetAddress().GetSocketAddress()
	if sa == nil {
		return nil, invalid("address.socket_address: required")
	}
	if sa.GetProtocol() != corev3.SocketAddress_TCP {
		return nil, invalid("address.socket_address.protocol: only TCP is supported")
	}
	if _, ok := sa.GetPortSpecifier().(*corev3.SocketAddress_PortValue); !ok && sa.GetPortSpecifier() != nil {
		return nil, invalid("address.socket_address.named_port: not supported")
	}
	if _, err := netip.ParseAddr(sa.GetAddress()); err != nil {
		return nil, invalid("address.socket_address.address: %q is not an IP address", sa.GetAddress())
	}
	out.Host, out.Port = sa.GetAddress(), sa.GetPortValue()
	if out.Port > 65535 {
		return nil, invalid("address.socket_address.port_value: %d out of range", out.Port)
	}
	switch l.GetTrafficDirection() {
	case corev3.TrafficDirection_INBOUND:
		out.Direction = DirectionInbound
	case corev3.TrafficDirection_OUTBOUND:
		out.Direction = DirectionOutbound
	}
	if l.GetListenerFiltersTimeout() != nil {
		d, err := duration(l.GetListenerFiltersTimeout(), "listener_filters_timeout")
		if err != nil {
			return nil, err
		}
		out.SniffTimeout = d
	}
	for i, f := range l.GetListenerFilters() {
		p := fmt.Sprintf("listener_filters[%d]", i)
		var m proto.Message
		switch {
		case f.GetName() == ListenerFilterOriginalDst || typeName(f.GetTypedConfig()) == "envoy.extensions.filters.listener.original_dst.v3.OriginalDst":
			m = &originaldstv3.OriginalDst{}
			out.OriginalDstFilter = true
		case f.GetName() == ListenerFilterHTTPInspector || typeName(f.GetTypedConfig()) == "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector":
			m = &httpinspectorv3.HttpInspector{}
			out.HTTPInspector = true
		case f.GetName() == ListenerFilterTLSInspector || typeName(f.GetTypedConfig()) == "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector":
			m = &tlsinspectorv3.TlsInspector{}
		default:
			return nil, invalid("%s: listener filter %q is not supported", p, f.GetName())
		}
		if f.GetTypedConfig() != nil {
			if err := decodeAny(f.GetTypedConfig(), m, p+".typed_config"); err != nil {
				return nil, err
			}
		}
	}
	for i, fc := range l.GetFilterChains() {
		c, err := filterChain(fc, fmt.Sprintf("filter_chains[%d]", i))
		if err != nil {
			return nil, err
		}
		out.FilterChains = append(out.FilterChains, c)
	}
	if l.GetDefaultFilterChain() != nil {
		c, err := filterChain(l.GetDefaultFilterChain(), "default_filter_chain")
		if err != nil {
			return nil, err
		}
		out.DefaultFilterChain = c
	}
	if len(out.FilterChains) == 0 && out.DefaultFilterChain == nil {
		return nil, invalid("filter_chains: empty and no default_filter_chain")
	}
	return out, nil
}

func filterChain(fc *listenerv3.FilterChain, p string) (*FilterChain, error) {
	out := &FilterChain{Name: fc.GetName()}
	m := fc.GetFilterChainMatch()
	out.Match.DestinationPort = m.GetDestinationPort().GetValue()
	out.Match.TransportProtocol = m.GetTransportProtocol()
	switch out.Match.TransportProtocol {
	case "", "raw_buffer", "tls":
	default:
		return nil, invalid("%s.filter_chain_match.transport_protocol: %q is not supported", p, out.Match.TransportProtocol)
	}
	for i, ap := range m.GetApplicationProtocols() {
		switch ap {
		case "http/1.0", "http/1.1", "h2c", "h2":
		default:
			return nil, invalid("%s.filter_chain_match.application_protocols[%d]: %q is not supported", p, i, ap)
		}
	}
	out.Match.ApplicationProtocols = m.GetApplicationProtocols()
	for i, r := range m.GetPrefixRanges() {
		addr, err := netip.ParseAddr(r.GetAddressPrefix())
		if err != nil {
			return nil, invalid("%s.filter_chain_match.prefix_ranges[%d].address_prefix: %w", p, i, err)
		}
		bits := addr.BitLen()
		if r.GetPrefixLen() != nil {
			bits = int(r.GetPrefixLen().GetValue())
		}
		pfx, err := addr.Prefix(bits)
		if err != nil {
			return nil, invalid("%s.filter_chain_match.prefix_ranges[%d].prefix_len: %w", p, i, err)
		}
		out.Match.PrefixRanges = append(out.Match.PrefixRanges, pfx)
	}
	if len(fc.GetFilters()) != 1 {
		return nil, invalid("%s.filters: want exactly one network filter (%s or %s), got %d",
			p, FilterHTTPConnectionManager, FilterTCPProxy, len(fc.GetFilters()))
	}
	f := fc.GetFilters()[0]
	fp := p + ".filters[0]"
	switch typeName(f.GetTypedConfig()) {
	case "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager":
		h := &hcmv3.HttpConnectionManager{}
		if err := decodeAny(f.GetTypedConfig(), h, fp+".typed_config"); err != nil {
			return nil, err
		}
		var err error
		if out.HTTP, err = connectionManager(h, fp+".typed_config"); err != nil {
			return nil, err
		}
		if out.Match.TransportProtocol == "tls" {
			return nil, invalid("%s.filter_chain_match.transport_protocol: tls with an HTTP connection manager needs TLS termination, not supported", p)
		}
	case "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy":
		t := &tcpproxyv3.TcpProxy{}
		if err := decodeAny(f.GetTypedConfig(), t, fp+".typed_config"); err != nil {
			return nil, err
		}
		var err error
		if out.TCP, err = tcpProxy(t, fp+".typed_config"); err != nil {
			return nil, err
		}
	default:
		return nil, invalid("%s: network filter %q (%s) is not supported", fp, f.GetName(), typeName(f.GetTypedConfig()))
	}
	return out, nil
}

func connectionManager(h *hcmv3.HttpConnectionManager, p string) (*HTTPConnectionManager, error) {
	out := &HTTPConnectionManager{
		StatPrefix:        h.GetStatPrefix(),
		GenerateRequestID: h.GetGenerateRequestId() == nil || h.GetGenerateRequestId().GetValue(),
		PreserveRequestID: h.GetPreserveExternalRequestId(),
		ServerName:        h.GetServerName(),
		NormalizePath:     h.GetNormalizePath().GetValue(),
		MergeSlashes:      h.GetMergeSlashes(),
		UseRemoteAddress:  h.GetUseRemoteAddress().GetValue(),
		MaxHeaderBytes:    60 * 1024,
	}
	switch h.GetCodecType() {
	case hcmv3.HttpConnectionManager_AUTO:
	case hcmv3.HttpConnectionManager_HTTP1:
		out.Codec = CodecHTTP1
	case hcmv3.HttpConnectionManager_HTTP2:
		out.Codec = CodecHTTP2
	default:
		return nil, invalid("%s.codec_type: %v is not supported", p, h.GetCodecType())
	}
	switch rs := h.GetRouteSpecifier().(type) {
	case *hcmv3.HttpConnectionManager_Rds:
		if rs.Rds.GetRouteConfigName() == "" {
			return nil, invalid("%s.rds.route_config_name: empty", p)
		}
		cs := rs.Rds.GetConfigSource()
		if cs.GetAds() == nil {
			return nil, invalid("%s.rds.config_source: only ads is supported", p)
		}
		if cs.GetResourceApiVersion() != corev3.ApiVersion_V3 && cs.GetResourceApiVersion() != corev3.ApiVersion_AUTO {
			return nil, invalid("%s.rds.config_source.resource_api_version: only V3", p)
		}
		out.RouteConfigName = rs.Rds.GetRouteConfigName()
	case *hcmv3.HttpConnectionManager_RouteConfig:
		rc, err := routeConfiguration(rs.RouteConfig, p+".route_config")
		if err != nil {
			return nil, err
		}
		out.RouteConfig = rc
	default:
		return nil, invalid("%s: rds or route_config is required", p)
	}
	switch h.GetPathWithEscapedSlashesAction() {
	case hcmv3.HttpConnectionManager_IMPLEMENTATION_SPECIFIC_DEFAULT, hcmv3.HttpConnectionManager_KEEP_UNCHANGED:
	default:
		return nil, invalid("%s.path_with_escaped_slashes_action: %v is not supported", p, h.GetPathWithEscapedSlashesAction())
	}
	if h.GetServerHeaderTransformation() != hcmv3.HttpConnectionManager_OVERWRITE && h.GetServerHeaderTransformation() != hcmv3.HttpConnectionManager_PASS_THROUGH {
		return nil, invalid("%s.server_header_transformation: %v is not supported", p, h.GetServerHeaderTransformation())
	}
	if h.GetServerHeaderTransformation() == hcmv3.HttpConnectionManager_PASS_THROUGH {
		out.ServerName = ""
	} else if out.ServerName == "" {
		out.ServerName = "envoy"
	}
	var err error
	if out.StreamIdleTimeout, err = duration(h.GetStreamIdleTimeout(), p+".stream_idle_timeout"); err != nil {
		return nil, err
	}
	if h.GetStreamIdleTimeout() == nil {
		out.StreamIdleTimeout = 5 * time.Minute
	}
	if out.RequestTimeout, err = duration(h.GetRequestTimeout(), p+".request_timeout"); err != nil {
		return nil, err
	}
	if out.RequestHeadersTimeout, err = duration(h.GetRequestHeadersTimeout(), p+".request_headers_timeout"); err != nil {
		return nil, err
	}
	out.DrainTimeout, out.DelayedCloseTimeout = 5*time.Second, time.Second
	if h.GetDrainTimeout() != nil {
		if out.DrainTimeout, err = duration(h.GetDrainTimeout(), p+".drain_timeout"); err != nil {
			return nil, err
		}
	}
	if h.GetDelayedCloseTimeout() != nil {
		if out.DelayedCloseTimeout, err = duration(h.GetDelayedCloseTimeout(), p+".delayed_close_timeout"); err != nil {
			return nil, err
		}
	}
	if o := h.GetCommonHttpProtocolOptions(); o != nil {
		if o.GetMaxConnectionDuration() != nil || o.GetMaxStreamDuration() != nil || o.GetMaxRequestsPerConnection() != nil || o.GetMaxHeadersCount() != nil {
			return nil, invalid("%s.common_http_protocol_options: only idle_timeout is supported on listeners", p)
		}
		if out.IdleTimeout, err = duration(o.GetIdleTimeout(), p+".common_http_protocol_options.idle_timeout"); err != nil {
			return nil, err
		}
	} else {
		out.IdleTimeout = time.Hour
	}
	out.MaxConcurrentStreams = h.GetHttp2ProtocolOptions().GetMaxConcurrentStreams().GetValue()
	if kb := h.GetMaxRequestHeadersKb(); kb != nil {
		if kb.GetValue() == 0 || kb.GetValue() > 8192 {
			return nil, invalid("%s.max_request_headers_kb: %d out of range", p, kb.GetValue())
		}
		out.MaxHeaderBytes = int(kb.GetValue()) * 1024
	}
	for i, u := range h.GetUpgradeConfigs() {
		if !strings.EqualFold(u.GetUpgradeType(), "websocket") {
			return nil, invalid("%s.upgrade_configs[%d].upgrade_type: %q is not supported (websocket only)", p, i, u.GetUpgradeType())
		}
		out.WebSocket = u.GetEnabled() == nil || u.GetEnabled().GetValue()
	}
	filters := h.GetHttpFilters()
	if len(filters) == 0 {
		return nil, invalid("%s.http_filters: empty; %s is required last", p, FilterRouter)
	}
	for i, f := range filters {
		fp := fmt.Sprintf("%s.http_filters[%d]", p, i)
		last := i == len(filters)-1
		tn := typeName(f.GetTypedConfig())
		switch {
		case f.GetName() == FilterRouter || tn == "envoy.extensions.filters.http.router.v3.Router":
			if !last {
				return nil, invalid("%s: %s must be the last filter", fp, FilterRouter)
			}
			if f.GetTypedConfig() != nil {
				if err := decodeAny(f.GetTypedConfig(), &routerv3.Router{}, fp+".typed_config"); err != nil {
					return nil, err
				}
			}
		case f.GetName() == FilterFault || tn == "envoy.extensions.filters.http.fault.v3.HTTPFault":
			out.Fault = true
			if f.GetTypedConfig() != nil {
				hf := &faultv3.HTTPFault{}
				if err := decodeAny(f.GetTypedConfig(), hf, fp+".typed_config"); err != nil {
					return nil, err
				}
				if hf.GetDelay() != nil || hf.GetAbort() != nil {
					if out.FaultDefault, err = faultPolicy(hf, fp+".typed_config"); err != nil {
						return nil, err
					}
				}
			}
		case f.GetIsOptional():
			// Envoy skips optional filters it does not know; so do we.
		default:
			return nil, invalid("%s: http filter %q (%s) is not supported", fp, f.GetName(), tn)
		}
		if last && f.GetName() != FilterRouter && tn != "envoy.extensions.filters.http.router.v3.Router" {
			return nil, invalid("%s: the last http filter must be %s", fp, FilterRouter)
		}
	}
	return out, nil
}

func tcpProxy(t *tcpproxyv3.TcpProxy, p string) (*TCPProxy, error) {
	out := &TCPProxy{StatPrefix: t.GetStatPrefix(), IdleTimeout: DefaultTCPIdleTimeout, MaxConnectAttempts: 1}
	switch c := t.GetClusterSpecifier().(type) {
	case *tcpproxyv3.TcpProxy_Cluster:
		if c.Cluster == "" {
			return nil, invalid("%s.cluster: empty", p)
		}
		out.Clusters = []WeightedCluster{{Name: c.Cluster, Weight: 1}}
		out.TotalWeight = 1
	case *tcpproxyv3.TcpProxy_WeightedClusters:
		for i, w := range c.WeightedClusters.GetClusters() {
			if w.GetName() == "" {
				return nil, invalid("%s.weighted_clusters.clusters[%d].name: empty", p, i)
			}
			out.Clusters = append(out.Clusters, WeightedCluster{Name: w.GetName(), Weight: w.GetWeight()})
			out.TotalWeight += w.GetWeight()
		}
		if out.TotalWeight == 0 {
			return nil, invalid("%s.weighted_clusters: total weight is 0", p)
		}
	default:
		return nil, invalid("%s: cluster or weighted_clusters is required", p)
	}
	if t.GetIdleTimeout() != nil {
		var err error
		if out.IdleTimeout, err = duration(t.GetIdleTimeout(), p+".idle_timeout"); err != nil {
			return nil, err
		}
	}
	if n := t.GetMaxConnectAttempts(); n != nil {
		if n.GetValue() < 1 {
			return nil, invalid("%s.max_connect_attempts: must be >= 1", p)
		}
		out.MaxConnectAttempts = n.GetValue()
	}
	return out, nil
}
