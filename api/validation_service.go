package api

import (
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Services, Endpoints and EndpointSlices.

// PortRange is an inclusive range of ports.
type PortRange struct {
	Min, Max int32
}

// Contains reports whether port is in the range.
func (r PortRange) Contains(port int32) bool { return port >= r.Min && port <= r.Max }

// String is the range as flags and messages write it, "30000-32767".
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Min, r.Max) }

// NodePortRange is the range NodePort and LoadBalancer services take their
// node ports from (kube-apiserver's --service-node-port-range, 30000-32767
// by default). Set it once at start-up, before serving.
var NodePortRange = PortRange{Min: 30000, Max: 32767}

// maxClientIPAffinitySeconds bounds sessionAffinityConfig.clientIP.timeoutSeconds (one day).
const maxClientIPAffinitySeconds = 86400

var (
	supportedServiceTypes = []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort,
		corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName}
	supportedIPFamilyPolicies = []corev1.IPFamilyPolicy{corev1.IPFamilyPolicySingleStack,
		corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack}
	supportedTrafficDistributions = []string{corev1.ServiceTrafficDistributionPreferClose,
		corev1.ServiceTrafficDistributionPreferSameZone, corev1.ServiceTrafficDistributionPreferSameNode}
)

func validateService(svc *corev1.Service) field.ErrorList {
	errs := validateMeta(&svc.ObjectMeta, true, nameIsDNS1035Label)
	spec := &svc.Spec
	sp := field.NewPath("spec")
	headless := spec.ClusterIP == corev1.ClusterIPNone || len(spec.ClusterIPs) > 0 && spec.ClusterIPs[0] == corev1.ClusterIPNone

	errs = append(errs, kubeEnum(spec.Type, sp.Child("type"), supportedServiceTypes...)...)
	if spec.Type == corev1.ServiceTypeExternalName {
		if spec.ClusterIP != "" {
			errs = append(errs, field.Forbidden(sp.Child("clusterIP"), "may not be set for ExternalName services"))
		}
		if len(spec.ClusterIPs) > 0 {
			errs = append(errs, field.Forbidden(sp.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
		if spec.IPFamilyPolicy != nil {
			errs = append(errs, field.Forbidden(sp.Child("ipFamilyPolicy"), "may not be set for ExternalName services"))
		}
		if len(spec.IPFamilies) > 0 {
			errs = append(errs, field.Forbidden(sp.Child("ipFamilies"), "may not be set for ExternalName services"))
		}
		if name := strings.TrimSuffix(spec.ExternalName, "."); name == "" {
			errs = append(errs, field.Required(sp.Child("externalName"), ""))
		} else {
			errs = append(errs, kubeDNSSubdomain(name, sp.Child("externalName"))...)
		}
	} else {
		errs = append(errs, validateClusterIPs(spec, headless, sp)...)
	}

	pp := sp.Child("ports")
	if len(spec.Ports) == 0 && !headless && spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(pp, ""))
	}
	names := map[string]bool{}
	type portKey struct {
		port     int32
		protocol corev1.Protocol
	}
	ports, nodePorts := map[portKey]bool{}, map[portKey]bool{}
	for i := range spec.Ports {
		port := &spec.Ports[i]
		ip := pp.Index(i)
		errs = append(errs, validateServicePort(port, len(spec.Ports) > 1, names, ip)...)
		if port.Port != 0 {
			k := portKey{port.Port, port.Protocol}
			if ports[k] {
				errs = append(errs, field.Duplicate(ip, fmt.Sprintf("%d/%s", port.Port, port.Protocol)))
			}
			ports[k] = true
		}
		if port.NodePort == 0 {
			continue
		}
		np := ip.Child("nodePort")
		switch spec.Type {
		case corev1.ServiceTypeClusterIP, corev1.ServiceTypeExternalName:
			errs = append(errs, field.Forbidden(np, fmt.Sprintf("may not be used when `type` is '%s'", spec.Type)))
			continue
		}
		if msgs := validation.IsValidPortNum(int(port.NodePort)); len(msgs) > 0 {
			errs = append(errs, field.Invalid(np, port.NodePort, msgs[0]))
		} else if !NodePortRange.Contains(port.NodePort) {
			errs = append(errs, field.Invalid(np, port.NodePort, "provided port is not in the valid range. The range of valid ports is "+NodePortRange.String()))
		}
		k := portKey{port.NodePort, port.Protocol}
		if nodePorts[k] {
			errs = append(errs, field.Duplicate(np, port.NodePort))
		}
		nodePorts[k] = true
	}

	errs = append(errs, kubeEnum(spec.SessionAffinity, sp.Child("sessionAffinity"), corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone)...)
	cp := sp.Child("sessionAffinityConfig")
	switch spec.SessionAffinity {
	case corev1.ServiceAffinityNone:
		if spec.SessionAffinityConfig != nil {
			errs = append(errs, field.Invalid(cp, spec.SessionAffinityConfig, "must not be set when session affinity is None"))
		}
	case corev1.ServiceAffinityClientIP:
		c := spec.SessionAffinityConfig
		if c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			errs = append(errs, field.Required(cp, "when session affinity type is ClientIP"))
		} else if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > maxClientIPAffinitySeconds {
			errs = append(errs, field.Invalid(cp.Child("clientIP", "timeoutSeconds"), t,
				fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPAffinitySeconds)))
		}
	}

	errs = append(errs, metav1validation.ValidateLabels(spec.Selector, sp.Child("selector"))...)
	for i, ip := range spec.ExternalIPs {
		errs = append(errs, kubeIP(ip, sp.Child("externalIPs").Index(i))...)
	}
	if spec.LoadBalancerIP != "" {
		errs = append(errs, kubeIP(spec.LoadBalancerIP, sp.Child("loadBalancerIP"))...)
	}
	if len(spec.LoadBalancerSourceRanges) > 0 {
		rp := sp.Child("loadBalancerSourceRanges")
		if spec.Type != corev1.ServiceTypeLoadBalancer {
			errs = append(errs, field.Forbidden(rp, "may only be used when `type` is 'LoadBalancer'"))
		}
		for i, r := range spec.LoadBalancerSourceRanges {
			// Space padding is tolerated, a leftover of the annotation it replaced.
			errs = append(errs, kubeCIDR(strings.TrimSpace(r), rp.Index(i))...)
		}
	}
	if spec.Type == corev1.ServiceTypeLoadBalancer {
		if spec.AllocateLoadBalancerNodePorts == nil {
			errs = append(errs, field.Required(sp.Child("allocateLoadBalancerNodePorts"), ""))
		}
	} else {
		if spec.AllocateLoadBalancerNodePorts != nil {
			errs = append(errs, field.Forbidden(sp.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
		}
		if spec.LoadBalancerClass != nil {
			errs = append(errs, field.Forbidden(sp.Child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"))
		}
	}
	if spec.LoadBalancerClass != nil {
		errs = append(errs, kubeQualifiedName(*spec.LoadBalancerClass, sp.Child("loadBalancerClass"))...)
	}

	etp := sp.Child("externalTrafficPolicy")
	if !serviceExternallyAccessible(svc) {
		if spec.ExternalTrafficPolicy != "" {
			errs = append(errs, field.Invalid(etp, spec.ExternalTrafficPolicy, "may only be set for externally-accessible services"))
		}
	} else {
		errs = append(errs, kubeEnum(spec.ExternalTrafficPolicy, etp, corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal)...)
	}
	if spec.HealthCheckNodePort != 0 {
		hp := sp.Child("healthCheckNodePort")
		if spec.Type != corev1.ServiceTypeLoadBalancer || spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
			errs = append(errs, field.Invalid(hp, spec.HealthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
		} else {
			errs = append(errs, kubePortNum(spec.HealthCheckNodePort, hp)...)
		}
	}
	itp := sp.Child("internalTrafficPolicy")
	if spec.InternalTrafficPolicy == nil {
		switch spec.Type {
		case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
			errs = append(errs, field.Required(itp, ""))
		}
	} else {
		errs = append(errs, kubeEnum(*spec.InternalTrafficPolicy, itp, corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal)...)
	}
	if spec.TrafficDistribution != nil {
		errs = append(errs, kubeEnum(*spec.TrafficDistribution, sp.Child("trafficDistribution"), supportedTrafficDistributions...)...)
	}
	return errs
}

func validateServicePort(port *corev1.ServicePort, requireName bool, names map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if port.Name == "" {
		if requireName {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
	} else {
		errs = append(errs, kubeDNSLabel(port.Name, p.Child("name"))...)
		if names[port.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
		}
		names[port.Name] = true
	}
	// A missing port is "Required", as kubectl and the API's schema say it,
	// rather than "must be between 1 and 65535".
	var portErrs field.ErrorList
	if port.Port == 0 {
		portErrs = field.ErrorList{field.Required(p.Child("port"), "")}
	} else {
		portErrs = kubePortNum(port.Port, p.Child("port"))
	}
	errs = append(errs, portErrs...)
	errs = append(errs, kubeProtocol(port.Protocol, p.Child("protocol"))...)
	// targetPort defaults to port: when that port is wrong, say it once.
	if len(portErrs) == 0 || port.TargetPort != intstr.FromInt32(port.Port) {
		errs = append(errs, kubePortNumOrName(port.TargetPort, p.Child("targetPort"))...)
	}
	if port.AppProtocol != nil {
		errs = append(errs, kubeQualifiedName(*port.AppProtocol, p.Child("appProtocol"))...)
	}
	return errs
}

func ipFamilyOf(ip string) corev1.IPFamily {
	parsed := net.ParseIP(ip)
	switch {
	case parsed == nil:
		return ""
	case parsed.To4() != nil:
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}

func validateClusterIPs(spec *corev1.ServiceSpec, headless bool, sp *field.Path) field.ErrorList {
	var errs field.ErrorList
	ipsPath := sp.Child("clusterIPs")
	if len(spec.ClusterIPs) > 0 && spec.ClusterIP != spec.ClusterIPs[0] {
		errs = append(errs, field.Invalid(ipsPath.Index(0), spec.ClusterIPs[0], "must match `clusterIP`"))
	}
	if len(spec.ClusterIPs) > 2 {
		errs = append(errs, field.Invalid(ipsPath, spec.ClusterIPs, "may only hold up to 2 values"))
	}
	var families []corev1.IPFamily
	for i, ip := range spec.ClusterIPs {
		if ip == corev1.ClusterIPNone {
			if i > 0 || len(spec.ClusterIPs) > 1 {
				errs = append(errs, field.Invalid(ipsPath.Index(i), ip, "'None' must be the first and only value"))
			}
			continue
		}
		if e := kubeIP(ip, ipsPath.Index(i)); len(e) > 0 {
			errs = append(errs, e...)
			continue
		}
		f := ipFamilyOf(ip)
		if oneOf(f, families...) {
			errs = append(errs, field.Invalid(ipsPath, spec.ClusterIPs, "may specify no more than one IP for each IP family"))
		}
		families = append(families, f)
	}
	if headless {
		switch spec.Type {
		case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort:
			errs = append(errs, field.Invalid(ipsPath.Index(0), corev1.ClusterIPNone, fmt.Sprintf("may not be set to 'None' for %s services", spec.Type)))
		}
	}

	pp := sp.Child("ipFamilyPolicy")
	if spec.IPFamilyPolicy == nil {
		errs = append(errs, field.Required(pp, ""))
	} else {
		errs = append(errs, kubeEnum(*spec.IPFamilyPolicy, pp, supportedIPFamilyPolicies...)...)
	}
	fp := sp.Child("ipFamilies")
	if len(spec.IPFamilies) > 2 {
		errs = append(errs, field.Invalid(fp, spec.IPFamilies, "may only hold up to 2 values"))
	}
	seen := map[corev1.IPFamily]bool{}
	for i, f := range spec.IPFamilies {
		errs = append(errs, kubeEnum(f, fp.Index(i), corev1.IPv4Protocol, corev1.IPv6Protocol)...)
		if seen[f] {
			errs = append(errs, field.Duplicate(fp.Index(i), f))
		}
		seen[f] = true
		if i < len(families) && families[i] != f {
			errs = append(errs, field.Invalid(fp.Index(i), f, fmt.Sprintf("must match the IP family of `clusterIPs[%d]`", i)))
		}
	}
	if spec.IPFamilyPolicy != nil && *spec.IPFamilyPolicy == corev1.IPFamilyPolicySingleStack {
		if len(spec.IPFamilies) > 1 {
			errs = append(errs, field.Invalid(fp, spec.IPFamilies, "must be a single value when `ipFamilyPolicy` is 'SingleStack'"))
		}
		if len(spec.ClusterIPs) > 1 {
			errs = append(errs, field.Invalid(ipsPath, spec.ClusterIPs, "must be a single value when `ipFamilyPolicy` is 'SingleStack'"))
		}
	}
	return errs
}

func validateEndpoints(ep *corev1.Endpoints) field.ErrorList {
	errs := validateMeta(&ep.ObjectMeta, true, nameIsDNSSubdomain)
	for i, ss := range ep.Subsets {
		sp := field.NewPath("subsets").Index(i)
		if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
			errs = append(errs, field.Required(sp, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j, a := range ss.Addresses {
			errs = append(errs, validateEndpointAddress(&a, sp.Child("addresses").Index(j))...)
		}
		for j, a := range ss.NotReadyAddresses {
			errs = append(errs, validateEndpointAddress(&a, sp.Child("notReadyAddresses").Index(j))...)
		}
		for j, port := range ss.Ports {
			pp := sp.Child("ports").Index(j)
			if port.Name == "" {
				if len(ss.Ports) > 1 {
					errs = append(errs, field.Required(pp.Child("name"), ""))
				}
			} else {
				errs = append(errs, kubeDNSLabel(port.Name, pp.Child("name"))...)
			}
			errs = append(errs, kubePortNum(port.Port, pp.Child("port"))...)
			errs = append(errs, kubeProtocol(port.Protocol, pp.Child("protocol"))...)
			if port.AppProtocol != nil {
				errs = append(errs, kubeQualifiedName(*port.AppProtocol, pp.Child("appProtocol"))...)
			}
		}
	}
	return errs
}

// validateEndpointAddress checks an endpoint IP. Unlike upstream, loopback
// addresses are accepted: in host network mode Weft gives each pod a
// loopback IP of its own (see DESIGN.md).
func validateEndpointAddress(a *corev1.EndpointAddress, p *field.Path) field.ErrorList {
	ipPath := p.Child("ip")
	errs := kubeIP(a.IP, ipPath)
	if len(errs) == 0 {
		errs = append(errs, validateEndpointIPNotSpecial(a.IP, ipPath)...)
	}
	if a.Hostname != "" {
		errs = append(errs, kubeDNSLabel(a.Hostname, p.Child("hostname"))...)
	}
	if a.NodeName != nil && *a.NodeName != "" {
		errs = append(errs, kubeDNSSubdomain(*a.NodeName, p.Child("nodeName"))...)
	}
	return errs
}

func validateEndpointIPNotSpecial(ip string, p *field.Path) field.ErrorList {
	parsed := net.ParseIP(ip)
	switch {
	case parsed.IsUnspecified():
		return field.ErrorList{field.Invalid(p, ip, "may not be unspecified (0.0.0.0)")}
	case parsed.IsLinkLocalUnicast():
		return field.ErrorList{field.Invalid(p, ip, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")}
	case parsed.IsLinkLocalMulticast(), parsed.IsInterfaceLocalMulticast(), parsed.IsMulticast():
		return field.ErrorList{field.Invalid(p, ip, "may not be in the multicast range (224.0.0.0/4, ff00::/8)")}
	}
	return nil
}

func validateEndpointSlice(es *discoveryv1.EndpointSlice) field.ErrorList {
	errs := validateMeta(&es.ObjectMeta, true, nameIsDNSSubdomain)
	errs = append(errs, kubeEnum(es.AddressType, field.NewPath("addressType"),
		discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN)...)
	ep := field.NewPath("endpoints")
	if len(es.Endpoints) > 1000 {
		errs = append(errs, field.TooMany(ep, len(es.Endpoints), 1000))
	}
	for i, e := range es.Endpoints {
		ip := ep.Index(i)
		ap := ip.Child("addresses")
		switch {
		case len(e.Addresses) == 0:
			errs = append(errs, field.Required(ap, "must contain at least 1 address"))
		case len(e.Addresses) > 100:
			errs = append(errs, field.TooMany(ap, len(e.Addresses), 100))
		}
		for j, a := range e.Addresses {
			aip := ap.Index(j)
			switch es.AddressType {
			case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
				if e := kubeIP(a, aip); len(e) > 0 {
					errs = append(errs, e...)
				} else if ipFamilyOf(a) != corev1.IPFamily(es.AddressType) {
					errs = append(errs, field.Invalid(aip, a, fmt.Sprintf("must be an %s address", es.AddressType)))
				}
			case discoveryv1.AddressTypeFQDN:
				errs = append(errs, validation.IsFullyQualifiedDomainName(aip, a)...)
			}
		}
		if e.NodeName != nil && *e.NodeName != "" {
			errs = append(errs, kubeDNSSubdomain(*e.NodeName, ip.Child("nodeName"))...)
		}
		if e.Hostname != nil && *e.Hostname != "" {
			errs = append(errs, kubeDNSLabel(*e.Hostname, ip.Child("hostname"))...)
		}
	}
	pp := field.NewPath("ports")
	names := map[string]bool{}
	for i, port := range es.Ports {
		ip := pp.Index(i)
		if port.Name != nil && *port.Name != "" {
			errs = append(errs, kubeDNSLabel(*port.Name, ip.Child("name"))...)
		}
		name := ""
		if port.Name != nil {
			name = *port.Name
		}
		if names[name] {
			errs = append(errs, field.Duplicate(ip.Child("name"), name))
		}
		names[name] = true
		if port.Protocol == nil {
			errs = append(errs, field.Required(ip.Child("protocol"), ""))
		} else {
			errs = append(errs, kubeProtocol(*port.Protocol, ip.Child("protocol"))...)
		}
		if port.Port != nil {
			errs = append(errs, kubePortNum(*port.Port, ip.Child("port"))...)
		}
		if port.AppProtocol != nil {
			errs = append(errs, kubeQualifiedName(*port.AppProtocol, ip.Child("appProtocol"))...)
		}
	}
	return errs
}
