// Package xdstest runs a real go-control-plane ADS server on 127.0.0.1:0
// for tests and builds the resources an Istio-style translator sends:
// listeners 0.0.0.0_<port> with RDS "<port>", virtualOutbound, clusters
// outbound|<port>|<subset>|<fqdn> with EDS, and their endpoints.
package xdstest

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Server is a go-control-plane ADS server with a snapshot cache.
type Server struct {
	Addr  string
	Cache cachev3.SnapshotCache
	grpc  *grpc.Server
	ln    net.Listener

	version atomic.Int64
	mu      sync.Mutex
	// NACKs records error details the server received, by type URL.
	NACKs map[string][]string
	// ACKs counts accepted responses by type URL.
	ACKs map[string]int
	// Deltas records the delta requests received, in order.
	Deltas []*discoveryv3.DeltaDiscoveryRequest
}

// NewServer starts a server on 127.0.0.1:0 (or addr) and stops it at test end.
func NewServer(t testing.TB, addr string) *Server {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), ln: ln, NACKs: map[string][]string{}, ACKs: map[string]int{}}
	s.Cache = cachev3.NewSnapshotCache(true, cachev3.IDHash{}, nil)
	cb := serverv3.CallbackFuncs{StreamRequestFunc: func(_ int64, r *discoveryv3.DiscoveryRequest) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.GetErrorDetail() != nil {
			s.NACKs[r.GetTypeUrl()] = append(s.NACKs[r.GetTypeUrl()], r.GetErrorDetail().GetMessage())
		} else if r.GetResponseNonce() != "" {
			s.ACKs[r.GetTypeUrl()]++
		}
		return nil
	}, StreamDeltaRequestFunc: func(_ int64, r *discoveryv3.DeltaDiscoveryRequest) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.Deltas = append(s.Deltas, proto.Clone(r).(*discoveryv3.DeltaDiscoveryRequest))
		if r.GetErrorDetail() != nil {
			s.NACKs[r.GetTypeUrl()] = append(s.NACKs[r.GetTypeUrl()], r.GetErrorDetail().GetMessage())
		} else if r.GetResponseNonce() != "" {
			s.ACKs[r.GetTypeUrl()]++
		}
		return nil
	}}
	srv := serverv3.NewServer(context.Background(), s.Cache, cb)
	s.grpc = grpc.NewServer()
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(s.grpc, srv)
	go func() { _ = s.grpc.Serve(ln) }()
	t.Cleanup(s.Stop)
	return s
}

// Stop stops the server (tests use it to take the control plane away).
func (s *Server) Stop() { s.grpc.Stop() }

// NACKCount returns how many NACKs of typ the server saw and the last message.
func (s *Server) NACKCount(typ string) (int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.NACKs[typ]
	if len(n) == 0 {
		return 0, ""
	}
	return len(n), n[len(n)-1]
}

// DeltaRequests returns the delta requests received so far.
func (s *Server) DeltaRequests() []*discoveryv3.DeltaDiscoveryRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*discoveryv3.DeltaDiscoveryRequest(nil), s.Deltas...)
}

// Set publishes resources to node under a fresh version.
func (s *Server) Set(t testing.TB, node string, r Resources) string {
	t.Helper()
	v := strconv.FormatInt(s.version.Add(1), 10)
	snap, err := cachev3.NewSnapshot(v, map[resource.Type][]types.Resource{
		resource.ListenerType: r.Listeners,
		resource.RouteType:    r.Routes,
		resource.ClusterType:  r.Clusters,
		resource.EndpointType: r.Endpoints,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := snap.Consistent(); err != nil {
		t.Fatalf("inconsistent snapshot: %v", err)
	}
	if err := s.Cache.SetSnapshot(context.Background(), node, snap); err != nil {
		t.Fatal(err)
	}
	return v
}

// Resources is one snapshot's content.
type Resources struct {
	Listeners, Routes, Clusters, Endpoints []types.Resource
}

// Add appends another Resources.
func (r *Resources) Add(o Resources) {
	r.Listeners = append(r.Listeners, o.Listeners...)
	r.Routes = append(r.Routes, o.Routes...)
	r.Clusters = append(r.Clusters, o.Clusters...)
	r.Endpoints = append(r.Endpoints, o.Endpoints...)
}

// Any wraps m or panics.
func Any(m proto.Message) *anypb.Any {
	a, err := anypb.New(m)
	if err != nil {
		panic(err)
	}
	return a
}

func ads() *corev3.ConfigSource {
	return &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
}

func socket(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
}

// HCM returns an HTTP connection manager filter using RDS route config name.
func HCM(statPrefix, routeName string) *listenerv3.Filter {
	h := &hcmv3.HttpConnectionManager{
		StatPrefix:     statPrefix,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{ConfigSource: ads(), RouteConfigName: routeName}},
		HttpFilters: []*hcmv3.HttpFilter{
			{Name: "envoy.filters.http.fault", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: Any(&faultv3.HTTPFault{})}},
			{Name: "envoy.filters.http.router", ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: Any(&routerv3.Router{})}},
		},
		UpgradeConfigs:    []*hcmv3.HttpConnectionManager_UpgradeConfig{{UpgradeType: "websocket"}},
		StreamIdleTimeout: durationpb.New(0),
	}
	return &listenerv3.Filter{Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: Any(h)}}
}

// TCPProxy returns a tcp_proxy filter to cluster.
func TCPProxy(statPrefix, cluster string) *listenerv3.Filter {
	t := &tcpproxyv3.TcpProxy{StatPrefix: statPrefix, ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: cluster}}
	return &listenerv3.Filter{Name: "envoy.filters.network.tcp_proxy", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: Any(t)}}
}

// HTTPListener is Istio's outbound per-port listener 0.0.0.0_<port>
// (bind_to_port false: reached through virtualOutbound or the host-mode
// HTTP proxy).
func HTTPListener(port uint32) *listenerv3.Listener {
	return &listenerv3.Listener{
		Name:             fmt.Sprintf("0.0.0.0_%d", port),
		Address:          socket("0.0.0.0", port),
		BindToPort:       wrapperspb.Bool(false),
		TrafficDirection: corev3.TrafficDirection_OUTBOUND,
		FilterChains:     []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{HCM(fmt.Sprintf("outbound_0.0.0.0_%d", port), strconv.Itoa(int(port)))}}},
	}
}

// GatewayListener is a bound listener on ip:port (port 0 picks one) serving
// route config routeName, or TCP to cluster when routeName is empty.
func GatewayListener(name, ip string, port uint32, routeName, cluster string) *listenerv3.Listener {
	f := HCM(name, routeName)
	if routeName == "" {
		f = TCPProxy(name, cluster)
	}
	return &listenerv3.Listener{Name: name, Address: socket(ip, port), FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{f}}}}
}

// VirtualOutbound is Istio's 0.0.0.0:15001 listener with use_original_dst
// and a passthrough TCP chain.
func VirtualOutbound() *listenerv3.Listener {
	return &listenerv3.Listener{
		Name:           "virtualOutbound",
		Address:        socket("0.0.0.0", 15001),
		UseOriginalDst: wrapperspb.Bool(true),
		FilterChains: []*listenerv3.FilterChain{{Name: "PassthroughFilterChain",
			Filters: []*listenerv3.Filter{TCPProxy("PassthroughCluster", "PassthroughCluster")}}},
	}
}

// Passthrough is Istio's ORIGINAL_DST PassthroughCluster.
func Passthrough() *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 "PassthroughCluster",
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST},
		LbPolicy:             clusterv3.Cluster_CLUSTER_PROVIDED,
		ConnectTimeout:       durationpb.New(10 * time.Second),
	}
}

// VirtualHost returns a virtual host for an Istio service name.
func VirtualHost(host string, port uint32, routes ...*routev3.Route) *routev3.VirtualHost {
	p := strconv.Itoa(int(port))
	return &routev3.VirtualHost{
		Name:                       host + ":" + p,
		Domains:                    []string{host, host + ":" + p},
		Routes:                     routes,
		IncludeRequestAttemptCount: true,
	}
}

// RouteConfig returns an RDS resource.
func RouteConfig(name string, vhs ...*routev3.VirtualHost) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{Name: name, VirtualHosts: vhs, ValidateClusters: wrapperspb.Bool(false)}
}

// PrefixRoute routes prefix to a RouteAction.
func PrefixRoute(name, prefix string, a *routev3.RouteAction) *routev3.Route {
	return &routev3.Route{Name: name, Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: prefix}},
		Action: &routev3.Route_Route{Route: a}}
}

// ToCluster is a RouteAction to one cluster with Istio's disabled timeout.
func ToCluster(c string) *routev3.RouteAction {
	return &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: c}, Timeout: durationpb.New(0)}
}

// Weighted is a RouteAction splitting across clusters by weight (name, weight, name, weight...).
func Weighted(pairs ...any) *routev3.RouteAction {
	wc := &routev3.WeightedCluster{}
	for i := 0; i < len(pairs); i += 2 {
		wc.Clusters = append(wc.Clusters, &routev3.WeightedCluster_ClusterWeight{Name: pairs[i].(string), Weight: wrapperspb.UInt32(uint32(pairs[i+1].(int)))})
	}
	return &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}, Timeout: durationpb.New(0)}
}

// EDSCluster returns an Istio-style EDS cluster.
func EDSCluster(name string) *clusterv3.Cluster {
	return &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads(), ServiceName: name},
		ConnectTimeout:       durationpb.New(10 * time.Second),
		LbPolicy:             clusterv3.Cluster_LEAST_REQUEST,
		CircuitBreakers: &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			MaxConnections: wrapperspb.UInt32(4294967295), MaxPendingRequests: wrapperspb.UInt32(4294967295),
			MaxRequests: wrapperspb.UInt32(4294967295), MaxRetries: wrapperspb.UInt32(4294967295), TrackRemaining: true}}},
		CommonLbConfig: &clusterv3.Cluster_CommonLbConfig{},
	}
}

// Endpoints returns the EDS resource for cluster with addresses "ip:port".
func Endpoints(cluster string, addrs ...string) *endpointv3.ClusterLoadAssignment {
	loc := &endpointv3.LocalityLbEndpoints{LoadBalancingWeight: wrapperspb.UInt32(uint32(max(1, len(addrs))))}
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			panic(err)
		}
		p, _ := strconv.Atoi(port)
		loc.LbEndpoints = append(loc.LbEndpoints, &endpointv3.LbEndpoint{
			HostIdentifier:      &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socket(host, uint32(p))}},
			HealthStatus:        corev3.HealthStatus_HEALTHY,
			LoadBalancingWeight: wrapperspb.UInt32(1),
		})
	}
	return &endpointv3.ClusterLoadAssignment{ClusterName: cluster, Endpoints: []*endpointv3.LocalityLbEndpoints{loc}}
}

// Service returns a cluster and its endpoints.
func Service(cluster string, addrs ...string) Resources {
	return Resources{Clusters: []types.Resource{EDSCluster(cluster)}, Endpoints: []types.Resource{Endpoints(cluster, addrs...)}}
}
