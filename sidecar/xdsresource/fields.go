package xdsresource

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// allowAll marks a message whose fields are all accepted (metadata and the
// like, which carry no behaviour the proxy must honour).
var allowAll = map[string]bool{"*": true}

// allowed lists, per proto message, the fields weft-proxy honours. A populated
// field not listed here makes the resource invalid (NACK). google.protobuf.*
// messages (Duration, wrappers, Any, Struct) are leaves: Any payloads are
// decoded and checked by the unmarshal code that knows their type.
//
// This table is the contract with the control plane; keep it in step with
// the unmarshal_*.go files and docs (the package test checks every name).
var allowed = map[protoreflect.FullName]map[string]bool{
	// --- LDS
	"envoy.config.listener.v3.Listener": set("name", "address", "filter_chains", "default_filter_chain",
		"use_original_dst", "bind_to_port", "traffic_direction", "listener_filters",
		"listener_filters_timeout", "continue_on_listener_filters_timeout", "metadata",
		"per_connection_buffer_limit_bytes", "stat_prefix"),
	"envoy.config.core.v3.Address":            set("socket_address"),
	"envoy.config.core.v3.SocketAddress":      set("address", "port_value", "protocol", "ipv4_compat"),
	"envoy.config.listener.v3.ListenerFilter": set("name", "typed_config"),
	"envoy.config.listener.v3.FilterChain":    set("name", "filter_chain_match", "filters", "metadata"),
	"envoy.config.listener.v3.FilterChainMatch": set("destination_port", "prefix_ranges",
		"transport_protocol", "application_protocols"),
	"envoy.config.core.v3.CidrRange":              set("address_prefix", "prefix_len"),
	"envoy.config.listener.v3.Filter":             set("name", "typed_config"),
	"envoy.config.core.v3.Metadata":               allowAll,
	"envoy.config.core.v3.ConfigSource":           set("ads", "resource_api_version", "initial_fetch_timeout"),
	"envoy.config.core.v3.AggregatedConfigSource": set(),
	"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager": set(
		"codec_type", "stat_prefix", "rds", "route_config", "http_filters", "stream_idle_timeout",
		"request_timeout", "common_http_protocol_options", "http_protocol_options",
		"http2_protocol_options", "upgrade_configs", "generate_request_id",
		"preserve_external_request_id", "use_remote_address", "xff_num_trusted_hops",
		"forward_client_cert_details", "set_current_client_cert_details", "normalize_path",
		"merge_slashes", "path_with_escaped_slashes_action", "server_name",
		"server_header_transformation", "max_request_headers_kb", "drain_timeout",
		"delayed_close_timeout", "request_headers_timeout"),
	"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.SetCurrentClientCertDetails": allowAll,
	"envoy.extensions.filters.network.http_connection_manager.v3.Rds":                                               set("config_source", "route_config_name"),
	"envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter":                                        set("name", "typed_config", "is_optional"),
	"envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.UpgradeConfig":               set("upgrade_type", "enabled"),
	"envoy.config.core.v3.HttpProtocolOptions": set("idle_timeout", "max_connection_duration",
		"max_headers_count", "max_stream_duration", "max_requests_per_connection"),
	"envoy.config.core.v3.Http1ProtocolOptions": set(),
	"envoy.config.core.v3.Http2ProtocolOptions": set("max_concurrent_streams"),
	"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy": set("stat_prefix", "cluster",
		"weighted_clusters", "idle_timeout", "max_connect_attempts"),
	"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster":               set("clusters"),
	"envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight": set("name", "weight"),
	"envoy.extensions.filters.http.router.v3.Router":                                       set("suppress_envoy_headers", "start_child_span"),
	"envoy.extensions.filters.http.fault.v3.HTTPFault":                                     set("delay", "abort"),
	"envoy.extensions.filters.common.fault.v3.FaultDelay":                                  set("fixed_delay", "percentage"),
	"envoy.extensions.filters.http.fault.v3.FaultAbort":                                    set("http_status", "grpc_status", "percentage"),
	"envoy.extensions.filters.listener.original_dst.v3.OriginalDst":                        set(),
	"envoy.extensions.filters.listener.http_inspector.v3.HttpInspector":                    set(),
	"envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector":                      set(),

	// --- RDS
	"envoy.config.route.v3.RouteConfiguration": set("name", "virtual_hosts", "validate_clusters",
		"request_headers_to_add", "request_headers_to_remove", "response_headers_to_add",
		"response_headers_to_remove", "ignore_port_in_host_matching", "max_direct_response_body_size_bytes"),
	"envoy.config.route.v3.VirtualHost": set("name", "domains", "routes", "request_headers_to_add",
		"request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove",
		"retry_policy", "include_request_attempt_count", "include_attempt_count_in_response",
		"typed_per_filter_config"),
	"envoy.config.route.v3.Route": set("name", "match", "route", "redirect", "direct_response",
		"decorator", "metadata", "request_headers_to_add", "request_headers_to_remove",
		"response_headers_to_add", "response_headers_to_remove", "typed_per_filter_config"),
	"envoy.config.route.v3.Decorator": set("operation", "propagate"),
	"envoy.config.route.v3.RouteMatch": set("prefix", "path", "safe_regex", "path_separated_prefix",
		"case_sensitive", "headers", "query_parameters"),
	"envoy.type.matcher.v3.RegexMatcher":           set("regex", "google_re2"),
	"envoy.type.matcher.v3.RegexMatcher.GoogleRE2": set("max_program_size"),
	"envoy.config.route.v3.HeaderMatcher": set("name", "exact_match", "safe_regex_match", "prefix_match",
		"suffix_match", "contains_match", "present_match", "string_match", "invert_match",
		"treat_missing_header_as_empty"),
	"envoy.type.matcher.v3.StringMatcher":         set("exact", "prefix", "suffix", "safe_regex", "contains", "ignore_case"),
	"envoy.config.route.v3.QueryParameterMatcher": set("name", "string_match", "present_match"),
	"envoy.config.route.v3.RouteAction": set("cluster", "weighted_clusters", "cluster_not_found_response_code",
		"prefix_rewrite", "regex_rewrite", "host_rewrite_literal", "auto_host_rewrite", "timeout",
		"idle_timeout", "retry_policy", "request_mirror_policies", "hash_policy", "max_stream_duration",
		"max_grpc_timeout", "upgrade_configs"),
	"envoy.config.route.v3.RouteAction.MaxStreamDuration": set("max_stream_duration", "grpc_timeout_header_max"),
	"envoy.type.matcher.v3.RegexMatchAndSubstitute":       set("pattern", "substitution"),
	"envoy.config.route.v3.WeightedCluster":               set("clusters", "total_weight"),
	"envoy.config.route.v3.WeightedCluster.ClusterWeight": set("name", "weight", "request_headers_to_add",
		"request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove",
		"host_rewrite_literal"),
	"envoy.config.route.v3.RetryPolicy": set("retry_on", "num_retries", "per_try_timeout", "retry_host_predicate",
		"host_selection_retry_max_attempts", "retriable_status_codes", "retry_back_off"),
	"envoy.config.route.v3.RetryPolicy.RetryBackOff":                       set("base_interval", "max_interval"),
	"envoy.config.route.v3.RetryPolicy.RetryHostPredicate":                 set("name", "typed_config"),
	"envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate": set(),
	"envoy.config.route.v3.RouteAction.RequestMirrorPolicy":                set("cluster", "runtime_fraction", "trace_sampled"),
	"envoy.config.core.v3.RuntimeFractionalPercent":                        set("default_value", "runtime_key"),
	"envoy.type.v3.FractionalPercent":                                      set("numerator", "denominator"),
	"envoy.config.route.v3.RouteAction.HashPolicy": set("header", "cookie", "connection_properties",
		"query_parameter", "terminal"),
	"envoy.config.route.v3.RouteAction.HashPolicy.Header":               set("header_name"),
	"envoy.config.route.v3.RouteAction.HashPolicy.Cookie":               set("name", "ttl", "path"),
	"envoy.config.route.v3.RouteAction.HashPolicy.ConnectionProperties": set("source_ip"),
	"envoy.config.route.v3.RouteAction.HashPolicy.QueryParameter":       set("name"),
	"envoy.config.route.v3.RouteAction.UpgradeConfig":                   set("upgrade_type", "enabled"),
	"envoy.config.route.v3.RedirectAction": set("https_redirect", "scheme_redirect", "host_redirect",
		"port_redirect", "path_redirect", "prefix_rewrite", "regex_rewrite", "response_code", "strip_query"),
	"envoy.config.route.v3.DirectResponseAction": set("status", "body"),
	"envoy.config.core.v3.DataSource":            set("inline_string", "inline_bytes"),
	"envoy.config.core.v3.HeaderValueOption":     set("header", "append", "append_action", "keep_empty_value"),
	"envoy.config.core.v3.HeaderValue":           set("key", "value", "raw_value"),

	// --- CDS
	"envoy.config.cluster.v3.Cluster": set("name", "alt_stat_name", "type", "eds_cluster_config",
		"connect_timeout", "per_connection_buffer_limit_bytes", "lb_policy", "load_assignment",
		"circuit_breakers", "outlier_detection", "common_lb_config", "ring_hash_lb_config",
		"maglev_lb_config", "least_request_lb_config", "original_dst_lb_config",
		"typed_extension_protocol_options", "http2_protocol_options", "http_protocol_options",
		"common_http_protocol_options", "max_requests_per_connection", "dns_lookup_family",
		"dns_refresh_rate", "respect_dns_ttl", "cleanup_interval", "upstream_bind_config", "metadata"),
	"envoy.config.cluster.v3.Cluster.EdsClusterConfig": set("eds_config", "service_name"),
	"envoy.config.cluster.v3.CircuitBreakers":          set("thresholds"),
	"envoy.config.cluster.v3.CircuitBreakers.Thresholds": set("priority", "max_connections",
		"max_pending_requests", "max_requests", "max_retries", "track_remaining", "retry_budget"),
	"envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget": set("budget_percent", "min_retry_concurrency"),
	"envoy.type.v3.Percent": set("value"),
	"envoy.config.cluster.v3.OutlierDetection": set("consecutive_5xx", "interval", "base_ejection_time",
		"max_ejection_percent", "enforcing_consecutive_5xx", "enforcing_success_rate",
		"consecutive_gateway_failure", "enforcing_consecutive_gateway_failure", "max_ejection_time",
		"split_external_local_origin_errors"),
	"envoy.config.cluster.v3.Cluster.CommonLbConfig":                          set("healthy_panic_threshold", "locality_weighted_lb_config"),
	"envoy.config.cluster.v3.Cluster.CommonLbConfig.LocalityWeightedLbConfig": set(),
	"envoy.config.cluster.v3.Cluster.RingHashLbConfig":                        set("minimum_ring_size", "maximum_ring_size", "hash_function"),
	"envoy.config.cluster.v3.Cluster.MaglevLbConfig":                          set("table_size"),
	"envoy.config.cluster.v3.Cluster.LeastRequestLbConfig":                    set("choice_count"),
	"envoy.config.cluster.v3.Cluster.OriginalDstLbConfig":                     set("use_http_header", "http_header_name"),
	"envoy.config.core.v3.BindConfig":                                         set("source_address"),
	"envoy.extensions.upstreams.http.v3.HttpProtocolOptions": set("common_http_protocol_options",
		"explicit_http_config", "use_downstream_protocol_config", "auto_config"),
	"envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig":      set("http_protocol_options", "http2_protocol_options"),
	"envoy.extensions.upstreams.http.v3.HttpProtocolOptions.UseDownstreamHttpConfig": set("http_protocol_options", "http2_protocol_options"),
	"envoy.extensions.upstreams.http.v3.HttpProtocolOptions.AutoHttpConfig":          set("http_protocol_options", "http2_protocol_options"),

	// --- EDS
	"envoy.config.endpoint.v3.ClusterLoadAssignment":        set("cluster_name", "endpoints", "policy"),
	"envoy.config.endpoint.v3.ClusterLoadAssignment.Policy": set("overprovisioning_factor"),
	"envoy.config.endpoint.v3.LocalityLbEndpoints":          set("locality", "lb_endpoints", "load_balancing_weight", "priority"),
	"envoy.config.core.v3.Locality":                         set("region", "zone", "sub_zone"),
	"envoy.config.endpoint.v3.LbEndpoint":                   set("endpoint", "health_status", "metadata", "load_balancing_weight"),
	"envoy.config.endpoint.v3.Endpoint":                     set("address", "hostname"),
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// UnsupportedFieldError reports a populated proto field the proxy does not
// honour. Path is the field path from the resource root, for example
// `virtual_hosts[0].routes[2].route.cors`.
type UnsupportedFieldError struct {
	Path string
	// Type is the full name of the message holding the field.
	Type string
}

func (e *UnsupportedFieldError) Error() string {
	return fmt.Sprintf("unsupported field %s (%s)", e.Path, e.Type)
}

// checkFields walks every populated field of m and fails on the first one
// (in field-number order, so the message is deterministic) that is not in
// the allowlist. Unknown fields (from a newer Envoy API) are rejected too.
func checkFields(m protoreflect.Message, path string) error {
	desc := m.Descriptor()
	name := desc.FullName()
	if strings.HasPrefix(string(name), "google.protobuf.") {
		return nil
	}
	rules, ok := allowed[name]
	if !ok {
		return &UnsupportedFieldError{Path: path, Type: string(name)}
	}
	if len(m.GetUnknown()) > 0 {
		return &UnsupportedFieldError{Path: join(path, "<unknown field>"), Type: string(name)}
	}
	if rules["*"] {
		return nil
	}
	fields := desc.Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !m.Has(fd) {
			continue
		}
		fp := join(path, string(fd.Name()))
		if !rules[string(fd.Name())] {
			return &UnsupportedFieldError{Path: fp, Type: string(name)}
		}
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsList():
			l := v.List()
			for j := 0; j < l.Len(); j++ {
				if err := checkFields(l.Get(j).Message(), fmt.Sprintf("%s[%d]", fp, j)); err != nil {
					return err
				}
			}
		case fd.IsMap():
			if fd.MapValue().Kind() != protoreflect.MessageKind {
				continue
			}
			var err error
			keys := make([]string, 0, v.Map().Len())
			v.Map().Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, k.String())
				return true
			})
			sort.Strings(keys)
			for _, k := range keys {
				mv := v.Map().Get(protoreflect.ValueOfString(k).MapKey())
				if err = checkFields(mv.Message(), fmt.Sprintf("%s[%q]", fp, k)); err != nil {
					return err
				}
			}
		default:
			if err := checkFields(v.Message(), fp); err != nil {
				return err
			}
		}
	}
	return nil
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// AcceptedFields returns the allowlist as "message: field, field" lines,
// sorted, for documentation and the admin page.
func AcceptedFields() []string {
	out := make([]string, 0, len(allowed))
	for msg, fields := range allowed {
		names := make([]string, 0, len(fields))
		for f := range fields {
			names = append(names, f)
		}
		sort.Strings(names)
		out = append(out, string(msg)+": "+strings.Join(names, ", "))
	}
	sort.Strings(out)
	return out
}
