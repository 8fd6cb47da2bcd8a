package policies

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Checks of the http rules of a VirtualService.

// Direct response bodies are held in the control plane and pushed to every
// proxy: large ones warn, very large ones are rejected.
const (
	directResponseBodyWarnSize = 100 << 10
	directResponseBodyMaxSize  = 1 << 20
)

// supportedRetryOn lists Envoy's x-envoy-retry-on and x-envoy-retry-grpc-on
// policies; retryOn may also name HTTP status codes.
var supportedRetryOn = map[string]bool{
	"5xx":                        true,
	"gateway-error":              true,
	"reset":                      true,
	"reset-before-request":       true,
	"connect-failure":            true,
	"retriable-4xx":              true,
	"refused-stream":             true,
	"retriable-status-codes":     true,
	"retriable-headers":          true,
	"envoy-ratelimited":          true,
	"http3-post-connect-failure": true,
	"cancelled":                  true,
	"deadline-exceeded":          true,
	"internal":                   true,
	"resource-exhausted":         true,
	"unavailable":                true,
}

// supportedGRPCStatus lists the gRPC status names a fault abort may return.
var supportedGRPCStatus = map[string]bool{
	"OK": true, "CANCELLED": true, "UNKNOWN": true, "INVALID_ARGUMENT": true,
	"DEADLINE_EXCEEDED": true, "NOT_FOUND": true, "ALREADY_EXISTS": true,
	"PERMISSION_DENIED": true, "RESOURCE_EXHAUSTED": true, "FAILED_PRECONDITION": true,
	"ABORTED": true, "OUT_OF_RANGE": true, "UNIMPLEMENTED": true, "INTERNAL": true,
	"UNAVAILABLE": true, "DATA_LOSS": true, "UNAUTHENTICATED": true,
}

// supportedCORSMethods lists the methods a CORS policy may allow.
var supportedCORSMethods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true,
	"DELETE": true, "CONNECT": true, "OPTIONS": true, "TRACE": true, "*": true,
}

func (v *vsValidator) httpRoute(r *networking.HTTPRoute, p *field.Path) {
	if r == nil {
		v.add(field.Required(p, "http route may not be null"))
		return
	}
	v.httpRouteTarget(r, p)
	v.httpRouteConflicts(r, p)
	for j, m := range r.GetMatch() {
		v.httpMatch(m, p.Child("match").Index(j))
	}
	v.addList(validateHeaderOperations(r.GetHeaders(), p.Child("headers")))
	v.corsPolicy(r.GetCorsPolicy(), p.Child("corsPolicy"))
	v.fault(r.GetFault(), p.Child("fault"))
	v.mirrors(r, p)
	v.redirect(r, p)
	v.directResponse(r.GetDirectResponse(), p.Child("directResponse"))
	v.retries(r.GetRetries(), p.Child("retries"))
	v.rewrite(r.GetRewrite(), p.Child("rewrite"))
	v.add(validateAuthorityRewrite(r.GetRewrite(), r.GetHeaders(), p))
	v.httpRouteDestinations(r.GetRoute(), p.Child("route"))
	v.add(validateDuration(r.GetTimeout(), p.Child("timeout")))
}

// httpRouteTarget checks that a rule sends traffic somewhere: a route, a
// redirect, a direct response, or (on a root VirtualService) a delegate.
func (v *vsValidator) httpRouteTarget(r *networking.HTTPRoute, p *field.Path) {
	hasTarget := len(r.GetRoute()) > 0 || r.GetRedirect() != nil || r.GetDirectResponse() != nil
	d := r.GetDelegate()
	switch {
	case d != nil && v.delegate:
		v.add(field.Forbidden(p.Child("delegate"), "delegate virtual service cannot have delegate"))
	case d != nil:
		dp := p.Child("delegate")
		if len(r.GetRoute()) > 0 {
			v.add(field.Forbidden(dp, "HTTP route cannot contain both route and delegate"))
		}
		if r.GetRedirect() != nil {
			v.add(field.Forbidden(dp, "HTTP route cannot contain both redirect and delegate"))
		}
		if r.GetDirectResponse() != nil {
			v.add(field.Forbidden(dp, "HTTP route cannot contain both direct_response and delegate"))
		}
		if d.GetName() == "" {
			v.add(field.Required(dp.Child("name"), "delegate name is required"))
		} else if !isObjectName(d.GetName()) {
			v.add(field.Invalid(dp.Child("name"), d.GetName(), "delegate name must be a valid object name (a lowercase DNS-1123 subdomain)"))
		}
		if d.GetNamespace() != "" && !isDNS1123Label(d.GetNamespace()) {
			v.add(field.Invalid(dp.Child("namespace"), d.GetNamespace(), "delegate namespace is not a valid namespace name"))
		}
		return
	}
	if !hasTarget {
		v.add(field.Required(p.Child("route"), "HTTP route, redirect or direct_response is required"))
	}
}

// httpRouteConflicts rejects combinations that cannot work together.
func (v *vsValidator) httpRouteConflicts(r *networking.HTTPRoute, p *field.Path) {
	if r.GetRedirect() != nil {
		rp := p.Child("redirect")
		if len(r.GetRoute()) > 0 {
			v.add(field.Forbidden(rp, "HTTP route cannot contain both route and redirect"))
		}
		if r.GetFault() != nil {
			v.add(field.Forbidden(rp, "HTTP route cannot contain both fault and redirect"))
		}
		if r.GetRewrite() != nil {
			v.add(field.Forbidden(rp, "HTTP route rule cannot contain both rewrite and redirect"))
		}
	}
	if r.GetDirectResponse() != nil {
		dp := p.Child("directResponse")
		if len(r.GetRoute()) > 0 {
			v.add(field.Forbidden(dp, "HTTP route cannot contain both route and direct_response"))
		}
		if r.GetFault() != nil {
			v.add(field.Forbidden(dp, "HTTP route cannot contain both fault and direct_response"))
		}
		if r.GetRewrite() != nil {
			v.add(field.Forbidden(dp, "HTTP route rule cannot contain both rewrite and direct_response"))
		}
		if r.GetRedirect() != nil {
			v.add(field.Forbidden(dp, "HTTP route rule cannot contain both direct_response and redirect"))
		}
	}
}

func (v *vsValidator) httpMatch(m *networking.HTTPMatchRequest, p *field.Path) {
	if m == nil {
		return
	}
	for _, name := range sortedKeys(m.GetHeaders()) {
		hp := p.Child("headers").Key(name)
		sm := m.GetHeaders()[name]
		if sm == nil {
			v.add(field.Required(hp, fmt.Sprintf("header match %v cannot be null", name)))
		}
		v.add(invalidErr(hp, name, checkMatchHeaderName(name)))
		v.add(validateStringMatch(sm, "headers", false, hp))
		v.jwtClaimNeedsGateway(name, hp)
	}
	for _, name := range sortedKeys(m.GetWithoutHeaders()) {
		hp := p.Child("withoutHeaders").Key(name)
		sm := m.GetWithoutHeaders()[name]
		v.add(invalidErr(hp, name, checkMatchHeaderName(name)))
		// "*" is not a regex here: it means "header present".
		if sm.GetRegex() != "*" {
			v.add(validateStringMatch(sm, "withoutHeaders", false, hp))
		}
		v.jwtClaimNeedsGateway(name, hp)
	}
	// Envoy allows an empty path prefix, so uri may have one.
	v.add(validateStringMatch(m.GetUri(), "uri", true, p.Child("uri")))
	v.add(validateStringMatch(m.GetScheme(), "scheme", false, p.Child("scheme")))
	v.add(validateStringMatch(m.GetMethod(), "method", false, p.Child("method")))
	v.add(validateStringMatch(m.GetAuthority(), "authority", false, p.Child("authority")))
	for _, name := range sortedKeys(m.GetQueryParams()) {
		v.add(validateStringMatch(m.GetQueryParams()[name], "queryParams", false, p.Child("queryParams").Key(name)))
	}
	if m.GetPort() != 0 {
		v.add(validatePort(m.GetPort(), p.Child("port")))
	}
	v.addList(validateLabels(m.GetSourceLabels(), p.Child("sourceLabels")))
	v.gatewayNames(m.GetGateways(), p.Child("gateways"))
	v.sourceNamespace(m.GetSourceNamespace(), p.Child("sourceNamespace"))
}

// jwtClaimNeedsGateway rejects JWT claim routing on a VirtualService that no
// gateway uses: sidecars do not validate JWTs for routing.
func (v *vsValidator) jwtClaimNeedsGateway(name string, p *field.Path) {
	if v.appliesToGateway || !isJWTClaimRoute(name) {
		return
	}
	v.add(field.Forbidden(p, fmt.Sprintf("JWT claim based routing (key: %s) is only supported for gateway, found no gateways: %v",
		name, v.vs.GetGateways())))
}

func (v *vsValidator) sourceNamespace(ns string, p *field.Path) {
	if ns != "" && !isDNS1123Label(ns) {
		v.add(invalid(p, ns, "sourceNamespace match %s is invalid", ns))
	}
}

func (v *vsValidator) corsPolicy(c *networking.CorsPolicy, p *field.Path) {
	if c == nil {
		return
	}
	for i, o := range c.GetAllowOrigins() {
		op := p.Child("allowOrigins").Index(i)
		if o.GetExact() == "" && o.GetPrefix() == "" && o.GetRegex() == "" {
			v.add(field.Invalid(op, "", "'' is not a valid match type for CORS allow origins"))
			continue
		}
		v.add(validateStringMatch(o, "corsPolicy.allowOrigins", false, op))
	}
	for i, m := range c.GetAllowMethods() {
		if !supportedCORSMethods[m] {
			v.add(invalid(p.Child("allowMethods").Index(i), m, "%q is not a supported HTTP method", m))
		}
	}
	for i, h := range c.GetAllowHeaders() {
		v.add(invalidErr(p.Child("allowHeaders").Index(i), h, checkCORSHeaderName(h)))
	}
	for i, h := range c.GetExposeHeaders() {
		v.add(invalidErr(p.Child("exposeHeaders").Index(i), h, checkCORSHeaderName(h)))
	}
	if age := c.GetMaxAge(); age != nil {
		v.add(validateDuration(age, p.Child("maxAge")))
		if age.GetNanos() > 0 {
			v.add(field.Invalid(p.Child("maxAge"), age.AsDuration().String(), "max_age duration is accurate only to seconds precision"))
		}
	}
}

func (v *vsValidator) fault(f *networking.HTTPFaultInjection, p *field.Path) {
	if f == nil {
		return
	}
	if f.GetAbort() == nil && f.GetDelay() == nil {
		v.add(field.Required(p, "HTTP fault injection must have an abort and/or a delay"))
	}
	if a := f.GetAbort(); a != nil {
		ap := p.Child("abort")
		v.add(validatePercentage(a.GetPercentage(), ap.Child("percentage")))
		switch e := a.GetErrorType().(type) {
		case *networking.HTTPFaultInjection_Abort_HttpStatus:
			v.add(validateHTTPStatus(e.HttpStatus, ap.Child("httpStatus")))
		case *networking.HTTPFaultInjection_Abort_GrpcStatus:
			if !supportedGRPCStatus[e.GrpcStatus] {
				v.add(invalid(ap.Child("grpcStatus"), e.GrpcStatus,
					"gRPC status %q is not supported. See https://github.com/grpc/grpc/blob/master/doc/statuscodes.md "+
						"for a list of supported codes, for example 'NOT_FOUND'", e.GrpcStatus))
			}
		case *networking.HTTPFaultInjection_Abort_Http2Error:
			v.add(field.Forbidden(ap.Child("http2Error"), "HTTP/2 abort fault injection not supported yet"))
		}
	}
	if d := f.GetDelay(); d != nil {
		dp := p.Child("delay")
		v.add(validatePercentage(d.GetPercentage(), dp.Child("percentage")))
		//nolint:staticcheck // percent is deprecated but still accepted.
		v.add(validateIntPercent(d.GetPercent(), dp.Child("percent")))
		switch t := d.GetHttpDelayType().(type) {
		case *networking.HTTPFaultInjection_Delay_FixedDelay:
			v.add(validateDuration(t.FixedDelay, dp.Child("fixedDelay")))
		case *networking.HTTPFaultInjection_Delay_ExponentialDelay:
			v.add(validateDuration(t.ExponentialDelay, dp.Child("exponentialDelay")))
			v.add(field.Forbidden(dp.Child("exponentialDelay"), "exponentialDelay not supported yet"))
		}
	}
}

// validateHTTPStatus checks a status code Envoy may send. Istio tests
// "> 600", so 600 passes although the message says 200-599.
func validateHTTPStatus(status int32, p *field.Path) *field.Error {
	if status < 200 || status > 600 {
		return invalid(p, status, "HTTP status %d is not in range 200-599", status)
	}
	return nil
}

func (v *vsValidator) mirrors(r *networking.HTTPRoute, p *field.Path) {
	//nolint:staticcheck // mirrorPercent is deprecated but still accepted.
	if mp := r.GetMirrorPercent(); mp != nil {
		if mp.GetValue() > 100 {
			v.add(invalid(p.Child("mirrorPercent"), int64(mp.GetValue()), "mirror_percent must have a max value of 100 (it has %d)", mp.GetValue()))
		}
		v.warn(p.Child("mirrorPercent"), `using deprecated setting "mirrorPercent", use "mirrorPercentage" instead`)
	}
	if mp := r.GetMirrorPercentage(); mp != nil {
		val := mp.GetValue()
		if val > 100 {
			v.add(invalid(p.Child("mirrorPercentage", "value"), val, "mirror_percentage must have a max value of 100 (it has %f)", val))
		}
		if val < 0 {
			v.add(invalid(p.Child("mirrorPercentage", "value"), val, "mirror_percentage must have a min value of 0 (it has %f)", val))
		}
	}
	if r.GetMirror() != nil && len(r.GetMirrors()) > 0 {
		v.add(field.Forbidden(p.Child("mirrors"), "`mirror` and `mirrors` cannot be used together"))
	}
	if r.GetMirror() != nil {
		v.destination(r.GetMirror(), p.Child("mirror"))
	}
	for i, m := range r.GetMirrors() {
		mp := p.Child("mirrors").Index(i)
		if m == nil {
			v.add(field.Required(mp, "mirror cannot be null"))
			continue
		}
		if m.GetDestination() == nil {
			v.add(field.Required(mp.Child("destination"), "destination is required for mirrors"))
		} else {
			v.destination(m.GetDestination(), mp.Child("destination"))
		}
		if pct := m.GetPercentage(); pct != nil {
			val := pct.GetValue()
			if val > 100 {
				v.add(invalid(mp.Child("percentage", "value"), val, "mirror percentage must have a max value of 100 (it has %f)", val))
			}
			if val < 0 {
				v.add(invalid(mp.Child("percentage", "value"), val, "mirror percentage must have a min value of 0 (it has %f)", val))
			}
		}
	}
}

func (v *vsValidator) redirect(r *networking.HTTPRoute, p *field.Path) {
	rd := r.GetRedirect()
	if rd == nil {
		return
	}
	rp := p.Child("redirect")
	if rd.GetUri() == "" && rd.GetAuthority() == "" && rd.GetRedirectPort() == nil && rd.GetScheme() == "" && rd.GetPrefixRewrite() == "" {
		v.add(field.Required(rp, "redirect must specify URI, authority, scheme, or port"))
	}
	if code := rd.GetRedirectCode(); code != 0 && (code < 300 || code > 399) {
		v.add(invalid(rp.Child("redirectCode"), int64(code), "%d is not a valid redirect code, must be 3xx", code))
	}
	if s := rd.GetScheme(); s != "" && s != "http" && s != "https" {
		v.add(field.Invalid(rp.Child("scheme"), s, `invalid redirect scheme, must be "http" or "https"`))
	}
	if port := rd.GetPort(); port > 0xFFFF {
		v.add(invalid(rp.Child("port"), int64(port), "redirect port (%d) exceeds the maximum port value 65535", port))
	}
	if rd.GetPrefixRewrite() == "" {
		return
	}
	if rd.GetUri() != "" {
		v.add(field.Forbidden(rp.Child("prefixRewrite"), "redirect cannot contain both uri and prefixRewrite"))
	}
	for j, m := range r.GetMatch() {
		if m.GetUri().GetMatchType() == nil {
			continue
		}
		if _, isPrefix := m.GetUri().GetMatchType().(*networking.StringMatch_Prefix); !isPrefix {
			v.add(field.Forbidden(rp.Child("prefixRewrite"),
				fmt.Sprintf("redirect prefixRewrite needs a prefix uri match, but match[%d] is not one", j)))
		}
	}
}

func (v *vsValidator) directResponse(d *networking.HTTPDirectResponse, p *field.Path) {
	if d == nil {
		return
	}
	if b := d.GetBody(); b != nil {
		size := 0
		switch s := b.GetSpecifier().(type) {
		case *networking.HTTPBody_String_:
			size = len(s.String_)
		case *networking.HTTPBody_Bytes:
			size = len(s.Bytes) * 4 / 3 // sent base64-encoded
		}
		switch {
		case size > directResponseBodyMaxSize:
			v.add(field.Invalid(p.Child("body"), field.OmitValueType{},
				"large direct_responses may impact control plane performance, must be less than 1MB"))
		case size > directResponseBodyWarnSize:
			v.warn(p.Child("body"), "large direct_responses may impact control plane performance")
		}
	}
	status := d.GetStatus()
	if status < 200 || status > 600 {
		v.add(invalid(p.Child("status"), int64(status), "HTTP status %d is not in range 200-599", status))
	}
}

func (v *vsValidator) retries(r *networking.HTTPRetry, p *field.Path) {
	if r == nil {
		return
	}
	if r.GetAttempts() < 0 {
		v.add(field.Invalid(p.Child("attempts"), r.GetAttempts(), "attempts cannot be negative"))
	}
	if r.GetAttempts() == 0 && (r.GetPerTryTimeout() != nil || r.GetRetryOn() != "" || r.GetRetryRemoteLocalities() != nil) {
		v.add(field.Forbidden(p, "http retry policy configured when attempts are set to 0 (disabled)"))
	}
	v.add(validateDuration(r.GetPerTryTimeout(), p.Child("perTryTimeout")))
	v.add(validateDuration(r.GetBackoff(), p.Child("backoff")))
	if r.GetRetryOn() == "" {
		return
	}
	for _, policy := range strings.Split(r.GetRetryOn(), ",") {
		if supportedRetryOn[policy] || isHTTPStatusCode(policy) {
			continue
		}
		v.add(invalid(p.Child("retryOn"), r.GetRetryOn(), "%q is not a valid retryOn policy", policy))
	}
}

// isHTTPStatusCode reports whether s is the number of a known HTTP status.
func isHTTPStatusCode(s string) bool {
	code, err := strconv.Atoi(s)
	return err == nil && http.StatusText(code) != ""
}

func (v *vsValidator) rewrite(r *networking.HTTPRewrite, p *field.Path) {
	if r == nil {
		return
	}
	if r.GetUri() != "" && r.GetUriRegexRewrite() != nil {
		v.add(field.Forbidden(p.Child("uriRegexRewrite"), "rewrite may only contain one of URI or UriRegexRewrite"))
	}
	if r.GetUri() == "" && r.GetUriRegexRewrite() == nil && r.GetAuthority() == "" {
		v.add(field.Required(p, "rewrite must specify at least one of URI, UriRegexRewrite, or authority. Only one of URI or UriRegexRewrite may be specified"))
	}
	if rr := r.GetUriRegexRewrite(); rr != nil {
		rp := p.Child("uriRegexRewrite")
		if rr.GetMatch() == "" || rr.GetRewrite() == "" {
			v.add(field.Required(rp, "UriRegexRewrite requires both Rewrite and Match fields to be specified"))
		}
		if rr.GetMatch() != "" {
			v.add(validateRegex(rr.GetMatch(), "HTTPRewrite.UriRegexRewrite.Match", rp.Child("match")))
		}
	}
}

func (v *vsValidator) httpRouteDestinations(routes []*networking.HTTPRouteDestination, p *field.Path) {
	var total int64
	for i, rd := range routes {
		rp := p.Index(i)
		if rd == nil {
			v.add(field.Required(rp, "weight may not be nil"))
			continue
		}
		if rd.GetDestination() == nil {
			v.add(field.Required(rp.Child("destination"), "destination is required"))
		} else {
			v.destination(rd.GetDestination(), rp.Child("destination"))
		}
		v.addList(validateHeaderOperations(rd.GetHeaders(), rp.Child("headers")))
		v.add(validateWeight(rd.GetWeight(), rp.Child("weight")))
		total += int64(rd.GetWeight())
	}
	if len(routes) > 1 && total == 0 {
		v.add(field.Invalid(p, int64(total), "total destination weight = 0"))
	}
}
