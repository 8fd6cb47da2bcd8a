package router

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

// PickCluster returns the weighted destination for a random number rnd
// (any value; it is reduced modulo the total weight).
func PickCluster(a *xdsresource.RouteAction, rnd uint64) *xdsresource.WeightedCluster {
	if len(a.Clusters) == 1 {
		return &a.Clusters[0]
	}
	n := uint32(rnd % uint64(a.TotalWeight))
	for i := range a.Clusters {
		if n < a.Clusters[i].Weight {
			return &a.Clusters[i]
		}
		n -= a.Clusters[i].Weight
	}
	return &a.Clusters[len(a.Clusters)-1]
}

// RewritePath applies prefix_rewrite or regex_rewrite to path (escaped,
// without query). It returns path unchanged when the route rewrites nothing.
func RewritePath(rt *Route, path string) string {
	a := rt.Route.Route
	switch {
	case a.PrefixRewrite != "":
		m := &rt.Match
		switch m.PathKind {
		case xdsresource.PathExact:
			return a.PrefixRewrite
		default:
			if len(path) >= len(m.Path) {
				return a.PrefixRewrite + path[len(m.Path):]
			}
		}
	case a.RegexRewrite != nil:
		return a.RegexRewrite.ReplaceAllString(path, a.RegexSubstitution)
	}
	return path
}

// RedirectLocation builds the Location of a redirect route for r.
func RedirectLocation(rt *Route, r *Request) string {
	d := rt.Redirect
	scheme := r.Scheme
	if d.Scheme != "" {
		scheme = d.Scheme
	}
	host, port := splitHostPort(r.Authority)
	if d.Host != "" {
		host = d.Host
	}
	if d.Port != 0 {
		port = strconv.Itoa(int(d.Port))
	} else if d.Scheme != "" && d.Scheme != r.Scheme {
		port = "" // a scheme change drops the old default port
	}
	if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		port = ""
	}
	path, query := r.Path, r.Query
	switch {
	case d.Path != "":
		path = d.Path
		if p, q, ok := strings.Cut(d.Path, "?"); ok {
			path, query = p, q
		}
	case d.PrefixRewrite != "":
		if rt.Match.PathKind == xdsresource.PathExact {
			path = d.PrefixRewrite
		} else if len(path) >= len(rt.Match.Path) {
			path = d.PrefixRewrite + path[len(rt.Match.Path):]
		}
	case d.RegexRewrite != nil:
		path = d.RegexRewrite.ReplaceAllString(path, d.RegexSubst)
	}
	if d.StripQuery {
		query = ""
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	b.WriteString(path)
	if query != "" {
		b.WriteByte('?')
		b.WriteString(query)
	}
	return b.String()
}

func splitHostPort(authority string) (string, string) {
	if h, p, err := net.SplitHostPort(authority); err == nil {
		return h, p
	}
	return authority, ""
}

// ApplyHeaders removes then adds headers as Envoy does for one level of
// header mutations.
func ApplyHeaders(h http.Header, add []xdsresource.HeaderValueOption, remove []string) {
	for _, k := range remove {
		delete(h, k)
	}
	for i := range add {
		o := &add[i]
		if o.Value == "" && !o.KeepEmpty {
			continue
		}
		_, exists := h[o.Name]
		switch o.Action {
		case xdsresource.AppendIfExistsOrAdd:
			h[o.Name] = append(h[o.Name], o.Value)
		case xdsresource.AddIfAbsent:
			if !exists {
				h[o.Name] = []string{o.Value}
			}
		case xdsresource.OverwriteIfExistsOrAdd:
			h[o.Name] = []string{o.Value}
		case xdsresource.OverwriteIfExists:
			if exists {
				h[o.Name] = []string{o.Value}
			}
		}
	}
}

// RequestHeaders applies every level of request header mutations, most
// specific first (weighted cluster, route, virtual host, route config), as
// Envoy does by default.
func RequestHeaders(h http.Header, rt *Route, wc *xdsresource.WeightedCluster) {
	if wc != nil {
		ApplyHeaders(h, wc.RequestHeadersToAdd, wc.RequestHeadersToRemove)
	}
	ApplyHeaders(h, rt.RequestHeadersToAdd, rt.RequestHeadersToRemove)
	vh := rt.VirtualHost
	ApplyHeaders(h, vh.RequestHeadersToAdd, vh.RequestHeadersToRemove)
	rc := vh.Table.Config
	ApplyHeaders(h, rc.RequestHeadersToAdd, rc.RequestHeadersToRemove)
}

// ResponseHeaders is RequestHeaders for the response.
func ResponseHeaders(h http.Header, rt *Route, wc *xdsresource.WeightedCluster) {
	if wc != nil {
		ApplyHeaders(h, wc.ResponseHeadersToAdd, wc.ResponseHeadersToRemove)
	}
	ApplyHeaders(h, rt.ResponseHeadersToAdd, rt.ResponseHeadersToRemove)
	vh := rt.VirtualHost
	ApplyHeaders(h, vh.ResponseHeadersToAdd, vh.ResponseHeadersToRemove)
	rc := vh.Table.Config
	ApplyHeaders(h, rc.ResponseHeadersToAdd, rc.ResponseHeadersToRemove)
}

// HasHeaderOps reports whether any level mutates response headers, so the
// proxy can skip the work for the common case.
func (rt *Route) HasResponseHeaderOps() bool {
	vh := rt.VirtualHost
	rc := vh.Table.Config
	return len(rt.ResponseHeadersToAdd)+len(rt.ResponseHeadersToRemove)+len(vh.ResponseHeadersToAdd)+
		len(vh.ResponseHeadersToRemove)+len(rc.ResponseHeadersToAdd)+len(rc.ResponseHeadersToRemove) > 0
}

// HashResult is the consistent-hash key of a request.
type HashResult struct {
	Hash uint64
	OK   bool
	// SetCookie, when not nil, must be added to the response: the cookie
	// policy generated a value because the request had none.
	SetCookie *http.Cookie
}

// Hash computes the request's hash from the route's hash_policy, combining
// policies as Envoy does. remoteAddr is the downstream "ip:port".
func Hash(a *xdsresource.RouteAction, r *Request, remoteAddr string) HashResult {
	var res HashResult
	for i := range a.HashPolicies {
		p := &a.HashPolicies[i]
		var v string
		var ok bool
		switch p.Kind {
		case xdsresource.HashHeader:
			if vs := r.Header[http.CanonicalHeaderKey(p.Name)]; len(vs) > 0 {
				v, ok = vs[0], true
			} else if p.Name == ":authority" {
				v, ok = r.Authority, true
			} else if p.Name == ":path" {
				v, ok = r.Path, true
			}
		case xdsresource.HashCookie:
			v, ok = cookieValue(r.Header, p.Name)
			if !ok && p.CookieTTL > 0 {
				v = strconv.FormatUint(xxhash.Sum64String(remoteAddr), 16)
				ok = true
				res.SetCookie = &http.Cookie{Name: p.Name, Value: v, Path: p.CookiePath,
					MaxAge: int(p.CookieTTL.Seconds()), HttpOnly: true}
			}
		case xdsresource.HashSourceIP:
			host, _, err := net.SplitHostPort(remoteAddr)
			if err == nil {
				v, ok = host, true
			}
		case xdsresource.HashQueryParameter:
			v, ok = QueryValue(r.Query, p.Name)
		}
		if !ok {
			continue
		}
		h := xxhash.Sum64String(v)
		if res.OK {
			res.Hash = (res.Hash<<1 | res.Hash>>63) ^ h
		} else {
			res.Hash, res.OK = h, true
		}
		if p.Terminal {
			break
		}
	}
	return res
}

func cookieValue(h http.Header, name string) (string, bool) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if ok && k == name {
				return strings.Trim(v, `"`), true
			}
		}
	}
	return "", false
}

func unescape(s string) (string, error) { return url.QueryUnescape(s) }
