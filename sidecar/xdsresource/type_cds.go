package xdsresource

import "time"

// DiscoveryType is how a cluster learns its endpoints.
type DiscoveryType uint8

// Discovery types.
const (
	DiscoveryEDS DiscoveryType = iota
	DiscoveryStatic
	DiscoveryStrictDNS
	DiscoveryLogicalDNS
	DiscoveryOriginalDst
)

func (t DiscoveryType) String() string {
	return [...]string{"EDS", "STATIC", "STRICT_DNS", "LOGICAL_DNS", "ORIGINAL_DST"}[t]
}

// LBPolicy is a cluster's load-balancing policy.
type LBPolicy uint8

// Load-balancing policies.
const (
	LBRoundRobin LBPolicy = iota
	LBLeastRequest
	LBRandom
	LBRingHash
	LBMaglev
	// LBClusterProvided is used by ORIGINAL_DST clusters (PASSTHROUGH).
	LBClusterProvided
)

func (p LBPolicy) String() string {
	return [...]string{"ROUND_ROBIN", "LEAST_REQUEST", "RANDOM", "RING_HASH", "MAGLEV", "CLUSTER_PROVIDED"}[p]
}

// UpstreamProtocol selects the HTTP protocol towards the cluster.
type UpstreamProtocol uint8

// Upstream protocols.
const (
	UpstreamHTTP1 UpstreamProtocol = iota
	UpstreamHTTP2
	// UpstreamDownstream uses what the downstream request used.
	UpstreamDownstream
)

// Cluster is a decoded envoy.config.cluster.v3.Cluster.
type Cluster struct {
	Name        string
	AltStatName string
	Type        DiscoveryType
	// EDSServiceName is the EDS resource name (the cluster name when the
	// control plane left service_name empty).
	EDSServiceName string
	// LoadAssignment holds inline endpoints (STATIC and DNS clusters).
	LoadAssignment *ClusterLoadAssignment
	ConnectTimeout time.Duration
	LBPolicy       LBPolicy
	// ChoiceCount is the LEAST_REQUEST sample size (default 2).
	ChoiceCount     uint32
	RingMinSize     uint64
	RingMaxSize     uint64
	MaglevTableSize uint64
	// PanicThreshold is the healthy-host percentage below which health is
	// ignored (Envoy's healthy_panic_threshold, default 50).
	PanicThreshold      float64
	LocalityWeighted    bool
	Thresholds          Thresholds
	Outlier             *OutlierDetection
	Protocol            UpstreamProtocol
	IdleTimeout         time.Duration
	MaxRequestsPerConn  uint32
	MaxConnDuration     time.Duration
	DNSRefreshRate      time.Duration
	UseHTTPHeader       bool
	OriginalDstHeader   string
	UpstreamBindAddress string
}

// Thresholds are the DEFAULT-priority circuit breaker limits.
type Thresholds struct {
	MaxConnections     uint32
	MaxPendingRequests uint32
	MaxRequests        uint32
	MaxRetries         uint32
	// RetryBudgetPercent, when > 0, replaces MaxRetries by a budget of
	// active requests (with MinRetryConcurrency as the floor).
	RetryBudgetPercent  float64
	MinRetryConcurrency uint32
}

// DefaultThresholds are Envoy's circuit breaker defaults.
var DefaultThresholds = Thresholds{MaxConnections: 1024, MaxPendingRequests: 1024, MaxRequests: 1024, MaxRetries: 3}

// OutlierDetection is a decoded envoy.config.cluster.v3.OutlierDetection.
type OutlierDetection struct {
	Consecutive5xx              uint32
	EnforcingConsecutive5xx     uint32
	ConsecutiveGatewayFailure   uint32
	EnforcingConsecutiveGateway uint32
	Interval                    time.Duration
	BaseEjectionTime            time.Duration
	MaxEjectionTime             time.Duration
	MaxEjectionPercent          uint32
}
