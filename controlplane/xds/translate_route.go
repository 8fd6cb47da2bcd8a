package xds

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	commonfaultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/fault/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	previoushostsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	networking "istio.io/api/networking/v1alpha3"
)

// Istio's default retry policy, used when a route sets no retries.
const (
	DefaultRetryOn       = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
	DefaultRetryAttempts = 2
	previousHostsName    = "envoy.retry_host_predicates.previous_hosts"
)

// virtualHost builds the virtual host of one service port: name
// "<fqdn>:<port>", Istio's domains (bare ones too when bare), and the
// routes of the VirtualService for the host (or the default route).
// Virtual hosts are shared by every proxy with the same view of them.
func (t *translator) virtualHost(s *service, sp *servicePort, bare bool) *routev3.VirtualHost {
	v := t.idx.vs[s.fqdn]
	k := fmt.Sprintf("%s|%d|%s|%t|%t", s.fqdn, sp.port, t.p.Namespace, bare, t.grpc)
	if v != nil {
		k += "|" + v.fp
		if usesSourceLabels(v) {
			k += "|" + labelsKey(t.p.Labels)
		}
	}
	t.idx.mu.Lock()
	cached, ok := t.idx.vhosts[k]
	if !ok {
		if cached, ok = t.idx.prevVHosts[k]; ok {
			t.idx.vhosts[k] = cached
		}
	}
	t.idx.mu.Unlock()
	if ok {
		complete := true
		for _, c := range cached.clusters {
			if _, have := t.clusters[c]; !have {
				complete = false
			}
		}
		if complete {
			for _, w := range cached.warnings {
				t.addWarning(w)
			}
			return cached.vh
		}
	}
	before := len(t.warnings)
	vh := &routev3.VirtualHost{
		Name:    hostPort(s.fqdn, sp.port),
		Domains: t.domains(s, sp.port, bare),
		Routes:  t.httpRoutes(s, sp),
	}
	t.idx.mu.Lock()
	t.idx.vhosts[k] = cachedVHost{vh: vh, clusters: routeClusters(vh), warnings: slices.Clone(t.warnings[before:])}
	t.idx.mu.Unlock()
	return vh
}

func usesSourceLabels(v *virtualService) bool {
	for _, r := range v.spec.GetHttp() {
		for _, m := range r.GetMatch() {
			if len(m.GetSourceLabels()) > 0 {
				return true
			}
		}
	}
	return false
}

// routeClusters lists the clusters a virtual host's routes name.
func routeClusters(vh *routev3.VirtualHost) []string {
	var out []string
	for _, r := range vh.GetRoutes() {
		a := r.GetRoute()
		if c := a.GetCluster(); c != "" {
			out = append(out, c)
		}
		for _, w := range a.GetWeightedClusters().GetClusters() {
			out = append(out, w.GetName())
		}
		for _, m := range a.GetRequestMirrorPolicies() {
			out = append(out, m.GetCluster())
		}
	}
	return out
}

// domains lists Istio's virtual-host domains for a service port as seen
// from the proxy's namespace: the FQDN, the short name (same namespace
// only), name.ns.svc, name.ns and the ClusterIP, each bare (when bare) and
// with ":<port>".
func (t *translator) domains(s *service, port uint32, bare bool) []string {
	hosts := []string{s.fqdn}
	if s.ns == t.p.Namespace {
		hosts = append(hosts, s.name)
	}
	hosts = append(hosts, s.name+"."+s.ns+".svc", s.name+"."+s.ns)
	if s.clusterIP != "" {
		hosts = append(hosts, s.clusterIP)
	}
	out := make([]string, 0, 2*len(hosts))
	for _, h := range hosts {
		if bare {
			out = append(out, h)
		}
		out = append(out, hostPort(h, port))
	}
	return out
}

// httpRoutes translates the HTTP routes of the VirtualService for s on
// port sp; without one (or when none of its routes applies to this port and
// proxy) the default route to the service.
func (t *translator) httpRoutes(s *service, sp *servicePort) []*routev3.Route {
	if v := t.idx.vs[s.fqdn]; v != nil {
		var out []*routev3.Route
		for i, r := range v.spec.GetHttp() {
			routes, catchAll := t.httpRoute(v, i, r, s, sp.port)
			out = append(out, routes...)
			if catchAll {
				break
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	cluster := t.outboundCluster(s, sp, "")
	return []*routev3.Route{{
		Name:  "default",
		Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
		Action: &routev3.Route_Route{Route: &routev3.RouteAction{
			ClusterSpecifier:  &routev3.RouteAction_Cluster{Cluster: cluster},
			Timeout:           durationpb.New(0),
			RetryPolicy:       t.retryPolicy(nil),
			MaxStreamDuration: t.maxStreamDuration(0),
			HashPolicy:        t.hashPolicy(s, sp.port, ""),
		}},
	}}
}

// httpRoute translates one HTTP route: one Envoy route per match that
// applies to this port and proxy. catchAll is set when a translated match
// matches every request, so later routes are unreachable (Istio stops).
func (t *translator) httpRoute(v *virtualService, i int, r *networking.HTTPRoute, s *service, port uint32) (out []*routev3.Route, catchAll bool) {
	matches := r.GetMatch()
	if len(matches) == 0 {
		matches = []*networking.HTTPMatchRequest{nil}
	}
	for _, m := range matches {
		if m != nil {
			if m.GetPort() != 0 && m.GetPort() != port {
				continue
			}
			if !labelsMatch(m.GetSourceLabels(), t.p.Labels) {
				continue
			}
		}
		route := &routev3.Route{Name: routeName(r.GetName(), m.GetName()), Match: t.routeMatch(m)}
		t.routeAction(v, i, r, s, port, route)
		out = append(out, route)
		if isCatchAll(m) {
			return out, true
		}
	}
	return out, false
}

func routeName(route, match string) string {
	switch {
	case match == "":
		return route
	case route == "":
		return match
	}
	return route + "." + match
}

// isCatchAll reports whether a match matches every request.
func isCatchAll(m *networking.HTTPMatchRequest) bool {
	if m == nil {
		return true
	}
	if u := m.GetUri(); u != nil && !(u.GetPrefix() == "/" && u.GetExact() == "" && u.GetRegex() == "") {
		return false
	}
	return len(m.GetHeaders()) == 0 && len(m.GetQueryParams()) == 0 && len(m.GetWithoutHeaders()) == 0 &&
		m.GetMethod() == nil && m.GetAuthority() == nil && m.GetScheme() == nil
}

// routeMatch translates an Istio match: uri → path/prefix/safe_regex,
// ignoreUriCase → case_sensitive false, headers (and method, authority,
// scheme as ":method", ":authority", ":scheme"), withoutHeaders as
// inverted header matchers, queryParams.
func (t *translator) routeMatch(m *networking.HTTPMatchRequest) *routev3.RouteMatch {
	out := &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}}
	if m == nil {
		return out
	}
	if u := m.GetUri(); u != nil {
		switch mt := u.GetMatchType().(type) {
		case *networking.StringMatch_Exact:
			out.PathSpecifier = &routev3.RouteMatch_Path{Path: mt.Exact}
		case *networking.StringMatch_Prefix:
			out.PathSpecifier = &routev3.RouteMatch_Prefix{Prefix: mt.Prefix}
		case *networking.StringMatch_Regex:
			out.PathSpecifier = &routev3.RouteMatch_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: mt.Regex}}
		}
	}
	if m.GetIgnoreUriCase() {
		out.CaseSensitive = wrapperspb.Bool(false)
	}
	for _, name := range slices.Sorted(maps.Keys(m.GetHeaders())) {
		out.Headers = append(out.Headers, headerMatcher(name, m.GetHeaders()[name], false))
	}
	for _, name := range slices.Sorted(maps.Keys(m.GetWithoutHeaders())) {
		out.Headers = append(out.Headers, headerMatcher(name, m.GetWithoutHeaders()[name], true))
	}
	if sm := m.GetMethod(); sm != nil {
		out.Headers = append(out.Headers, headerMatcher(":method", sm, false))
	}
	if sm := m.GetAuthority(); sm != nil {
		out.Headers = append(out.Headers, headerMatcher(":authority", sm, false))
	}
	if sm := m.GetScheme(); sm != nil {
		out.Headers = append(out.Headers, headerMatcher(":scheme", sm, false))
	}
	for _, name := range slices.Sorted(maps.Keys(m.GetQueryParams())) {
		qm := &routev3.QueryParameterMatcher{Name: name}
		if sm := stringMatcher(m.GetQueryParams()[name], false); sm != nil {
			qm.QueryParameterMatchSpecifier = &routev3.QueryParameterMatcher_StringMatch{StringMatch: sm}
		} else {
			qm.QueryParameterMatchSpecifier = &routev3.QueryParameterMatcher_PresentMatch{PresentMatch: true}
		}
		out.QueryParameters = append(out.QueryParameters, qm)
	}
	return out
}

// headerMatcher matches a header by an Istio StringMatch; an empty match
// means "present". Names are lower-cased (HTTP/2 and grpc-go see only
// lower-case names).
func headerMatcher(name string, sm *networking.StringMatch, invert bool) *routev3.HeaderMatcher {
	hm := &routev3.HeaderMatcher{Name: strings.ToLower(name), InvertMatch: invert}
	if s := stringMatcher(sm, false); s != nil {
		hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_StringMatch{StringMatch: s}
	} else {
		hm.HeaderMatchSpecifier = &routev3.HeaderMatcher_PresentMatch{PresentMatch: true}
	}
	return hm
}

func stringMatcher(sm *networking.StringMatch, ignoreCase bool) *matcherv3.StringMatcher {
	switch mt := sm.GetMatchType().(type) {
	case *networking.StringMatch_Exact:
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: mt.Exact}, IgnoreCase: ignoreCase}
	case *networking.StringMatch_Prefix:
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Prefix{Prefix: mt.Prefix}, IgnoreCase: ignoreCase}
	case *networking.StringMatch_Regex:
		return &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: mt.Regex}}}
	}
	return nil
}

// routeAction fills the action of a route: redirect, direct response or
// forwarding (with everything that goes with it), plus header operations
// and fault injection.
func (t *translator) routeAction(v *virtualService, i int, r *networking.HTTPRoute, s *service, port uint32, out *routev3.Route) {
	where := fmt.Sprintf("http[%d]", i)
	t.headerOps(r.GetHeaders(), &out.RequestHeadersToAdd, &out.RequestHeadersToRemove, &out.ResponseHeadersToAdd, &out.ResponseHeadersToRemove)
	if f := t.fault(r.GetFault()); f != nil {
		out.TypedPerFilterConfig = map[string]*anypb.Any{filterFault: f}
	}
	switch {
	case r.GetRedirect() != nil:
		out.Action = &routev3.Route_Redirect{Redirect: redirect(r.GetRedirect())}
		return
	case r.GetDirectResponse() != nil:
		dr := r.GetDirectResponse()
		action := &routev3.DirectResponseAction{Status: dr.GetStatus()}
		if b := dr.GetBody(); b != nil {
			if b.GetBytes() != nil {
				action.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: b.GetBytes()}}
			} else {
				action.Body = &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: b.GetString_()}}
			}
		}
		out.Action = &routev3.Route_DirectResponse{DirectResponse: action}
		return
	}

	action := &routev3.RouteAction{
		Timeout:     durationpb.New(0),
		RetryPolicy: t.retryPolicy(r.GetRetries()),
	}
	if d := r.GetTimeout(); d != nil {
		action.Timeout = durationpb.New(d.AsDuration())
	}
	action.MaxStreamDuration = t.maxStreamDuration(action.Timeout.AsDuration())

	// Destinations: zero weights are dropped when there are several; one
	// left is a plain cluster, more are weighted clusters.
	dests := r.GetRoute()
	if len(dests) > 1 {
		dests = slices.DeleteFunc(slices.Clone(dests), func(d *networking.HTTPRouteDestination) bool { return d.GetWeight() == 0 })
	}
	var first *service
	var firstPort uint32
	switch len(dests) {
	case 0:
		action.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: t.blackHole()}
	case 1:
		d := dests[0]
		name, ds, dp := t.destination(v, fmt.Sprintf("%s.route[0]", where), d.GetDestination(), s, port)
		first, firstPort = ds, dp
		action.ClusterSpecifier = &routev3.RouteAction_Cluster{Cluster: name}
		t.headerOps(d.GetHeaders(), &out.RequestHeadersToAdd, &out.RequestHeadersToRemove, &out.ResponseHeadersToAdd, &out.ResponseHeadersToRemove)
	default:
		wc := &routev3.WeightedCluster{}
		byName := map[string]*routev3.WeightedCluster_ClusterWeight{}
		for j, d := range dests {
			name, ds, dp := t.destination(v, fmt.Sprintf("%s.route[%d]", where, j), d.GetDestination(), s, port)
			if first == nil {
				first, firstPort = ds, dp
			}
			if cw := byName[name]; cw != nil && d.GetHeaders() == nil {
				cw.Weight = wrapperspb.UInt32(cw.GetWeight().GetValue() + uint32(d.GetWeight()))
				continue
			}
			cw := &routev3.WeightedCluster_ClusterWeight{Name: name, Weight: wrapperspb.UInt32(uint32(d.GetWeight()))}
			t.headerOps(d.GetHeaders(), &cw.RequestHeadersToAdd, &cw.RequestHeadersToRemove, &cw.ResponseHeadersToAdd, &cw.ResponseHeadersToRemove)
			byName[name] = cw
			wc.Clusters = append(wc.Clusters, cw)
		}
		action.ClusterSpecifier = &routev3.RouteAction_WeightedClusters{WeightedClusters: wc}
	}
	if first != nil {
		sub := ""
		if len(dests) > 0 {
			sub = dests[0].GetDestination().GetSubset()
		}
		action.HashPolicy = t.hashPolicy(first, firstPort, sub)
	}

	// Rewrite.
	if rw := r.GetRewrite(); rw != nil {
		if rw.GetUri() != "" {
			if r := firstRegexURI(r); r != "" {
				action.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: "^.*$"}, Substitution: rw.GetUri()}
			} else {
				action.PrefixRewrite = rw.GetUri()
			}
		}
		if rr := rw.GetUriRegexRewrite(); rr != nil {
			action.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: &matcherv3.RegexMatcher{Regex: rr.GetMatch()}, Substitution: rr.GetRewrite()}
		}
		if rw.GetAuthority() != "" {
			action.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: rw.GetAuthority()}
		}
	}
	// An authority set through headers is a host rewrite, as in Istio.
	if host := authoritySet(r.GetHeaders()); host != "" && action.HostRewriteSpecifier == nil {
		action.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: host}
	}

	// Mirrors.
	if m := r.GetMirror(); m != nil {
		t.mirror(v, where+".mirror", m, r.GetMirrorPercentage(), s, port, action)
	}
	for j, m := range r.GetMirrors() {
		t.mirror(v, fmt.Sprintf("%s.mirrors[%d]", where, j), m.GetDestination(), m.GetPercentage(), s, port, action)
	}
	out.Action = &routev3.Route_Route{Route: action}
}

func firstRegexURI(r *networking.HTTPRoute) string {
	for _, m := range r.GetMatch() {
		if re := m.GetUri().GetRegex(); re != "" {
			return re
		}
	}
	return ""
}

// destination resolves an Istio destination to a cluster this proxy is
// sent: "outbound|<port>|<subset>|<fqdn>", or BlackHoleCluster when the
// host is not a service, the port is not one of its ports or the subset
// is not defined. The port defaults to the port being routed when the
// destination is the routed service, else to the service's only port.
func (t *translator) destination(v *virtualService, where string, d *networking.Destination, self *service, listenPort uint32) (string, *service, uint32) {
	s := t.idx.byHost[resolveHost(d.GetHost(), v.ns, t.idx.domain)]
	if s == nil {
		return t.blackHole(), nil, 0
	}
	port := d.GetPort().GetNumber()
	if port == 0 {
		switch {
		case s == self:
			port = listenPort
		case len(s.ports) == 1:
			port = s.ports[0].port
		default:
			port = listenPort
		}
	}
	sp := s.portByNumber(port)
	if sp == nil {
		t.warn(v.ref, "%s: destination %s has no port %d; its share of traffic gets 503 (BlackHoleCluster)", where, s.fqdn, port)
		return t.blackHole(), nil, 0
	}
	return t.outboundCluster(s, sp, d.GetSubset()), s, port
}

// mirror adds a request mirror policy with its runtime fraction
// (percentage of requests; 100% when unset, none at 0).
func (t *translator) mirror(v *virtualService, where string, d *networking.Destination, pct *networking.Percent, self *service, port uint32, action *routev3.RouteAction) {
	if d == nil {
		return
	}
	value := 100.0
	if pct != nil {
		value = pct.GetValue()
	}
	if value <= 0 {
		return
	}
	name, s, _ := t.destination(v, where, d, self, port)
	if s == nil {
		return // not a service: nothing to mirror to (warned)
	}
	action.RequestMirrorPolicies = append(action.RequestMirrorPolicies, &routev3.RouteAction_RequestMirrorPolicy{
		Cluster: name,
		RuntimeFraction: &corev3.RuntimeFractionalPercent{
			DefaultValue: fractionalPercent(value),
		},
		TraceSampled: wrapperspb.Bool(false),
	})
}

// fractionalPercent is Istio's translatePercentToFractionalPercent.
func fractionalPercent(value float64) *typev3.FractionalPercent {
	return &typev3.FractionalPercent{Numerator: uint32(value * 10000), Denominator: typev3.FractionalPercent_MILLION}
}

// maxStreamDuration carries the route timeout for gRPC: grpc-go reads
// max_stream_duration; Envoy-style proxies honour the grpc-timeout header
// up to the route timeout (0: uncapped), as Istio's max_grpc_timeout did.
func (t *translator) maxStreamDuration(timeout time.Duration) *routev3.RouteAction_MaxStreamDuration {
	if t.grpc {
		return &routev3.RouteAction_MaxStreamDuration{MaxStreamDuration: durationpb.New(timeout)}
	}
	return &routev3.RouteAction_MaxStreamDuration{GrpcTimeoutHeaderMax: durationpb.New(timeout)}
}

// retryPolicy is Istio's: without retries the default policy (2 attempts
// on connect-failure,refused-stream,unavailable,cancelled,
// retriable-status-codes with 503); attempts 0 disables retries; numeric
// retryOn entries become retriable_status_codes.
func (t *translator) retryPolicy(r *networking.HTTPRetry) *routev3.RetryPolicy {
	out := &routev3.RetryPolicy{
		RetryOn:                       DefaultRetryOn,
		NumRetries:                    wrapperspb.UInt32(DefaultRetryAttempts),
		RetriableStatusCodes:          []uint32{503},
		HostSelectionRetryMaxAttempts: 5,
	}
	if r != nil {
		if r.GetAttempts() <= 0 {
			return nil
		}
		out.NumRetries = wrapperspb.UInt32(uint32(r.GetAttempts()))
		if r.GetRetryOn() != "" {
			var on []string
			var codes []uint32
			for _, p := range strings.Split(r.GetRetryOn(), ",") {
				p = strings.TrimSpace(p)
				var code uint32
				if _, err := fmt.Sscanf(p, "%d", &code); err == nil && fmt.Sprint(code) == p {
					codes = append(codes, code)
					continue
				}
				if p != "" {
					on = append(on, p)
				}
			}
			if len(codes) > 0 && !slices.Contains(on, "retriable-status-codes") {
				on = append(on, "retriable-status-codes")
			}
			out.RetryOn = strings.Join(on, ",")
			out.RetriableStatusCodes = codes
		}
		if d := r.GetPerTryTimeout(); d != nil {
			out.PerTryTimeout = durationpb.New(d.AsDuration())
		}
		if d := r.GetBackoff(); d != nil {
			out.RetryBackOff = &routev3.RetryPolicy_RetryBackOff{BaseInterval: durationpb.New(d.AsDuration())}
		}
		if ih := r.GetRetryIgnorePreviousHosts(); ih != nil && !ih.GetValue() {
			return out
		}
	}
	if a := t.toAny(&previoushostsv3.PreviousHostsPredicate{}); a != nil {
		out.RetryHostPredicate = []*routev3.RetryPolicy_RetryHostPredicate{{
			Name:       previousHostsName,
			ConfigType: &routev3.RetryPolicy_RetryHostPredicate_TypedConfig{TypedConfig: a},
		}}
	}
	return out
}

// fault translates fault injection into the fault filter's per-route
// config (envoy.extensions.filters.http.fault.v3.HTTPFault). A delay
// without percentage applies to 0% (Istio's deprecated percent, 0); an
// abort without percentage to 100%.
func (t *translator) fault(f *networking.HTTPFaultInjection) *anypb.Any {
	if f == nil || (f.GetDelay() == nil && f.GetAbort() == nil) {
		return nil
	}
	out := &faultv3.HTTPFault{}
	if d := f.GetDelay(); d != nil && d.GetFixedDelay() != nil {
		fd := &commonfaultv3.FaultDelay{
			FaultDelaySecifier: &commonfaultv3.FaultDelay_FixedDelay{FixedDelay: durationpb.New(d.GetFixedDelay().AsDuration())},
		}
		if p := d.GetPercentage(); p != nil {
			fd.Percentage = fractionalPercent(p.GetValue())
		} else {
			fd.Percentage = &typev3.FractionalPercent{Numerator: uint32(max(d.GetPercent(), 0)), Denominator: typev3.FractionalPercent_HUNDRED} //nolint:staticcheck // deprecated percent, still honoured as Istio does
		}
		out.Delay = fd
	}
	if a := f.GetAbort(); a != nil {
		fa := &faultv3.FaultAbort{Percentage: &typev3.FractionalPercent{Numerator: 100, Denominator: typev3.FractionalPercent_HUNDRED}}
		if p := a.GetPercentage(); p != nil {
			fa.Percentage = fractionalPercent(p.GetValue())
		}
		switch e := a.GetErrorType().(type) {
		case *networking.HTTPFaultInjection_Abort_HttpStatus:
			fa.ErrorType = &faultv3.FaultAbort_HttpStatus{HttpStatus: uint32(e.HttpStatus)}
		case *networking.HTTPFaultInjection_Abort_GrpcStatus:
			fa.ErrorType = &faultv3.FaultAbort_GrpcStatus{GrpcStatus: grpcCode(e.GrpcStatus)}
		default:
			fa = nil
		}
		out.Abort = fa
	}
	if out.Delay == nil && out.Abort == nil {
		return nil
	}
	return t.toAny(out)
}

// grpcCode maps a gRPC status name ("UNAVAILABLE") or number to its code.
func grpcCode(s string) uint32 {
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		if strings.EqualFold(strings.ReplaceAll(c.String(), "_", ""), strings.ReplaceAll(s, "_", "")) {
			return uint32(c)
		}
	}
	var n uint32
	fmt.Sscanf(s, "%d", &n)
	return n
}

// redirect translates an Istio redirect (default code 301).
func redirect(r *networking.HTTPRedirect) *routev3.RedirectAction {
	out := &routev3.RedirectAction{HostRedirect: r.GetAuthority()}
	if r.GetUri() != "" {
		out.PathRewriteSpecifier = &routev3.RedirectAction_PathRedirect{PathRedirect: r.GetUri()}
	}
	if r.GetPrefixRewrite() != "" {
		out.PathRewriteSpecifier = &routev3.RedirectAction_PrefixRewrite{PrefixRewrite: r.GetPrefixRewrite()}
	}
	if r.GetScheme() != "" {
		out.SchemeRewriteSpecifier = &routev3.RedirectAction_SchemeRedirect{SchemeRedirect: r.GetScheme()}
	}
	switch p := r.GetRedirectPort().(type) {
	case *networking.HTTPRedirect_Port:
		out.PortRedirect = p.Port
	case *networking.HTTPRedirect_DerivePort:
		if p.DerivePort == networking.HTTPRedirect_FROM_PROTOCOL_DEFAULT {
			out.PortRedirect = 80
			if r.GetScheme() == "https" {
				out.PortRedirect = 443
			}
		}
	}
	switch r.GetRedirectCode() {
	case 302:
		out.ResponseCode = routev3.RedirectAction_FOUND
	case 303:
		out.ResponseCode = routev3.RedirectAction_SEE_OTHER
	case 307:
		out.ResponseCode = routev3.RedirectAction_TEMPORARY_REDIRECT
	case 308:
		out.ResponseCode = routev3.RedirectAction_PERMANENT_REDIRECT
	default:
		out.ResponseCode = routev3.RedirectAction_MOVED_PERMANENTLY
	}
	return out
}

// headerOps appends Istio header operations: set overwrites, add appends,
// remove removes. An authority set is a host rewrite, not a header.
func (t *translator) headerOps(h *networking.Headers, reqAdd *[]*corev3.HeaderValueOption, reqRemove *[]string, respAdd *[]*corev3.HeaderValueOption, respRemove *[]string) {
	if h == nil {
		return
	}
	ops := func(o *networking.Headers_HeaderOperations, add *[]*corev3.HeaderValueOption, remove *[]string, request bool) {
		for _, k := range slices.Sorted(maps.Keys(o.GetSet())) {
			if request && isAuthority(k) {
				continue
			}
			*add = append(*add, &corev3.HeaderValueOption{
				Header:       &corev3.HeaderValue{Key: k, Value: o.GetSet()[k]},
				AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
			})
		}
		for _, k := range slices.Sorted(maps.Keys(o.GetAdd())) {
			*add = append(*add, &corev3.HeaderValueOption{
				Header:       &corev3.HeaderValue{Key: k, Value: o.GetAdd()[k]},
				AppendAction: corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD,
			})
		}
		*remove = append(*remove, o.GetRemove()...)
	}
	ops(h.GetRequest(), reqAdd, reqRemove, true)
	ops(h.GetResponse(), respAdd, respRemove, false)
}

func isAuthority(k string) bool {
	return strings.EqualFold(k, ":authority") || strings.EqualFold(k, "host")
}

func authoritySet(h *networking.Headers) string {
	for k, v := range h.GetRequest().GetSet() {
		if isAuthority(k) {
			return v
		}
	}
	return ""
}

// hashPolicy is the route side of consistent-hash load balancing, from
// the traffic policy of the destination's cluster.
func (t *translator) hashPolicy(s *service, port uint32, subset string) []*routev3.RouteAction_HashPolicy {
	dr := t.idx.destinationRule(s, t.p.Namespace)
	if dr == nil {
		return nil
	}
	var sub *networking.TrafficPolicy
	if subset != "" {
		sub = dr.subset(subset).GetTrafficPolicy()
	}
	ch := effectivePolicy(dr.spec.GetTrafficPolicy(), sub, port).GetLoadBalancer().GetConsistentHash()
	if ch == nil {
		return nil
	}
	hp := &routev3.RouteAction_HashPolicy{}
	switch k := ch.GetHashKey().(type) {
	case *networking.LoadBalancerSettings_ConsistentHashLB_HttpHeaderName:
		hp.PolicySpecifier = &routev3.RouteAction_HashPolicy_Header_{Header: &routev3.RouteAction_HashPolicy_Header{HeaderName: strings.ToLower(k.HttpHeaderName)}}
	case *networking.LoadBalancerSettings_ConsistentHashLB_HttpCookie:
		c := &routev3.RouteAction_HashPolicy_Cookie{Name: k.HttpCookie.GetName(), Path: k.HttpCookie.GetPath()}
		if ttl := k.HttpCookie.GetTtl(); ttl != nil {
			c.Ttl = durationpb.New(ttl.AsDuration())
		}
		hp.PolicySpecifier = &routev3.RouteAction_HashPolicy_Cookie_{Cookie: c}
	case *networking.LoadBalancerSettings_ConsistentHashLB_UseSourceIp:
		hp.PolicySpecifier = &routev3.RouteAction_HashPolicy_ConnectionProperties_{ConnectionProperties: &routev3.RouteAction_HashPolicy_ConnectionProperties{SourceIp: true}}
	case *networking.LoadBalancerSettings_ConsistentHashLB_HttpQueryParameterName:
		hp.PolicySpecifier = &routev3.RouteAction_HashPolicy_QueryParameter_{QueryParameter: &routev3.RouteAction_HashPolicy_QueryParameter{Name: k.HttpQueryParameterName}}
	default:
		return nil
	}
	return []*routev3.RouteAction_HashPolicy{hp}
}
