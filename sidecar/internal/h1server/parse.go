package h1server

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// head is what the parser learnt from a request head besides the fields it
// set on the request.
type head struct {
	// contentLength is the declared body length; -1 for chunked.
	contentLength int64
	chunked       bool
	// wantsClose: the request asked for Connection: close.
	wantsClose bool
}

// headEnd returns the length of the request head at the start of b (up to
// and including its blank line), 0 when b holds no complete head yet, or -1
// when the head is not one parsePlain takes (a bare LF or CR, or
// something before the request line): the caller falls back.
func headEnd(b []byte) int {
	if len(b) > 0 && !isTokenByte(b[0]) {
		return -1
	}
	start := 0 // of the current line
	for i := 0; i < len(b); i++ {
		if b[i] == '\r' && i+1 < len(b) && b[i+1] != '\n' {
			return -1 // a bare CR
		}
		if b[i] != '\n' {
			continue
		}
		if i == 0 || b[i-1] != '\r' {
			return -1
		}
		if i-start == 1 { // "\r\n": the blank line
			return i + 1
		}
		start = i + 1
	}
	return 0
}

// parsePlain parses a request head s (from headEnd: CRLF lines, the blank
// line included) into r, u and h, the value slices of h taken from strs.
// It takes only plain HTTP/1.1 requests: a token method other than CONNECT
// and PRI; an origin-form or absolute-form target (url.ParseRequestURI's
// result); "Token: value" header lines with valid values, one valid Host,
// at most one numeric Content-Length or one Transfer-Encoding: chunked (not
// both); and none of Expect, Upgrade, Trailer, Pragma, HTTP2-Settings, or a
// Connection header naming upgrade. For anything else it returns false and
// the caller hands the connection to net/http, which gives the request
// exactly its treatment (a 400 for a malformed one). Strings in r and h are
// substrings of s.
func parsePlain(s string, r *http.Request, u *url.URL, h http.Header, strs []string) (head, []string, bool) {
	var hd head
	// Request line: method SP target SP HTTP/1.1 CRLF.
	eol := strings.IndexByte(s, '\r')
	if eol < 0 {
		return hd, strs, false
	}
	line := s[:eol]
	sp := strings.IndexByte(line, ' ')
	if sp <= 0 {
		return hd, strs, false
	}
	method := line[:sp]
	for i := 0; i < len(method); i++ {
		if !isTokenByte(method[i]) {
			return hd, strs, false
		}
	}
	if method == "CONNECT" || method == "PRI" {
		return hd, strs, false
	}
	rest := line[sp+1:]
	sp = strings.IndexByte(rest, ' ')
	if sp <= 0 || rest[sp+1:] != "HTTP/1.1" {
		return hd, strs, false
	}
	target := rest[:sp]
	if !parseTarget(target, u) {
		return hd, strs, false
	}
	rest = s[eol+2:]

	var host string
	nhost := 0
	cl := ""
	for {
		eol = strings.IndexByte(rest, '\r')
		if eol < 0 {
			return hd, strs, false
		}
		line := rest[:eol]
		rest = rest[eol+2:]
		if line == "" {
			break
		}
		colon := -1
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c == ':' {
				colon = i
				break
			}
			if !isTokenByte(c) {
				return hd, strs, false
			}
		}
		if colon <= 0 {
			return hd, strs, false
		}
		v := line[colon+1:]
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
				return hd, strs, false
			}
		}
		v = trimOWS(v)
		k := textproto.CanonicalMIMEHeaderKey(line[:colon])
		switch k {
		case "Host":
			nhost++
			host = v
			continue // net/http removes Host from the header map
		case "Content-Length":
			if cl != "" || !plainLength(v) {
				return hd, strs, false
			}
			cl = v
		case "Transfer-Encoding":
			if hd.chunked || !strings.EqualFold(v, "chunked") {
				return hd, strs, false
			}
			hd.chunked = true
			continue // net/http removes it too
		case "Connection":
			for _, f := range strings.Split(v, ",") {
				f = strings.TrimSpace(f)
				switch {
				case strings.EqualFold(f, "close"):
					hd.wantsClose = true
				case strings.EqualFold(f, "upgrade"):
					return hd, strs, false
				}
			}
		case "Expect", "Upgrade", "Trailer", "Pragma", "Http2-Settings":
			return hd, strs, false
		}
		if vv := h[k]; vv != nil {
			h[k] = append(vv, v)
		} else {
			if len(strs) == 0 {
				strs = make([]string, 16)
			}
			vv, strs = strs[:1:1], strs[1:]
			vv[0] = v
			h[k] = vv
		}
	}
	if nhost != 1 || !httpguts.ValidHostHeader(host) || hd.chunked && cl != "" {
		return hd, strs, false
	}
	switch {
	case hd.chunked:
		hd.contentLength = -1
	case cl != "":
		var n int64
		for i := 0; i < len(cl); i++ {
			n = n*10 + int64(cl[i]-'0')
		}
		hd.contentLength = n
	}
	r.Method = method
	r.URL = u
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	r.Header = h
	r.RequestURI = target
	r.Host = u.Host
	if r.Host == "" {
		r.Host = host
	}
	r.Close = hd.wantsClose
	r.ContentLength = hd.contentLength
	return hd, strs, true
}

// parseTarget parses an origin-form ("/path?query") or absolute-form
// ("http://host:port/path?query") request target into u as
// url.ParseRequestURI does: itself for plain ones, by calling it for the
// rest. "*" and anything ParseRequestURI rejects return false.
func parseTarget(t string, u *url.URL) bool {
	*u = url.URL{}
	p := t
	if strings.HasPrefix(t, "http://") {
		a := t[len("http://"):]
		end := len(a)
		for i := 0; i < len(a); i++ {
			if a[i] == '/' || a[i] == '?' {
				end = i
				break
			}
		}
		if !plainHost(a[:end]) {
			return slowTarget(t, u)
		}
		u.Scheme, u.Host = "http", a[:end]
		p = a[end:]
		if p == "" {
			return true
		}
		if p[0] != '/' {
			return slowTarget(t, u)
		}
	} else if len(t) == 0 || t[0] != '/' {
		return slowTarget(t, u)
	}
	path, query := p, ""
	q := strings.IndexByte(p, '?')
	if q >= 0 {
		path, query = p[:q], p[q+1:]
		if query == "" {
			return slowTarget(t, u) // ForceQuery
		}
	}
	for i := 0; i < len(path); i++ {
		if !pathTable[path[i]] {
			return slowTarget(t, u)
		}
	}
	for i := 0; i < len(query); i++ {
		if c := query[i]; c <= ' ' || c >= 0x7f {
			return slowTarget(t, u)
		}
	}
	u.Path, u.RawQuery = path, query
	return true
}

func slowTarget(t string, u *url.URL) bool {
	if t == "*" {
		return false
	}
	pu, err := url.ParseRequestURI(t)
	if err != nil {
		return false
	}
	*u = *pu
	return true
}

// plainHost: a non-empty host name or IPv4 address with an optional port.
func plainHost(h string) bool {
	if h == "" {
		return false
	}
	colon := strings.IndexByte(h, ':')
	name := h
	if colon >= 0 {
		name = h[:colon]
		port := h[colon+1:]
		for i := 0; i < len(port); i++ {
			if !isDigit(port[i]) {
				return false
			}
		}
	}
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// plainLength: digits only, at most 18 (no sign, no overflow).
func plainLength(v string) bool {
	if v == "" || len(v) > 18 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// trimOWS trims spaces and tabs on both ends, as textproto does.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func isTokenByte(c byte) bool { return c < 0x80 && tokenTable[c] }

var tokenTable = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// pathTable: path bytes url.URL keeps as they are (no unescaping, no
// RawPath): unreserved characters and the sub-delimiters the path encoder
// leaves alone.
var pathTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-._~$&+,/:;=@" {
		t[c] = true
	}
	return t
}()
