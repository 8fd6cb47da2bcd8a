package xdsresource

import (
	"errors"
	"strings"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	faultcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/fault/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	previoushostsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func mustAny(t testing.TB, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAllowlistNamesExist keeps the allowlist honest: every message and
// field it names exists in the Envoy protos we link.
func TestAllowlistNamesExist(t *testing.T) {
	for msg, fields := range allowed {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(msg)
		if err != nil {
			t.Errorf("message %s: %v", msg, err)
			continue
		}
		for f := range fields {
			if f == "*" {
				continue
			}
			if mt.Descriptor().Fields().ByName(protoreflect.Name(f)) == nil {
				t.Errorf("message %s has no field %s", msg, f)
			}
		}
	}
}

func ads() *corev3.ConfigSource {
	return &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
}

// istioRoute is the shape istiod sends for a VirtualService with a canary
// header match, a weighted split, retries, a timeout, a mirror and a fault.
func istioRoute(t testing.TB) *routev3.RouteConfiguration {
	fault := &faultv3.HTTPFault{
		Delay: &faultcommonv3.FaultDelay{
			FaultDelaySecifier: &faultcommonv3.FaultDelay_FixedDelay{FixedDelay: durationpb.New(5 * time.Second)},
			Percentage:         &typev3.FractionalPercent{Numerator: 100000, Denominator: typev3.FractionalPercent_MILLION},
		},
		Abort: &faultv3.FaultAbort{ErrorType: &faultv3.FaultAbort_HttpStatus{HttpStatus: 500},
			Percentage: &typev3.FractionalPercent{Numerator: 50, Denominator: typev3.FractionalPercent_HUNDRED}},
	}
	return &routev3.RouteConfiguration{
		Name:             "80",
		ValidateClusters: wrapperspb.Bool(false),
		VirtualHosts: []*routev3.VirtualHost{{
			Name:                       "flaskapp.default.svc.cluster.local:80",
			Domains:                    []string{"flaskapp.default.svc.cluster.local", "flaskapp", "flaskapp:80", "10.96.0.10"},
			IncludeRequestAttemptCount: true,
			Routes: []*routev3.Route{{
				Name: "canary",
				Match: &routev3.RouteMatch{
					PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"},
					CaseSensitive: wrapperspb.Bool(true),
					Headers: []*routev3.HeaderMatcher{{
						Name: "end-user",
						HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
							MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "jason"}}},
					}, {
						Name:                 ":method",
						HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "GET"}}},
					}},
				},
				Decorator: &routev3.Decorator{Operation: "flaskapp.default.svc.cluster.local:80/*"},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "outbound|80|v2|flaskapp.default.svc.cluster.local"},
					Timeout:          durationpb.New(0),
					MaxStreamDuration: &routev3.RouteAction_MaxStreamDuration{
						GrpcTimeoutHeaderMax: durationpb.New(0),
					},
				}},
			}, {
				Name:  "default",
				Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{
					ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: &routev3.WeightedCluster{
						Clusters: []*routev3.WeightedCluster_ClusterWeight{
							{Name: "outbound|80|v1|flaskapp.default.svc.cluster.local", Weight: wrapperspb.UInt32(70)},
							{Name: "outbound|80|v2|flaskapp.default.svc.cluster.local", Weight: wrapperspb.UInt32(30)},
						},
					}},
					Timeout: durationpb.New(2 * time.Second),
					RetryPolicy: &routev3.RetryPolicy{
						RetryOn:       "gateway-error,connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
						NumRetries:    wrapperspb.UInt32(3),
						PerTryTimeout: durationpb.New(time.Second),
						RetryHostPredicate: []*routev3.RetryPolicy_RetryHostPredicate{{
							Name:       PredicatePreviousHosts,
							ConfigType: &routev3.RetryPolicy_RetryHostPredicate_TypedConfig{TypedConfig: mustAny(t, &previoushostsv3.PreviousHostsPredicate{})},
						}},
						HostSelectionRetryMaxAttempts: 5,
						RetriableStatusCodes:          []uint32{503},
					},
					RequestMirrorPolicies: []*routev3.RouteAction_RequestMirrorPolicy{{
						Cluster: "outbound|80||httpbin.default.svc.cluster.local",
						RuntimeFraction: &corev3.RuntimeFractionalPercent{
							DefaultValue: &typev3.FractionalPercent{Numerator: 1000000, Denominator: typev3.FractionalPercent_MILLION},
						},
					}},
					HashPolicy: []*routev3.RouteAction_HashPolicy{{
						PolicySpecifier: &routev3.RouteAction_HashPolicy_Cookie_{Cookie: &routev3.RouteAction_HashPolicy_Cookie{
							Name: "user", Ttl: durationpb.New(time.Hour), Path: "/"}},
					}},
				}},
				TypedPerFilterConfig: map[string]*anypb.Any{FilterFault: mustAny(t, fault)},
			}},
		}},
	}
}

func TestUnmarshalRouteConfiguration(t *testing.T) {
	rc, err := UnmarshalRouteConfiguration(mustAny(t, istioRoute(t)))
	if err != nil {
		t.Fatal(err)
	}
	vh := rc.VirtualHosts[0]
	if len(vh.Routes) != 2 || !vh.IncludeAttemptCount {
		t.Fatalf("virtual host = %+v", vh)
	}
	canary := vh.Routes[0]
	if canary.Route.Timeout != 0 || len(canary.Match.Headers) != 2 || canary.Match.Headers[1].Name != ":method" {
		t.Errorf("canary = %+v", canary)
	}
	def := vh.Routes[1].Route
	if def.TotalWeight != 100 || len(def.Clusters) != 2 || def.Timeout != 2*time.Second {
		t.Errorf("weighted = %+v", def)
	}
	r := def.Retry
	if r.NumRetries != 3 || !r.PreviousHosts || r.On&RetryGatewayError == 0 || r.On&RetryGRPCUnavailable == 0 || r.BackOffBase != 25*time.Millisecond || r.BackOffMax != 250*time.Millisecond {
		t.Errorf("retry = %+v", r)
	}
	if def.Mirrors[0].PerMillion != 1e6 || def.HashPolicies[0].Kind != HashCookie || def.HashPolicies[0].CookieTTL != time.Hour {
		t.Errorf("mirror/hash = %+v %+v", def.Mirrors, def.HashPolicies)
	}
	f := vh.Routes[1].Fault
	if f == nil || f.Delay != 5*time.Second || f.DelayPerMillion != 100000 || f.AbortStatus != 500 || f.AbortPerMillion != 500000 {
		t.Errorf("fault = %+v", f)
	}
}

func TestUnmarshalRouteConfigurationNACK(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*routev3.RouteConfiguration)
		want   string
	}{
		{"cors", func(rc *routev3.RouteConfiguration) {
			rc.VirtualHosts[0].Routes[1].GetRoute().Cors = &routev3.CorsPolicy{}
		}, "virtual_hosts[0].routes[1].route.cors"},
		{"unknown retry_on", func(rc *routev3.RouteConfiguration) {
			rc.VirtualHosts[0].Routes[1].GetRoute().RetryPolicy.RetryOn = "5xx,bogus"
		}, `condition "bogus"`},
		{"bad regex", func(rc *routev3.RouteConfiguration) {
			rc.VirtualHosts[0].Routes[0].Match.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "("}}
		}, "routes[0].match.safe_regex.regex"},
		{"duplicate domain", func(rc *routev3.RouteConfiguration) {
			rc.VirtualHosts = append(rc.VirtualHosts, &routev3.VirtualHost{Name: "b", Domains: []string{"flaskapp"}})
		}, `domain "flaskapp"`},
		{"range header match", func(rc *routev3.RouteConfiguration) {
			rc.VirtualHosts[0].Routes[0].Match.Headers[0].HeaderMatchSpecifier = &routev3.HeaderMatcher_RangeMatch{RangeMatch: &typev3.Int64Range{}}
		}, "headers[0].range_match"},
		{"other per-filter config", func(rc *routev3.RouteConfiguration) {
			rc.VirtualHosts[0].Routes[0].TypedPerFilterConfig = map[string]*anypb.Any{"envoy.filters.http.cors": mustAny(t, &routerv3.Router{})}
		}, `filter "envoy.filters.http.cors"`},
		{"weights mismatch", func(rc *routev3.RouteConfiguration) {
			rc.VirtualHosts[0].Routes[1].GetRoute().GetWeightedClusters().TotalWeight = wrapperspb.UInt32(50)
		}, "total_weight"},
		{"modify host", func(rc *routev3.RouteConfiguration) {
			rc.RequestHeadersToRemove = []string{"host"}
		}, "cannot be modified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := istioRoute(t)
			tt.mutate(rc)
			_, err := UnmarshalRouteConfiguration(mustAny(t, rc))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func hcm(t testing.TB, h *hcmv3.HttpConnectionManager) *listenerv3.Filter {
	return &listenerv3.Filter{Name: FilterHTTPConnectionManager, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, h)}}
}

func httpFilters(t testing.TB) []*hcmv3.HttpFilter {
	return []*hcmv3.HttpFilter{
		{Name: FilterFault, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &faultv3.HTTPFault{})}},
		{Name: FilterRouter, ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &routerv3.Router{})}},
	}
}

func outboundHTTPListener(t testing.TB) *listenerv3.Listener {
	return &listenerv3.Listener{
		Name:             "0.0.0.0_80",
		Address:          &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 80}}}},
		BindToPort:       wrapperspb.Bool(false),
		TrafficDirection: corev3.TrafficDirection_OUTBOUND,
		FilterChains: []*listenerv3.FilterChain{{
			Filters: []*listenerv3.Filter{hcm(t, &hcmv3.HttpConnectionManager{
				StatPrefix: "outbound_0.0.0.0_80",
				RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
					ConfigSource: ads(), RouteConfigName: "80"}},
				HttpFilters:    httpFilters(t),
				UpgradeConfigs: []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: "websocket"}},
			})},
		}},
	}
}

func TestUnmarshalListener(t *testing.T) {
	l, err := UnmarshalListener(mustAny(t, outboundHTTPListener(t)))
	if err != nil {
		t.Fatal(err)
	}
	h := l.FilterChains[0].HTTP
	if l.BindToPort || l.Port != 80 || h == nil || h.RouteConfigName != "80" || !h.Fault || !h.WebSocket || !h.GenerateRequestID {
		t.Fatalf("listener = %+v, hcm = %+v", l, h)
	}

	tcp := &listenerv3.Listener{
		Name:           "virtualOutbound",
		Address:        &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: "0.0.0.0", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 15001}}}},
		UseOriginalDst: wrapperspb.Bool(true),
		FilterChains: []*listenerv3.FilterChain{{
			Name: "PassthroughFilterChain",
			Filters: []*listenerv3.Filter{{Name: FilterTCPProxy, ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &tcpproxyv3.TcpProxy{
				StatPrefix: "PassthroughCluster", ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "PassthroughCluster"}})}}},
		}},
	}
	vl, err := UnmarshalListener(mustAny(t, tcp))
	if err != nil {
		t.Fatal(err)
	}
	if !vl.UseOriginalDst || !vl.BindToPort || vl.FilterChains[0].TCP.Clusters[0].Name != "PassthroughCluster" || vl.FilterChains[0].TCP.IdleTimeout != time.Hour {
		t.Fatalf("virtualOutbound = %+v", vl)
	}
}

func TestUnmarshalListenerNACK(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*listenerv3.Listener)
		want   string
	}{
		{"transport socket", func(l *listenerv3.Listener) {
			l.FilterChains[0].TransportSocket = &corev3.TransportSocket{Name: "tls"}
		}, "filter_chains[0].transport_socket"},
		{"unknown http filter", func(l *listenerv3.Listener) {
			h := &hcmv3.HttpConnectionManager{
				RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: ads(), RouteConfigName: "80"}},
				HttpFilters:    append([]*hcmv3.HttpFilter{{Name: "envoy.filters.http.cors", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: mustAny(t, &tcpproxyv3.TcpProxy{})}}}, httpFilters(t)...),
			}
			l.FilterChains[0].Filters = []*listenerv3.Filter{hcm(t, h)}
		}, `http filter "envoy.filters.http.cors"`},
		{"tracing", func(l *listenerv3.Listener) {
			h := &hcmv3.HttpConnectionManager{
				RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: ads(), RouteConfigName: "80"}},
				HttpFilters:    httpFilters(t),
				Tracing:        &hcmv3.HttpConnectionManager_Tracing{},
			}
			l.FilterChains[0].Filters = []*listenerv3.Filter{hcm(t, h)}
		}, "filter_chains[0].filters[0].typed_config.tracing"},
		{"server names", func(l *listenerv3.Listener) {
			l.FilterChains[0].FilterChainMatch = &listenerv3.FilterChainMatch{ServerNames: []string{"a"}}
		}, "filter_chain_match.server_names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := outboundHTTPListener(t)
			tt.mutate(l)
			_, err := UnmarshalListener(mustAny(t, l))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func istioCluster(t testing.TB) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 "outbound|80|v1|flaskapp.default.svc.cluster.local",
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads(), ServiceName: "outbound|80|v1|flaskapp.default.svc.cluster.local"},
		ConnectTimeout:       durationpb.New(10 * time.Second),
		LbPolicy:             clusterv3.Cluster_LEAST_REQUEST,
		CircuitBreakers: &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			MaxConnections: wrapperspb.UInt32(1), MaxPendingRequests: wrapperspb.UInt32(1),
			MaxRequests: wrapperspb.UInt32(4294967295), MaxRetries: wrapperspb.UInt32(4294967295), TrackRemaining: true,
		}}},
		OutlierDetection: &clusterv3.OutlierDetection{
			Consecutive_5Xx: wrapperspb.UInt32(1), EnforcingConsecutive_5Xx: wrapperspb.UInt32(100),
			Interval: durationpb.New(time.Second), BaseEjectionTime: durationpb.New(3 * time.Minute),
			MaxEjectionPercent: wrapperspb.UInt32(100), EnforcingSuccessRate: wrapperspb.UInt32(0),
		},
		CommonLbConfig: &clusterv3.Cluster_CommonLbConfig{HealthyPanicThreshold: &typev3.Percent{Value: 0}},
		TypedExtensionProtocolOptions: map[string]*anypb.Any{UpstreamHTTPOptions: mustAny(t, &upstreamhttpv3.HttpProtocolOptions{
			CommonHttpProtocolOptions: &corev3.HttpProtocolOptions{MaxRequestsPerConnection: wrapperspb.UInt32(1)},
			UpstreamProtocolOptions: &upstreamhttpv3.HttpProtocolOptions_UseDownstreamProtocolConfig{
				UseDownstreamProtocolConfig: &upstreamhttpv3.HttpProtocolOptions_UseDownstreamHttpConfig{
					HttpProtocolOptions: &corev3.Http1ProtocolOptions{}, Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}}},
		})},
	}
}

func TestUnmarshalCluster(t *testing.T) {
	c, err := UnmarshalCluster(mustAny(t, istioCluster(t)))
	if err != nil {
		t.Fatal(err)
	}
	if c.LBPolicy != LBLeastRequest || c.Thresholds.MaxConnections != 1 || c.Thresholds.MaxPendingRequests != 1 ||
		c.MaxRequestsPerConn != 1 || c.Protocol != UpstreamDownstream || c.PanicThreshold != 0 ||
		c.Outlier.Consecutive5xx != 1 || c.Outlier.BaseEjectionTime != 3*time.Minute || c.ConnectTimeout != 10*time.Second {
		t.Fatalf("cluster = %+v outlier %+v", c, c.Outlier)
	}
}

func TestUnmarshalClusterNACK(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*clusterv3.Cluster)
		want   string
	}{
		{"tls", func(c *clusterv3.Cluster) { c.TransportSocket = &corev3.TransportSocket{Name: "tls"} }, "transport_socket"},
		{"high priority", func(c *clusterv3.Cluster) {
			c.CircuitBreakers.Thresholds[0].Priority = corev3.RoutingPriority_HIGH
		}, "circuit_breakers.thresholds[0].priority"},
		{"success rate", func(c *clusterv3.Cluster) {
			c.OutlierDetection.EnforcingSuccessRate = wrapperspb.UInt32(100)
		}, "enforcing_success_rate"},
		{"maglev not prime", func(c *clusterv3.Cluster) {
			c.LbPolicy = clusterv3.Cluster_MAGLEV
			c.LbConfig = &clusterv3.Cluster_MaglevLbConfig_{MaglevLbConfig: &clusterv3.Cluster_MaglevLbConfig{TableSize: wrapperspb.UInt64(100)}}
		}, "table_size"},
		{"health checks", func(c *clusterv3.Cluster) { c.HealthChecks = []*corev3.HealthCheck{{}} }, "health_checks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := istioCluster(t)
			tt.mutate(c)
			_, err := UnmarshalCluster(mustAny(t, c))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestUnmarshalClusterLoadAssignment(t *testing.T) {
	sa := func(ip string, port uint32) *corev3.Address {
		return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
	}
	cla := &endpointv3.ClusterLoadAssignment{
		ClusterName: "outbound|80|v1|flaskapp.default.svc.cluster.local",
		Endpoints: []*endpointv3.LocalityLbEndpoints{{
			Locality:            &corev3.Locality{Region: "r", Zone: "z"},
			LoadBalancingWeight: wrapperspb.UInt32(2),
			LbEndpoints: []*endpointv3.LbEndpoint{
				{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: sa("10.0.0.1", 8080)}},
					HealthStatus: corev3.HealthStatus_HEALTHY, LoadBalancingWeight: wrapperspb.UInt32(3)},
				{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: sa("10.0.0.2", 8080)}},
					HealthStatus: corev3.HealthStatus_UNHEALTHY},
			},
		}},
	}
	out, err := UnmarshalClusterLoadAssignment(mustAny(t, cla))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Endpoints) != 2 || out.Endpoints[0].Address != "10.0.0.1:8080" || out.Endpoints[0].Weight != 6 ||
		out.Endpoints[1].Health != Unhealthy || out.Endpoints[0].Locality != "r/z" {
		t.Fatalf("cla = %+v", out)
	}
	cla.Endpoints[0].LbEndpoints[0].GetEndpoint().HealthCheckConfig = &endpointv3.Endpoint_HealthCheckConfig{}
	if _, err := UnmarshalClusterLoadAssignment(mustAny(t, cla)); err == nil || !strings.Contains(err.Error(), "health_check_config") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzUnmarshal(f *testing.F) {
	f.Add(mustAny(f, istioRoute(f)).GetValue(), uint8(0))
	f.Add(mustAny(f, outboundHTTPListener(f)).GetValue(), uint8(1))
	f.Add(mustAny(f, istioCluster(f)).GetValue(), uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, kind uint8) {
		urls := []string{RouteType, ListenerType, ClusterType, EndpointType}
		a := &anypb.Any{TypeUrl: urls[int(kind)%len(urls)], Value: b}
		switch kind % 4 {
		case 0:
			_, _ = UnmarshalRouteConfiguration(a)
		case 1:
			_, _ = UnmarshalListener(a)
		case 2:
			_, _ = UnmarshalCluster(a)
		case 3:
			_, _ = UnmarshalClusterLoadAssignment(a)
		}
	})
}
