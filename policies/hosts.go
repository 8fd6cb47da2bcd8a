package policies

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// Host and label syntax, as Istio's pkg/config/validation/agent and
// pkg/config/labels check it.

const (
	dns1123LabelMaxLength     = 63
	dns1123SubdomainMaxLength = 253
	domainMaxLength           = 255
)

const dns1123LabelFmt = "[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?"

var (
	// Istio's DNS-1123 label allows upper case, unlike Kubernetes'.
	dns1123LabelRegexp = regexp.MustCompile("^" + dns1123LabelFmt + "$")
	// A first label may be "*", or a label prefixed by "*" or "*-".
	wildcardLabelRegexp = regexp.MustCompile(`^(?:\*|(?:\*|\*-)?` + dns1123LabelFmt + `)$`)
	// Kubernetes object names and label prefixes: lower case only.
	dns1123SubdomainRegexp = regexp.MustCompile(`^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$`)
)

func isDNS1123Label(s string) bool {
	return len(s) <= dns1123LabelMaxLength && dns1123LabelRegexp.MatchString(s)
}

func isWildcardDNS1123Label(s string) bool {
	return len(s) <= dns1123LabelMaxLength && wildcardLabelRegexp.MatchString(s)
}

// isObjectName reports whether s is a valid Kubernetes object name (a
// DNS-1123 subdomain), as delegate names and label key prefixes must be.
func isObjectName(s string) bool {
	return len(s) <= dns1123SubdomainMaxLength && dns1123SubdomainRegexp.MatchString(s)
}

func isIPAddress(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// checkDomainLength holds the checks common to wildcard domains and FQDNs.
func checkDomainLength(name string) error {
	if len(name) > domainMaxLength {
		return fmt.Errorf("domain name %q too long (max %d)", name, domainMaxLength)
	}
	if name == "" {
		return fmt.Errorf("empty domain name not allowed")
	}
	return nil
}

// checkWildcardDomain reports whether domain is a DNS name whose first label
// may be a wildcard: "reviews", "reviews.default.svc.cluster.local", "*.foo.com", "*".
func checkWildcardDomain(domain string) error {
	if err := checkDomainLength(domain); err != nil {
		return err
	}
	first, rest, found := strings.Cut(domain, ".")
	if !isWildcardDNS1123Label(first) {
		return fmt.Errorf("domain name %q invalid (label %q invalid)", domain, first)
	}
	if found {
		return checkDNS1123Labels(rest)
	}
	return nil
}

// checkFQDN reports whether name is a DNS name without wildcards.
func checkFQDN(name string) error {
	if err := checkDomainLength(name); err != nil {
		return err
	}
	return checkDNS1123Labels(name)
}

// checkDNS1123Labels checks each dot-separated label of domain. A trailing dot
// is allowed ("istio.io."); an all-numeric top-level label is not.
func checkDNS1123Labels(domain string) error {
	parts := strings.Split(domain, ".")
	tld := parts[len(parts)-1]
	if _, err := strconv.Atoi(tld); err == nil {
		return fmt.Errorf("domain name %q invalid (top level domain %q cannot be all-numeric)", domain, tld)
	}
	for i, label := range parts {
		if i == len(parts)-1 && label == "" {
			return nil
		}
		if !isDNS1123Label(label) {
			return fmt.Errorf("domain name %q invalid (label %q invalid)", domain, label)
		}
	}
	return nil
}

// hostName is a host as written in a VirtualService, possibly wildcarded.
type hostName string

func (n hostName) wildcarded() bool { return len(n) > 0 && n[0] == '*' }

// matches reports whether n and o overlap: equal names, or one wildcard
// covering the other ("*.com" and "foo.com"; "*" and anything).
func (n hostName) matches(o hostName) bool {
	switch {
	case n.wildcarded() && o.wildcarded():
		if len(n) < len(o) {
			return strings.HasSuffix(string(o[1:]), string(n[1:]))
		}
		return strings.HasSuffix(string(n[1:]), string(o[1:]))
	case n.wildcarded():
		return strings.HasSuffix(string(o), string(n[1:]))
	case o.wildcarded():
		return strings.HasSuffix(string(n), string(o[1:]))
	default:
		return n == o
	}
}

// subsetOf reports whether every name n covers is also covered by o.
func (n hostName) subsetOf(o hostName) bool {
	switch {
	case n.wildcarded() && o.wildcarded():
		return len(n) >= len(o) && strings.HasSuffix(string(n[1:]), string(o[1:]))
	case n.wildcarded():
		return false
	case o.wildcarded():
		return strings.HasSuffix(string(n), string(o[1:]))
	default:
		return n == o
	}
}
