package policies

import (
	"fmt"
	"regexp"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// HTTP header names in matches, header operations and CORS.

var headerNameRegexp = regexp.MustCompile("^[-_A-Za-z0-9]+$")

// jwtClaimPrefix marks a header match key that routes on a JWT claim
// ("@request.auth.claims.groups", "@request.auth.claims[nested][key]").
const jwtClaimPrefix = "@request.auth.claims"

// isJWTClaimRoute reports whether a header match key names a JWT claim.
func isJWTClaimRoute(name string) bool {
	if !strings.HasPrefix(strings.ToLower(name), jwtClaimPrefix) {
		return false
	}
	rest := name[len(jwtClaimPrefix):]
	var keys []string
	switch {
	case strings.HasPrefix(rest, ".") && len(rest) > 1:
		keys = strings.Split(rest[1:], ".")
	case strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") && len(rest) > 2:
		keys = strings.Split(rest[1:len(rest)-1], "][")
	default:
		return false
	}
	for _, k := range keys {
		if k == "" {
			return false
		}
	}
	return true
}

func checkHeaderName(name string) error {
	if name == "" {
		return fmt.Errorf("header name cannot be empty")
	}
	if !headerNameRegexp.MatchString(name) {
		return fmt.Errorf("header name %s is not a valid header", name)
	}
	return nil
}

// checkMatchHeaderName checks a header match key: a header name or a JWT claim.
func checkMatchHeaderName(name string) error {
	if name != "" && isJWTClaimRoute(name) {
		return nil
	}
	return checkHeaderName(name)
}

// checkCORSHeaderName checks an allowHeaders/exposeHeaders entry.
func checkCORSHeaderName(name string) error {
	if name == "*" {
		return nil
	}
	return checkHeaderName(name)
}

func isAuthorityHeader(name string) bool {
	return name == ":authority" || strings.EqualFold(name, "host")
}

// checkHeaderOperationName checks a header that is removed, or set on a
// response: pseudo-headers and Host are off limits.
func checkHeaderOperationName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("header name cannot be empty")
	case strings.HasPrefix(name, ":"):
		return fmt.Errorf(`invalid header %q: header cannot have ":" prefix`, name)
	case strings.EqualFold(name, "host"):
		return fmt.Errorf(`invalid header %q: the host header cannot be changed here (use rewrite.authority or request set)`, name)
	}
	return nil
}

// checkRequestSetHeaderName checks a header set or added on a request, where
// the authority (":authority" or "host") may be set.
func checkRequestSetHeaderName(name string) error {
	if isAuthorityHeader(name) {
		return nil
	}
	return checkHeaderOperationName(name)
}

// checkHeaderValue rejects a lone "%": Envoy reads %VAR% as a substitution,
// and "%%" as a literal percent sign.
func checkHeaderValue(value string) error {
	if strings.Count(value, "%")%2 != 0 {
		return fmt.Errorf("single %% not allowed. Use %%%% to represent a literal %%")
	}
	return nil
}

// validateHeaderOperations checks the request and response header operations
// of a route or a route destination.
func validateHeaderOperations(h *networking.Headers, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	check := func(ops *networking.Headers_HeaderOperations, p *field.Path, checkSetName func(string) error) {
		if ops == nil {
			return
		}
		for _, kind := range []struct {
			name string
			m    map[string]string
		}{{"set", ops.GetSet()}, {"add", ops.GetAdd()}} {
			for _, name := range sortedKeys(kind.m) {
				hp := p.Child(kind.name).Key(name)
				if err := checkSetName(name); err != nil {
					errs = append(errs, field.Invalid(hp, name, err.Error()))
				}
				if err := checkHeaderValue(kind.m[name]); err != nil {
					errs = append(errs, field.Invalid(hp, kind.m[name], err.Error()))
				}
			}
		}
		for i, name := range ops.GetRemove() {
			if err := checkHeaderOperationName(name); err != nil {
				errs = append(errs, field.Invalid(p.Child("remove").Index(i), name, err.Error()))
			}
		}
	}
	check(h.GetRequest(), fldPath.Child("request"), checkRequestSetHeaderName)
	check(h.GetResponse(), fldPath.Child("response"), checkHeaderOperationName)
	return errs
}

// validateAuthorityRewrite rejects setting the authority twice: through
// rewrite.authority and through a request header operation, or through two
// header operations.
func validateAuthorityRewrite(rewrite *networking.HTTPRewrite, h *networking.Headers, fldPath *field.Path) *field.Error {
	current := rewrite.GetAuthority()
	for _, kind := range []struct {
		name string
		m    map[string]string
	}{{"set", h.GetRequest().GetSet()}, {"add", h.GetRequest().GetAdd()}} {
		for _, name := range sortedKeys(kind.m) {
			if !isAuthorityHeader(name) {
				continue
			}
			v := kind.m[name]
			if current != "" {
				return field.Forbidden(fldPath.Child("headers", "request", kind.name).Key(name),
					fmt.Sprintf("authority header cannot be set multiple times: have %q, attempting to set %q", current, v))
			}
			current = v
		}
	}
	return nil
}
