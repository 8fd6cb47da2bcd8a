package policies

import (
	"fmt"
	"net"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Checks of the tls and tcp rules of a VirtualService.

func (v *vsValidator) tlsRoute(r *networking.TLSRoute, p *field.Path) {
	if r == nil {
		return
	}
	if len(r.GetMatch()) == 0 {
		v.add(field.Required(p.Child("match"), "TLS route must have at least one match condition"))
	}
	for j, m := range r.GetMatch() {
		mp := p.Child("match").Index(j)
		if m == nil {
			v.add(field.Required(mp, "TLS match may not be null"))
			continue
		}
		if len(m.GetSniHosts()) == 0 {
			v.add(field.Required(mp.Child("sniHosts"), "TLS match must have at least one SNI host"))
		}
		for k, sni := range m.GetSniHosts() {
			v.sniHost(sni, mp.Child("sniHosts").Index(k))
		}
		v.l4Match(m.GetDestinationSubnets(), m.GetPort(), m.GetSourceLabels(), m.GetGateways(), m.GetSourceNamespace(), mp)
	}
	if len(r.GetRoute()) == 0 {
		v.add(field.Required(p.Child("route"), "TLS route is required"))
	}
	v.routeDestinations(r.GetRoute(), p.Child("route"))
}

// sniHost checks an SNI host is a domain covered by one of the VS hosts.
func (v *vsValidator) sniHost(sni string, p *field.Path) {
	if err := checkWildcardDomain(sni); err != nil {
		if isIPAddress(sni) {
			v.warn(p, "using an IP address (%q) goes against SNI spec and most clients do not support this", sni)
			return
		}
		v.add(field.Invalid(p, sni, err.Error()))
		return
	}
	for _, h := range v.vs.GetHosts() {
		if hostName(sni).subsetOf(hostName(h)) {
			return
		}
	}
	v.add(invalid(p, sni, "SNI host %q is not a compatible subset of any of the virtual service hosts: [%s]",
		sni, strings.Join(v.vs.GetHosts(), ", ")))
}

func (v *vsValidator) tcpRoute(r *networking.TCPRoute, p *field.Path) {
	if r == nil {
		return
	}
	for j, m := range r.GetMatch() {
		mp := p.Child("match").Index(j)
		if m == nil {
			v.add(field.Required(mp, "tcp match may not be nil"))
			continue
		}
		if s := m.GetSourceSubnet(); s != "" {
			v.add(invalidErr(mp.Child("sourceSubnet"), s, checkIPSubnet(s)))
		}
		v.l4Match(m.GetDestinationSubnets(), m.GetPort(), m.GetSourceLabels(), m.GetGateways(), m.GetSourceNamespace(), mp)
	}
	if len(r.GetRoute()) == 0 {
		v.add(field.Required(p.Child("route"), "TCP route is required"))
	}
	v.routeDestinations(r.GetRoute(), p.Child("route"))
}

// l4Match checks the attributes tcp and tls matches share.
func (v *vsValidator) l4Match(subnets []string, port uint32, sourceLabels map[string]string, gateways []string, sourceNamespace string, p *field.Path) {
	for i, s := range subnets {
		v.add(invalidErr(p.Child("destinationSubnets").Index(i), s, checkIPSubnet(s)))
	}
	if port != 0 {
		v.add(validatePort(port, p.Child("port")))
	}
	v.addList(validateLabels(sourceLabels, p.Child("sourceLabels")))
	v.gatewayNames(gateways, p.Child("gateways"))
	v.sourceNamespace(sourceNamespace, p.Child("sourceNamespace"))
}

// checkIPSubnet accepts an IP address or a CIDR block.
func checkIPSubnet(s string) error {
	if strings.Count(s, "/") == 1 {
		if _, _, err := net.ParseCIDR(s); err != nil {
			return fmt.Errorf("%q is not a valid CIDR block", s)
		}
		return nil
	}
	if net.ParseIP(s) == nil {
		return fmt.Errorf("%v is not a valid IP", s)
	}
	return nil
}
