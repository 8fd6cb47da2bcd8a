package printers

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
)

// loadBalancerWidth is how much of a load balancer's addresses fits in a
// cell without -o wide.
const loadBalancerWidth = 16

// maxListed is how many addresses kubectl lists before "+ N more...".
const maxListed = 3

func serviceRow(svc *corev1.Service, o TableOptions) []string {
	internalIP := "<none>"
	switch {
	case len(svc.Spec.ClusterIPs) > 0:
		internalIP = svc.Spec.ClusterIPs[0]
	case svc.Spec.ClusterIP != "":
		internalIP = svc.Spec.ClusterIP
	}
	ports := servicePorts(svc.Spec.Ports)
	if ports == "" {
		ports = "<none>"
	}
	return []string{
		svc.Name, string(serviceType(svc)), internalIP, serviceExternalIP(svc, o.Wide), ports,
		since(o.Now, svc.CreationTimestamp), labels.FormatLabels(svc.Spec.Selector),
	}
}

// serviceType is spec.type, ClusterIP when unset (the API server's default).
func serviceType(svc *corev1.Service) corev1.ServiceType {
	if svc.Spec.Type == "" {
		return corev1.ServiceTypeClusterIP
	}
	return svc.Spec.Type
}

// serviceExternalIP is kubectl's EXTERNAL-IP: external IPs, load balancer
// addresses ("<pending>" until there are some), or the external name.
func serviceExternalIP(svc *corev1.Service, wide bool) string {
	switch serviceType(svc) {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(svc.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case corev1.ServiceTypeLoadBalancer:
		lbIPs := loadBalancerStatus(svc.Status.LoadBalancer.Ingress, wide)
		if len(svc.Spec.ExternalIPs) > 0 {
			var results []string
			if lbIPs != "" {
				results = append(results, strings.Split(lbIPs, ",")...)
			}
			return strings.Join(append(results, svc.Spec.ExternalIPs...), ",")
		}
		if lbIPs != "" {
			return lbIPs
		}
		return "<pending>"
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}

// loadBalancerStatus lists the distinct ingress IPs (or host names),
// sorted, clipped to 16 bytes unless wide.
func loadBalancerStatus(ingress []corev1.LoadBalancerIngress, wide bool) string {
	addrs := sets.New[string]()
	for _, in := range ingress {
		if in.IP != "" {
			addrs.Insert(in.IP)
		} else if in.Hostname != "" {
			addrs.Insert(in.Hostname)
		}
	}
	return clipLoadBalancer(strings.Join(sets.List(addrs), ","), wide)
}

func clipLoadBalancer(s string, wide bool) string {
	if !wide && len(s) > loadBalancerWidth {
		return s[:loadBalancerWidth-3] + "..."
	}
	return s
}

// servicePorts is the PORT(S) cell: "80/TCP", "80:30044/TCP" with a node port.
func servicePorts(ports []corev1.ServicePort) string {
	pieces := make([]string, len(ports))
	for i, p := range ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if p.NodePort > 0 {
			pieces[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, proto)
		} else {
			pieces[i] = fmt.Sprintf("%d/%s", p.Port, proto)
		}
	}
	return strings.Join(pieces, ",")
}

func endpointsRow(ep *corev1.Endpoints, o TableOptions) []string {
	return []string{ep.Name, formatEndpoints(ep, nil), since(o.Now, ep.CreationTimestamp)}
}

// formatEndpoints lists "ip:port" for the ports named in ports (all ports
// if ports is nil), at most three, then "+ N more...".
func formatEndpoints(ep *corev1.Endpoints, ports sets.Set[string]) string {
	if len(ep.Subsets) == 0 {
		return "<none>"
	}
	var list []string
	more := false
	count := 0
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 {
			// Headless services may have no ports.
			count += len(ss.Addresses)
			for _, addr := range ss.Addresses {
				if len(list) == maxListed {
					more = true
					break
				}
				list = append(list, addr.IP)
			}
			continue
		}
		for _, port := range ss.Ports {
			if ports != nil && !ports.Has(port.Name) {
				continue
			}
			count += len(ss.Addresses)
			for _, addr := range ss.Addresses {
				if len(list) == maxListed {
					more = true
					break
				}
				list = append(list, net.JoinHostPort(addr.IP, strconv.Itoa(int(port.Port))))
			}
		}
	}
	ret := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, count-maxListed)
	}
	return ret
}

// formatEndpointSlices is formatEndpoints for EndpointSlices, as kubectl
// describe service shows endpoints: ready endpoints only.
func formatEndpointSlices(eps []*discoveryv1.EndpointSlice, ports sets.Set[string]) string {
	if len(eps) == 0 {
		return "<none>"
	}
	var list []string
	more := false
	count := 0
	ready := func(e discoveryv1.Endpoint) bool { return e.Conditions.Ready == nil || *e.Conditions.Ready }
	for _, s := range eps {
		if len(s.Ports) == 0 {
			for _, e := range s.Endpoints {
				if len(list) == maxListed {
					more = true
				}
				if !ready(e) || len(e.Addresses) == 0 {
					continue
				}
				if !more {
					list = append(list, e.Addresses[0])
				}
				count++
			}
			continue
		}
		for _, port := range s.Ports {
			name := ""
			if port.Name != nil {
				name = *port.Name
			}
			if ports != nil && !ports.Has(name) {
				continue
			}
			for _, e := range s.Endpoints {
				if len(list) == maxListed {
					more = true
				}
				if !ready(e) || len(e.Addresses) == 0 {
					continue
				}
				if !more {
					num := 0
					if port.Port != nil {
						num = int(*port.Port)
					}
					list = append(list, net.JoinHostPort(e.Addresses[0], strconv.Itoa(num)))
				}
				count++
			}
		}
	}
	ret := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, count-maxListed)
	}
	return ret
}

func endpointSliceRow(s *discoveryv1.EndpointSlice, o TableOptions) []string {
	var ports []string
	for _, p := range s.Ports {
		switch {
		case p.Port != nil:
			ports = append(ports, strconv.Itoa(int(*p.Port)))
		case p.Name != nil:
			ports = append(ports, *p.Name)
		default:
			ports = append(ports, "*")
		}
	}
	var addrs []string
	for _, e := range s.Endpoints {
		addrs = append(addrs, e.Addresses...)
	}
	return []string{s.Name, string(s.AddressType), listWithMore(ports), listWithMore(addrs), since(o.Now, s.CreationTimestamp)}
}

// listWithMore is kubectl's listWithMoreString: three items, then
// "+ N more...", or "<unset>" for none.
func listWithMore(items []string) string {
	if len(items) == 0 {
		return "<unset>"
	}
	if len(items) > maxListed {
		return fmt.Sprintf("%s + %d more...", strings.Join(items[:maxListed], ","), len(items)-maxListed)
	}
	return strings.Join(items, ",")
}

func ingressRow(ing *networkingv1.Ingress, o TableOptions) []string {
	className := "<none>"
	if ing.Spec.IngressClassName != nil {
		className = *ing.Spec.IngressClassName
	}
	addrs := sets.New[string]()
	for _, in := range ing.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			addrs.Insert(in.IP)
		} else if in.Hostname != "" {
			addrs.Insert(in.Hostname)
		}
	}
	ports := "80"
	if len(ing.Spec.TLS) != 0 {
		ports = "80, 443"
	}
	return []string{
		ing.Name, className, ingressHosts(ing.Spec.Rules),
		clipLoadBalancer(strings.Join(sets.List(addrs), ","), o.Wide),
		ports, since(o.Now, ing.CreationTimestamp),
	}
}

// ingressHosts lists the rules' hosts, at most three, "*" for none.
func ingressHosts(rules []networkingv1.IngressRule) string {
	var list []string
	more := false
	for _, r := range rules {
		if len(list) == maxListed {
			more = true
		}
		if !more && r.Host != "" {
			list = append(list, r.Host)
		}
	}
	if len(list) == 0 {
		return "*"
	}
	ret := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, len(rules)-maxListed)
	}
	return ret
}

func networkPolicyRow(np *networkingv1.NetworkPolicy, o TableOptions) []string {
	return []string{np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), since(o.Now, np.CreationTimestamp)}
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
