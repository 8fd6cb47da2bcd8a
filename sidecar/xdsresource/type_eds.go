package xdsresource

// ClusterLoadAssignment is a decoded EDS resource (or a cluster's inline
// load_assignment), flattened to a list of endpoints.
type ClusterLoadAssignment struct {
	ClusterName string
	Endpoints   []Endpoint
}

// HealthStatus is an endpoint's EDS health.
type HealthStatus uint8

// Health states; only Healthy endpoints receive traffic outside panic mode.
const (
	Healthy HealthStatus = iota
	Unhealthy
	Draining
)

// Endpoint is one upstream host.
type Endpoint struct {
	// Address is host:port; host is an IP for EDS/STATIC, a name for DNS.
	Address string
	// Hostname is the endpoint's hostname from EDS, if any.
	Hostname string
	// Weight combines the endpoint weight and, for locality-weighted
	// clusters, the locality weight; at least 1.
	Weight   uint32
	Health   HealthStatus
	Priority uint32
	Locality string
	// Workload labels from istio filter metadata (may be empty).
	Workload          string
	Namespace         string
	CanonicalService  string
	CanonicalRevision string
}
