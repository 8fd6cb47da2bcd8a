// Package metrics exports weft-proxy's request and connection metrics with
// Istio's standard names and labels (istio_requests_total,
// istio_request_duration_milliseconds, istio_request_bytes,
// istio_response_bytes, istio_tcp_*), so existing dashboards work.
//
// Label sets are resolved once per distinct (destination, code, flags,
// protocol) and cached; recording a request takes a read lock, a map lookup
// and four atomic updates, with no allocation.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Workload identifies one side of a request.
type Workload struct {
	Name, Namespace, App, Version, Principal, Cluster string
}

// Dest is the destination of a request, resolved from the upstream cluster
// name (outbound|<port>|<subset>|<fqdn>) and endpoint metadata.
type Dest struct {
	Workload Workload
	// Service is the FQDN; ServiceName and ServiceNamespace its first labels.
	Service, ServiceName, ServiceNamespace string
}

var labelNames = []string{
	"reporter",
	"source_workload", "source_workload_namespace", "source_principal", "source_app", "source_version",
	"source_canonical_service", "source_canonical_revision", "source_cluster",
	"destination_workload", "destination_workload_namespace", "destination_principal", "destination_app",
	"destination_version", "destination_service", "destination_service_name", "destination_service_namespace",
	"destination_canonical_service", "destination_canonical_revision", "destination_cluster",
	"request_protocol", "response_code", "grpc_response_status", "response_flags", "connection_security_policy",
}

var tcpLabelNames = append(append([]string(nil), labelNames[:20]...), "request_protocol", "response_flags", "connection_security_policy")

// Reporter is "source" for outbound traffic and "destination" for inbound.
type Reporter uint8

// Reporters.
const (
	Source Reporter = iota
	Destination
)

func (r Reporter) String() string {
	if r == Destination {
		return "destination"
	}
	return "source"
}

// Metrics holds the proxy's Prometheus registry.
type Metrics struct {
	Registry *prometheus.Registry
	self     Workload

	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	reqBytes  *prometheus.HistogramVec
	respBytes *prometheus.HistogramVec
	tcpSent   *prometheus.CounterVec
	tcpRecv   *prometheus.CounterVec
	tcpOpen   *prometheus.CounterVec
	tcpClose  *prometheus.CounterVec

	mu     sync.RWMutex
	series map[seriesKey]*series
	dests  map[destKey]*Dest
	tcp    map[tcpKey]*tcpSeries
}

type seriesKey struct {
	rep   Reporter
	dest  *Dest
	code  int
	flags string
	proto string
	grpc  string
}

type series struct {
	requests                      prometheus.Counter
	duration, reqBytes, respBytes prometheus.Observer
}

type tcpKey struct {
	rep   Reporter
	dest  *Dest
	flags string
}

type tcpSeries struct {
	sent, recv, open, close prometheus.Counter
}

type destKey struct {
	cluster, workload, ns, app, version string
}

// New returns Metrics for the proxy's own workload.
func New(self Workload) *Metrics {
	buckets := []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}
	bytes := prometheus.ExponentialBuckets(1, 10, 9)
	m := &Metrics{
		Registry:  prometheus.NewRegistry(),
		self:      self,
		requests:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "istio_requests_total", Help: "Requests by source, destination and response."}, labelNames),
		duration:  prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "istio_request_duration_milliseconds", Help: "Request duration.", Buckets: buckets}, labelNames),
		reqBytes:  prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "istio_request_bytes", Help: "Request sizes.", Buckets: bytes}, labelNames),
		respBytes: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "istio_response_bytes", Help: "Response sizes.", Buckets: bytes}, labelNames),
		tcpSent:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "istio_tcp_sent_bytes_total", Help: "Bytes sent to the downstream on TCP connections."}, tcpLabelNames),
		tcpRecv:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "istio_tcp_received_bytes_total", Help: "Bytes received from the downstream on TCP connections."}, tcpLabelNames),
		tcpOpen:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "istio_tcp_connections_opened_total", Help: "TCP connections opened."}, tcpLabelNames),
		tcpClose:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "istio_tcp_connections_closed_total", Help: "TCP connections closed."}, tcpLabelNames),
		series:    map[seriesKey]*series{},
		dests:     map[destKey]*Dest{},
		tcp:       map[tcpKey]*tcpSeries{},
	}
	m.Registry.MustRegister(m.requests, m.duration, m.reqBytes, m.respBytes, m.tcpSent, m.tcpRecv, m.tcpOpen, m.tcpClose)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Self returns the proxy's own workload.
func (m *Metrics) Self() Workload { return m.self }

// Dest resolves the destination for an upstream cluster and endpoint
// metadata; the result is cached and stable.
func (m *Metrics) Dest(cluster, workload, ns, app, version string) *Dest {
	k := destKey{cluster, workload, ns, app, version}
	m.mu.RLock()
	d := m.dests[k]
	m.mu.RUnlock()
	if d != nil {
		return d
	}
	d = &Dest{Workload: Workload{Name: orUnknown(workload), Namespace: orUnknown(ns), App: orUnknown(app), Version: orUnknown(version), Principal: "unknown", Cluster: "unknown"}}
	d.Service, d.ServiceName, d.ServiceNamespace = "unknown", "unknown", "unknown"
	if parts := strings.Split(cluster, "|"); len(parts) == 4 && parts[3] != "" {
		d.Service = parts[3]
		labels := strings.Split(parts[3], ".")
		d.ServiceName = labels[0]
		if len(labels) > 1 {
			d.ServiceNamespace = labels[1]
		}
		if d.Workload.Namespace == "unknown" {
			d.Workload.Namespace = d.ServiceNamespace
		}
	} else if cluster != "" {
		d.Service, d.ServiceName = cluster, cluster
	}
	m.mu.Lock()
	if old := m.dests[k]; old != nil {
		d = old
	} else {
		m.dests[k] = d
	}
	m.mu.Unlock()
	return d
}

// SelfDest is the destination for inbound traffic: this workload.
func (m *Metrics) SelfDest(cluster string) *Dest {
	return m.Dest(cluster, m.self.Name, m.self.Namespace, m.self.App, m.self.Version)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func (m *Metrics) labels(rep Reporter, d *Dest) []string {
	src := m.self
	dst := d.Workload
	if rep == Destination {
		src = Workload{Name: "unknown", Namespace: "unknown", App: "unknown", Version: "unknown", Principal: "unknown", Cluster: "unknown"}
	}
	return []string{rep.String(),
		src.Name, src.Namespace, src.Principal, src.App, src.Version, src.App, src.Version, src.Cluster,
		dst.Name, dst.Namespace, dst.Principal, dst.App, dst.Version, d.Service, d.ServiceName, d.ServiceNamespace,
		dst.App, dst.Version, dst.Cluster}
}

// Request records one HTTP request.
func (m *Metrics) Request(rep Reporter, d *Dest, proto string, code int, grpcStatus, flags string, durMs float64, reqBytes, respBytes int64) {
	k := seriesKey{rep: rep, dest: d, code: code, flags: flags, proto: proto, grpc: grpcStatus}
	m.mu.RLock()
	s := m.series[k]
	m.mu.RUnlock()
	if s == nil {
		s = m.newSeries(k)
	}
	s.requests.Inc()
	s.duration.Observe(durMs)
	s.reqBytes.Observe(float64(reqBytes))
	s.respBytes.Observe(float64(respBytes))
}

func (m *Metrics) newSeries(k seriesKey) *series {
	lv := append(m.labels(k.rep, k.dest), k.proto, strconv.Itoa(k.code), k.grpc, k.flags, "none")
	s := &series{
		requests: m.requests.WithLabelValues(lv...), duration: m.duration.WithLabelValues(lv...),
		reqBytes: m.reqBytes.WithLabelValues(lv...), respBytes: m.respBytes.WithLabelValues(lv...),
	}
	m.mu.Lock()
	if old := m.series[k]; old != nil {
		s = old
	} else {
		m.series[k] = s
	}
	m.mu.Unlock()
	return s
}

func (m *Metrics) tcpFor(rep Reporter, d *Dest, flags string) *tcpSeries {
	k := tcpKey{rep, d, flags}
	m.mu.RLock()
	s := m.tcp[k]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	lv := append(m.labels(rep, d), "tcp", flags, "none")
	s = &tcpSeries{sent: m.tcpSent.WithLabelValues(lv...), recv: m.tcpRecv.WithLabelValues(lv...),
		open: m.tcpOpen.WithLabelValues(lv...), close: m.tcpClose.WithLabelValues(lv...)}
	m.mu.Lock()
	if old := m.tcp[k]; old != nil {
		s = old
	} else {
		m.tcp[k] = s
	}
	m.mu.Unlock()
	return s
}

// TCPOpen records an opened TCP connection.
func (m *Metrics) TCPOpen(rep Reporter, d *Dest) { m.tcpFor(rep, d, "-").open.Inc() }

// TCPClose records a closed TCP connection and its byte counts.
func (m *Metrics) TCPClose(rep Reporter, d *Dest, flags string, sent, received int64) {
	if flags == "" {
		flags = "-"
	}
	s := m.tcpFor(rep, d, flags)
	s.close.Inc()
	s.sent.Add(float64(sent))
	s.recv.Add(float64(received))
}
