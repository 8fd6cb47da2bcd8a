package xdsresource

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	faultcommonv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/common/fault/v3"
	faultv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	previoushostsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/retry/host/previous_hosts/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/types/known/anypb"
)

// UnmarshalRouteConfiguration decodes and validates an RDS resource.
func UnmarshalRouteConfiguration(a *anypb.Any) (*RouteConfiguration, error) {
	rc := &routev3.RouteConfiguration{}
	if err := decodeAny(a, rc, ""); err != nil {
		return nil, fmt.Errorf("route configuration: %w", err)
	}
	out, err := RouteConfigurationFromProto(rc)
	if err != nil {
		return nil, fmt.Errorf("route configuration %q: %w", rc.GetName(), err)
	}
	return out, nil
}

// RouteConfigurationFromProto validates an already decoded route
// configuration (RDS or inline in a connection manager).
func RouteConfigurationFromProto(rc *routev3.RouteConfiguration) (*RouteConfiguration, error) {
	return routeConfiguration(rc, "")
}

func routeConfiguration(rc *routev3.RouteConfiguration, path string) (*RouteConfiguration, error) {
	if err := checkFields(rc.ProtoReflect(), path); err != nil {
		return nil, &invalidError{err}
	}
	out := &RouteConfiguration{Name: rc.GetName(), IgnorePortInHostMatch: rc.GetIgnorePortInHostMatching()}
	var err error
	if out.RequestHeadersToAdd, err = headerOptions(rc.GetRequestHeadersToAdd(), join(path, "request_headers_to_add")); err != nil {
		return nil, err
	}
	if out.RequestHeadersToRemove, err = headersToRemove(rc.GetRequestHeadersToRemove(), join(path, "request_headers_to_remove")); err != nil {
		return nil, err
	}
	if out.ResponseHeadersToAdd, err = headerOptions(rc.GetResponseHeadersToAdd(), join(path, "response_headers_to_add")); err != nil {
		return nil, err
	}
	if out.ResponseHeadersToRemove, err = headersToRemove(rc.GetResponseHeadersToRemove(), join(path, "response_headers_to_remove")); err != nil {
		return nil, err
	}
	seen := map[string]string{}
	for i, vh := range rc.GetVirtualHosts() {
		p := fmt.Sprintf("%s[%d]", join(path, "virtual_hosts"), i)
		v, err := virtualHost(vh, p)
		if err != nil {
			return nil, err
		}
		for _, d := range v.Domains {
			if prev, ok := seen[d]; ok {
				return nil, invalid("%s.domains: domain %q is also in virtual host %q", p, d, prev)
			}
			seen[d] = v.Name
		}
		out.VirtualHosts = append(out.VirtualHosts, v)
	}
	return out, nil
}

func virtualHost(vh *routev3.VirtualHost, p string) (*VirtualHost, error) {
	v := &VirtualHost{
		Name:                    vh.GetName(),
		IncludeAttemptCount:     vh.GetIncludeRequestAttemptCount(),
		IncludeAttemptCountResp: vh.GetIncludeAttemptCountInResponse(),
	}
	if len(vh.GetDomains()) == 0 {
		return nil, invalid("%s.domains: empty", p)
	}
	for j, d := range vh.GetDomains() {
		d = strings.ToLower(d)
		if d == "" || (strings.Count(d, "*") > 1) || (strings.Contains(d, "*") && d != "*" &&
			!strings.HasPrefix(d, "*") && !strings.HasSuffix(d, "*")) {
			return nil, invalid("%s.domains[%d]: invalid domain %q", p, j, d)
		}
		v.Domains = append(v.Domains, d)
	}
	var err error
	if v.RequestHeadersToAdd, err = headerOptions(vh.GetRequestHeadersToAdd(), p+".request_headers_to_add"); err != nil {
		return nil, err
	}
	if v.RequestHeadersToRemove, err = headersToRemove(vh.GetRequestHeadersToRemove(), p+".request_headers_to_remove"); err != nil {
		return nil, err
	}
	if v.ResponseHeadersToAdd, err = headerOptions(vh.GetResponseHeadersToAdd(), p+".response_headers_to_add"); err != nil {
		return nil, err
	}
	if v.ResponseHeadersToRemove, err = headersToRemove(vh.GetResponseHeadersToRemove(), p+".response_headers_to_remove"); err != nil {
		return nil, err
	}
	if vh.GetRetryPolicy() != nil {
		if v.RetryPolicy, err = retryPolicy(vh.GetRetryPolicy(), p+".retry_policy"); err != nil {
			return nil, err
		}
	}
	if v.Fault, err = perFilterConfig(vh.GetTypedPerFilterConfig(), p+".typed_per_filter_config"); err != nil {
		return nil, err
	}
	for j, r := range vh.GetRoutes() {
		route, err := decodeRoute(r, fmt.Sprintf("%s.routes[%d]", p, j))
		if err != nil {
			return nil, err
		}
		v.Routes = append(v.Routes, route)
	}
	return v, nil
}

func decodeRoute(r *routev3.Route, p string) (*Route, error) {
	out := &Route{Name: r.GetName(), Operation: r.GetDecorator().GetOperation()}
	var err error
	if out.Match, err = routeMatch(r.GetMatch(), p+".match"); err != nil {
		return nil, err
	}
	switch a := r.GetAction().(type) {
	case *routev3.Route_Route:
		out.Action = ActionRoute
		if out.Route, err = routeAction(a.Route, p+".route"); err != nil {
			return nil, err
		}
		if out.Route.PrefixRewrite != "" && out.Match.PathKind == PathRegex {
			return nil, invalid("%s.route.prefix_rewrite: not allowed with a safe_regex path match (use regex_rewrite)", p)
		}
	case *routev3.Route_Redirect:
		out.Action = ActionRedirect
		if out.Redirect, err = redirectAction(a.Redirect, p+".redirect"); err != nil {
			return nil, err
		}
	case *routev3.Route_DirectResponse:
		out.Action = ActionDirectResponse
		st := a.DirectResponse.GetStatus()
		if st < 100 || st > 599 {
			return nil, invalid("%s.direct_response.status: %d out of range", p, st)
		}
		body := a.DirectResponse.GetBody()
		out.DirectResponse = &DirectResponseAction{Status: int(st), Body: body.GetInlineString()}
		if len(body.GetInlineBytes()) > 0 {
			out.DirectResponse.Body = string(body.GetInlineBytes())
		}
	default:
		return nil, invalid("%s: no action (route, redirect or direct_response)", p)
	}
	if out.RequestHeadersToAdd, err = headerOptions(r.GetRequestHeadersToAdd(), p+".request_headers_to_add"); err != nil {
		return nil, err
	}
	if out.RequestHeadersToRemove, err = headersToRemove(r.GetRequestHeadersToRemove(), p+".request_headers_to_remove"); err != nil {
		return nil, err
	}
	if out.ResponseHeadersToAdd, err = headerOptions(r.GetResponseHeadersToAdd(), p+".response_headers_to_add"); err != nil {
		return nil, err
	}
	if out.ResponseHeadersToRemove, err = headersToRemove(r.GetResponseHeadersToRemove(), p+".response_headers_to_remove"); err != nil {
		return nil, err
	}
	if out.Fault, err = perFilterConfig(r.GetTypedPerFilterConfig(), p+".typed_per_filter_config"); err != nil {
		return nil, err
	}
	return out, nil
}

// perFilterConfig decodes typed_per_filter_config; only the fault filter's
// HTTPFault is understood.
func perFilterConfig(m map[string]*anypb.Any, p string) (*FaultPolicy, error) {
	var fault *FaultPolicy
	for name, a := range m {
		fp := fmt.Sprintf("%s[%q]", p, name)
		if name != FilterFault {
			return nil, invalid("%s: per-filter config for filter %q is not supported", fp, name)
		}
		f := &faultv3.HTTPFault{}
		if err := decodeAny(a, f, fp); err != nil {
			return nil, err
		}
		var err error
		if fault, err = faultPolicy(f, fp); err != nil {
			return nil, err
		}
	}
	return fault, nil
}

func faultPolicy(f *faultv3.HTTPFault, p string) (*FaultPolicy, error) {
	out := &FaultPolicy{}
	if d := f.GetDelay(); d != nil {
		fd, ok := d.GetFaultDelaySecifier().(*faultcommonv3.FaultDelay_FixedDelay)
		if !ok {
			return nil, invalid("%s.delay: only fixed_delay is supported", p)
		}
		var err error
		if out.Delay, err = duration(fd.FixedDelay, p+".delay.fixed_delay"); err != nil {
			return nil, err
		}
		out.DelayPerMillion = percentOrAll(d.GetPercentage())
	}
	if a := f.GetAbort(); a != nil {
		switch e := a.GetErrorType().(type) {
		case *faultv3.FaultAbort_HttpStatus:
			if e.HttpStatus < 200 || e.HttpStatus > 599 {
				return nil, invalid("%s.abort.http_status: %d out of range", p, e.HttpStatus)
			}
			out.AbortStatus = int(e.HttpStatus)
		case *faultv3.FaultAbort_GrpcStatus:
			v := e.GrpcStatus
			out.AbortGRPC = &v
		default:
			return nil, invalid("%s.abort: http_status or grpc_status is required", p)
		}
		out.AbortPerMillion = percentOrAll(a.GetPercentage())
	}
	return out, nil
}

// percentOrAll is Envoy's fault percentage: absent means 100%.
func percentOrAll(f *typev3.FractionalPercent) uint32 {
	if f == nil {
		return 1e6
	}
	return perMillion(f)
}

// defaultBackOffBase is Envoy's retry back-off base interval.
const defaultBackOffBase = 25 * time.Millisecond

func routeMatch(m *routev3.RouteMatch, p string) (RouteMatch, error) {
	out := RouteMatch{CaseSensitive: m.GetCaseSensitive() == nil || m.GetCaseSensitive().GetValue()}
	switch ps := m.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		out.PathKind, out.Path = PathPrefix, ps.Prefix
	case *routev3.RouteMatch_Path:
		out.PathKind, out.Path = PathExact, ps.Path
	case *routev3.RouteMatch_PathSeparatedPrefix:
		if strings.ContainsAny(ps.PathSeparatedPrefix, "?#") || strings.HasSuffix(ps.PathSeparatedPrefix, "/") {
			return out, invalid("%s.path_separated_prefix: %q must not end in / or contain ? #", p, ps.PathSeparatedPrefix)
		}
		out.PathKind, out.Path = PathSeparatedPrefix, ps.PathSeparatedPrefix
	case *routev3.RouteMatch_SafeRegex:
		re, err := compileRegex(ps.SafeRegex, p+".safe_regex")
		if err != nil {
			return out, err
		}
		if !out.CaseSensitive {
			if re, err = regexp.Compile("(?i)" + re.String()); err != nil {
				return out, invalid("%s.safe_regex: %w", p, err)
			}
		}
		out.PathKind, out.Regex = PathRegex, re
	default:
		return out, invalid("%s: no path specifier", p)
	}
	if !out.CaseSensitive {
		out.Path = strings.ToLower(out.Path)
	}
	for i, h := range m.GetHeaders() {
		hm, err := headerMatcher(h, fmt.Sprintf("%s.headers[%d]", p, i))
		if err != nil {
			return out, err
		}
		out.Headers = append(out.Headers, hm)
	}
	for i, q := range m.GetQueryParameters() {
		qp := fmt.Sprintf("%s.query_parameters[%d]", p, i)
		if q.GetName() == "" {
			return out, invalid("%s.name: empty", qp)
		}
		qm := QueryParameterMatcher{Name: q.GetName()}
		switch s := q.GetQueryParameterMatchSpecifier().(type) {
		case *routev3.QueryParameterMatcher_StringMatch:
			sm, err := stringMatcher(s.StringMatch, qp+".string_match")
			if err != nil {
				return out, err
			}
			qm.String = &sm
		case *routev3.QueryParameterMatcher_PresentMatch:
			qm.Present = s.PresentMatch
			if !qm.Present {
				return out, invalid("%s.present_match: false is not supported", qp)
			}
		default:
			qm.Present = true // Envoy: no specifier means presence.
		}
		out.QueryParameters = append(out.QueryParameters, qm)
	}
	return out, nil
}

func headerMatcher(h *routev3.HeaderMatcher, p string) (HeaderMatcher, error) {
	name := strings.ToLower(h.GetName())
	if name == "" {
		return HeaderMatcher{}, invalid("%s.name: empty", p)
	}
	if strings.HasPrefix(name, ":") && name != ":method" && name != ":authority" && name != ":path" && name != ":scheme" {
		return HeaderMatcher{}, invalid("%s.name: pseudo-header %q is not supported", p, name)
	}
	out := HeaderMatcher{Name: name, Invert: h.GetInvertMatch(), TreatMissingAsEmpty: h.GetTreatMissingHeaderAsEmpty()}
	var err error
	switch s := h.GetHeaderMatchSpecifier().(type) {
	case *routev3.HeaderMatcher_ExactMatch:
		out.String = StringMatcher{Kind: MatchExact, Value: s.ExactMatch}
	case *routev3.HeaderMatcher_PrefixMatch:
		out.String = StringMatcher{Kind: MatchPrefix, Value: s.PrefixMatch}
	case *routev3.HeaderMatcher_SuffixMatch:
		out.String = StringMatcher{Kind: MatchSuffix, Value: s.SuffixMatch}
	case *routev3.HeaderMatcher_ContainsMatch:
		out.String = StringMatcher{Kind: MatchContains, Value: s.ContainsMatch}
	case *routev3.HeaderMatcher_SafeRegexMatch:
		re, err := compileRegex(s.SafeRegexMatch, p+".safe_regex_match")
		if err != nil {
			return out, err
		}
		out.String = StringMatcher{Kind: MatchRegex, Regex: re}
	case *routev3.HeaderMatcher_StringMatch:
		if out.String, err = stringMatcher(s.StringMatch, p+".string_match"); err != nil {
			return out, err
		}
	case *routev3.HeaderMatcher_PresentMatch:
		out.Kind, out.Present = HeaderPresent, s.PresentMatch
	case nil:
		out.Kind, out.Present = HeaderPresent, true // Envoy: no specifier means presence.
	default:
		return out, invalid("%s: header match %T is not supported", p, s)
	}
	return out, nil
}

func routeAction(a *routev3.RouteAction, p string) (*RouteAction, error) {
	out := &RouteAction{
		ClusterNotFoundCode: 503,
		Timeout:             DefaultRouteTimeout,
		PrefixRewrite:       a.GetPrefixRewrite(),
		HostRewrite:         a.GetHostRewriteLiteral(),
		AutoHostRewrite:     a.GetAutoHostRewrite().GetValue(),
	}
	switch a.GetClusterNotFoundResponseCode() {
	case routev3.RouteAction_SERVICE_UNAVAILABLE:
	case routev3.RouteAction_NOT_FOUND:
		out.ClusterNotFoundCode = 404
	case routev3.RouteAction_INTERNAL_SERVER_ERROR:
		out.ClusterNotFoundCode = 500
	default:
		return nil, invalid("%s.cluster_not_found_response_code: unknown %v", p, a.GetClusterNotFoundResponseCode())
	}
	switch c := a.GetClusterSpecifier().(type) {
	case *routev3.RouteAction_Cluster:
		if c.Cluster == "" {
			return nil, invalid("%s.cluster: empty", p)
		}
		out.Clusters = []WeightedCluster{{Name: c.Cluster, Weight: 1}}
		out.TotalWeight = 1
	case *routev3.RouteAction_WeightedClusters:
		wp := p + ".weighted_clusters"
		for i, cw := range c.WeightedClusters.GetClusters() {
			cp := fmt.Sprintf("%s.clusters[%d]", wp, i)
			if cw.GetName() == "" {
				return nil, invalid("%s.name: empty", cp)
			}
			w := WeightedCluster{Name: cw.GetName(), Weight: cw.GetWeight().GetValue(), HostRewrite: cw.GetHostRewriteLiteral()}
			var err error
			if w.RequestHeadersToAdd, err = headerOptions(cw.GetRequestHeadersToAdd(), cp+".request_headers_to_add"); err != nil {
				return nil, err
			}
			if w.RequestHeadersToRemove, err = headersToRemove(cw.GetRequestHeadersToRemove(), cp+".request_headers_to_remove"); err != nil {
				return nil, err
			}
			if w.ResponseHeadersToAdd, err = headerOptions(cw.GetResponseHeadersToAdd(), cp+".response_headers_to_add"); err != nil {
				return nil, err
			}
			if w.ResponseHeadersToRemove, err = headersToRemove(cw.GetResponseHeadersToRemove(), cp+".response_headers_to_remove"); err != nil {
				return nil, err
			}
			out.TotalWeight += w.Weight
			out.Clusters = append(out.Clusters, w)
		}
		if len(out.Clusters) == 0 {
			return nil, invalid("%s.clusters: empty", wp)
		}
		if out.TotalWeight == 0 {
			return nil, invalid("%s: total weight is 0", wp)
		}
		if tw := c.WeightedClusters.GetTotalWeight(); tw != nil && tw.GetValue() != out.TotalWeight {
			return nil, invalid("%s.total_weight: %d, weights sum to %d", wp, tw.GetValue(), out.TotalWeight)
		}
	default:
		return nil, invalid("%s: cluster specifier %T is not supported", p, c)
	}
	var err error
	if a.GetTimeout() != nil {
		if out.Timeout, err = duration(a.GetTimeout(), p+".timeout"); err != nil {
			return nil, err
		}
	}
	if out.IdleTimeout, err = duration(a.GetIdleTimeout(), p+".idle_timeout"); err != nil {
		return nil, err
	}
	if rr := a.GetRegexRewrite(); rr != nil {
		if out.RegexRewrite, err = compileUnanchored(rr.GetPattern().GetRegex(), p+".regex_rewrite.pattern"); err != nil {
			return nil, err
		}
		out.RegexSubstitution = envoySubstitution(rr.GetSubstitution())
		if out.PrefixRewrite != "" {
			return nil, invalid("%s: prefix_rewrite and regex_rewrite are both set", p)
		}
	}
	if out.HostRewrite != "" && out.AutoHostRewrite {
		return nil, invalid("%s: host_rewrite_literal and auto_host_rewrite are both set", p)
	}
	if a.GetRetryPolicy() != nil {
		if out.Retry, err = retryPolicy(a.GetRetryPolicy(), p+".retry_policy"); err != nil {
			return nil, err
		}
	}
	for i, m := range a.GetRequestMirrorPolicies() {
		mp := fmt.Sprintf("%s.request_mirror_policies[%d]", p, i)
		if m.GetCluster() == "" {
			return nil, invalid("%s.cluster: empty", mp)
		}
		pm := uint32(1e6)
		if m.GetRuntimeFraction() != nil {
			pm = perMillion(m.GetRuntimeFraction().GetDefaultValue())
		}
		out.Mirrors = append(out.Mirrors, MirrorPolicy{Cluster: m.GetCluster(), PerMillion: pm})
	}
	for i, h := range a.GetHashPolicy() {
		hp := fmt.Sprintf("%s.hash_policy[%d]", p, i)
		pol := HashPolicy{Terminal: h.GetTerminal()}
		switch s := h.GetPolicySpecifier().(type) {
		case *routev3.RouteAction_HashPolicy_Header_:
			pol.Kind, pol.Name = HashHeader, strings.ToLower(s.Header.GetHeaderName())
		case *routev3.RouteAction_HashPolicy_Cookie_:
			pol.Kind, pol.Name, pol.CookiePath = HashCookie, s.Cookie.GetName(), s.Cookie.GetPath()
			if pol.CookieTTL, err = duration(s.Cookie.GetTtl(), hp+".cookie.ttl"); err != nil {
				return nil, err
			}
		case *routev3.RouteAction_HashPolicy_ConnectionProperties_:
			if !s.ConnectionProperties.GetSourceIp() {
				return nil, invalid("%s.connection_properties.source_ip: must be true", hp)
			}
			pol.Kind = HashSourceIP
		case *routev3.RouteAction_HashPolicy_QueryParameter_:
			pol.Kind, pol.Name = HashQueryParameter, s.QueryParameter.GetName()
		default:
			return nil, invalid("%s: hash policy %T is not supported", hp, s)
		}
		if pol.Kind != HashSourceIP && pol.Name == "" {
			return nil, invalid("%s: name is empty", hp)
		}
		out.HashPolicies = append(out.HashPolicies, pol)
	}
	if msd := a.GetMaxStreamDuration(); msd != nil {
		if msd.GetMaxStreamDuration() != nil {
			return nil, invalid("%s.max_stream_duration.max_stream_duration: not supported, use timeout", p)
		}
		if msd.GetGrpcTimeoutHeaderMax() != nil {
			d, err := duration(msd.GetGrpcTimeoutHeaderMax(), p+".max_stream_duration.grpc_timeout_header_max")
			if err != nil {
				return nil, err
			}
			out.GRPCTimeoutHeaderMax = &d
		}
	}
	if a.GetMaxGrpcTimeout() != nil {
		d, err := duration(a.GetMaxGrpcTimeout(), p+".max_grpc_timeout")
		if err != nil {
			return nil, err
		}
		out.GRPCTimeoutHeaderMax = &d
	}
	for i, u := range a.GetUpgradeConfigs() {
		up := fmt.Sprintf("%s.upgrade_configs[%d]", p, i)
		if !strings.EqualFold(u.GetUpgradeType(), "websocket") {
			return nil, invalid("%s.upgrade_type: %q is not supported (websocket only)", up, u.GetUpgradeType())
		}
		on := u.GetEnabled() == nil || u.GetEnabled().GetValue()
		out.WebSocket = &on
	}
	return out, nil
}

func compileUnanchored(re, path string) (*regexp.Regexp, error) {
	r, err := regexp.Compile(re)
	if err != nil {
		return nil, invalid("%s: %w", path, err)
	}
	return r, nil
}

// envoySubstitution turns Envoy's \1 capture references into Go's ${1}.
func envoySubstitution(s string) string {
	if !strings.Contains(s, `\`) && !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '$':
			b.WriteString("$$")
		case c == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			b.WriteString("${")
			b.WriteByte(s[i+1])
			b.WriteByte('}')
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func retryPolicy(r *routev3.RetryPolicy, p string) (*RetryPolicy, error) {
	out := &RetryPolicy{NumRetries: 1, BackOffBase: defaultBackOffBase, HostSelectionMaxAttempts: r.GetHostSelectionRetryMaxAttempts()}
	if r.GetNumRetries() != nil {
		out.NumRetries = r.GetNumRetries().GetValue()
	}
	for _, tok := range strings.Split(r.GetRetryOn(), ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue
		}
		c, ok := RetryOnNames[tok]
		if !ok {
			return nil, invalid("%s.retry_on: condition %q is not supported", p, tok)
		}
		out.On |= c
	}
	var err error
	if out.PerTryTimeout, err = duration(r.GetPerTryTimeout(), p+".per_try_timeout"); err != nil {
		return nil, err
	}
	for _, c := range r.GetRetriableStatusCodes() {
		if c < 100 || c > 599 {
			return nil, invalid("%s.retriable_status_codes: %d out of range", p, c)
		}
	}
	out.RetriableStatusCodes = append([]uint32(nil), r.GetRetriableStatusCodes()...)
	if b := r.GetRetryBackOff(); b != nil {
		if out.BackOffBase, err = duration(b.GetBaseInterval(), p+".retry_back_off.base_interval"); err != nil {
			return nil, err
		}
		if out.BackOffBase <= 0 {
			return nil, invalid("%s.retry_back_off.base_interval: must be > 0", p)
		}
		if out.BackOffMax, err = duration(b.GetMaxInterval(), p+".retry_back_off.max_interval"); err != nil {
			return nil, err
		}
		if out.BackOffMax != 0 && out.BackOffMax < out.BackOffBase {
			return nil, invalid("%s.retry_back_off.max_interval: below base_interval", p)
		}
	}
	if out.BackOffMax == 0 {
		out.BackOffMax = 10 * out.BackOffBase
	}
	for i, hp := range r.GetRetryHostPredicate() {
		pp := fmt.Sprintf("%s.retry_host_predicate[%d]", p, i)
		if hp.GetTypedConfig() == nil {
			if hp.GetName() != PredicatePreviousHosts {
				return nil, invalid("%s: predicate %q is not supported", pp, hp.GetName())
			}
		} else if err := decodeAny(hp.GetTypedConfig(), &previoushostsv3.PreviousHostsPredicate{}, pp+".typed_config"); err != nil {
			return nil, err
		}
		out.PreviousHosts = true
	}
	return out, nil
}

func redirectAction(r *routev3.RedirectAction, p string) (*RedirectAction, error) {
	out := &RedirectAction{Host: r.GetHostRedirect(), Port: r.GetPortRedirect(), StripQuery: r.GetStripQuery()}
	switch s := r.GetSchemeRewriteSpecifier().(type) {
	case *routev3.RedirectAction_HttpsRedirect:
		if s.HttpsRedirect {
			out.Scheme = "https"
		}
	case *routev3.RedirectAction_SchemeRedirect:
		out.Scheme = strings.ToLower(s.SchemeRedirect)
	}
	switch s := r.GetPathRewriteSpecifier().(type) {
	case *routev3.RedirectAction_PathRedirect:
		out.Path = s.PathRedirect
	case *routev3.RedirectAction_PrefixRewrite:
		out.PrefixRewrite = s.PrefixRewrite
	case *routev3.RedirectAction_RegexRewrite:
		var err error
		if out.RegexRewrite, err = compileUnanchored(s.RegexRewrite.GetPattern().GetRegex(), p+".regex_rewrite.pattern"); err != nil {
			return nil, err
		}
		out.RegexSubst = envoySubstitution(s.RegexRewrite.GetSubstitution())
	}
	switch r.GetResponseCode() {
	case routev3.RedirectAction_MOVED_PERMANENTLY:
		out.Code = 301
	case routev3.RedirectAction_FOUND:
		out.Code = 302
	case routev3.RedirectAction_SEE_OTHER:
		out.Code = 303
	case routev3.RedirectAction_TEMPORARY_REDIRECT:
		out.Code = 307
	case routev3.RedirectAction_PERMANENT_REDIRECT:
		out.Code = 308
	default:
		return nil, invalid("%s.response_code: unknown %v", p, r.GetResponseCode())
	}
	return out, nil
}
