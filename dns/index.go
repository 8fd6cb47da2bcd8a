package dns

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
)

// DefaultZone is the cluster domain, as in Kubernetes.
const DefaultZone = "cluster.local"

// soaSerial is the serial of the zone's SOA. The index is rebuilt whole on
// every change and nothing transfers the zone, so the serial carries no
// information; it is fixed to keep BuildIndex pure.
const soaSerial = 1

// Index is an immutable view of the cluster's DNS names, built by BuildIndex
// from Services, Endpoints and Pods. It is safe for concurrent use; a change
// in the cluster means building a new Index and swapping it in
// (Server.SetIndex), never changing one in place.
type Index struct {
	zone       string                  // lowercase FQDN, "cluster.local."
	names      map[string]*node        // lowercase owner FQDN → records; empty nodes are empty non-terminals
	ptr        map[netip.Addr][]string // address → names pointing back to it
	namespaces map[string]bool         // namespaces with any object: their pod names are answered
	services   int
	skipped    []string
}

// node holds the records of one owner name. All fields empty: the name exists
// (it has names below it) but holds no record, so questions get NODATA.
type node struct {
	addrs []netip.Addr // A and AAAA
	cname string       // ExternalName target, FQDN
	srv   []srvTarget
}

type srvTarget struct {
	port   uint16
	target string // FQDN
}

// IndexStats counts what an Index holds.
type IndexStats struct {
	Services int // services answered
	Names    int // owner names, empty non-terminals included
	PTRs     int // addresses with reverse records
}

// BuildIndex builds the index of zone (DefaultZone when empty) from the
// cluster's objects. It is a pure function of its arguments and never fails:
// objects it cannot answer for (bad names, unparsable addresses) are left
// out and listed by Index.Skipped. Nil entries are ignored.
//
// It answers, with <zone> the zone:
//   - <svc>.<ns>.svc.<zone> A/AAAA: the ClusterIPs; for headless services
//     (clusterIP None) the ready endpoint addresses, and the not-ready ones
//     too when the service sets publishNotReadyAddresses;
//   - <host>.<svc>.<ns>.svc.<zone> for each endpoint of a headless service,
//     <host> being the endpoint's hostname, else the hostname of its pod when
//     the pod's subdomain is the service, else the address with dashes;
//   - SRV at _<port>._<proto>.<svc>.<ns>.svc.<zone> for named ports and at
//     <svc>.<ns>.svc.<zone> for all ports, targeting the service name, or
//     each endpoint name for headless services;
//   - CNAME at <svc>.<ns>.svc.<zone> for ExternalName services;
//   - <a-b-c-d>.<ns>.pod.<zone> A/AAAA for any address in a namespace that
//     has objects (CoreDNS "pods insecure");
//   - PTR for ClusterIPs (the service name), endpoints of headless services
//     (their endpoint names) and other pod and endpoint addresses (their pod
//     name).
func BuildIndex(zone string, services []*corev1.Service, endpoints []*corev1.Endpoints, pods []*corev1.Pod) *Index {
	if zone == "" {
		zone = DefaultZone
	}
	b := &indexBuilder{
		ix: &Index{
			zone:       dns.CanonicalName(zone),
			names:      make(map[string]*node, 4*len(services)+3),
			ptr:        make(map[netip.Addr][]string, len(services)+len(pods)),
			namespaces: map[string]bool{},
		},
		endpoints: make(map[nsName]*corev1.Endpoints, len(endpoints)),
		podByName: make(map[nsName]*corev1.Pod, len(pods)),
		podByIP:   make(map[nsAddr]*corev1.Pod, len(pods)),
	}
	ix := b.ix
	b.node(ix.zone)
	b.node("svc." + ix.zone)
	b.node("pod." + ix.zone)

	for _, p := range pods {
		b.addPod(p)
	}
	for _, ep := range endpoints {
		if ep == nil {
			continue
		}
		b.endpoints[nsName{ep.Namespace, ep.Name}] = ep
		if ep.Namespace != "" {
			ix.namespaces[ep.Namespace] = true
		}
	}
	sorted := slices.DeleteFunc(slices.Clone(services), func(s *corev1.Service) bool { return s == nil })
	slices.SortFunc(sorted, func(a, b *corev1.Service) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	for _, svc := range sorted {
		b.addService(svc)
	}
	b.addPodPTRs(pods)
	for ns := range ix.namespaces {
		if isLabel(ns) {
			b.node(ns + ".pod." + ix.zone)
		}
	}

	for _, n := range ix.names {
		if len(n.addrs) > 1 {
			slices.SortFunc(n.addrs, netip.Addr.Compare)
			n.addrs = slices.Clip(slices.Compact(n.addrs))
		}
		if len(n.srv) > 1 {
			slices.SortFunc(n.srv, func(a, b srvTarget) int {
				return cmp.Or(cmp.Compare(a.target, b.target), cmp.Compare(a.port, b.port))
			})
			n.srv = slices.Clip(slices.Compact(n.srv))
		}
	}
	for ip, names := range ix.ptr {
		if len(names) > 1 {
			slices.Sort(names)
			ix.ptr[ip] = slices.Clip(slices.Compact(names))
		}
	}
	return ix
}

type nsName struct{ ns, name string }

type nsAddr struct {
	ns   string
	addr netip.Addr
}

type indexBuilder struct {
	ix        *Index
	endpoints map[nsName]*corev1.Endpoints
	podByName map[nsName]*corev1.Pod
	podByIP   map[nsAddr]*corev1.Pod
	// endpointIPs are addresses of non-headless services' endpoints, which
	// get their pod name as PTR when nothing else names them.
	endpointIPs []nsAddr
}

// node returns the node of name, creating it and any missing ancestor up to
// the zone as empty non-terminals.
func (b *indexBuilder) node(name string) *node {
	if n := b.ix.names[name]; n != nil {
		return n
	}
	n := &node{}
	b.ix.names[name] = n
	for i := 0; i < len(name)-len(b.ix.zone); i++ {
		if name[i] != '.' {
			continue
		}
		parent := name[i+1:]
		if _, ok := b.ix.names[parent]; ok {
			break // its ancestors exist too
		}
		b.ix.names[parent] = &node{}
	}
	return n
}

// addAddr and addSRV add records; BuildIndex sorts and deduplicates them
// once all are in.
func (b *indexBuilder) addAddr(n *node, ip netip.Addr) { n.addrs = append(n.addrs, ip) }

func (b *indexBuilder) addSRV(n *node, s srvTarget) { n.srv = append(n.srv, s) }

func (b *indexBuilder) skip(format string, args ...any) {
	b.ix.skipped = append(b.ix.skipped, fmt.Sprintf(format, args...))
}

func (b *indexBuilder) addPod(p *corev1.Pod) {
	if p == nil || p.Namespace == "" {
		return
	}
	b.ix.namespaces[p.Namespace] = true
	b.podByName[nsName{p.Namespace, p.Name}] = p
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || p.Spec.HostNetwork {
		return // its address is no longer, or never was, its own
	}
	for _, s := range podIPs(p) {
		if ip, err := netip.ParseAddr(s); err == nil {
			b.podByIP[nsAddr{p.Namespace, ip.Unmap()}] = p
		}
	}
}

func podIPs(p *corev1.Pod) []string {
	if len(p.Status.PodIPs) == 0 {
		if p.Status.PodIP == "" {
			return nil
		}
		return []string{p.Status.PodIP}
	}
	ips := make([]string, 0, len(p.Status.PodIPs))
	for _, ip := range p.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	return ips
}

func (b *indexBuilder) addService(svc *corev1.Service) {
	key := svc.Namespace + "/" + svc.Name
	if !isLabel(svc.Name) || !isLabel(svc.Namespace) {
		b.skip("service %s: name and namespace must be DNS labels", key)
		return
	}
	b.ix.namespaces[svc.Namespace] = true
	base := svc.Name + "." + svc.Namespace + ".svc." + b.ix.zone
	switch {
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		target := dns.CanonicalName(svc.Spec.ExternalName)
		if svc.Spec.ExternalName == "" || !isDomainName(target) || dns.IsSubDomain(base, target) {
			b.skip("service %s: externalName %q is not a usable domain name", key, svc.Spec.ExternalName)
			return
		}
		b.node(base).cname = target
		for _, p := range svc.Spec.Ports {
			if name, ok := portName(p.Name, p.Protocol); ok {
				b.addSRV(b.node(name+base), srvTarget{uint16(p.Port), target})
			}
		}
	case svc.Spec.ClusterIP == corev1.ClusterIPNone:
		b.addHeadless(svc, base)
	default:
		n := b.node(base)
		ips := svc.Spec.ClusterIPs
		if len(ips) == 0 && svc.Spec.ClusterIP != "" {
			ips = []string{svc.Spec.ClusterIP}
		}
		for _, s := range ips {
			ip, err := netip.ParseAddr(s)
			if err != nil {
				b.skip("service %s: clusterIP %q: %v", key, s, err)
				continue
			}
			ip = ip.Unmap()
			b.addAddr(n, ip)
			b.ix.ptr[ip] = append(b.ix.ptr[ip], base)
		}
		if len(n.addrs) > 0 {
			for _, p := range svc.Spec.Ports {
				s := srvTarget{uint16(p.Port), base}
				b.addSRV(n, s)
				if name, ok := portName(p.Name, p.Protocol); ok {
					b.addSRV(b.node(name+base), s)
				}
			}
		}
		if ep := b.endpoints[nsName{svc.Namespace, svc.Name}]; ep != nil {
			for _, ss := range ep.Subsets {
				for _, a := range ss.Addresses {
					if ip, err := netip.ParseAddr(a.IP); err == nil {
						b.endpointIPs = append(b.endpointIPs, nsAddr{svc.Namespace, ip.Unmap()})
					}
				}
			}
		}
	}
	b.ix.services++
}

// addHeadless adds a headless service: its endpoints' addresses at the
// service name, one name per endpoint, and SRV records targeting those.
func (b *indexBuilder) addHeadless(svc *corev1.Service, base string) {
	key := svc.Namespace + "/" + svc.Name
	n := b.node(base)
	ep := b.endpoints[nsName{svc.Namespace, svc.Name}]
	if ep == nil {
		return
	}
	for _, ss := range ep.Subsets {
		addrs := ss.Addresses
		if svc.Spec.PublishNotReadyAddresses {
			addrs = append(slices.Clip(addrs), ss.NotReadyAddresses...)
		}
		for _, a := range addrs {
			ip, err := netip.ParseAddr(a.IP)
			if err != nil {
				b.skip("endpoints %s: address %q: %v", key, a.IP, err)
				continue
			}
			ip = ip.Unmap()
			host := b.endpointHostname(svc, a, ip)
			hostName := host + "." + base
			b.addAddr(n, ip)
			b.addAddr(b.node(hostName), ip)
			b.ix.ptr[ip] = append(b.ix.ptr[ip], hostName)
			for _, p := range ss.Ports {
				s := srvTarget{uint16(p.Port), hostName}
				b.addSRV(n, s)
				if name, ok := portName(p.Name, p.Protocol); ok {
					b.addSRV(b.node(name+base), s)
				}
			}
		}
	}
}

// endpointHostname names an endpoint of a headless service: its hostname,
// else the hostname of its pod when the pod's subdomain is the service (what
// Kubernetes' endpoints controller would have set), else the address with
// dashes, as CoreDNS does.
func (b *indexBuilder) endpointHostname(svc *corev1.Service, a corev1.EndpointAddress, ip netip.Addr) string {
	if isLabel(a.Hostname) {
		return a.Hostname
	}
	var pod *corev1.Pod
	if ref := a.TargetRef; ref != nil && (ref.Kind == "" || ref.Kind == "Pod") {
		ns := cmp.Or(ref.Namespace, svc.Namespace)
		pod = b.podByName[nsName{ns, ref.Name}]
	}
	if pod == nil {
		pod = b.podByIP[nsAddr{svc.Namespace, ip}]
	}
	if pod != nil && pod.Spec.Subdomain == svc.Name && isLabel(pod.Spec.Hostname) {
		return pod.Spec.Hostname
	}
	return dashed(ip)
}

// addPodPTRs names pod addresses, and endpoint addresses of non-headless
// services, that nothing else names yet: <a-b-c-d>.<ns>.pod.<zone>.
func (b *indexBuilder) addPodPTRs(pods []*corev1.Pod) {
	named := func(ns string, ip netip.Addr) {
		if len(b.ix.ptr[ip]) > 0 && !isPodName(b.ix.ptr[ip][0]) {
			return
		}
		b.ix.ptr[ip] = append(b.ix.ptr[ip], dashed(ip)+"."+ns+".pod."+b.ix.zone)
	}
	for _, k := range b.endpointIPs {
		named(k.ns, k.addr)
	}
	for _, p := range pods {
		if p == nil || p.Namespace == "" {
			continue
		}
		for _, s := range podIPs(p) {
			ip, err := netip.ParseAddr(s)
			if err == nil && b.podByIP[nsAddr{p.Namespace, ip.Unmap()}] == p {
				named(p.Namespace, ip.Unmap())
			}
		}
	}
}

func isPodName(name string) bool { return strings.Contains(name, ".pod.") }

// portName returns "_<name>._<proto>." for a named port.
func portName(name string, proto corev1.Protocol) (string, bool) {
	if !isLabel(name) {
		return "", false
	}
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	return "_" + name + "._" + strings.ToLower(string(proto)) + ".", true
}

// dashed writes an address as one label: 10-0-0-1, fd00--1.
func dashed(ip netip.Addr) string {
	s := ip.String()
	if ip.Is4() {
		return strings.ReplaceAll(s, ".", "-")
	}
	return strings.ReplaceAll(s, ":", "-")
}

// undashed parses a label written by dashed.
func undashed(label string) (netip.Addr, bool) {
	var s string
	if strings.Count(label, "-") == 3 && !strings.Contains(label, "--") {
		s = strings.ReplaceAll(label, "-", ".")
	} else {
		s = strings.ReplaceAll(label, "-", ":")
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || ip.Zone() != "" || ip.Is4In6() {
		return netip.Addr{}, false
	}
	return ip, true
}

// isLabel reports whether s is a lowercase RFC 1123 label, as Kubernetes
// requires of the names that appear in DNS.
func isLabel(s string) bool {
	if s == "" || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// isDomainName reports whether fqdn is a plain host name: labels of
// letters, digits, hyphens and underscores, 255 octets at most.
func isDomainName(fqdn string) bool {
	if len(fqdn) > 255 || fqdn == "." {
		return false
	}
	for _, l := range strings.Split(strings.TrimSuffix(fqdn, "."), ".") {
		if l == "" || len(l) > 63 {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

// Zone returns the index's zone as a lowercase FQDN ("cluster.local.").
func (ix *Index) Zone() string { return ix.zone }

// Skipped lists the objects BuildIndex left out, and why.
func (ix *Index) Skipped() []string { return slices.Clone(ix.skipped) }

// Stats counts what the index holds.
func (ix *Index) Stats() IndexStats {
	return IndexStats{Services: ix.services, Names: len(ix.names), PTRs: len(ix.ptr)}
}
