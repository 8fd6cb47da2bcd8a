// Package admin serves weft-proxy's admin API, shaped like Envoy's so
// istioctl-style tools can read it: /config_dump (what the proxy received,
// as Envoy admin ConfigDump protos), /clusters (per host: health, ejection,
// active requests, counters), /listeners, /stats, /stats/prometheus,
// /logging, /ready, /quitquitquit; and the readiness endpoint
// /healthz/ready served on its own port.
package admin

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	"github.com/weft-mesh/weft/sidecar/dataplane"
	"github.com/weft-mesh/weft/sidecar/metrics"
	"github.com/weft-mesh/weft/sidecar/xdsclient"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
	"go.uber.org/zap"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Source is what the admin pages read.
type Source struct {
	Snapshots *dataplane.Holder
	XDS       *xdsclient.Client
	Metrics   *metrics.Metrics
	Level     zap.AtomicLevel
	// Addrs returns the bound listener addresses by name.
	Addrs func() map[string]string
	// Ready reports readiness; Draining whether a drain started.
	Ready    func() bool
	Draining func() bool
	// Quit starts a graceful drain and exit.
	Quit func()
}

// Handler returns the admin mux.
func Handler(s *Source) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/config_dump", s.configDump)
	mux.HandleFunc("/clusters", s.clusters)
	mux.HandleFunc("/listeners", s.listeners)
	mux.HandleFunc("/stats", s.stats)
	mux.Handle("/stats/prometheus", s.Metrics.Handler())
	mux.HandleFunc("/logging", s.logging)
	mux.HandleFunc("/ready", s.ready)
	mux.HandleFunc("/healthz/ready", s.ready)
	mux.HandleFunc("/quitquitquit", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		fmt.Fprintln(w, "OK")
		if s.Quit != nil {
			go s.Quit()
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "weft-proxy admin: /config_dump /clusters /listeners /stats /stats/prometheus /logging /ready /quitquitquit")
	})
	return mux
}

// ReadyHandler serves only /healthz/ready (the :15021 port).
func ReadyHandler(s *Source) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz/ready", s.ready)
	return mux
}

func (s *Source) ready(w http.ResponseWriter, _ *http.Request) {
	switch {
	case s.Draining != nil && s.Draining():
		http.Error(w, "DRAINING", http.StatusServiceUnavailable)
	case s.Ready != nil && s.Ready():
		fmt.Fprintln(w, "LIVE")
	default:
		http.Error(w, "PRE_INITIALIZING", http.StatusServiceUnavailable)
	}
}

func (s *Source) configDump(w http.ResponseWriter, _ *http.Request) {
	st := s.XDS.State()
	status, _ := s.XDS.Status()
	raw := func(typ, name string) *anypb.Any { return st.Raw[typ][name] }
	ver := func(typ string) string { return st.Versions[typ] }

	ld := &adminv3.ListenersConfigDump{VersionInfo: ver(xdsresource.ListenerType)}
	for _, n := range sortedKeys(st.Raw[xdsresource.ListenerType]) {
		ld.DynamicListeners = append(ld.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
			Name: n, ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{VersionInfo: ver(xdsresource.ListenerType), Listener: raw(xdsresource.ListenerType, n)}})
	}
	cd := &adminv3.ClustersConfigDump{VersionInfo: ver(xdsresource.ClusterType)}
	for _, n := range sortedKeys(st.Raw[xdsresource.ClusterType]) {
		cd.DynamicActiveClusters = append(cd.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{
			VersionInfo: ver(xdsresource.ClusterType), Cluster: raw(xdsresource.ClusterType, n)})
	}
	rd := &adminv3.RoutesConfigDump{}
	for _, n := range sortedKeys(st.Raw[xdsresource.RouteType]) {
		rd.DynamicRouteConfigs = append(rd.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{
			VersionInfo: ver(xdsresource.RouteType), RouteConfig: raw(xdsresource.RouteType, n)})
	}
	ed := &adminv3.EndpointsConfigDump{}
	for _, n := range sortedKeys(st.Raw[xdsresource.EndpointType]) {
		ed.DynamicEndpointConfigs = append(ed.DynamicEndpointConfigs, &adminv3.EndpointsConfigDump_DynamicEndpointConfig{
			VersionInfo: ver(xdsresource.EndpointType), EndpointConfig: raw(xdsresource.EndpointType, n)})
	}
	// Rejected updates are reported like Envoy's error_state.
	if ns := status[xdsresource.ListenerType]; ns.LastNACK != "" {
		ld.DynamicListeners = append(ld.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
			Name: "<rejected>", ErrorState: &adminv3.UpdateFailureState{Details: ns.LastNACK}})
	}
	dump := &adminv3.ConfigDump{}
	for _, m := range []proto.Message{cd, ed, ld, rd} {
		a, err := anypb.New(m)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		dump.Configs = append(dump.Configs, a)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(dump)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// clusters prints Envoy's text format: cluster::host::stat::value.
func (s *Source) clusters(w http.ResponseWriter, _ *http.Request) {
	snap := s.Snapshots.Load()
	var b strings.Builder
	for _, name := range sortedKeys(snap.Clusters) {
		c := snap.Clusters[name]
		t := c.Config.Thresholds
		fmt.Fprintf(&b, "%s::default_priority::max_connections::%d\n", name, t.MaxConnections)
		fmt.Fprintf(&b, "%s::default_priority::max_pending_requests::%d\n", name, t.MaxPendingRequests)
		fmt.Fprintf(&b, "%s::default_priority::max_requests::%d\n", name, t.MaxRequests)
		fmt.Fprintf(&b, "%s::default_priority::max_retries::%d\n", name, t.MaxRetries)
		if c.Config.Outlier != nil {
			fmt.Fprintf(&b, "%s::outlier::consecutive_5xx::%d\n", name, c.Config.Outlier.Consecutive5xx)
		}
		for _, e := range c.Endpoints() {
			h := e.Host
			p := name + "::" + h.Addr + "::"
			fmt.Fprintf(&b, "%scx_active::%d\n%scx_total::%d\n%scx_connect_fail::%d\n", p, h.CxActive.Load(), p, h.CxTotal.Load(), p, h.CxFailed.Load())
			fmt.Fprintf(&b, "%srq_active::%d\n%srq_total::%d\n%srq_success::%d\n%srq_error::%d\n%srq_timeout::%d\n",
				p, h.RqActive.Load(), p, h.RqTotal.Load(), p, h.RqSuccess.Load(), p, h.RqError.Load(), p, h.RqTimeout.Load())
			health := "healthy"
			switch {
			case !e.Healthy:
				health = "/failed_eds_health"
			case h.Ejected():
				health = "/failed_outlier_check"
			}
			fmt.Fprintf(&b, "%shealth_flags::%s\n%sweight::%d\n%sejections::%d\n", p, health, p, e.Weight, p, h.EjectionCount())
		}
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(b.String()))
}

func (s *Source) listeners(w http.ResponseWriter, _ *http.Request) {
	snap := s.Snapshots.Load()
	addrs := map[string]string{}
	if s.Addrs != nil {
		addrs = s.Addrs()
	}
	var b strings.Builder
	for _, name := range sortedKeys(snap.Listeners) {
		l := snap.Listeners[name]
		bound := addrs[name]
		if bound == "" {
			bound = "not bound"
		}
		fmt.Fprintf(&b, "%s::%s:%d::%s\n", name, l.Host, l.Port, bound)
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(b.String()))
}

func (s *Source) stats(w http.ResponseWriter, _ *http.Request) {
	snap := s.Snapshots.Load()
	status, connected := s.XDS.Status()
	var b strings.Builder
	c := 0
	if connected {
		c = 1
	}
	fmt.Fprintf(&b, "control_plane.connected_state: %d\n", c)
	for _, t := range xdsclient.Types {
		st := status[t]
		short := map[string]string{xdsresource.ListenerType: "lds", xdsresource.RouteType: "rds", xdsresource.ClusterType: "cds", xdsresource.EndpointType: "eds"}[t]
		fmt.Fprintf(&b, "%s.update_success: %d\n%s.update_rejected: %d\n%s.version_text: %q\n", short, st.ACKs, short, st.NACKs, short, st.Version)
	}
	for _, name := range sortedKeys(snap.Clusters) {
		st := snap.Clusters[name].Stats()
		p := "cluster." + name + "."
		fmt.Fprintf(&b, "%supstream_rq_total: %d\n%supstream_rq_active: %d\n%supstream_rq_pending_active: %d\n", p, st.RqTotal, p, st.RqActive, p, st.Pending)
		fmt.Fprintf(&b, "%supstream_rq_pending_overflow: %d\n%supstream_rq_overflow: %d\n%supstream_rq_retry: %d\n%supstream_rq_retry_overflow: %d\n",
			p, st.OverflowPending, p, st.OverflowRq, p, st.RetriesTotal, p, st.OverflowRetry)
		fmt.Fprintf(&b, "%supstream_cx_active: %d\n%soutlier_detection.ejections_enforced_total: %d\n", p, st.CxOpen, p, st.Ejections)
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write([]byte(b.String()))
}

func (s *Source) logging(w http.ResponseWriter, r *http.Request) {
	if lv := r.URL.Query().Get("level"); lv != "" {
		if r.Method != http.MethodPost {
			http.Error(w, "POST to change the level", http.StatusMethodNotAllowed)
			return
		}
		if err := s.Level.UnmarshalText([]byte(lv)); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	fmt.Fprintf(w, "active loggers:\n  weft-proxy: %s\n", s.Level.Level())
}
