// Package cluster is weft-proxy's upstream side: clusters and their
// endpoints, load balancers (round robin, least request with power of two
// choices, random, ring hash, maglev, original destination), circuit
// breakers (max connections / pending / requests / retries, retry budgets),
// outlier detection (github.com/sony/gobreaker as each endpoint's state
// machine; the cluster grows ejection times and enforces
// max_ejection_percent; panic mode) and connection pools (HTTP/1.1
// keep-alive pools of its own, h2c through net/http).
//
// The HTTP/1.1 pool writes requests straight into the connection's buffer
// and reads response heads with a lean parser of its own (h1read.go): a
// plain head costs a handful of allocations, anything unusual is handed to
// net/http's http.ReadResponse, and FuzzReadResponse holds the two to the
// same results. A request whose kept-alive connection turns out closed by
// the upstream (nothing read back) is retried once, on a freshly dialed
// connection.
//
// A Manager keeps what must survive config swaps — per-cluster counters and
// per-endpoint hosts with their warm connections and outlier state — and
// builds immutable Cluster values for each snapshot. A Cluster's endpoint
// set is itself swapped whole on EDS updates.
package cluster
