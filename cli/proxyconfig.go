package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"sigs.k8s.io/yaml"

	"github.com/weft-mesh/weft/cli/printers"
)

// proxy-config reads a sidecar's configuration from its admin API (through
// the API server and the pod's node agent: pods/{name}/proxy-admin/...),
// the way istioctl proxy-config reads Envoy's: /config_dump for listeners,
// routes and clusters, /clusters for endpoints, /logging for the level.

type proxyConfigOptions struct {
	output string // short (tables), json or yaml

	// Filters, as istioctl's.
	port      int
	address   string
	fqdn      string
	subset    string
	direction string
	name      string
	cluster   string
	status    string
	level     string
}

func newProxyConfigCommand(o *options) *cobra.Command {
	po := &proxyConfigOptions{}
	cmd := &cobra.Command{
		Use:     "proxy-config listeners|routes|clusters|endpoints|log POD[.NAMESPACE]",
		Aliases: []string{"pc"},
		Short:   "Show a sidecar's listeners, routes, clusters, endpoints or log level, like istioctl proxy-config",
	}
	cmd.PersistentFlags().StringVarP(&po.output, "output", "o", "short", "short (a table), json or yaml")
	sub := func(use string, aliases []string, short string, run func(pod, ns string) error) *cobra.Command {
		return &cobra.Command{
			Use: use + " POD[.NAMESPACE]", Aliases: aliases, Short: short, Args: cobra.ExactArgs(1),
			RunE: func(_ *cobra.Command, args []string) error {
				switch po.output {
				case "short", "json", "yaml":
				default:
					return fmt.Errorf("--output %q: want short, json or yaml", po.output)
				}
				pod, ns := o.proxyPod(args[0])
				return run(pod, ns)
			},
		}
	}
	listeners := sub("listeners", []string{"listener", "l"}, "The listeners of a pod's proxy", func(pod, ns string) error {
		d, err := o.configDump(pod, ns)
		if err != nil {
			return err
		}
		ls := filterListeners(d.Listeners, po)
		return po.print(o, listenerTable(ls), protoList(ls))
	})
	listeners.Flags().IntVar(&po.port, "port", 0, "only listeners on this port")
	listeners.Flags().StringVar(&po.address, "address", "", "only listeners on this address")
	routes := sub("routes", []string{"route", "r"}, "The route configurations of a pod's proxy", func(pod, ns string) error {
		d, err := o.configDump(pod, ns)
		if err != nil {
			return err
		}
		rs := filterRoutes(append(d.Routes, inlineRoutes(d.Listeners)...), po)
		return po.print(o, routeTable(rs), protoList(rs))
	})
	routes.Flags().StringVar(&po.name, "name", "", "only the route configuration of this name")
	clusters := sub("clusters", []string{"cluster", "c"}, "The clusters of a pod's proxy", func(pod, ns string) error {
		d, err := o.configDump(pod, ns)
		if err != nil {
			return err
		}
		cs := filterClusters(d.Clusters, po)
		return po.print(o, clusterTable(cs), protoList(cs))
	})
	clusters.Flags().IntVar(&po.port, "port", 0, "only clusters of this port")
	clusters.Flags().StringVar(&po.fqdn, "fqdn", "", "only clusters of this service FQDN")
	clusters.Flags().StringVar(&po.subset, "subset", "", "only clusters of this subset")
	clusters.Flags().StringVar(&po.direction, "direction", "", "only inbound or outbound clusters")
	endpoints := sub("endpoints", []string{"endpoint", "ep"}, "The endpoints of a pod's proxy's clusters, with their health", func(pod, ns string) error {
		b, err := o.proxyAdmin(http.MethodGet, pod, ns, "clusters", nil)
		if err != nil {
			return err
		}
		eps := filterEndpoints(parseAdminClusters(string(b)), po)
		return po.print(o, endpointTable(eps), eps)
	})
	endpoints.Flags().StringVar(&po.cluster, "cluster", "", "only endpoints of this cluster")
	endpoints.Flags().StringVar(&po.address, "address", "", "only endpoints with this IP")
	endpoints.Flags().IntVar(&po.port, "port", 0, "only endpoints with this port")
	endpoints.Flags().StringVar(&po.status, "status", "", "only endpoints with this status (HEALTHY, UNHEALTHY)")
	logCmd := sub("log", nil, "Show, or with --level change, a pod's proxy's log level", func(pod, ns string) error {
		method, q := http.MethodGet, url.Values(nil)
		if po.level != "" {
			method, q = http.MethodPost, url.Values{"level": {po.level}}
		}
		b, err := o.proxyAdmin(method, pod, ns, "logging", q)
		if err != nil {
			return err
		}
		_, err = o.streams.Out.Write(b)
		return err
	})
	logCmd.Flags().StringVar(&po.level, "level", "", "set the level: debug, info, warn or error")
	cmd.AddCommand(listeners, routes, clusters, endpoints, logCmd)
	return cmd
}

// proxyPod splits POD[.NAMESPACE] (also pod/POD); without a namespace, -n's.
func (o *options) proxyPod(arg string) (pod, ns string) {
	arg = podName(arg)
	if i := strings.LastIndex(arg, "."); i > 0 && i < len(arg)-1 {
		return arg[:i], arg[i+1:]
	}
	return arg, o.ns()
}

func (o *options) proxyAdmin(method, pod, ns, path string, q url.Values) ([]byte, error) {
	c, err := o.client()
	if err != nil {
		return nil, err
	}
	ctx, cancel := o.context()
	defer cancel()
	b, err := c.ProxyAdmin(ctx, method, ns, pod, path, q)
	if err != nil {
		return nil, fmt.Errorf("proxy admin of %s.%s: %w", pod, ns, err)
	}
	return b, nil
}

// proxyConfigDump is the decoded part of a proxy's /config_dump.
type proxyConfigDump struct {
	Listeners []*listenerv3.Listener
	Routes    []*routev3.RouteConfiguration
	Clusters  []*clusterv3.Cluster
	// Rejected holds the error details of rejected updates.
	Rejected []string
}

func (o *options) configDump(pod, ns string) (*proxyConfigDump, error) {
	b, err := o.proxyAdmin(http.MethodGet, pod, ns, "config_dump", nil)
	if err != nil {
		return nil, err
	}
	d, err := parseConfigDump(b)
	if err != nil {
		return nil, fmt.Errorf("config dump of %s.%s: %w", pod, ns, err)
	}
	for _, r := range d.Rejected {
		fmt.Fprintf(o.streams.Err, "Warning: the proxy rejected an update: %s\n", r)
	}
	return d, nil
}

// parseConfigDump decodes an Envoy admin ConfigDump (JSON).
func parseConfigDump(b []byte) (*proxyConfigDump, error) {
	var dump adminv3.ConfigDump
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, &dump); err != nil {
		return nil, err
	}
	d := &proxyConfigDump{}
	for _, a := range dump.GetConfigs() {
		m, err := a.UnmarshalNew()
		if err != nil {
			return nil, err
		}
		switch m := m.(type) {
		case *adminv3.ListenersConfigDump:
			for _, dl := range m.GetDynamicListeners() {
				if e := dl.GetErrorState(); e != nil {
					d.Rejected = append(d.Rejected, e.GetDetails())
				}
				if a := dl.GetActiveState().GetListener(); a != nil {
					l := &listenerv3.Listener{}
					if err := a.UnmarshalTo(l); err != nil {
						return nil, fmt.Errorf("listener %s: %w", dl.GetName(), err)
					}
					d.Listeners = append(d.Listeners, l)
				}
			}
		case *adminv3.ClustersConfigDump:
			for _, dc := range m.GetDynamicActiveClusters() {
				c := &clusterv3.Cluster{}
				if err := dc.GetCluster().UnmarshalTo(c); err != nil {
					return nil, fmt.Errorf("cluster: %w", err)
				}
				d.Clusters = append(d.Clusters, c)
			}
		case *adminv3.RoutesConfigDump:
			for _, dr := range m.GetDynamicRouteConfigs() {
				r := &routev3.RouteConfiguration{}
				if err := dr.GetRouteConfig().UnmarshalTo(r); err != nil {
					return nil, fmt.Errorf("route configuration: %w", err)
				}
				d.Routes = append(d.Routes, r)
			}
		}
	}
	return d, nil
}

// print writes a table (short) or the items as JSON or YAML.
func (po *proxyConfigOptions) print(o *options, table [][]string, items any) error {
	if po.output == "short" {
		if len(table) < 2 {
			fmt.Fprintln(o.streams.Err, "No resources found.")
		}
		return printers.PrintTable(o.streams.Out, table[0], table[1:])
	}
	b, err := json.MarshalIndent(items, "", "  ")
	if err != nil {
		return err
	}
	if po.output == "yaml" {
		if b, err = yaml.JSONToYAML(b); err != nil {
			return err
		}
	} else {
		b = append(b, '\n')
	}
	_, err = o.streams.Out.Write(b)
	return err
}

// protoList marshals protos with protojson inside a JSON array.
func protoList[T proto.Message](ms []T) json.RawMessage {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		b, err := protojson.Marshal(m)
		if err != nil {
			b, _ = json.Marshal(map[string]string{"error": err.Error()})
		}
		parts = append(parts, string(b))
	}
	return json.RawMessage("[" + strings.Join(parts, ",") + "]")
}

// Listeners.

func filterListeners(ls []*listenerv3.Listener, po *proxyConfigOptions) []*listenerv3.Listener {
	var out []*listenerv3.Listener
	for _, l := range ls {
		sa := l.GetAddress().GetSocketAddress()
		if po.port != 0 && int(sa.GetPortValue()) != po.port {
			continue
		}
		if po.address != "" && sa.GetAddress() != po.address {
			continue
		}
		out = append(out, l)
	}
	return out
}

// listenerTable is istioctl's listener summary: one row per filter chain.
func listenerTable(ls []*listenerv3.Listener) [][]string {
	rows := [][]string{{"ADDRESSES", "PORT", "MATCH", "DESTINATION"}}
	sorted := append([]*listenerv3.Listener(nil), ls...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].GetAddress().GetSocketAddress(), sorted[j].GetAddress().GetSocketAddress()
		if a.GetPortValue() != b.GetPortValue() {
			return a.GetPortValue() < b.GetPortValue()
		}
		return a.GetAddress() < b.GetAddress()
	})
	for _, l := range sorted {
		sa := l.GetAddress().GetSocketAddress()
		addrs := []string{sa.GetAddress()}
		for _, a := range l.GetAdditionalAddresses() {
			addrs = append(addrs, a.GetAddress().GetSocketAddress().GetAddress())
		}
		addr, port := strings.Join(addrs, ","), strconv.Itoa(int(sa.GetPortValue()))
		if l.GetApiListener() != nil {
			rows = append(rows, []string{addr, port, "ALL", "API listener: " + l.GetName()})
			continue
		}
		if len(l.GetFilterChains()) == 0 {
			rows = append(rows, []string{addr, port, "ALL", "Non-HTTP/Non-TCP"})
		}
		for _, fc := range l.GetFilterChains() {
			rows = append(rows, []string{addr, port, describeChainMatch(fc.GetFilterChainMatch()), describeChainDestination(fc)})
		}
	}
	return rows
}

func describeChainMatch(m *listenerv3.FilterChainMatch) string {
	if m == nil {
		return "ALL"
	}
	var conds []string
	if p := m.GetDestinationPort(); p != nil {
		conds = append(conds, "Port: "+strconv.Itoa(int(p.GetValue())))
	}
	if len(m.GetPrefixRanges()) > 0 {
		var ps []string
		for _, r := range m.GetPrefixRanges() {
			ps = append(ps, fmt.Sprintf("%s/%d", r.GetAddressPrefix(), r.GetPrefixLen().GetValue()))
		}
		conds = append(conds, "Addr: "+strings.Join(ps, ","))
	}
	if len(m.GetServerNames()) > 0 {
		conds = append(conds, "SNI: "+strings.Join(m.GetServerNames(), ","))
	}
	if t := m.GetTransportProtocol(); t != "" {
		conds = append(conds, "Trans: "+t)
	}
	if len(m.GetApplicationProtocols()) > 0 {
		conds = append(conds, "App: "+strings.Join(m.GetApplicationProtocols(), ","))
	}
	if len(conds) == 0 {
		return "ALL"
	}
	return strings.Join(conds, "; ")
}

func describeChainDestination(fc *listenerv3.FilterChain) string {
	for _, f := range fc.GetFilters() {
		a := f.GetTypedConfig()
		if a == nil {
			continue
		}
		m, err := a.UnmarshalNew()
		if err != nil {
			continue
		}
		switch m := m.(type) {
		case *hcmv3.HttpConnectionManager:
			if rds := m.GetRds(); rds != nil {
				return "Route: " + rds.GetRouteConfigName()
			}
			if rc := m.GetRouteConfig(); rc != nil {
				return "Inline Route: " + rc.GetName()
			}
			return "HTTP"
		case *tcpv3.TcpProxy:
			if c := m.GetCluster(); c != "" {
				if c == "PassthroughCluster" || c == "InboundPassthroughCluster" || c == "BlackHoleCluster" {
					return c
				}
				return "Cluster: " + c
			}
			var ws []string
			for _, w := range m.GetWeightedClusters().GetClusters() {
				ws = append(ws, fmt.Sprintf("%s (%d)", w.GetName(), w.GetWeight()))
			}
			return "WeightedClusters: " + strings.Join(ws, ", ")
		}
	}
	return "Non-HTTP/Non-TCP"
}

// Routes.

// inlineRoutes are the route configurations listeners carry inline (the
// inbound side), which istioctl lists with the others.
func inlineRoutes(ls []*listenerv3.Listener) []*routev3.RouteConfiguration {
	var out []*routev3.RouteConfiguration
	seen := map[string]bool{}
	for _, l := range ls {
		for _, fc := range l.GetFilterChains() {
			for _, f := range fc.GetFilters() {
				var hcm hcmv3.HttpConnectionManager
				if f.GetTypedConfig() == nil || f.GetTypedConfig().UnmarshalTo(&hcm) != nil {
					continue
				}
				if rc := hcm.GetRouteConfig(); rc != nil && !seen[rc.GetName()] {
					seen[rc.GetName()] = true
					out = append(out, rc)
				}
			}
		}
	}
	return out
}

func filterRoutes(rs []*routev3.RouteConfiguration, po *proxyConfigOptions) []*routev3.RouteConfiguration {
	var out []*routev3.RouteConfiguration
	for _, r := range rs {
		if po.name == "" || r.GetName() == po.name {
			out = append(out, r)
		}
	}
	return out
}

// routeTable is istioctl's route summary: one row per route of each
// virtual host.
func routeTable(rs []*routev3.RouteConfiguration) [][]string {
	rows := [][]string{{"NAME", "VHOST NAME", "DOMAINS", "MATCH", "VIRTUAL SERVICE"}}
	sorted := append([]*routev3.RouteConfiguration(nil), rs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].GetName() < sorted[j].GetName() })
	for _, r := range sorted {
		if len(r.GetVirtualHosts()) == 0 {
			rows = append(rows, []string{r.GetName(), "", "", "", ""})
		}
		for _, vh := range r.GetVirtualHosts() {
			if len(vh.GetRoutes()) == 0 {
				rows = append(rows, []string{r.GetName(), vh.GetName(), describeDomains(vh.GetDomains()), "", ""})
			}
			for _, rt := range vh.GetRoutes() {
				rows = append(rows, []string{r.GetName(), vh.GetName(), describeDomains(vh.GetDomains()), describeRouteMatch(rt.GetMatch()), describeRouteVS(rt)})
			}
		}
	}
	return rows
}

// describeDomains is the shortest domain without a port, and how many
// more there are.
func describeDomains(ds []string) string {
	switch len(ds) {
	case 0:
		return ""
	case 1:
		return ds[0]
	}
	best := ""
	for _, d := range ds {
		if strings.Contains(d, ":") {
			continue
		}
		if best == "" || len(d) < len(best) || (len(d) == len(best) && d < best) {
			best = d
		}
	}
	if best == "" {
		best = ds[0]
	}
	return fmt.Sprintf("%s + %d more...", best, len(ds)-1)
}

func describeRouteMatch(m *routev3.RouteMatch) string {
	var conds []string
	switch {
	case m.GetPrefix() != "":
		conds = append(conds, m.GetPrefix()+"*")
	case m.GetPath() != "":
		conds = append(conds, m.GetPath())
	case m.GetSafeRegex() != nil:
		conds = append(conds, "regex "+m.GetSafeRegex().GetRegex())
	}
	for _, h := range m.GetHeaders() {
		conds = append(conds, "header "+h.GetName())
	}
	if len(conds) == 0 {
		return "/*"
	}
	return strings.Join(conds, " ")
}

// describeRouteVS names the VirtualService behind a route from Istio's
// route metadata (filter_metadata.istio.config), "404" for a not-found
// direct response; else empty.
func describeRouteVS(r *routev3.Route) string {
	if cfg := r.GetMetadata().GetFilterMetadata()["istio"].GetFields()["config"].GetStringValue(); cfg != "" {
		// /apis/networking.istio.io/v1/namespaces/<ns>/virtual-service/<name>
		parts := strings.Split(cfg, "/")
		if len(parts) >= 2 {
			ns := ""
			for i, p := range parts {
				if p == "namespaces" && i+1 < len(parts) {
					ns = parts[i+1]
				}
			}
			return parts[len(parts)-1] + "." + ns
		}
	}
	if dr := r.GetDirectResponse(); dr != nil && dr.GetStatus() == 404 {
		return "404"
	}
	return ""
}

// Clusters.

// clusterName splits Istio's "<direction>|<port>|<subset>|<fqdn>".
func clusterName(name string) (fqdn, port, subset, direction string) {
	parts := strings.Split(name, "|")
	if len(parts) != 4 {
		return name, "-", "-", "-"
	}
	direction, port, subset, fqdn = parts[0], parts[1], parts[2], parts[3]
	if subset == "" {
		subset = "-"
	}
	return fqdn, port, subset, direction
}

func filterClusters(cs []*clusterv3.Cluster, po *proxyConfigOptions) []*clusterv3.Cluster {
	var out []*clusterv3.Cluster
	for _, c := range cs {
		fqdn, port, subset, dir := clusterName(c.GetName())
		switch {
		case po.fqdn != "" && fqdn != po.fqdn:
		case po.port != 0 && port != strconv.Itoa(po.port):
		case po.subset != "" && subset != po.subset:
		case po.direction != "" && dir != po.direction:
		default:
			out = append(out, c)
		}
	}
	return out
}

// clusterTable is istioctl's cluster summary.
func clusterTable(cs []*clusterv3.Cluster) [][]string {
	rows := [][]string{{"SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE", "DESTINATION RULE"}}
	type row struct {
		cells []string
		key   string
	}
	var out []row
	for _, c := range cs {
		fqdn, port, subset, dir := clusterName(c.GetName())
		typ := c.GetType().String()
		if ct := c.GetClusterType(); ct != nil {
			typ = ct.GetName()
		}
		out = append(out, row{cells: []string{fqdn, port, subset, dir, typ, describeClusterDR(c)}, key: fqdn + "|" + fmt.Sprintf("%6s", port) + "|" + subset + "|" + dir})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].key < out[j].key })
	for _, r := range out {
		rows = append(rows, r.cells)
	}
	return rows
}

// describeClusterDR names the DestinationRule behind a cluster from
// Istio's metadata, when present.
func describeClusterDR(c *clusterv3.Cluster) string {
	cfg := c.GetMetadata().GetFilterMetadata()["istio"].GetFields()["config"].GetStringValue()
	if cfg == "" {
		return ""
	}
	parts := strings.Split(cfg, "/")
	ns := ""
	for i, p := range parts {
		if p == "namespaces" && i+1 < len(parts) {
			ns = parts[i+1]
		}
	}
	return parts[len(parts)-1] + "." + ns
}

// Endpoints.

// proxyEndpoint is one host of one cluster, from the admin's /clusters.
type proxyEndpoint struct {
	Endpoint     string `json:"endpoint"`
	Status       string `json:"status"`       // HEALTHY or UNHEALTHY
	OutlierCheck string `json:"outlierCheck"` // OK or FAILED
	Cluster      string `json:"cluster"`
	Weight       int    `json:"weight,omitempty"`
	RqTotal      int    `json:"rqTotal"`
	RqError      int    `json:"rqError"`
	CxActive     int    `json:"cxActive"`
}

// parseAdminClusters reads Envoy's /clusters text
// (cluster::host::stat::value), keeping per-host lines.
func parseAdminClusters(text string) []proxyEndpoint {
	byKey := map[string]*proxyEndpoint{}
	var order []string
	for _, line := range strings.Split(text, "\n") {
		parts := strings.Split(strings.TrimSpace(line), "::")
		if len(parts) != 4 || parts[1] == "default_priority" || parts[1] == "outlier" || !strings.Contains(parts[1], ":") {
			continue
		}
		key := parts[0] + "::" + parts[1]
		ep, ok := byKey[key]
		if !ok {
			ep = &proxyEndpoint{Endpoint: parts[1], Cluster: parts[0], Status: "HEALTHY", OutlierCheck: "OK"}
			byKey[key] = ep
			order = append(order, key)
		}
		n, _ := strconv.Atoi(parts[3])
		switch parts[2] {
		case "health_flags":
			for _, f := range strings.Split(parts[3], "/") {
				switch f {
				case "failed_outlier_check":
					ep.OutlierCheck = "FAILED"
				case "failed_eds_health", "failed_active_hc", "pending_dynamic_removal":
					ep.Status = "UNHEALTHY"
				}
			}
		case "weight":
			ep.Weight = n
		case "rq_total":
			ep.RqTotal = n
		case "rq_error":
			ep.RqError = n
		case "cx_active":
			ep.CxActive = n
		}
	}
	out := make([]proxyEndpoint, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Endpoint != out[j].Endpoint {
			return out[i].Endpoint < out[j].Endpoint
		}
		return out[i].Cluster < out[j].Cluster
	})
	return out
}

func filterEndpoints(eps []proxyEndpoint, po *proxyConfigOptions) []proxyEndpoint {
	out := []proxyEndpoint{}
	for _, e := range eps {
		host, port, _ := strings.Cut(e.Endpoint, ":")
		if i := strings.LastIndex(e.Endpoint, ":"); i >= 0 {
			host, port = e.Endpoint[:i], e.Endpoint[i+1:]
		}
		switch {
		case po.cluster != "" && e.Cluster != po.cluster:
		case po.address != "" && host != po.address:
		case po.port != 0 && port != strconv.Itoa(po.port):
		case po.status != "" && !strings.EqualFold(e.Status, po.status):
		default:
			out = append(out, e)
		}
	}
	return out
}

// endpointTable is istioctl's endpoint summary.
func endpointTable(eps []proxyEndpoint) [][]string {
	rows := [][]string{{"ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"}}
	for _, e := range eps {
		rows = append(rows, []string{e.Endpoint, e.Status, e.OutlierCheck, e.Cluster})
	}
	return rows
}
