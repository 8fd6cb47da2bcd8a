// Package xds is Weft's pilot: it translates the mesh (Services, Endpoints,
// Pods, VirtualServices, DestinationRules) into each proxy's Envoy v3
// configuration and serves it over ADS with go-control-plane.
//
// Translation is a pure function, tested on golden files:
//
//	res, warnings := xds.Translate(mesh, proxy)
//
// The server keeps one snapshot per connected proxy and recomputes it when
// the caller pushes a new mesh:
//
//	srv := xds.NewServer(xds.Options{Debounce: 100 * time.Millisecond})
//	go srv.Serve(ctx, lis) // gRPC ADS, state of the world and delta
//	srv.Push(mesh)         // after every change, debounced
//	srv.Status()           // weftctl proxy-status
//
// # Contract with proxies
//
// This is what Weft emits; weft-proxy (sidecar/) accepts exactly this, and
// so do Envoy and grpc-go's xDS client. Names follow Istio, fields are
// Envoy's documented v3 fields; there are no Weft-private extensions.
//
// Proxies identify themselves with node id
// "<type>~<ip>~<pod>.<namespace>~<namespace>.svc.cluster.local" (type
// "sidecar", or "router" for the node gateway) and node metadata (Istio's
// keys): LABELS (a struct of the pod's labels), NAMESPACE, GENERATOR
// ("grpc" for proxyless gRPC), INTERCEPTION_MODE ("NONE" for host mode) and
// HTTP_PROXY_PORT (host mode, default 15001).
//
// Every flavour gets EDS clusters (type EDS, eds_cluster_config.eds_config
// {ads: {}, resource_api_version: V3}, service_name = the cluster name)
// named
//
//	outbound|<port>||<fqdn>          every port of every Service
//	outbound|<port>|<subset>|<fqdn>  every subset of its DestinationRule
//	BlackHoleCluster                 no endpoints: 503 (STATIC; EDS for gRPC)
//
// with a ClusterLoadAssignment of the same name: the ready endpoints
// (podIP:targetPort) of the port, filtered by the subset's labels, in one
// locality {} whose load_balancing_weight is the endpoint count; each
// lb_endpoint has health_status HEALTHY and load_balancing_weight 1. A
// cluster without endpoints has an assignment with no localities.
//
// Cluster fields from the DestinationRule (the subset's traffic policy over
// the top-level one, field by field; portLevelSettings for the port replace
// loadBalancer, connectionPool and outlierDetection as a whole):
//
//	connect_timeout               connectionPool.tcp.connectTimeout (default 10s)
//	lb_policy                     LEAST_REQUEST by default; simple ROUND_ROBIN,
//	                              LEAST_CONN/LEAST_REQUEST, RANDOM; consistentHash →
//	                              RING_HASH + ring_hash_lb_config.minimum_ring_size
//	                              (default 1024) or MAGLEV + maglev_lb_config.table_size;
//	                              PASSTHROUGH → type ORIGINAL_DST, lb CLUSTER_PROVIDED
//	circuit_breakers.thresholds[0] max_connections (tcp.maxConnections),
//	                              max_pending_requests (http.http1MaxPendingRequests),
//	                              max_requests (http.http2MaxRequests),
//	                              max_retries (http.maxRetries); unset = 4294967295
//	outlier_detection             consecutive_5xx + enforcing_consecutive_5xx 100
//	                              (consecutive5xxErrors), consecutive_gateway_failure +
//	                              enforcing_consecutive_gateway_failure 100
//	                              (consecutiveGatewayErrors, deprecated consecutiveErrors),
//	                              interval, base_ejection_time, max_ejection_percent,
//	                              enforcing_success_rate 0
//	common_lb_config.healthy_panic_threshold  outlierDetection.minHealthPercent
//	typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"]
//	                              explicit_http_config.http2_protocol_options for http2
//	                              and grpc ports; common_http_protocol_options
//	                              idle_timeout (http.idleTimeout) and
//	                              max_requests_per_connection
//
// Routes (route configurations below) are Istio's translation of the
// VirtualService for the host (the oldest VirtualService naming the host
// exactly wins; otherwise the most specific wildcard; gateways must be empty
// or include "mesh"). Each virtual host is named "<fqdn>:<port>", with
// domains: the FQDN, the short name (proxy in the same namespace only),
// name.ns.svc, name.ns and the ClusterIP, each bare and with ":<port>".
// One Envoy route per HTTP match (routes after a catch-all are dropped):
//
//	match         path (uri exact), prefix (uri prefix, default "/"),
//	              safe_regex (uri regex); case_sensitive false
//	              (ignoreUriCase); headers with string_match
//	              exact/prefix/safe_regex or present_match (empty match), names
//	              lower-cased; ":method", ":authority", ":scheme" for method,
//	              authority, scheme; withoutHeaders as invert_match;
//	              query_parameters. match.port and sourceLabels are decided at
//	              translation (a match that does not apply is left out).
//	route         cluster, or weighted_clusters (zero weights dropped; weights
//	              as written, not normalised) with per-cluster header ops;
//	              timeout (0s = none, Istio's default); retry_policy (below);
//	              max_stream_duration.grpc_timeout_header_max = timeout
//	              (max_stream_duration.max_stream_duration for gRPC clients);
//	              request_mirror_policies[{cluster, runtime_fraction.default_value
//	              {numerator: percent*10000, denominator: MILLION}, trace_sampled
//	              false}] for mirror/mirrorPercentage and mirrors (100% unless
//	              set); prefix_rewrite (rewrite.uri; regex_rewrite "^.*$" after
//	              a regex match), regex_rewrite (uriRegexRewrite),
//	              host_rewrite_literal (rewrite.authority or a set ":authority");
//	              hash_policy (header, cookie, connection_properties.source_ip,
//	              query_parameter) for consistentHash
//	redirect      path_redirect, prefix_rewrite, host_redirect, port_redirect,
//	              scheme_redirect, response_code (301 default)
//	direct_response  status, body.inline_string / inline_bytes
//	request_headers_to_add / _to_remove, response_headers_to_add / _to_remove
//	              (set → OVERWRITE_IF_EXISTS_OR_ADD, add → APPEND_IF_EXISTS_OR_ADD)
//	typed_per_filter_config["envoy.filters.http.fault"]
//	              envoy.extensions.filters.http.fault.v3.HTTPFault: delay.fixed_delay
//	              and abort.http_status / grpc_status, each with percentage
//	              {numerator: percent*10000, denominator: MILLION} (a delay
//	              without percentage: 0%; an abort without: 100/HUNDRED)
//
// retry_policy without VirtualService retries is Istio's default: retry_on
// "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes",
// num_retries 2, retriable_status_codes [503], retry_host_predicate
// "envoy.retry_host_predicates.previous_hosts" (PreviousHostsPredicate),
// host_selection_retry_max_attempts 5. retries.attempts 0 means no
// retry_policy; otherwise num_retries = attempts, retry_on = retryOn (numeric
// codes move to retriable_status_codes, adding "retriable-status-codes"),
// per_try_timeout, retry_back_off.base_interval (backoff);
// retryIgnorePreviousHosts false drops the predicate.
//
// A destination that cannot be resolved (not a service, no such port, a
// subset no DestinationRule defines) routes its share to BlackHoleCluster
// and is reported as a Warning: a route never names a cluster the proxy is
// not sent.
//
// # Sidecar with capture (netns mode)
//
//	listener virtualOutbound   0.0.0.0:15001, use_original_dst true, one filter
//	                           chain "virtualOutbound-catchall-tcp": tcp_proxy →
//	                           PassthroughCluster
//	listener 0.0.0.0_<port>    per HTTP port; bind_to_port false, OUTBOUND;
//	                           http_connection_manager (stat_prefix
//	                           "outbound_0.0.0.0_<port>") with rds
//	                           route_config_name "<port>" over ADS, http_filters
//	                           envoy.filters.http.fault (HTTPFault{}) then
//	                           envoy.filters.http.router (Router{})
//	listener <clusterIP>_<port>  per TCP port (0.0.0.0_<port> when headless);
//	                           bind_to_port false; tcp_proxy (stat_prefix the
//	                           cluster) to cluster or weighted_clusters (TCP routes)
//	listener virtualInbound    0.0.0.0:15006, INBOUND, listener_filters
//	                           envoy.filters.listener.original_dst; filter
//	                           chain "0.0.0.0_<targetPort>" per port the pod
//	                           serves (filter_chain_match.destination_port):
//	                           HCM with inline route_config "inbound|<port>||"
//	                           (virtual host "inbound|http|<port>", domains
//	                           ["*"], route "default" → inbound|<port>||) and
//	                           the router filter, or tcp_proxy for TCP; last a
//	                           catch-all chain "virtualInbound-catchall-tcp" →
//	                           InboundPassthroughCluster
//	route "<port>"             the virtual hosts of every HTTP service on the
//	                           port, then "allow_any" (domains ["*"]) →
//	                           PassthroughCluster; validate_clusters false
//	cluster inbound|<port>||   STATIC, 127.0.0.1:<port>, ROUND_ROBIN
//	cluster PassthroughCluster, InboundPassthroughCluster  ORIGINAL_DST,
//	                           CLUSTER_PROVIDED
//
// # Sidecar in host mode (INTERCEPTION_MODE NONE)
//
// No capture, no inbound (DESIGN.md "Pod networking"). The app reaches HTTP
// services through HTTP_PROXY=http://$POD_IP:15001 and TCP services at
// $POD_IP:<service port>:
//
//	listener <podIP>_<httpProxyPort>  bound on the pod IP; HCM (stat_prefix
//	                           "outbound_http_proxy", http_protocol_options
//	                           allow_absolute_url true) with rds "http_proxy",
//	                           filters fault then router
//	route http_proxy           one virtual host per HTTP service port; domains
//	                           with ":<port>" only, plus the bare names for port
//	                           80; no allow_any (unknown host: 404 NR)
//	listener <podIP>_<port>    bound, one per TCP service port: tcp_proxy as
//	                           above. Skipped (with a warning) when the pod serves
//	                           that port itself, it is a proxy port (15000, 15001,
//	                           15006, 15020, 15021, 15090 or the HTTP proxy port),
//	                           or another service took it (the proxy's namespace
//	                           first, then by FQDN)
//
// # Node gateway (node id "router~<nodeIP>~...")
//
//	listener <nodeIP>_<nodePort>  bound, INBOUND, one per port of every
//	                           NodePort/LoadBalancer service: tcp_proxy →
//	                           outbound|<port>||<fqdn> (L4, like kube-proxy;
//	                           mesh VirtualServices do not apply, as in Istio)
//	listener <nodeIP>_<port>   the same for each port of a LoadBalancer service
//	                           (its ingress IP is the node's)
//	listener <nodeIP>_<hostPort>  one per TCP hostPort of a pod on the node
//	                           (status.hostIP): tcp_proxy → STATIC cluster
//	                           hostport|<hostPort>||<pod>.<ns> = podIP:containerPort
//
// # Proxyless gRPC (GENERATOR "grpc")
//
// grpc-go resolves "xds:///<host>:<port>" by asking LDS for "<host>:<port>",
// so every service port gets API listeners named "<fqdn>:<port>",
// "<name>.<ns>.svc:<port>", "<name>.<ns>:<port>" and (same namespace)
// "<name>:<port>": api_listener = HttpConnectionManager with rds
// route_config_name "outbound|<port>||<fqdn>" (ADS) and http_filters fault,
// router. That route configuration has the one virtual host of the port.
// grpc-go accepts only ROUND_ROBIN, LEAST_REQUEST and RING_HASH: the
// default is ROUND_ROBIN, RANDOM becomes ROUND_ROBIN, MAGLEV becomes
// RING_HASH, PASSTHROUGH is not supported (warning).
//
// # Server
//
// Push debounces (Options.Debounce, default 100ms, at most MaxDebounce, 1s),
// then recomputes every connected proxy. Proxies with the same view share
// a translation, and netns-mode sidecars of one namespace share their
// outbound side (clusters, outbound listeners and routes; per label set
// only if some VirtualService matches sourceLabels), so a view costs its
// inbound side. When only endpoints changed since the last mesh (services,
// VirtualServices, DestinationRules and the proxy's view the same), every
// view keeps its listeners, routes and clusters and only the endpoint
// assignments of the changed service ports are rebuilt. A new mesh with
// the same services and DestinationRules reuses the previous one's clusters
// and virtual hosts (a virtual host is keyed by its VirtualService's
// content), so a route change rebuilds only what it touched. The mesh is
// indexed while the debounce runs.
//
// Each resource is marshaled once (memoized by identity: translated
// resources are immutable and shared; route configurations are assembled
// from their virtual hosts' encodings) and a view's resources of a type
// form one set, shared by the snapshots of its proxies. A gRPC codec
// (codec.go) sends a shared list of resources to every stream from the
// resources' own encodings (no copy per list or per stream), and the bytes of responses not yet answered are bounded
// (Options.MaxInflightBytes), so a push to many proxies goes out in turns. The server hashes each
// type's set and gives a new version (a counter seeded from the clock, so
// versions only go up) to the types that changed: an endpoint change pushes
// EDS only. Clusters the push removes are still sent (held), with their
// endpoints, until the proxy has ACKed the new listeners and routes (or the
// next push).
//
// The cache (cache.go) is Weft's own implementation of go-control-plane's
// cache interface, served by go-control-plane's ADS server in ordered mode.
// It answers state-of-the-world RDS and EDS requests with only the
// resources that changed since the set last sent on the stream (LDS and
// CDS always carry every resource; weft-proxy and Envoy keep RDS and EDS
// resources a response leaves out), delta streams with the changed and
// removed resources, and sends a proxy's listeners and routes only once the
// clusters and endpoints of the same snapshot have gone out
// (make-before-break). ACKs and NACKs are recorded per proxy and type
// (Status); a NACK is not answered with the rejected version again — the
// proxy keeps its last good config until the next change.
package xds
