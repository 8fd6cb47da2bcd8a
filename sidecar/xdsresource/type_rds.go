package xdsresource

import (
	"regexp"
	"strings"
	"time"
)

// RouteConfiguration is a decoded envoy.config.route.v3.RouteConfiguration.
type RouteConfiguration struct {
	Name                    string
	VirtualHosts            []*VirtualHost
	IgnorePortInHostMatch   bool
	RequestHeadersToAdd     []HeaderValueOption
	RequestHeadersToRemove  []string
	ResponseHeadersToAdd    []HeaderValueOption
	ResponseHeadersToRemove []string
}

// VirtualHost is a set of domains and the ordered routes serving them.
type VirtualHost struct {
	Name    string
	Domains []string
	Routes  []*Route
	// RetryPolicy applies to routes without their own.
	RetryPolicy             *RetryPolicy
	Fault                   *FaultPolicy
	IncludeAttemptCount     bool
	IncludeAttemptCountResp bool
	RequestHeadersToAdd     []HeaderValueOption
	RequestHeadersToRemove  []string
	ResponseHeadersToAdd    []HeaderValueOption
	ResponseHeadersToRemove []string
}

// ActionKind says what a route does with a matching request.
type ActionKind uint8

// Route actions.
const (
	ActionRoute ActionKind = iota
	ActionRedirect
	ActionDirectResponse
)

// Route is one match → action rule.
type Route struct {
	Name           string
	Match          RouteMatch
	Action         ActionKind
	Route          *RouteAction
	Redirect       *RedirectAction
	DirectResponse *DirectResponseAction
	// Fault is the per-route fault policy (typed_per_filter_config
	// envoy.filters.http.fault), nil when none.
	Fault                   *FaultPolicy
	Operation               string
	RequestHeadersToAdd     []HeaderValueOption
	RequestHeadersToRemove  []string
	ResponseHeadersToAdd    []HeaderValueOption
	ResponseHeadersToRemove []string
}

// PathMatchKind is the kind of path specifier of a route.
type PathMatchKind uint8

// Path specifiers.
const (
	PathPrefix PathMatchKind = iota
	PathExact
	PathRegex
	PathSeparatedPrefix
)

// RouteMatch holds the conditions a request must meet, all of them.
type RouteMatch struct {
	PathKind PathMatchKind
	// Path is the prefix or exact path; lower-cased when !CaseSensitive.
	Path            string
	Regex           *regexp.Regexp
	CaseSensitive   bool
	Headers         []HeaderMatcher
	QueryParameters []QueryParameterMatcher
}

// StringMatchKind is the kind of a StringMatcher.
type StringMatchKind uint8

// String match kinds.
const (
	MatchExact StringMatchKind = iota
	MatchPrefix
	MatchSuffix
	MatchContains
	MatchRegex
)

// StringMatcher is envoy.type.matcher.v3.StringMatcher.
type StringMatcher struct {
	Kind StringMatchKind
	// Value is lower-cased when IgnoreCase.
	Value      string
	Regex      *regexp.Regexp
	IgnoreCase bool
}

// Match reports whether s matches. It does not allocate for non-regex kinds
// unless IgnoreCase is set and s has upper-case letters.
func (m *StringMatcher) Match(s string) bool {
	if m.Kind == MatchRegex {
		return m.Regex.MatchString(s)
	}
	if m.IgnoreCase {
		s = lowerASCII(s)
	}
	switch m.Kind {
	case MatchExact:
		return s == m.Value
	case MatchPrefix:
		return strings.HasPrefix(s, m.Value)
	case MatchSuffix:
		return strings.HasSuffix(s, m.Value)
	case MatchContains:
		return strings.Contains(s, m.Value)
	}
	return false
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// HeaderMatchKind is the kind of a HeaderMatcher.
type HeaderMatchKind uint8

// Header match kinds.
const (
	HeaderString HeaderMatchKind = iota
	HeaderPresent
)

// HeaderMatcher matches one request header. Name is lower-case; the
// pseudo-headers :method, :authority, :path and :scheme are supported.
type HeaderMatcher struct {
	Name                string
	Kind                HeaderMatchKind
	String              StringMatcher
	Present             bool
	Invert              bool
	TreatMissingAsEmpty bool
}

// QueryParameterMatcher matches one query parameter.
type QueryParameterMatcher struct {
	Name    string
	Present bool
	// String is nil for present matches.
	String *StringMatcher
}

// WeightedCluster is one destination of a route or TCP proxy.
type WeightedCluster struct {
	Name                    string
	Weight                  uint32
	HostRewrite             string
	RequestHeadersToAdd     []HeaderValueOption
	RequestHeadersToRemove  []string
	ResponseHeadersToAdd    []HeaderValueOption
	ResponseHeadersToRemove []string
}

// DefaultRouteTimeout is Envoy's route timeout when none is configured.
const DefaultRouteTimeout = 15 * time.Second

// RouteAction forwards to a cluster.
type RouteAction struct {
	// Clusters has one entry (weight 1) for a single-cluster route.
	Clusters            []WeightedCluster
	TotalWeight         uint32
	ClusterNotFoundCode int
	// Timeout is the whole-request timeout; 0 disables it.
	Timeout           time.Duration
	IdleTimeout       time.Duration
	PrefixRewrite     string
	RegexRewrite      *regexp.Regexp
	RegexSubstitution string
	HostRewrite       string
	AutoHostRewrite   bool
	Retry             *RetryPolicy
	Mirrors           []MirrorPolicy
	HashPolicies      []HashPolicy
	// GRPCTimeoutHeaderMax, when set, lets grpc-timeout bound the timeout
	// (0 means no cap).
	GRPCTimeoutHeaderMax *time.Duration
	// WebSocket is the route-level override of upgrade_configs (nil: use the
	// connection manager's setting).
	WebSocket *bool
}

// RetryOn is a set of Envoy retry conditions.
type RetryOn uint32

// Retry conditions, named as in Envoy's x-envoy-retry-on.
const (
	Retry5xx RetryOn = 1 << iota
	RetryGatewayError
	RetryReset
	RetryConnectFailure
	RetryRefusedStream
	RetryRetriable4xx
	RetryRetriableStatusCodes
	RetryGRPCCancelled
	RetryGRPCDeadlineExceeded
	RetryGRPCInternal
	RetryGRPCResourceExhausted
	RetryGRPCUnavailable
)

// RetryOnNames maps Envoy's retry_on tokens to conditions.
var RetryOnNames = map[string]RetryOn{
	"5xx":                    Retry5xx,
	"gateway-error":          RetryGatewayError,
	"reset":                  RetryReset,
	"connect-failure":        RetryConnectFailure,
	"refused-stream":         RetryRefusedStream,
	"retriable-4xx":          RetryRetriable4xx,
	"retriable-status-codes": RetryRetriableStatusCodes,
	"cancelled":              RetryGRPCCancelled,
	"deadline-exceeded":      RetryGRPCDeadlineExceeded,
	"internal":               RetryGRPCInternal,
	"resource-exhausted":     RetryGRPCResourceExhausted,
	"unavailable":            RetryGRPCUnavailable,
}

// RetryPolicy is envoy.config.route.v3.RetryPolicy.
type RetryPolicy struct {
	On                   RetryOn
	NumRetries           uint32
	PerTryTimeout        time.Duration
	RetriableStatusCodes []uint32
	BackOffBase          time.Duration
	BackOffMax           time.Duration
	// PreviousHosts is the envoy.retry_host_predicates.previous_hosts predicate.
	PreviousHosts            bool
	HostSelectionMaxAttempts int64
}

// MirrorPolicy sends a copy of a fraction of requests to another cluster.
type MirrorPolicy struct {
	Cluster string
	// PerMillion is the sampled fraction, 0..1e6.
	PerMillion uint32
}

// HashKind is the source of a consistent-hash key.
type HashKind uint8

// Hash key sources.
const (
	HashHeader HashKind = iota
	HashCookie
	HashSourceIP
	HashQueryParameter
)

// HashPolicy is one element of a route's hash_policy.
type HashPolicy struct {
	Kind HashKind
	// Name is the header (lower-case), cookie or query parameter name.
	Name       string
	CookieTTL  time.Duration
	CookiePath string
	Terminal   bool
}

// RedirectAction answers with a redirect.
type RedirectAction struct {
	Scheme        string
	Host          string
	Port          uint32
	Path          string
	PrefixRewrite string
	RegexRewrite  *regexp.Regexp
	RegexSubst    string
	Code          int
	StripQuery    bool
}

// DirectResponseAction answers with a fixed response.
type DirectResponseAction struct {
	Status int
	Body   string
}

// FaultPolicy is a decoded envoy.extensions.filters.http.fault.v3.HTTPFault.
type FaultPolicy struct {
	Delay           time.Duration
	DelayPerMillion uint32
	// AbortStatus is the HTTP status to answer (0: no HTTP abort).
	AbortStatus int
	// AbortGRPC, when set, is the gRPC status to answer with.
	AbortGRPC       *uint32
	AbortPerMillion uint32
}

// HeaderAction is how a header value is added.
type HeaderAction uint8

// Header actions, as envoy.config.core.v3.HeaderValueOption.HeaderAppendAction.
const (
	AppendIfExistsOrAdd HeaderAction = iota
	AddIfAbsent
	OverwriteIfExistsOrAdd
	OverwriteIfExists
)

// HeaderValueOption is one header to add. Name is in canonical MIME form.
type HeaderValueOption struct {
	Name      string
	Value     string
	Action    HeaderAction
	KeepEmpty bool
}
