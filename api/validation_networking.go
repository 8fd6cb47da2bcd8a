package api

import (
	"fmt"
	"net"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// networking.k8s.io/v1: NetworkPolicy and Ingress (stored, not acted on yet).

func validateNetworkPolicy(np *networkingv1.NetworkPolicy) field.ErrorList {
	errs := validateMeta(&np.ObjectMeta, true, nameIsDNSSubdomain)
	sp := field.NewPath("spec")
	errs = append(errs, kubeLabelSelector(&np.Spec.PodSelector, sp.Child("podSelector"))...)
	for i, rule := range np.Spec.Ingress {
		rp := sp.Child("ingress").Index(i)
		for j := range rule.Ports {
			errs = append(errs, validateNetworkPolicyPort(&rule.Ports[j], rp.Child("ports").Index(j))...)
		}
		for j := range rule.From {
			errs = append(errs, validateNetworkPolicyPeer(&rule.From[j], rp.Child("from").Index(j))...)
		}
	}
	for i, rule := range np.Spec.Egress {
		rp := sp.Child("egress").Index(i)
		for j := range rule.Ports {
			errs = append(errs, validateNetworkPolicyPort(&rule.Ports[j], rp.Child("ports").Index(j))...)
		}
		for j := range rule.To {
			errs = append(errs, validateNetworkPolicyPeer(&rule.To[j], rp.Child("to").Index(j))...)
		}
	}
	tp := sp.Child("policyTypes")
	if len(np.Spec.PolicyTypes) > 2 {
		errs = append(errs, field.Invalid(tp, np.Spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	seen := map[networkingv1.PolicyType]bool{}
	for i, t := range np.Spec.PolicyTypes {
		errs = append(errs, kubeEnum(t, tp.Index(i), networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)...)
		if seen[t] {
			errs = append(errs, field.Duplicate(tp.Index(i), t))
		}
		seen[t] = true
	}
	return errs
}

func validateNetworkPolicyPort(port *networkingv1.NetworkPolicyPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if port.Protocol != nil {
		errs = append(errs, kubeProtocol(*port.Protocol, p.Child("protocol"))...)
	}
	ep := p.Child("endPort")
	switch {
	case port.Port == nil:
		if port.EndPort != nil {
			errs = append(errs, field.Invalid(ep, *port.EndPort, "may not be specified when `port` is not specified"))
		}
	case port.Port.Type == intstr.Int:
		errs = append(errs, kubePortNum(port.Port.IntVal, p.Child("port"))...)
		if port.EndPort != nil {
			errs = append(errs, kubePortNum(*port.EndPort, ep)...)
			if *port.EndPort < port.Port.IntVal {
				errs = append(errs, field.Invalid(ep, *port.EndPort, "must be greater than or equal to `port`"))
			}
		}
	default:
		errs = append(errs, kubePortName(port.Port.StrVal, p.Child("port"))...)
		if port.EndPort != nil {
			errs = append(errs, field.Invalid(ep, *port.EndPort, "may not be specified when `port` is non-numeric"))
		}
	}
	return errs
}

func validateNetworkPolicyPeer(peer *networkingv1.NetworkPolicyPeer, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if peer.PodSelector != nil {
		n++
		errs = append(errs, kubeLabelSelector(peer.PodSelector, p.Child("podSelector"))...)
	}
	if peer.NamespaceSelector != nil {
		n++
		errs = append(errs, kubeLabelSelector(peer.NamespaceSelector, p.Child("namespaceSelector"))...)
	}
	if b := peer.IPBlock; b != nil {
		n++
		errs = append(errs, validateIPBlock(b, p.Child("ipBlock"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(p, "must specify a peer"))
	case n > 1 && peer.IPBlock != nil:
		errs = append(errs, field.Forbidden(p, "may not specify both ipBlock and another peer"))
	}
	return errs
}

func validateIPBlock(b *networkingv1.IPBlock, p *field.Path) field.ErrorList {
	cp := p.Child("cidr")
	if b.CIDR == "" {
		return field.ErrorList{field.Required(cp, "")}
	}
	errs := kubeCIDR(b.CIDR, cp)
	if len(errs) > 0 {
		return errs
	}
	_, outer, _ := net.ParseCIDR(b.CIDR)
	outerOnes, _ := outer.Mask.Size()
	for i, except := range b.Except {
		xp := p.Child("except").Index(i)
		if e := kubeCIDR(except, xp); len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		_, inner, _ := net.ParseCIDR(except)
		innerOnes, _ := inner.Mask.Size()
		if !outer.Contains(inner.IP) || innerOnes <= outerOnes || len(inner.IP) != len(outer.IP) {
			errs = append(errs, field.Invalid(xp, except, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}

var (
	supportedPathTypes = []networkingv1.PathType{networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific}
	// Sequences and suffixes an Exact or Prefix ingress path may not have.
	invalidPathSequences = []string{"//", "/./", "/../", "%2f", "%2F"}
	invalidPathSuffixes  = []string{"/..", "/."}
)

func validateIngress(ing *networkingv1.Ingress) field.ErrorList {
	errs := validateMeta(&ing.ObjectMeta, true, nameIsDNSSubdomain)
	spec := &ing.Spec
	sp := field.NewPath("spec")
	if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
		errs = append(errs, field.Invalid(sp, spec.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if spec.DefaultBackend != nil {
		errs = append(errs, validateIngressBackend(spec.DefaultBackend, sp.Child("defaultBackend"))...)
	}
	if spec.IngressClassName != nil {
		errs = append(errs, kubeDNSSubdomain(*spec.IngressClassName, sp.Child("ingressClassName"))...)
	}
	for i, tls := range spec.TLS {
		tp := sp.Child("tls").Index(i)
		for j, host := range tls.Hosts {
			errs = append(errs, kubeDNSSubdomain(strings.Replace(host, "*", "x", 1), tp.Child("hosts").Index(j))...)
		}
		if tls.SecretName != "" {
			errs = append(errs, kubeDNSSubdomain(tls.SecretName, tp.Child("secretName"))...)
		}
	}
	for i, rule := range spec.Rules {
		rp := sp.Child("rules").Index(i)
		if host := rule.Host; host != "" {
			hp := rp.Child("host")
			if net.ParseIP(host) != nil {
				errs = append(errs, field.Invalid(hp, host, "must be a DNS name, not an IP address"))
			} else if strings.Contains(host, "*") {
				for _, msg := range validation.IsWildcardDNS1123Subdomain(host) {
					errs = append(errs, field.Invalid(hp, host, msg))
				}
			} else {
				errs = append(errs, kubeDNSSubdomain(host, hp)...)
			}
		}
		if rule.HTTP == nil {
			continue
		}
		pp := rp.Child("http", "paths")
		if len(rule.HTTP.Paths) == 0 {
			errs = append(errs, field.Required(pp, ""))
		}
		for j := range rule.HTTP.Paths {
			errs = append(errs, validateIngressPath(&rule.HTTP.Paths[j], pp.Index(j))...)
		}
	}
	return errs
}

func validateIngressPath(path *networkingv1.HTTPIngressPath, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	pp := p.Child("path")
	if path.PathType == nil {
		errs = append(errs, field.Required(p.Child("pathType"), "pathType must be specified"))
	} else {
		switch *path.PathType {
		case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
			if !strings.HasPrefix(path.Path, "/") {
				errs = append(errs, field.Invalid(pp, path.Path, "must be an absolute path"))
			}
			for _, seq := range invalidPathSequences {
				if strings.Contains(path.Path, seq) {
					errs = append(errs, field.Invalid(pp, path.Path, fmt.Sprintf("must not contain '%s'", seq)))
				}
			}
			for _, suffix := range invalidPathSuffixes {
				if strings.HasSuffix(path.Path, suffix) {
					errs = append(errs, field.Invalid(pp, path.Path, fmt.Sprintf("cannot end with '%s'", suffix)))
				}
			}
		case networkingv1.PathTypeImplementationSpecific:
			if path.Path != "" && !strings.HasPrefix(path.Path, "/") {
				errs = append(errs, field.Invalid(pp, path.Path, "must be an absolute path"))
			}
		default:
			errs = append(errs, field.NotSupported(p.Child("pathType"), *path.PathType, supportedPathTypes))
		}
	}
	return append(errs, validateIngressBackend(&path.Backend, p.Child("backend"))...)
}

func validateIngressBackend(b *networkingv1.IngressBackend, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case b.Resource != nil && b.Service != nil:
		errs = append(errs, field.Invalid(p, "", "cannot set both resource and service backends"))
	case b.Resource != nil:
		rp := p.Child("resource")
		if b.Resource.Kind == "" {
			errs = append(errs, field.Required(rp.Child("kind"), ""))
		}
		if b.Resource.Name == "" {
			errs = append(errs, field.Required(rp.Child("name"), ""))
		}
	case b.Service != nil:
		sp := p.Child("service")
		if b.Service.Name == "" {
			errs = append(errs, field.Required(sp.Child("name"), ""))
		} else {
			for _, msg := range nameIsDNS1035Label(b.Service.Name, false) {
				errs = append(errs, field.Invalid(sp.Child("name"), b.Service.Name, msg))
			}
		}
		port := b.Service.Port
		switch {
		case port.Name != "" && port.Number != 0:
			errs = append(errs, field.Invalid(sp.Child("port"), port, "cannot set both port name & port number"))
		case port.Name != "":
			errs = append(errs, kubePortName(port.Name, sp.Child("port", "name"))...)
		case port.Number != 0:
			errs = append(errs, kubePortNum(port.Number, sp.Child("port", "number"))...)
		default:
			errs = append(errs, field.Required(sp.Child("port"), "port name or number is required"))
		}
	default:
		errs = append(errs, field.Invalid(p, "", "resource or service backend is required"))
	}
	return errs
}
