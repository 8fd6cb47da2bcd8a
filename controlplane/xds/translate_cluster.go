package xds

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	httpopts "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	networking "istio.io/api/networking/v1alpha3"
)

// defaultConnectTimeout is Istio's meshConfig.connectTimeout default.
const defaultConnectTimeout = 10 * time.Second

// unlimited is what Istio sets circuit-breaker thresholds to when the
// DestinationRule does not (Envoy's own defaults, 1024, are too low).
const unlimited = math.MaxUint32

func adsConfigSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
		ResourceApiVersion:    corev3.ApiVersion_V3,
	}
}

// allOutboundClusters adds a cluster for every service port, and one per
// subset of the DestinationRule the proxy sees for the service.
func (t *translator) allOutboundClusters() {
	for _, s := range t.idx.services {
		dr := t.idx.destinationRule(s, t.p.Namespace)
		for i := range s.ports {
			sp := &s.ports[i]
			t.outboundCluster(s, sp, "")
			if dr != nil {
				for _, ss := range dr.spec.GetSubsets() {
					t.outboundCluster(s, sp, ss.GetName())
				}
			}
		}
	}
	t.blackHole()
}

// outboundCluster adds (once) the cluster "outbound|<port>|<subset>|<fqdn>"
// with its endpoints and returns its name; BlackHoleCluster when the subset
// is not defined.
func (t *translator) outboundCluster(s *service, sp *servicePort, subset string) string {
	name := OutboundCluster(sp.port, subset, s.fqdn)
	if _, done := t.clusters[name]; done {
		return name
	}
	dr := t.idx.destinationRule(s, t.p.Namespace)
	var top, sub *networking.TrafficPolicy
	var subsetLabels map[string]string
	if dr != nil {
		top = dr.spec.GetTrafficPolicy()
	}
	if subset != "" {
		ss := dr.subset(subset)
		if ss == nil {
			// Reported by the index, for the VirtualService naming it.
			return t.blackHole()
		}
		sub = ss.GetTrafficPolicy()
		subsetLabels = ss.GetLabels()
	}
	t.clas[name] = t.idx.loadAssignment(name, sp.endpoints, subsetLabels)
	ck := name + "|" + drRef(dr) + "|" + strconv.FormatBool(t.grpc)
	t.idx.mu.Lock()
	cached, ok := t.idx.clusters[ck]
	if !ok {
		if cached, ok = t.idx.prevClusters[ck]; ok {
			t.idx.clusters[ck] = cached
		}
	}
	t.idx.mu.Unlock()
	if ok {
		t.clusters[name] = cached.c
		for _, w := range cached.warnings {
			t.addWarning(w)
		}
		return name
	}
	before := len(t.warnings)
	policy := effectivePolicy(top, sub, sp.port)
	c := &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig: &clusterv3.Cluster_EdsClusterConfig{
			EdsConfig:   adsConfigSource(),
			ServiceName: name,
		},
		ConnectTimeout: durationpb.New(defaultConnectTimeout),
	}
	t.applyPolicy(c, policy, sp.proto, dr)
	t.clusters[name] = c
	t.idx.mu.Lock()
	t.idx.clusters[ck] = cachedCluster{c: c, warnings: slices.Clone(t.warnings[before:])}
	t.idx.mu.Unlock()
	return name
}

func drRef(d *destinationRule) string {
	if d == nil {
		return ""
	}
	return d.ref
}

// effectivePolicy is Istio's MergeTrafficPolicy: the top-level policy with
// its port-level settings for port applied, then the subset's policy
// field by field, then the subset's port-level settings. Port-level
// settings replace loadBalancer, connectionPool, outlierDetection and tls
// as a whole (they do not inherit).
func effectivePolicy(top, subset *networking.TrafficPolicy, port uint32) *networking.TrafficPolicy {
	out := &networking.TrafficPolicy{}
	apply := func(p *networking.TrafficPolicy, fieldwise bool) {
		if p == nil {
			return
		}
		if !fieldwise || p.GetLoadBalancer() != nil {
			out.LoadBalancer = p.GetLoadBalancer()
		}
		if !fieldwise || p.GetConnectionPool() != nil {
			out.ConnectionPool = p.GetConnectionPool()
		}
		if !fieldwise || p.GetOutlierDetection() != nil {
			out.OutlierDetection = p.GetOutlierDetection()
		}
		for _, pl := range p.GetPortLevelSettings() {
			if pl.GetPort().GetNumber() == port {
				out.LoadBalancer = pl.GetLoadBalancer()
				out.ConnectionPool = pl.GetConnectionPool()
				out.OutlierDetection = pl.GetOutlierDetection()
				break
			}
		}
	}
	apply(top, false)
	apply(subset, true)
	return out
}

// applyPolicy maps a traffic policy onto a cluster the way Istio does.
func (t *translator) applyPolicy(c *clusterv3.Cluster, tp *networking.TrafficPolicy, proto protocol, dr *destinationRule) {
	t.applyLoadBalancer(c, tp.GetLoadBalancer(), dr)

	cp := tp.GetConnectionPool()
	th := &clusterv3.CircuitBreakers_Thresholds{
		MaxConnections:     wrapperspb.UInt32(unlimited),
		MaxPendingRequests: wrapperspb.UInt32(unlimited),
		MaxRequests:        wrapperspb.UInt32(unlimited),
		MaxRetries:         wrapperspb.UInt32(unlimited),
	}
	if v := cp.GetTcp().GetMaxConnections(); v > 0 {
		th.MaxConnections = wrapperspb.UInt32(uint32(v))
	}
	if d := cp.GetTcp().GetConnectTimeout(); d != nil {
		c.ConnectTimeout = durationpb.New(d.AsDuration())
	}
	if v := cp.GetHttp().GetHttp1MaxPendingRequests(); v > 0 {
		th.MaxPendingRequests = wrapperspb.UInt32(uint32(v))
	}
	if v := cp.GetHttp().GetHttp2MaxRequests(); v > 0 {
		th.MaxRequests = wrapperspb.UInt32(uint32(v))
	}
	if v := cp.GetHttp().GetMaxRetries(); v > 0 {
		th.MaxRetries = wrapperspb.UInt32(uint32(v))
	}
	c.CircuitBreakers = &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{th}}

	// Upstream HTTP options: HTTP/2 for http2 and grpc ports, and the
	// connection pool's per-connection settings.
	var common *corev3.HttpProtocolOptions
	if v := cp.GetHttp().GetMaxRequestsPerConnection(); v > 0 {
		common = &corev3.HttpProtocolOptions{MaxRequestsPerConnection: wrapperspb.UInt32(uint32(v))}
	}
	if d := cp.GetHttp().GetIdleTimeout(); d != nil {
		if common == nil {
			common = &corev3.HttpProtocolOptions{}
		}
		common.IdleTimeout = durationpb.New(d.AsDuration())
	}
	if (proto.isHTTP2() || common != nil) && proto.isHTTP() {
		opts := &httpopts.HttpProtocolOptions{CommonHttpProtocolOptions: common}
		explicit := &httpopts.HttpProtocolOptions_ExplicitHttpConfig{
			ProtocolConfig: &httpopts.HttpProtocolOptions_ExplicitHttpConfig_HttpProtocolOptions{HttpProtocolOptions: &corev3.Http1ProtocolOptions{}},
		}
		if proto.isHTTP2() {
			explicit.ProtocolConfig = &httpopts.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}}
		}
		opts.UpstreamProtocolOptions = &httpopts.HttpProtocolOptions_ExplicitHttpConfig_{ExplicitHttpConfig: explicit}
		if a := t.toAny(opts); a != nil {
			c.TypedExtensionProtocolOptions = map[string]*anypb.Any{upstreamHTTPOpts: a}
		}
	}

	if od := tp.GetOutlierDetection(); od != nil {
		c.OutlierDetection = outlierDetection(od)
		// Istio: with outlier detection, panic mode follows minHealthPercent
		// (0 by default: never route to ejected hosts).
		c.CommonLbConfig = &clusterv3.Cluster_CommonLbConfig{
			HealthyPanicThreshold: &typev3.Percent{Value: float64(od.GetMinHealthPercent())},
		}
	}
}

// applyLoadBalancer sets lb_policy (and ring hash / maglev settings).
// Istio's default is LEAST_REQUEST; grpc-go's xDS client supports only
// ROUND_ROBIN, LEAST_REQUEST and RING_HASH, so for proxyless clients
// RANDOM becomes ROUND_ROBIN and MAGLEV becomes RING_HASH.
func (t *translator) applyLoadBalancer(c *clusterv3.Cluster, lb *networking.LoadBalancerSettings, dr *destinationRule) {
	c.LbPolicy = clusterv3.Cluster_LEAST_REQUEST
	if t.grpc {
		c.LbPolicy = clusterv3.Cluster_ROUND_ROBIN
	}
	if lb == nil {
		return
	}
	if ch := lb.GetConsistentHash(); ch != nil {
		minRing := ch.GetMinimumRingSize() //nolint:staticcheck // deprecated, still honoured as Istio does
		if rh := ch.GetRingHash(); rh != nil {
			minRing = rh.GetMinimumRingSize()
		}
		if mg := ch.GetMaglev(); mg != nil && !t.grpc {
			c.LbPolicy = clusterv3.Cluster_MAGLEV
			if ts := mg.GetTableSize(); ts > 0 {
				c.LbConfig = &clusterv3.Cluster_MaglevLbConfig_{MaglevLbConfig: &clusterv3.Cluster_MaglevLbConfig{TableSize: wrapperspb.UInt64(ts)}}
			}
			return
		}
		if minRing == 0 {
			minRing = 1024
		}
		c.LbPolicy = clusterv3.Cluster_RING_HASH
		c.LbConfig = &clusterv3.Cluster_RingHashLbConfig_{RingHashLbConfig: &clusterv3.Cluster_RingHashLbConfig{MinimumRingSize: wrapperspb.UInt64(minRing)}}
		return
	}
	switch lb.GetSimple() {
	case networking.LoadBalancerSettings_ROUND_ROBIN:
		c.LbPolicy = clusterv3.Cluster_ROUND_ROBIN
	case networking.LoadBalancerSettings_LEAST_CONN, networking.LoadBalancerSettings_LEAST_REQUEST:
		c.LbPolicy = clusterv3.Cluster_LEAST_REQUEST
	case networking.LoadBalancerSettings_RANDOM:
		if !t.grpc {
			c.LbPolicy = clusterv3.Cluster_RANDOM
		}
	case networking.LoadBalancerSettings_PASSTHROUGH:
		if t.grpc {
			t.warn(dr.ref, "loadBalancer PASSTHROUGH is not supported by proxyless gRPC; using ROUND_ROBIN")
			return
		}
		// Istio: connect to the address the client asked for.
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST}
		c.EdsClusterConfig = nil
		c.LbPolicy = clusterv3.Cluster_CLUSTER_PROVIDED
	}
}

// outlierDetection is Istio's mapping: success-rate ejection off, each
// configured error kind enforced at 100%.
func outlierDetection(od *networking.OutlierDetection) *clusterv3.OutlierDetection {
	out := &clusterv3.OutlierDetection{EnforcingSuccessRate: wrapperspb.UInt32(0)}
	if v := od.GetConsecutiveErrors(); v > 0 { //nolint:staticcheck // deprecated, still honoured as Istio does
		// Deprecated consecutiveErrors counts gateway errors (502, 503, 504).
		out.ConsecutiveGatewayFailure = wrapperspb.UInt32(uint32(v))
		out.EnforcingConsecutiveGatewayFailure = wrapperspb.UInt32(100)
		out.EnforcingConsecutive_5Xx = wrapperspb.UInt32(0)
	}
	if e := od.GetConsecutive_5XxErrors(); e != nil {
		out.Consecutive_5Xx = wrapperspb.UInt32(e.GetValue())
		out.EnforcingConsecutive_5Xx = wrapperspb.UInt32(enforcing(e.GetValue()))
	}
	if e := od.GetConsecutiveGatewayErrors(); e != nil {
		out.ConsecutiveGatewayFailure = wrapperspb.UInt32(e.GetValue())
		out.EnforcingConsecutiveGatewayFailure = wrapperspb.UInt32(enforcing(e.GetValue()))
	}
	if d := od.GetInterval(); d != nil {
		out.Interval = durationpb.New(d.AsDuration())
	}
	if d := od.GetBaseEjectionTime(); d != nil {
		out.BaseEjectionTime = durationpb.New(d.AsDuration())
	}
	if v := od.GetMaxEjectionPercent(); v > 0 {
		out.MaxEjectionPercent = wrapperspb.UInt32(uint32(v))
	}
	return out
}

func enforcing(v uint32) uint32 {
	if v > 0 {
		return 100
	}
	return 0
}

// loadAssignment returns the (shared, immutable) ClusterLoadAssignment of
// a cluster: the ready endpoints of the port whose pods carry the subset
// labels, in one locality weighted by its endpoint count (grpc-go ignores
// localities of weight 0).
func (idx *index) loadAssignment(name string, eps []endpointAddr, subsetLabels map[string]string) *endpointv3.ClusterLoadAssignment {
	k := name + "\x00" + labelsKey(subsetLabels)
	idx.mu.Lock()
	defer idx.mu.Unlock()
	if cla := idx.clas[k]; cla != nil {
		return cla
	}
	cla := &endpointv3.ClusterLoadAssignment{ClusterName: name}
	var lbs []*endpointv3.LbEndpoint
	for _, e := range eps {
		if len(subsetLabels) > 0 && !labelsMatch(subsetLabels, e.labels) {
			continue
		}
		lbs = append(lbs, &endpointv3.LbEndpoint{
			HostIdentifier:      &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socketAddress(e.ip, e.port)}},
			HealthStatus:        corev3.HealthStatus_HEALTHY,
			LoadBalancingWeight: wrapperspb.UInt32(1),
		})
	}
	if len(lbs) > 0 {
		cla.Endpoints = []*endpointv3.LocalityLbEndpoints{{
			Locality:            &corev3.Locality{},
			LbEndpoints:         lbs,
			LoadBalancingWeight: wrapperspb.UInt32(uint32(len(lbs))),
		}}
	}
	idx.clas[k] = cla
	return cla
}

func labelsKey(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + l[k] + ",")
	}
	return b.String()
}

func socketAddress(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address:       ip,
		PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port},
	}}}
}

// blackHole adds BlackHoleCluster: no endpoints, so requests get 503.
// Proxyless clients only accept EDS clusters, so theirs is an EDS cluster
// with an empty assignment.
func (t *translator) blackHole() string {
	if _, done := t.clusters[BlackHoleCluster]; done {
		return BlackHoleCluster
	}
	c := &clusterv3.Cluster{Name: BlackHoleCluster, ConnectTimeout: durationpb.New(defaultConnectTimeout)}
	if t.grpc {
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}
		c.EdsClusterConfig = &clusterv3.Cluster_EdsClusterConfig{EdsConfig: adsConfigSource(), ServiceName: BlackHoleCluster}
		c.LbPolicy = clusterv3.Cluster_ROUND_ROBIN
		t.clas[BlackHoleCluster] = &endpointv3.ClusterLoadAssignment{ClusterName: BlackHoleCluster}
	} else {
		c.ClusterDiscoveryType = &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}
		c.LoadAssignment = &endpointv3.ClusterLoadAssignment{ClusterName: BlackHoleCluster}
	}
	t.clusters[BlackHoleCluster] = c
	return BlackHoleCluster
}

// passthroughClusters adds Istio's ORIGINAL_DST clusters for traffic to
// destinations the mesh does not know (outboundTrafficPolicy ALLOW_ANY)
// and for inbound traffic to undeclared ports.
func (t *translator) passthroughClusters() {
	for _, name := range []string{PassthroughCluster, InboundPassthroughCluster} {
		var bind *corev3.BindConfig
		if name == InboundPassthroughCluster {
			// As Istio: inbound passthrough leaves from 127.0.0.6, which
			// the pod's redirect rules let through to the app instead of
			// sending it back to the proxy's inbound port.
			bind = &corev3.BindConfig{SourceAddress: socketAddress("127.0.0.6", 0).GetSocketAddress()}
		}
		t.clusters[name] = &clusterv3.Cluster{
			UpstreamBindConfig:   bind,
			Name:                 name,
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST},
			LbPolicy:             clusterv3.Cluster_CLUSTER_PROVIDED,
			ConnectTimeout:       durationpb.New(defaultConnectTimeout),
			CircuitBreakers: &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
				MaxConnections:     wrapperspb.UInt32(unlimited),
				MaxPendingRequests: wrapperspb.UInt32(unlimited),
				MaxRequests:        wrapperspb.UInt32(unlimited),
				MaxRetries:         wrapperspb.UInt32(unlimited),
			}}},
		}
	}
}

// inboundCluster adds "inbound|<port>||": the application on the pod's
// loopback at its target port.
func (t *translator) inboundCluster(port uint32, proto protocol) string {
	return t.staticCluster(InboundCluster(port), "127.0.0.1", port, proto)
}

// staticCluster adds a cluster of one fixed endpoint, ip:port.
func (t *translator) staticCluster(name, ip string, port uint32, proto protocol) string {
	if _, done := t.clusters[name]; done {
		return name
	}
	c := &clusterv3.Cluster{
		Name:                 name,
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		LbPolicy:             clusterv3.Cluster_ROUND_ROBIN,
		ConnectTimeout:       durationpb.New(defaultConnectTimeout),
		LoadAssignment: &endpointv3.ClusterLoadAssignment{
			ClusterName: name,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{
				LbEndpoints: []*endpointv3.LbEndpoint{{
					HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{Address: socketAddress(ip, port)}},
				}},
			}},
		},
		CircuitBreakers: &clusterv3.CircuitBreakers{Thresholds: []*clusterv3.CircuitBreakers_Thresholds{{
			MaxConnections:     wrapperspb.UInt32(unlimited),
			MaxPendingRequests: wrapperspb.UInt32(unlimited),
			MaxRequests:        wrapperspb.UInt32(unlimited),
			MaxRetries:         wrapperspb.UInt32(unlimited),
		}}},
	}
	if proto.isHTTP2() {
		opts := &httpopts.HttpProtocolOptions{UpstreamProtocolOptions: &httpopts.HttpProtocolOptions_ExplicitHttpConfig_{
			ExplicitHttpConfig: &httpopts.HttpProtocolOptions_ExplicitHttpConfig{
				ProtocolConfig: &httpopts.HttpProtocolOptions_ExplicitHttpConfig_Http2ProtocolOptions{Http2ProtocolOptions: &corev3.Http2ProtocolOptions{}},
			},
		}}
		if a := t.toAny(opts); a != nil {
			c.TypedExtensionProtocolOptions = map[string]*anypb.Any{upstreamHTTPOpts: a}
		}
	}
	t.clusters[name] = c
	return name
}
