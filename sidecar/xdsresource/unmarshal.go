package xdsresource

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Type URLs of the resources this package decodes.
const (
	ListenerType = "type.googleapis.com/envoy.config.listener.v3.Listener"
	RouteType    = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
	ClusterType  = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
	EndpointType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
)

// Well-known extension names.
const (
	FilterHTTPConnectionManager = "envoy.filters.network.http_connection_manager"
	FilterTCPProxy              = "envoy.filters.network.tcp_proxy"
	FilterFault                 = "envoy.filters.http.fault"
	FilterRouter                = "envoy.filters.http.router"
	ListenerFilterOriginalDst   = "envoy.filters.listener.original_dst"
	ListenerFilterHTTPInspector = "envoy.filters.listener.http_inspector"
	ListenerFilterTLSInspector  = "envoy.filters.listener.tls_inspector"
	PredicatePreviousHosts      = "envoy.retry_host_predicates.previous_hosts"
	UpstreamHTTPOptions         = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
)

// ErrInvalid marks a resource that failed validation; errors.Is works on all
// decoding errors returned by this package.
var ErrInvalid = errors.New("invalid resource")

type invalidError struct{ err error }

func (e *invalidError) Error() string       { return e.err.Error() }
func (e *invalidError) Unwrap() []error     { return []error{ErrInvalid, e.err} }
func invalid(format string, a ...any) error { return &invalidError{fmt.Errorf(format, a...)} }

// decodeAny unmarshals a into m after checking its type URL and allowlist.
func decodeAny(a *anypb.Any, m proto.Message, path string) error {
	want := "type.googleapis.com/" + string(m.ProtoReflect().Descriptor().FullName())
	if a.GetTypeUrl() != want {
		return invalid("%s: type %q, want %q", path, a.GetTypeUrl(), want)
	}
	if err := proto.Unmarshal(a.GetValue(), m); err != nil {
		return invalid("%s: decode: %w", path, err)
	}
	if err := checkFields(m.ProtoReflect(), path); err != nil {
		return &invalidError{err}
	}
	return nil
}

func typeName(a *anypb.Any) string {
	return strings.TrimPrefix(a.GetTypeUrl(), "type.googleapis.com/")
}

func duration(d *durationpb.Duration, path string) (time.Duration, error) {
	if d == nil {
		return 0, nil
	}
	if err := d.CheckValid(); err != nil {
		return 0, invalid("%s: %w", path, err)
	}
	v := d.AsDuration()
	if v < 0 {
		return 0, invalid("%s: negative duration %v", path, v)
	}
	return v, nil
}

// perMillion converts a FractionalPercent to parts per million, capped at 1e6.
func perMillion(f *typev3.FractionalPercent) uint32 {
	if f == nil {
		return 0
	}
	n := uint64(f.GetNumerator())
	switch f.GetDenominator() {
	case typev3.FractionalPercent_HUNDRED:
		n *= 10000
	case typev3.FractionalPercent_TEN_THOUSAND:
		n *= 100
	}
	if n > 1e6 {
		n = 1e6
	}
	return uint32(n)
}

// compileRegex compiles an RE2 pattern anchored on both ends: Envoy's
// safe_regex matches the whole value.
func compileRegex(re *matcherv3.RegexMatcher, path string) (*regexp.Regexp, error) {
	if re == nil {
		return nil, invalid("%s: regex matcher is empty", path)
	}
	r, err := regexp.Compile("^(?:" + re.GetRegex() + ")$")
	if err != nil {
		return nil, invalid("%s.regex: %w", path, err)
	}
	return r, nil
}

func stringMatcher(m *matcherv3.StringMatcher, path string) (StringMatcher, error) {
	out := StringMatcher{IgnoreCase: m.GetIgnoreCase()}
	switch p := m.GetMatchPattern().(type) {
	case *matcherv3.StringMatcher_Exact:
		out.Kind, out.Value = MatchExact, p.Exact
	case *matcherv3.StringMatcher_Prefix:
		out.Kind, out.Value = MatchPrefix, p.Prefix
	case *matcherv3.StringMatcher_Suffix:
		out.Kind, out.Value = MatchSuffix, p.Suffix
	case *matcherv3.StringMatcher_Contains:
		out.Kind, out.Value = MatchContains, p.Contains
	case *matcherv3.StringMatcher_SafeRegex:
		r, err := compileRegex(p.SafeRegex, path+".safe_regex")
		if err != nil {
			return out, err
		}
		out.Kind, out.Regex, out.IgnoreCase = MatchRegex, r, false
		if m.GetIgnoreCase() {
			return out, invalid("%s.ignore_case: not allowed with safe_regex", path)
		}
	default:
		return out, invalid("%s: no match pattern", path)
	}
	if out.IgnoreCase {
		out.Value = strings.ToLower(out.Value)
	}
	return out, nil
}

// headerOptions decodes request/response headers_to_add.
func headerOptions(in []*corev3.HeaderValueOption, path string) ([]HeaderValueOption, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]HeaderValueOption, 0, len(in))
	for i, o := range in {
		p := fmt.Sprintf("%s[%d]", path, i)
		h := o.GetHeader()
		if h == nil || h.GetKey() == "" {
			return nil, invalid("%s.header: key is empty", p)
		}
		if err := mutableHeader(h.GetKey(), p+".header.key"); err != nil {
			return nil, err
		}
		v := h.GetValue()
		if len(h.GetRawValue()) > 0 {
			v = string(h.GetRawValue())
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return nil, invalid("%s.header.value: contains CR, LF or NUL", p)
		}
		if strings.Contains(v, "%") {
			return nil, invalid("%s.header.value: command operators (%%...%%) are not supported", p)
		}
		hv := HeaderValueOption{Name: http.CanonicalHeaderKey(h.GetKey()), Value: v, KeepEmpty: o.GetKeepEmptyValue()}
		switch {
		case o.GetAppend() != nil:
			if o.GetAppendAction() != corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD {
				return nil, invalid("%s: append and append_action are both set", p)
			}
			if o.GetAppend().GetValue() {
				hv.Action = AppendIfExistsOrAdd
			} else {
				hv.Action = OverwriteIfExistsOrAdd
			}
		default:
			switch o.GetAppendAction() {
			case corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD:
				hv.Action = AppendIfExistsOrAdd
			case corev3.HeaderValueOption_ADD_IF_ABSENT:
				hv.Action = AddIfAbsent
			case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD:
				hv.Action = OverwriteIfExistsOrAdd
			case corev3.HeaderValueOption_OVERWRITE_IF_EXISTS:
				hv.Action = OverwriteIfExists
			default:
				return nil, invalid("%s.append_action: unknown value %v", p, o.GetAppendAction())
			}
		}
		out = append(out, hv)
	}
	return out, nil
}

func headersToRemove(in []string, path string) ([]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(in))
	for i, h := range in {
		if err := mutableHeader(h, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return nil, err
		}
		out = append(out, http.CanonicalHeaderKey(h))
	}
	return out, nil
}

// mutableHeader rejects headers Envoy does not let routes modify.
func mutableHeader(name, path string) error {
	if name == "" || strings.HasPrefix(name, ":") || strings.EqualFold(name, "host") {
		return invalid("%s: header %q cannot be modified", path, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("()<>@,;:\\\"/[]?={}", c) >= 0 {
			return invalid("%s: invalid header name %q", path, name)
		}
	}
	return nil
}
