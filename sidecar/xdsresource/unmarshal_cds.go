package xdsresource

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	upstreamhttpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// UnmarshalCluster decodes and validates a CDS resource.
func UnmarshalCluster(a *anypb.Any) (*Cluster, error) {
	c := &clusterv3.Cluster{}
	if err := decodeAny(a, c, ""); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	out, err := cluster(c)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", c.GetName(), err)
	}
	return out, nil
}

func cluster(c *clusterv3.Cluster) (*Cluster, error) {
	if c.GetName() == "" {
		return nil, invalid("name: empty")
	}
	out := &Cluster{
		Name:            c.GetName(),
		AltStatName:     c.GetAltStatName(),
		ConnectTimeout:  5 * time.Second,
		ChoiceCount:     2,
		RingMinSize:     1024,
		RingMaxSize:     8 * 1024 * 1024,
		MaglevTableSize: 65537,
		PanicThreshold:  50,
		Thresholds:      DefaultThresholds,
		IdleTimeout:     time.Hour,
		DNSRefreshRate:  5 * time.Second,
	}
	var err error
	switch t := c.GetClusterDiscoveryType().(type) {
	case *clusterv3.Cluster_Type:
		switch t.Type {
		case clusterv3.Cluster_EDS:
			out.Type = DiscoveryEDS
		case clusterv3.Cluster_STATIC:
			out.Type = DiscoveryStatic
		case clusterv3.Cluster_STRICT_DNS:
			out.Type = DiscoveryStrictDNS
		case clusterv3.Cluster_LOGICAL_DNS:
			out.Type = DiscoveryLogicalDNS
		case clusterv3.Cluster_ORIGINAL_DST:
			out.Type = DiscoveryOriginalDst
		default:
			return nil, invalid("type: %v is not supported", t.Type)
		}
	case nil:
		out.Type = DiscoveryStatic
	default:
		return nil, invalid("cluster_type: custom cluster types are not supported")
	}
	if out.Type == DiscoveryEDS {
		ec := c.GetEdsClusterConfig()
		if ec.GetEdsConfig().GetAds() == nil {
			return nil, invalid("eds_cluster_config.eds_config: only ads is supported")
		}
		out.EDSServiceName = ec.GetServiceName()
		if out.EDSServiceName == "" {
			out.EDSServiceName = out.Name
		}
		if c.GetLoadAssignment() != nil {
			return nil, invalid("load_assignment: not allowed on an EDS cluster")
		}
	} else if c.GetEdsClusterConfig() != nil {
		return nil, invalid("eds_cluster_config: only allowed on EDS clusters")
	}
	if c.GetLoadAssignment() != nil {
		dns := out.Type == DiscoveryStrictDNS || out.Type == DiscoveryLogicalDNS
		if out.LoadAssignment, err = loadAssignment(c.GetLoadAssignment(), "load_assignment", dns); err != nil {
			return nil, err
		}
	}
	if (out.Type == DiscoveryStatic || out.Type == DiscoveryStrictDNS || out.Type == DiscoveryLogicalDNS) && out.LoadAssignment == nil {
		return nil, invalid("load_assignment: required for %v clusters", out.Type)
	}
	if c.GetConnectTimeout() != nil {
		if out.ConnectTimeout, err = duration(c.GetConnectTimeout(), "connect_timeout"); err != nil {
			return nil, err
		}
		if out.ConnectTimeout == 0 {
			return nil, invalid("connect_timeout: must be > 0")
		}
	}
	switch c.GetLbPolicy() {
	case clusterv3.Cluster_ROUND_ROBIN:
		out.LBPolicy = LBRoundRobin
	case clusterv3.Cluster_LEAST_REQUEST:
		out.LBPolicy = LBLeastRequest
	case clusterv3.Cluster_RANDOM:
		out.LBPolicy = LBRandom
	case clusterv3.Cluster_RING_HASH:
		out.LBPolicy = LBRingHash
	case clusterv3.Cluster_MAGLEV:
		out.LBPolicy = LBMaglev
	case clusterv3.Cluster_CLUSTER_PROVIDED:
		out.LBPolicy = LBClusterProvided
	default:
		return nil, invalid("lb_policy: %v is not supported", c.GetLbPolicy())
	}
	if (out.Type == DiscoveryOriginalDst) != (out.LBPolicy == LBClusterProvided) {
		return nil, invalid("lb_policy: CLUSTER_PROVIDED goes with type ORIGINAL_DST and only with it")
	}
	if lr := c.GetLeastRequestLbConfig(); lr != nil {
		if out.LBPolicy != LBLeastRequest {
			return nil, invalid("least_request_lb_config: lb_policy is %v", out.LBPolicy)
		}
		if lr.GetChoiceCount() != nil {
			out.ChoiceCount = lr.GetChoiceCount().GetValue()
			if out.ChoiceCount < 2 {
				return nil, invalid("least_request_lb_config.choice_count: must be >= 2")
			}
		}
	}
	if rh := c.GetRingHashLbConfig(); rh != nil {
		if out.LBPolicy != LBRingHash {
			return nil, invalid("ring_hash_lb_config: lb_policy is %v", out.LBPolicy)
		}
		if rh.GetHashFunction() != clusterv3.Cluster_RingHashLbConfig_XX_HASH {
			return nil, invalid("ring_hash_lb_config.hash_function: only XX_HASH is supported")
		}
		if rh.GetMinimumRingSize() != nil {
			out.RingMinSize = rh.GetMinimumRingSize().GetValue()
		}
		if rh.GetMaximumRingSize() != nil {
			out.RingMaxSize = rh.GetMaximumRingSize().GetValue()
		}
		if out.RingMinSize == 0 || out.RingMinSize > out.RingMaxSize || out.RingMaxSize > 8*1024*1024 {
			return nil, invalid("ring_hash_lb_config: ring sizes %d..%d out of range", out.RingMinSize, out.RingMaxSize)
		}
	}
	if mg := c.GetMaglevLbConfig(); mg != nil {
		if out.LBPolicy != LBMaglev {
			return nil, invalid("maglev_lb_config: lb_policy is %v", out.LBPolicy)
		}
		if mg.GetTableSize() != nil {
			out.MaglevTableSize = mg.GetTableSize().GetValue()
			if !isPrime(out.MaglevTableSize) || out.MaglevTableSize > 5000011 {
				return nil, invalid("maglev_lb_config.table_size: %d must be a prime <= 5000011", out.MaglevTableSize)
			}
		}
	}
	if od := c.GetOriginalDstLbConfig(); od != nil {
		if out.Type != DiscoveryOriginalDst {
			return nil, invalid("original_dst_lb_config: type is %v", out.Type)
		}
		out.UseHTTPHeader = od.GetUseHttpHeader()
		out.OriginalDstHeader = od.GetHttpHeaderName()
		if out.OriginalDstHeader == "" {
			out.OriginalDstHeader = "x-envoy-original-dst-host"
		}
	}
	if cl := c.GetCommonLbConfig(); cl != nil {
		if cl.GetHealthyPanicThreshold() != nil {
			out.PanicThreshold = cl.GetHealthyPanicThreshold().GetValue()
			if out.PanicThreshold < 0 || out.PanicThreshold > 100 {
				return nil, invalid("common_lb_config.healthy_panic_threshold: %v out of range", out.PanicThreshold)
			}
		}
		out.LocalityWeighted = cl.GetLocalityWeightedLbConfig() != nil
	}
	if cb := c.GetCircuitBreakers(); cb != nil {
		for i, t := range cb.GetThresholds() {
			p := fmt.Sprintf("circuit_breakers.thresholds[%d]", i)
			if t.GetPriority() != corev3.RoutingPriority_DEFAULT {
				return nil, invalid("%s.priority: only DEFAULT is supported", p)
			}
			if v := t.GetMaxConnections(); v != nil {
				out.Thresholds.MaxConnections = v.GetValue()
			}
			if v := t.GetMaxPendingRequests(); v != nil {
				out.Thresholds.MaxPendingRequests = v.GetValue()
			}
			if v := t.GetMaxRequests(); v != nil {
				out.Thresholds.MaxRequests = v.GetValue()
			}
			if v := t.GetMaxRetries(); v != nil {
				out.Thresholds.MaxRetries = v.GetValue()
			}
			if rb := t.GetRetryBudget(); rb != nil {
				out.Thresholds.RetryBudgetPercent = 20
				out.Thresholds.MinRetryConcurrency = 3
				if rb.GetBudgetPercent() != nil {
					out.Thresholds.RetryBudgetPercent = rb.GetBudgetPercent().GetValue()
				}
				if rb.GetMinRetryConcurrency() != nil {
					out.Thresholds.MinRetryConcurrency = rb.GetMinRetryConcurrency().GetValue()
				}
			}
		}
	}
	if od := c.GetOutlierDetection(); od != nil {
		if out.Outlier, err = outlierDetection(od); err != nil {
			return nil, err
		}
	}
	// Upstream HTTP protocol options: the typed extension wins over the
	// deprecated cluster fields, which Istio no longer sends.
	if c.GetHttp2ProtocolOptions() != nil {
		out.Protocol = UpstreamHTTP2
	}
	if o := c.GetCommonHttpProtocolOptions(); o != nil {
		if err := out.commonHTTPOptions(o, "common_http_protocol_options"); err != nil {
			return nil, err
		}
	}
	if v := c.GetMaxRequestsPerConnection(); v != nil {
		out.MaxRequestsPerConn = v.GetValue()
	}
	for name, a := range c.GetTypedExtensionProtocolOptions() {
		p := fmt.Sprintf("typed_extension_protocol_options[%q]", name)
		if name != UpstreamHTTPOptions {
			return nil, invalid("%s: extension is not supported", p)
		}
		o := &upstreamhttpv3.HttpProtocolOptions{}
		if err := decodeAny(a, o, p); err != nil {
			return nil, err
		}
		if co := o.GetCommonHttpProtocolOptions(); co != nil {
			if err := out.commonHTTPOptions(co, p+".common_http_protocol_options"); err != nil {
				return nil, err
			}
		}
		switch pc := o.GetUpstreamProtocolOptions().(type) {
		case *upstreamhttpv3.HttpProtocolOptions_ExplicitHttpConfig_:
			if pc.ExplicitHttpConfig.GetHttp2ProtocolOptions() != nil {
				out.Protocol = UpstreamHTTP2
			} else {
				out.Protocol = UpstreamHTTP1
			}
		case *upstreamhttpv3.HttpProtocolOptions_UseDownstreamProtocolConfig:
			out.Protocol = UpstreamDownstream
		case *upstreamhttpv3.HttpProtocolOptions_AutoConfig:
			// ALPN needs TLS; over plaintext Envoy's auto config speaks HTTP/1.1.
			out.Protocol = UpstreamHTTP1
		}
	}
	if out.Type == DiscoveryStrictDNS || out.Type == DiscoveryLogicalDNS {
		if c.GetDnsRefreshRate() != nil {
			if out.DNSRefreshRate, err = duration(c.GetDnsRefreshRate(), "dns_refresh_rate"); err != nil {
				return nil, err
			}
			if out.DNSRefreshRate < time.Millisecond {
				return nil, invalid("dns_refresh_rate: must be >= 1ms")
			}
		}
	}
	if b := c.GetUpstreamBindConfig(); b != nil {
		sa := b.GetSourceAddress()
		if _, err := netip.ParseAddr(sa.GetAddress()); err != nil {
			return nil, invalid("upstream_bind_config.source_address.address: %q is not an IP", sa.GetAddress())
		}
		if sa.GetPortValue() != 0 {
			return nil, invalid("upstream_bind_config.source_address.port_value: must be 0")
		}
		out.UpstreamBindAddress = sa.GetAddress()
	}
	return out, nil
}

func (out *Cluster) commonHTTPOptions(o *corev3.HttpProtocolOptions, p string) error {
	var err error
	if o.GetIdleTimeout() != nil {
		if out.IdleTimeout, err = duration(o.GetIdleTimeout(), p+".idle_timeout"); err != nil {
			return err
		}
	}
	if o.GetMaxConnectionDuration() != nil {
		if out.MaxConnDuration, err = duration(o.GetMaxConnectionDuration(), p+".max_connection_duration"); err != nil {
			return err
		}
	}
	if o.GetMaxRequestsPerConnection() != nil {
		out.MaxRequestsPerConn = o.GetMaxRequestsPerConnection().GetValue()
	}
	if o.GetMaxHeadersCount() != nil || o.GetMaxStreamDuration() != nil {
		return invalid("%s: only idle_timeout, max_connection_duration and max_requests_per_connection are supported on clusters", p)
	}
	return nil
}

func outlierDetection(od *clusterv3.OutlierDetection) (*OutlierDetection, error) {
	out := &OutlierDetection{
		Consecutive5xx:              5,
		EnforcingConsecutive5xx:     100,
		ConsecutiveGatewayFailure:   5,
		EnforcingConsecutiveGateway: 0,
		Interval:                    10 * time.Second,
		BaseEjectionTime:            30 * time.Second,
		MaxEjectionTime:             300 * time.Second,
		MaxEjectionPercent:          10,
	}
	if v := od.GetConsecutive_5Xx(); v != nil {
		out.Consecutive5xx = v.GetValue()
	}
	if v := od.GetEnforcingConsecutive_5Xx(); v != nil {
		out.EnforcingConsecutive5xx = v.GetValue()
	}
	if v := od.GetConsecutiveGatewayFailure(); v != nil {
		out.ConsecutiveGatewayFailure = v.GetValue()
	}
	if v := od.GetEnforcingConsecutiveGatewayFailure(); v != nil {
		out.EnforcingConsecutiveGateway = v.GetValue()
	}
	if v := od.GetMaxEjectionPercent(); v != nil {
		out.MaxEjectionPercent = v.GetValue()
	}
	if out.EnforcingConsecutive5xx > 100 || out.EnforcingConsecutiveGateway > 100 || out.MaxEjectionPercent > 100 {
		return nil, invalid("outlier_detection: percentages must be <= 100")
	}
	if v := od.GetEnforcingSuccessRate(); v != nil && v.GetValue() != 0 {
		return nil, invalid("outlier_detection.enforcing_success_rate: success-rate ejection is not supported (set 0)")
	}
	if od.GetSplitExternalLocalOriginErrors() {
		return nil, invalid("outlier_detection.split_external_local_origin_errors: not supported")
	}
	var err error
	if od.GetInterval() != nil {
		if out.Interval, err = duration(od.GetInterval(), "outlier_detection.interval"); err != nil {
			return nil, err
		}
	}
	if od.GetBaseEjectionTime() != nil {
		if out.BaseEjectionTime, err = duration(od.GetBaseEjectionTime(), "outlier_detection.base_ejection_time"); err != nil {
			return nil, err
		}
	}
	if od.GetMaxEjectionTime() != nil {
		if out.MaxEjectionTime, err = duration(od.GetMaxEjectionTime(), "outlier_detection.max_ejection_time"); err != nil {
			return nil, err
		}
	}
	if out.MaxEjectionTime < out.BaseEjectionTime {
		out.MaxEjectionTime = out.BaseEjectionTime
	}
	return out, nil
}

func isPrime(n uint64) bool {
	if n < 2 {
		return false
	}
	for i := uint64(2); i*i <= n; i++ {
		if n%i == 0 {
			return false
		}
	}
	return true
}

// UnmarshalClusterLoadAssignment decodes and validates an EDS resource.
func UnmarshalClusterLoadAssignment(a *anypb.Any) (*ClusterLoadAssignment, error) {
	c := &endpointv3.ClusterLoadAssignment{}
	if err := decodeAny(a, c, ""); err != nil {
		return nil, fmt.Errorf("cluster load assignment: %w", err)
	}
	out, err := loadAssignment(c, "", false)
	if err != nil {
		return nil, fmt.Errorf("cluster load assignment %q: %w", c.GetClusterName(), err)
	}
	return out, nil
}

func loadAssignment(c *endpointv3.ClusterLoadAssignment, path string, dns bool) (*ClusterLoadAssignment, error) {
	if err := checkFields(c.ProtoReflect(), path); err != nil {
		return nil, &invalidError{err}
	}
	out := &ClusterLoadAssignment{ClusterName: c.GetClusterName()}
	for i, loc := range c.GetEndpoints() {
		lp := fmt.Sprintf("%s[%d]", join(path, "endpoints"), i)
		lw := uint32(1)
		if loc.GetLoadBalancingWeight() != nil {
			lw = loc.GetLoadBalancingWeight().GetValue()
			if lw == 0 {
				continue // Envoy: a locality with weight 0 gets no traffic.
			}
		}
		l := loc.GetLocality()
		locality := strings.Trim(l.GetRegion()+"/"+l.GetZone()+"/"+l.GetSubZone(), "/")
		for j, lb := range loc.GetLbEndpoints() {
			ep := fmt.Sprintf("%s.lb_endpoints[%d]", lp, j)
			e := lb.GetEndpoint()
			if e == nil {
				return nil, invalid("%s.endpoint: required (named endpoints are not supported)", ep)
			}
			sa := e.GetAddress().GetSocketAddress()
			if sa == nil {
				return nil, invalid("%s.endpoint.address.socket_address: required", ep)
			}
			if sa.GetProtocol() != corev3.SocketAddress_TCP {
				return nil, invalid("%s.endpoint.address.socket_address.protocol: only TCP", ep)
			}
			if !dns {
				if _, err := netip.ParseAddr(sa.GetAddress()); err != nil {
					return nil, invalid("%s.endpoint.address.socket_address.address: %q is not an IP", ep, sa.GetAddress())
				}
			}
			if sa.GetPortValue() == 0 || sa.GetPortValue() > 65535 {
				return nil, invalid("%s.endpoint.address.socket_address.port_value: %d out of range", ep, sa.GetPortValue())
			}
			w := uint32(1)
			if lb.GetLoadBalancingWeight() != nil {
				w = lb.GetLoadBalancingWeight().GetValue()
				if w == 0 {
					return nil, invalid("%s.load_balancing_weight: must be >= 1", ep)
				}
			}
			end := Endpoint{
				Address:  net.JoinHostPort(sa.GetAddress(), strconv.Itoa(int(sa.GetPortValue()))),
				Hostname: e.GetHostname(),
				Weight:   w * lw,
				Priority: loc.GetPriority(),
				Locality: locality,
			}
			switch lb.GetHealthStatus() {
			case corev3.HealthStatus_UNKNOWN, corev3.HealthStatus_HEALTHY, corev3.HealthStatus_DEGRADED:
				end.Health = Healthy
			case corev3.HealthStatus_DRAINING:
				end.Health = Draining
			default:
				end.Health = Unhealthy
			}
			if md := lb.GetMetadata().GetFilterMetadata()["istio"]; md != nil {
				if wl := md.GetFields()["workload"].GetStringValue(); wl != "" {
					parts := strings.Split(wl, ";")
					end.Workload = parts[0]
					if len(parts) > 1 {
						end.Namespace = parts[1]
					}
					if len(parts) > 3 {
						end.CanonicalService, end.CanonicalRevision = parts[2], parts[3]
					}
				}
			}
			out.Endpoints = append(out.Endpoints, end)
		}
	}
	return out, nil
}
