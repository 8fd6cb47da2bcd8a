package policies

import (
	"fmt"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// meshGateway is the reserved gateway name for the sidecars of the mesh.
const meshGateway = "mesh"

// ValidateVirtualService validates a VirtualService spec the way Istio's
// webhook does. Paths are rooted at fldPath (the caller passes
// field.NewPath("spec")), e.g. spec.http[0].route[1].weight. Every problem of
// the spec is reported. Warnings do not reject the spec; each starts with the
// path it is about.
func ValidateVirtualService(vs *networking.VirtualService, fldPath *field.Path) (errs field.ErrorList, warnings []string) {
	var f findings
	if vs == nil {
		f.add(field.Required(fldPath, "virtual service spec is required"))
		return f.errs, f.warnings
	}
	v := vsValidator{findings: &f, vs: vs}
	v.validate(fldPath)
	return f.errs, f.warnings
}

// vsValidator holds what the checks of one VirtualService share.
type vsValidator struct {
	*findings
	vs *networking.VirtualService
	// delegate: the VS has no hosts and is meant to be delegated to.
	delegate bool
	// appliesToGateway: some gateway other than "mesh" is listed.
	appliesToGateway bool
}

func (v *vsValidator) validate(fldPath *field.Path) {
	vs := v.vs
	v.delegate = len(vs.GetHosts()) == 0
	appliesToMesh := len(vs.GetGateways()) == 0
	for _, g := range vs.GetGateways() {
		if g == meshGateway {
			appliesToMesh = true
		} else {
			v.appliesToGateway = true
		}
	}

	if v.delegate {
		if len(vs.GetGateways()) > 0 {
			v.add(field.Forbidden(fldPath.Child("gateways"), "delegate virtual service must have no gateways specified"))
		}
		if len(vs.GetTls()) > 0 {
			v.add(field.Forbidden(fldPath.Child("tls"), "delegate virtual service must have no tls route specified"))
		}
		if len(vs.GetTcp()) > 0 {
			v.add(field.Forbidden(fldPath.Child("tcp"), "delegate virtual service must have no tcp route specified"))
		}
	}
	v.gatewayNames(vs.GetGateways(), fldPath.Child("gateways"))
	v.hosts(appliesToMesh, fldPath.Child("hosts"))

	if len(vs.GetHttp()) == 0 && len(vs.GetTcp()) == 0 && len(vs.GetTls()) == 0 {
		v.add(field.Required(fldPath.Child("http"), "http, tcp or tls must be provided in virtual service"))
	}
	for i, r := range vs.GetHttp() {
		v.httpRoute(r, fldPath.Child("http").Index(i))
	}
	for i, r := range vs.GetTls() {
		v.tlsRoute(r, fldPath.Child("tls").Index(i))
	}
	for i, r := range vs.GetTcp() {
		v.tcpRoute(r, fldPath.Child("tcp").Index(i))
	}
	v.addList(validateExportTo(vs.GetExportTo(), false, fldPath.Child("exportTo")))

	v.unreachableRules(fldPath)
}

// hosts checks host syntax, the mesh wildcard and overlapping hosts.
func (v *vsValidator) hosts(appliesToMesh bool, fldPath *field.Path) {
	hosts := v.vs.GetHosts()
	allValid := true
	for i, h := range hosts {
		if err := checkWildcardDomain(h); err != nil {
			if !isIPAddress(h) {
				v.add(field.Invalid(fldPath.Index(i), h, err.Error()))
				allValid = false
			}
		} else if appliesToMesh && h == "*" {
			v.add(field.Invalid(fldPath.Index(i), h, "wildcard host * is not allowed for virtual services bound to the mesh gateway"))
			allValid = false
		}
	}
	if !allValid {
		return
	}
	for i := range hosts {
		for j := i + 1; j < len(hosts); j++ {
			if hostName(hosts[i]).matches(hostName(hosts[j])) {
				v.add(duplicate(fldPath.Index(j), hosts[j], "duplicate hosts in virtual service: %s & %s", hosts[i], hosts[j]))
			}
		}
	}
}

// gatewayNames checks gateway references: "mesh", "name", "namespace/name",
// or the legacy "name.namespace" form, which only warns.
func (v *vsValidator) gatewayNames(names []string, fldPath *field.Path) {
	for i, g := range names {
		p := fldPath.Index(i)
		ns, name, found := strings.Cut(g, "/")
		if !found {
			if first, rest, dotted := strings.Cut(g, "."); dotted {
				second, _, _ := strings.Cut(rest, ".")
				v.warn(p, "using legacy gatewayName format %q; prefer the <namespace>/<name> format: %q", g, second+"/"+first)
			}
			v.add(invalidErr(p, g, checkFQDN(g)))
			continue
		}
		if ns == "" || name == "" {
			v.add(field.Invalid(p, g, "config namespace and gateway name cannot be empty"))
		}
		if !isDNS1123Label(ns) {
			v.add(invalid(p, g, "invalid value for namespace: %q", ns))
		}
		if !isDNS1123Label(name) {
			v.add(invalid(p, g, "invalid value for gateway name: %q", name))
		}
	}
}

// routeDestinations checks the destinations of a tcp or tls route.
func (v *vsValidator) routeDestinations(routes []*networking.RouteDestination, p *field.Path) {
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
		v.add(validateWeight(rd.GetWeight(), rp.Child("weight")))
		total += int64(rd.GetWeight())
	}
	if len(routes) > 1 && total == 0 {
		v.add(field.Invalid(p, int64(total), "total destination weight = 0"))
	}
}

// validateWeight rejects negative weights. Weights need not sum to 100
// (since Istio 1.15); traffic is split in proportion.
func validateWeight(w int32, p *field.Path) *field.Error {
	if w < 0 {
		return invalid(p, w, "weight %d < 0", w)
	}
	return nil
}

func (v *vsValidator) destination(d *networking.Destination, p *field.Path) {
	if d == nil {
		return
	}
	if d.GetHost() == "*" {
		v.add(invalid(p.Child("host"), d.GetHost(), "invalid destination host %s", d.GetHost()))
	} else {
		v.add(invalidErr(p.Child("host"), d.GetHost(), checkWildcardDomain(d.GetHost())))
	}
	if d.GetSubset() != "" {
		v.add(invalidErr(p.Child("subset"), d.GetSubset(), checkSubsetName(d.GetSubset())))
	}
	if d.GetPort() != nil {
		v.add(validatePort(d.GetPort().GetNumber(), p.Child("port", "number")))
	}
}

// checkSubsetName checks a subset name is a DNS-1123 label (upper case allowed).
func checkSubsetName(name string) error {
	if name == "" {
		return fmt.Errorf("subset name cannot be empty")
	}
	if !isDNS1123Label(name) {
		return fmt.Errorf("subset name is invalid: %s", name)
	}
	return nil
}
