package cli

import (
	"bytes"
	"strings"
	"testing"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/weft-mesh/weft/cli/printers"
	"github.com/weft-mesh/weft/controlplane/xds"
)

func mustAny(t *testing.T, m proto.Message) *anypb.Any {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func addr(ip string, port uint32) *corev3.Address {
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{Address: ip, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: port}}}}
}

func tcpChain(t *testing.T, cluster string) *listenerv3.FilterChain {
	return &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.tcp_proxy",
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, &tcpv3.TcpProxy{StatPrefix: cluster, ClusterSpecifier: &tcpv3.TcpProxy_Cluster{Cluster: cluster}})}}}}
}

func hcmChain(t *testing.T, h *hcmv3.HttpConnectionManager) *listenerv3.FilterChain {
	return &listenerv3.FilterChain{Filters: []*listenerv3.Filter{{Name: "envoy.filters.network.http_connection_manager",
		ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: mustAny(t, h)}}}}
}

// testConfigDump is a host-mode sidecar's config dump, as the admin API
// writes it.
func testConfigDump(t *testing.T) []byte {
	t.Helper()
	inbound := hcmChain(t, &hcmv3.HttpConnectionManager{StatPrefix: "inbound_0.0.0.0_9080", RouteSpecifier: &hcmv3.HttpConnectionManager_RouteConfig{
		RouteConfig: &routev3.RouteConfiguration{Name: "inbound|9080||", VirtualHosts: []*routev3.VirtualHost{{Name: "inbound|http|9080", Domains: []string{"*"},
			Routes: []*routev3.Route{{Name: "default", Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}}}}}}}})
	inbound.FilterChainMatch = &listenerv3.FilterChainMatch{DestinationPort: wrapperspb.UInt32(9080)}
	listeners := []*listenerv3.Listener{
		{Name: "127.20.0.3_15001", Address: addr("127.20.0.3", 15001), FilterChains: []*listenerv3.FilterChain{hcmChain(t, &hcmv3.HttpConnectionManager{StatPrefix: "outbound_http_proxy",
			RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{RouteConfigName: "http_proxy"}}})}},
		{Name: "10.96.0.7_3306", Address: addr("10.96.0.7", 3306), FilterChains: []*listenerv3.FilterChain{tcpChain(t, "outbound|3306||db.default.svc.cluster.local")}},
		{Name: "virtualInbound", Address: addr("0.0.0.0", 15006), FilterChains: []*listenerv3.FilterChain{inbound, tcpChain(t, "InboundPassthroughCluster")}},
	}
	routes := []*routev3.RouteConfiguration{{Name: "http_proxy", VirtualHosts: []*routev3.VirtualHost{{
		Name:    "flaskapp.default.svc.cluster.local:80",
		Domains: []string{"flaskapp.default.svc.cluster.local:80", "flaskapp", "flaskapp:80", "flaskapp.default", "10.96.0.5"},
		Routes: []*routev3.Route{
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Path{Path: "/env/version"}, Headers: []*routev3.HeaderMatcher{{Name: "lab"}}}},
			{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}},
		},
	}}}}
	eds := &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}
	clusters := []*clusterv3.Cluster{
		{Name: "outbound|80|v1|flaskapp.default.svc.cluster.local", ClusterDiscoveryType: eds},
		{Name: "outbound|80||flaskapp.default.svc.cluster.local", ClusterDiscoveryType: eds},
		{Name: "BlackHoleCluster", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}},
		{Name: "inbound|9080||", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC}},
		{Name: "PassthroughCluster", ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_ORIGINAL_DST}},
	}
	ld := &adminv3.ListenersConfigDump{VersionInfo: "7"}
	for _, l := range listeners {
		ld.DynamicListeners = append(ld.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{Name: l.Name,
			ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{VersionInfo: "7", Listener: mustAny(t, l)}})
	}
	rd := &adminv3.RoutesConfigDump{}
	for _, r := range routes {
		rd.DynamicRouteConfigs = append(rd.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{VersionInfo: "7", RouteConfig: mustAny(t, r)})
	}
	cd := &adminv3.ClustersConfigDump{}
	for _, c := range clusters {
		cd.DynamicActiveClusters = append(cd.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{VersionInfo: "7", Cluster: mustAny(t, c)})
	}
	dump := &adminv3.ConfigDump{Configs: []*anypb.Any{mustAny(t, cd), mustAny(t, &adminv3.EndpointsConfigDump{}), mustAny(t, ld), mustAny(t, rd)}}
	b, err := protojson.MarshalOptions{Multiline: true}.Marshal(dump)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func table(t *testing.T, rows [][]string) string {
	t.Helper()
	var b bytes.Buffer
	if err := printers.PrintTable(&b, rows[0], rows[1:]); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func trimLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(strings.TrimSpace(l), " ")
	}
	return strings.Join(lines, "\n")
}

func TestProxyConfigTables(t *testing.T) {
	d, err := parseConfigDump(testConfigDump(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  [][]string
		want string
	}{
		{"listeners", listenerTable(d.Listeners), `
ADDRESSES    PORT    MATCH         DESTINATION
10.96.0.7    3306    ALL           Cluster: outbound|3306||db.default.svc.cluster.local
127.20.0.3   15001   ALL           Route: http_proxy
0.0.0.0      15006   Port: 9080    Inline Route: inbound|9080||
0.0.0.0      15006   ALL           InboundPassthroughCluster`},
		{"listeners --port 3306", listenerTable(filterListeners(d.Listeners, &proxyConfigOptions{port: 3306})), `
ADDRESSES   PORT   MATCH   DESTINATION
10.96.0.7   3306   ALL     Cluster: outbound|3306||db.default.svc.cluster.local`},
		{"routes", routeTable(append(d.Routes, inlineRoutes(d.Listeners)...)), `
NAME             VHOST NAME                              DOMAINS                   MATCH                     VIRTUAL SERVICE
http_proxy       flaskapp.default.svc.cluster.local:80   flaskapp + 4 more...      /env/version header lab
http_proxy       flaskapp.default.svc.cluster.local:80   flaskapp + 4 more...      /*
inbound|9080||   inbound|http|9080                       *                         /*`},
		{"clusters", clusterTable(d.Clusters), `
SERVICE FQDN                         PORT   SUBSET   DIRECTION   TYPE           DESTINATION RULE
BlackHoleCluster                     -      -        -           STATIC
PassthroughCluster                   -      -        -           ORIGINAL_DST
flaskapp.default.svc.cluster.local   80     -        outbound    EDS
flaskapp.default.svc.cluster.local   80     v1       outbound    EDS
                                     9080   -        inbound     STATIC`},
		{"clusters --subset v1", clusterTable(filterClusters(d.Clusters, &proxyConfigOptions{subset: "v1"})), `
SERVICE FQDN                         PORT   SUBSET   DIRECTION   TYPE   DESTINATION RULE
flaskapp.default.svc.cluster.local   80     v1       outbound    EDS`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := trimLines(table(t, tt.got)), trimLines(tt.want); normalize(got) != normalize(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// normalize collapses runs of spaces, so the expectations above need not
// match tabwriter's padding to the column.
func normalize(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		out = append(out, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(out, "\n")
}

func TestProxyConfigEndpoints(t *testing.T) {
	text := `outbound|80||flaskapp.default.svc.cluster.local::default_priority::max_connections::4294967295
outbound|80||flaskapp.default.svc.cluster.local::outlier::consecutive_5xx::5
outbound|80||flaskapp.default.svc.cluster.local::127.20.0.4:80::cx_active::1
outbound|80||flaskapp.default.svc.cluster.local::127.20.0.4:80::rq_total::12
outbound|80||flaskapp.default.svc.cluster.local::127.20.0.4:80::health_flags::healthy
outbound|80||flaskapp.default.svc.cluster.local::127.20.0.4:80::weight::1
outbound|80||flaskapp.default.svc.cluster.local::127.20.0.5:80::health_flags::/failed_outlier_check
outbound|8000||httpbin.default.svc.cluster.local::127.20.0.9:80::health_flags::/failed_eds_health
`
	eps := parseAdminClusters(text)
	want := `
ENDPOINT         STATUS      OUTLIER CHECK   CLUSTER
127.20.0.4:80    HEALTHY     OK              outbound|80||flaskapp.default.svc.cluster.local
127.20.0.5:80    HEALTHY     FAILED          outbound|80||flaskapp.default.svc.cluster.local
127.20.0.9:80    UNHEALTHY   OK              outbound|8000||httpbin.default.svc.cluster.local`
	if got := trimLines(table(t, endpointTable(eps))); normalize(got) != normalize(trimLines(want)) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if eps[0].RqTotal != 12 || eps[0].CxActive != 1 || eps[0].Weight != 1 {
		t.Errorf("counters: %+v", eps[0])
	}
	if got := filterEndpoints(eps, &proxyConfigOptions{status: "unhealthy"}); len(got) != 1 || got[0].Endpoint != "127.20.0.9:80" {
		t.Errorf("--status unhealthy: %+v", got)
	}
	if got := filterEndpoints(eps, &proxyConfigOptions{cluster: "outbound|80||flaskapp.default.svc.cluster.local", address: "127.20.0.5"}); len(got) != 1 {
		t.Errorf("--cluster --address: %+v", got)
	}
}

func TestProxyPodArg(t *testing.T) {
	o := &options{namespace: "ns1"}
	for arg, want := range map[string][2]string{
		"sleep-abc":         {"sleep-abc", "ns1"},
		"sleep-abc.default": {"sleep-abc", "default"},
		"pod/sleep.other":   {"sleep", "other"},
	} {
		if pod, ns := o.proxyPod(arg); pod != want[0] || ns != want[1] {
			t.Errorf("%s: got %s %s, want %v", arg, pod, ns, want)
		}
	}
}

func TestApplyWaitProgress(t *testing.T) {
	status := func(id, name string, states ...string) xds.ProxyStatus {
		p := xds.ProxyStatus{ID: id, Name: name, Namespace: "default"}
		for i := range p.Types {
			p.Types[i] = xds.TypeStatus{Type: xds.TypeNames[i], State: states[2*i], Version: states[2*i+1]}
		}
		return p
	}
	synced := func(id, name, v string) xds.ProxyStatus {
		return status(id, name, "SYNCED", v, "SYNCED", v, "SYNCED", v, "SYNCED", v)
	}
	before := versionsOf([]xds.ProxyStatus{synced("a", "sleep", "1"), synced("b", "flaskapp", "1"), synced("c", "httpbin", "1")})

	// Nothing changed yet.
	if p := progressOf(before, []xds.ProxyStatus{synced("a", "sleep", "1"), synced("b", "flaskapp", "1"), synced("c", "httpbin", "1")}); p.Affected != 0 {
		t.Errorf("unchanged: %+v", p)
	}
	// a and a new proxy d changed; a is still STALE on LDS; the gateway
	// was never sent routes.
	now := []xds.ProxyStatus{
		status("a", "sleep", "SYNCED", "2", "SYNCED", "1", "STALE", "2", "SYNCED", "2"),
		synced("b", "flaskapp", "1"),
		status("d", "gw", "SYNCED", "2", "SYNCED", "2", "SYNCED", "2", "NOT SENT", ""),
	}
	p := progressOf(before, now)
	if p.Affected != 2 || p.Synced != 1 || len(p.Pending) != 1 || p.Pending[0] != "sleep.default (LDS STALE)" {
		t.Errorf("progress: %+v", p)
	}
	now[0] = status("a", "sleep", "SYNCED", "2", "SYNCED", "1", "NACK", "2", "SYNCED", "2")
	now[0].Types[2].Error, now[0].Types[2].NACKVersion = "bad listener", "2"
	if p := progressOf(before, now); len(p.NACKs) != 1 || !strings.Contains(p.NACKs[0], "sleep.default rejected LDS version 2: bad listener") {
		t.Errorf("NACK: %+v", p)
	}
}
