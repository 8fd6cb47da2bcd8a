package router

import (
	"net/http"
	"sort"
	"strings"

	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

// Request is the part of an HTTP request that routing looks at. Building it
// from an *http.Request allocates nothing.
type Request struct {
	Method string
	// Authority is the Host header (or :authority), as received.
	Authority string
	// Path is the escaped path without the query string.
	Path   string
	Query  string
	Scheme string
	Header http.Header
}

// FromHTTP fills a Request from r.
func FromHTTP(r *http.Request) Request {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return Request{
		Method:    r.Method,
		Authority: r.Host,
		Path:      r.URL.EscapedPath(),
		Query:     r.URL.RawQuery,
		Scheme:    scheme,
		Header:    r.Header,
	}
}

// Table is a compiled, immutable route configuration. Build one per RDS
// update and publish it; Match is safe for concurrent use.
type Table struct {
	Name   string
	Config *xdsresource.RouteConfiguration

	exact      map[string]*VirtualHost
	suffixes   []wildcard // "*.example.com", longest first
	prefixes   []wildcard // "example.*", longest first
	any        *VirtualHost
	ignorePort bool
}

type wildcard struct {
	s  string
	vh *VirtualHost
}

// VirtualHost is a compiled virtual host.
type VirtualHost struct {
	*xdsresource.VirtualHost
	Table  *Table
	Routes []*Route
}

// Route is a compiled route with its effective policies resolved.
type Route struct {
	*xdsresource.Route
	VirtualHost *VirtualHost
	// Retry is the route's retry policy, or the virtual host's.
	Retry *xdsresource.RetryPolicy
	// Fault is the route's fault policy, or the virtual host's (the
	// connection manager's default applies when both are nil).
	Fault   *xdsresource.FaultPolicy
	headers []headerMatcher
}

type headerMatcher struct {
	xdsresource.HeaderMatcher
	key string // canonical MIME key, or the pseudo-header name
}

// NewTable compiles rc.
func NewTable(rc *xdsresource.RouteConfiguration) *Table {
	t := &Table{Name: rc.Name, Config: rc, exact: map[string]*VirtualHost{}, ignorePort: rc.IgnorePortInHostMatch}
	for _, v := range rc.VirtualHosts {
		vh := &VirtualHost{VirtualHost: v, Table: t}
		for _, r := range v.Routes {
			cr := &Route{Route: r, VirtualHost: vh, Retry: v.RetryPolicy, Fault: v.Fault}
			if r.Route != nil && r.Route.Retry != nil {
				cr.Retry = r.Route.Retry
			}
			if r.Fault != nil {
				cr.Fault = r.Fault
			}
			for _, h := range r.Match.Headers {
				key := h.Name
				if !strings.HasPrefix(key, ":") {
					key = http.CanonicalHeaderKey(key)
				}
				cr.headers = append(cr.headers, headerMatcher{HeaderMatcher: h, key: key})
			}
			vh.Routes = append(vh.Routes, cr)
		}
		for _, d := range v.Domains {
			switch {
			case d == "*":
				t.any = vh
			case strings.HasPrefix(d, "*"):
				t.suffixes = append(t.suffixes, wildcard{d[1:], vh})
			case strings.HasSuffix(d, "*"):
				t.prefixes = append(t.prefixes, wildcard{d[:len(d)-1], vh})
			default:
				t.exact[d] = vh
			}
		}
	}
	sort.SliceStable(t.suffixes, func(i, j int) bool { return len(t.suffixes[i].s) > len(t.suffixes[j].s) })
	sort.SliceStable(t.prefixes, func(i, j int) bool { return len(t.prefixes[i].s) > len(t.prefixes[j].s) })
	return t
}

// VirtualHostFor returns the virtual host serving authority, following
// Envoy's order: exact, longest suffix wildcard, longest prefix wildcard, "*".
func (t *Table) VirtualHostFor(authority string) *VirtualHost {
	host := lower(authority)
	if t.ignorePort {
		host = stripPort(host)
	}
	if vh, ok := t.exact[host]; ok {
		return vh
	}
	for _, w := range t.suffixes {
		if len(host) > len(w.s) && strings.HasSuffix(host, w.s) {
			return w.vh
		}
	}
	for _, w := range t.prefixes {
		if len(host) > len(w.s) && strings.HasPrefix(host, w.s) {
			return w.vh
		}
	}
	return t.any
}

// Match returns the first route of the request's virtual host that matches,
// or nil. It does not allocate for the common matchers.
func (t *Table) Match(r *Request) *Route {
	vh := t.VirtualHostFor(r.Authority)
	if vh == nil {
		return nil
	}
	for _, rt := range vh.Routes {
		if rt.Matches(r) {
			return rt
		}
	}
	return nil
}

// Matches reports whether r meets every condition of the route.
func (rt *Route) Matches(r *Request) bool {
	m := &rt.Match
	path := r.Path
	switch m.PathKind {
	case xdsresource.PathPrefix:
		if !hasPrefixFold(path, m.Path, m.CaseSensitive) {
			return false
		}
	case xdsresource.PathExact:
		if m.CaseSensitive {
			if path != m.Path {
				return false
			}
		} else if !strings.EqualFold(path, m.Path) {
			return false
		}
	case xdsresource.PathSeparatedPrefix:
		if !hasPrefixFold(path, m.Path, m.CaseSensitive) || (len(path) > len(m.Path) && path[len(m.Path)] != '/') {
			return false
		}
	case xdsresource.PathRegex:
		if !m.Regex.MatchString(path) {
			return false
		}
	}
	for i := range rt.headers {
		if !rt.headers[i].matches(r) {
			return false
		}
	}
	for i := range m.QueryParameters {
		q := &m.QueryParameters[i]
		v, ok := QueryValue(r.Query, q.Name)
		if !ok {
			return false
		}
		if q.String != nil && !q.String.Match(v) {
			return false
		}
	}
	return true
}

func (h *headerMatcher) matches(r *Request) bool {
	var v string
	var ok bool
	switch h.key {
	case ":method":
		v, ok = r.Method, true
	case ":authority":
		v, ok = r.Authority, true
	case ":path":
		v, ok = r.Path, true
		if r.Query != "" {
			v = r.Path + "?" + r.Query
		}
	case ":scheme":
		v, ok = r.Scheme, true
	default:
		vs := r.Header[h.key]
		switch len(vs) {
		case 0:
		case 1:
			v, ok = vs[0], true
		default:
			// Envoy matches multiple values joined with a comma.
			v, ok = strings.Join(vs, ","), true
		}
	}
	if !ok && h.TreatMissingAsEmpty {
		v, ok = "", true
	}
	var res bool
	if h.Kind == xdsresource.HeaderPresent {
		res = ok == h.Present
	} else {
		res = ok && h.String.Match(v)
	}
	return res != h.Invert
}

// QueryValue finds the first value of name in a raw query string, decoding
// it only when it is escaped.
func QueryValue(query, name string) (string, bool) {
	for query != "" {
		var pair string
		pair, query, _ = strings.Cut(query, "&")
		k, v, _ := strings.Cut(pair, "=")
		if k != name {
			if strings.ContainsAny(k, "%+") {
				if uk, err := unescape(k); err == nil && uk == name {
					return unescapeOrRaw(v), true
				}
			}
			continue
		}
		return unescapeOrRaw(v), true
	}
	return "", false
}

func unescapeOrRaw(v string) string {
	if !strings.ContainsAny(v, "%+") {
		return v
	}
	if u, err := unescape(v); err == nil {
		return u
	}
	return v
}

func hasPrefixFold(s, prefix string, caseSensitive bool) bool {
	if caseSensitive {
		return strings.HasPrefix(s, prefix)
	}
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

func stripPort(host string) string {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.IndexByte(host[i:], ']') >= 0 {
		return host
	}
	return host[:i]
}

// NormalizePath removes "." and ".." segments (RFC 3986 5.2.4) and, with
// mergeSlashes, collapses repeated slashes, as Envoy's normalize_path and
// merge_slashes do. It returns p unchanged (no allocation) when already
// normal.
func NormalizePath(p string, mergeSlashes bool) string {
	if !needsNormalizing(p, mergeSlashes) {
		return p
	}
	segs := strings.Split(p, "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch {
		case s == ".":
			if last {
				out = append(out, "")
			}
		case s == "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		case s == "" && mergeSlashes && i > 0 && !last:
		default:
			out = append(out, s)
		}
	}
	r := strings.Join(out, "/")
	if !strings.HasPrefix(r, "/") {
		r = "/" + r
	}
	return r
}

func needsNormalizing(p string, mergeSlashes bool) bool {
	if mergeSlashes && strings.Contains(p, "//") {
		return true
	}
	return strings.Contains(p, "/.") || p == "." || p == ".."
}
