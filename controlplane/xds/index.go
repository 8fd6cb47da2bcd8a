package xds

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/api"
)

// index is what translation needs from a Mesh, derived once per Mesh and
// shared (read-only, apart from the endpoint cache) by every proxy.
type index struct {
	domain   string
	services []*service          // sorted by fqdn
	byHost   map[string]*service // fqdn → service
	pods     map[nsName]*corev1.Pod
	podsByIP map[string]*corev1.Pod
	// hostPorts are the running pods with hostPorts, by namespace and name.
	hostPorts []*corev1.Pod
	// vs is the VirtualService that applies to each service host.
	vs map[string]*virtualService
	// allVS holds every VirtualService that applies to sidecars, oldest first.
	allVS []*virtualService
	// drs lists the DestinationRules whose host matches each service host,
	// most specific and oldest first.
	drs      map[string][]*destinationRule
	allDR    []*destinationRule // every DestinationRule, oldest first
	warnings []Warning

	// Shared pieces of output, built once for every proxy that needs them
	// and never modified after: endpoint assignments, clusters, virtual
	// hosts, and the hashes of shared resources.
	mu       sync.Mutex
	clas     map[string]*endpointv3.ClusterLoadAssignment
	clusters map[string]cachedCluster
	vhosts   map[string]cachedVHost
	outbound map[string]*outboundPart // sidecars' outbound side, by namespace (and labels)
	// prevClusters and prevVHosts are the previous index's clusters and
	// virtual hosts, when they translate alike (see inherit): looked up
	// when the current ones miss, moved over when used.
	prevClusters map[string]cachedCluster
	prevVHosts   map[string]cachedVHost

	sourceLabelsOnce sync.Once
	sourceLabels     bool
	structureOnce    sync.Once
	structureHash    uint64
	baseOnce         sync.Once
	baseHash         uint64
}

type cachedCluster struct {
	c        *clusterv3.Cluster
	warnings []Warning
}

type cachedVHost struct {
	vh       *routev3.VirtualHost
	clusters []string // clusters its routes name (added to the proxy's output)
	warnings []Warning
}

// service is one Kubernetes Service with what translation needs of it.
type service struct {
	name, ns, fqdn string
	clusterIP      string // "" when headless
	nodePortType   bool   // NodePort or LoadBalancer
	loadBalancer   bool   // LoadBalancer: served on the node's IP at its own ports too
	selector       map[string]string
	ports          []servicePort
}

type servicePort struct {
	port       uint32
	name       string
	proto      protocol
	targetPort intstr.IntOrString
	nodePort   uint32
	endpoints  []endpointAddr // ready endpoints, sorted, deduplicated
}

type endpointAddr struct {
	ip     string
	port   uint32
	labels map[string]string
}

type virtualService struct {
	obj   *api.VirtualService
	spec  *networking.VirtualService
	ns    string
	ref   string // "VirtualService ns/name"
	hosts []string
	// fp identifies the VirtualService's content across meshes (ref,
	// creation time, spec): virtual hosts built from it are keyed by it.
	fp string
}

type destinationRule struct {
	obj  *api.DestinationRule
	spec *networking.DestinationRule
	ns   string
	ref  string
	host string // resolved
}

func nsOrDefault(ns string) string {
	if ns == "" {
		return "default"
	}
	return ns
}

func key(ns, name string) string { return ns + "/" + name }

// nsName keys pods by namespace and name.
type nsName struct{ ns, name string }

// olderFirst orders objects by creation time, then namespace and name, as
// Istio settles conflicts.
func olderFirst(a, b metav1.Object) int {
	ta, tb := a.GetCreationTimestamp(), b.GetCreationTimestamp()
	if !ta.Equal(&tb) {
		if ta.Before(&tb) {
			return -1
		}
		return 1
	}
	if c := strings.Compare(nsOrDefault(a.GetNamespace()), nsOrDefault(b.GetNamespace())); c != 0 {
		return c
	}
	return strings.Compare(a.GetName(), b.GetName())
}

// resolveHost is Istio's ResolveShortnameToFQDN: a name without a dot is
// relative to the namespace of the rule that names it.
func resolveHost(host, ns, domain string) string {
	if host == "*" || strings.Contains(host, ".") {
		return host
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return host
	}
	return host + "." + ns + ".svc." + domain
}

// hostMatch reports whether a (possibly wildcard) rule host covers an FQDN
// and how specifically: 0 no, larger is more specific.
func hostMatch(rule, fqdn string) int {
	if rule == fqdn {
		return 1 << 20
	}
	if rule == "*" {
		return 1
	}
	if suffix, ok := strings.CutPrefix(rule, "*"); ok && strings.HasSuffix(fqdn, suffix) {
		return 1 + len(suffix)
	}
	return 0
}

func buildIndex(m *Mesh) *index {
	idx := &index{
		domain:   m.DomainSuffix,
		byHost:   make(map[string]*service, len(m.Services)),
		pods:     make(map[nsName]*corev1.Pod, len(m.Pods)),
		podsByIP: make(map[string]*corev1.Pod, len(m.Pods)),
		vs:       map[string]*virtualService{},
		drs:      map[string][]*destinationRule{},
		clas:     map[string]*endpointv3.ClusterLoadAssignment{},
		clusters: map[string]cachedCluster{},
		vhosts:   map[string]cachedVHost{},
		outbound: map[string]*outboundPart{},
	}
	if idx.domain == "" {
		idx.domain = "cluster.local"
	}
	for _, p := range m.Pods {
		if p == nil {
			continue
		}
		idx.pods[nsName{nsOrDefault(p.Namespace), p.Name}] = p
		if p.Status.PodIP != "" {
			idx.podsByIP[p.Status.PodIP] = p
		}
		if servesHostPorts(p) {
			idx.hostPorts = append(idx.hostPorts, p)
		}
	}
	slices.SortFunc(idx.hostPorts, func(a, b *corev1.Pod) int {
		return cmp.Or(cmp.Compare(nsOrDefault(a.Namespace), nsOrDefault(b.Namespace)), cmp.Compare(a.Name, b.Name))
	})
	eps := make(map[string]*corev1.Endpoints, len(m.Endpoints))
	for _, e := range m.Endpoints {
		if e != nil {
			eps[key(nsOrDefault(e.Namespace), e.Name)] = e
		}
	}
	for _, s := range m.Services {
		if s == nil || s.Spec.Type == corev1.ServiceTypeExternalName {
			continue
		}
		svc := idx.newService(s, eps[key(nsOrDefault(s.Namespace), s.Name)])
		if old, dup := idx.byHost[svc.fqdn]; dup {
			idx.warn("Service "+key(svc.ns, svc.name), "duplicate of Service %s/%s; ignored", old.ns, old.name)
			continue
		}
		idx.byHost[svc.fqdn] = svc
		idx.services = append(idx.services, svc)
	}
	sort.Slice(idx.services, func(i, j int) bool { return idx.services[i].fqdn < idx.services[j].fqdn })
	idx.indexVirtualServices(m.VirtualServices)
	idx.indexDestinationRules(m.DestinationRules)
	return idx
}

func (idx *index) warn(resource, format string, args ...any) {
	idx.warnings = append(idx.warnings, Warning{Resource: resource, Message: fmt.Sprintf(format, args...)})
}

func (idx *index) newService(s *corev1.Service, ep *corev1.Endpoints) *service {
	svc := &service{
		name:         s.Name,
		ns:           nsOrDefault(s.Namespace),
		selector:     s.Spec.Selector,
		nodePortType: s.Spec.Type == corev1.ServiceTypeNodePort || s.Spec.Type == corev1.ServiceTypeLoadBalancer,
		loadBalancer: s.Spec.Type == corev1.ServiceTypeLoadBalancer,
	}
	svc.fqdn = svc.name + "." + svc.ns + ".svc." + idx.domain
	if ip := s.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
		svc.clusterIP = ip
	}
	for _, p := range s.Spec.Ports {
		if p.Port <= 0 {
			continue
		}
		sp := servicePort{
			port:       uint32(p.Port),
			name:       p.Name,
			proto:      portProtocol(p.Name, p.AppProtocol, string(p.Protocol)),
			targetPort: p.TargetPort,
			nodePort:   uint32(max(p.NodePort, 0)),
		}
		if sp.proto == protoUDP {
			continue
		}
		sp.endpoints = idx.portEndpoints(ep, p, len(s.Spec.Ports) == 1)
		svc.ports = append(svc.ports, sp)
	}
	return svc
}

// portEndpoints lists the ready addresses of ep for one service port,
// matched by port name as the endpoints controller writes them.
func (idx *index) portEndpoints(ep *corev1.Endpoints, sp corev1.ServicePort, single bool) []endpointAddr {
	if ep == nil {
		return nil
	}
	var out []endpointAddr
	type ipPort struct {
		ip   string
		port int32
	}
	seen := map[ipPort]bool{}
	for _, ss := range ep.Subsets {
		var port int32
		for _, p := range ss.Ports {
			if p.Name == sp.Name || (single && len(ss.Ports) == 1) {
				port = p.Port
				break
			}
		}
		if port <= 0 {
			continue
		}
		for _, a := range ss.Addresses {
			k := ipPort{a.IP, port}
			if a.IP == "" || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, endpointAddr{ip: a.IP, port: uint32(port), labels: idx.addressLabels(a, nsOrDefault(ep.Namespace))})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ip != out[j].ip {
			return out[i].ip < out[j].ip
		}
		return out[i].port < out[j].port
	})
	return out
}

func (idx *index) addressLabels(a corev1.EndpointAddress, ns string) map[string]string {
	if r := a.TargetRef; r != nil && (r.Kind == "" || r.Kind == "Pod") {
		if p := idx.pods[nsName{nsOrDefault(orString(r.Namespace, ns)), r.Name}]; p != nil {
			return p.Labels
		}
	}
	if p := idx.podsByIP[a.IP]; p != nil {
		return p.Labels
	}
	return nil
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// appliesToMesh reports whether a VirtualService applies to sidecars:
// no gateways, or "mesh" among them.
func appliesToMesh(gateways []string) bool {
	return len(gateways) == 0 || slices.Contains(gateways, "mesh")
}

func (idx *index) indexVirtualServices(list []*api.VirtualService) {
	var vss []*virtualService
	for _, o := range list {
		if o == nil || o.Spec == nil || !appliesToMesh(o.Spec.GetGateways()) {
			continue
		}
		v := &virtualService{obj: o, spec: o.Spec, ns: nsOrDefault(o.Namespace)}
		v.ref = "VirtualService " + key(v.ns, o.Name)
		v.fp = v.ref + "@" + strconv.FormatInt(o.CreationTimestamp.UnixNano(), 36) + "#" + strconv.FormatUint(messageHash(o.Spec), 36)
		for _, h := range o.Spec.GetHosts() {
			v.hosts = append(v.hosts, resolveHost(h, v.ns, idx.domain))
		}
		vss = append(vss, v)
	}
	slices.SortStableFunc(vss, func(a, b *virtualService) int { return olderFirst(a.obj, b.obj) })
	type claim struct {
		vs          *virtualService
		specificity int
	}
	best := map[string]claim{}
	for _, v := range vss {
		for _, h := range v.hosts {
			matched := false
			for _, s := range idx.services {
				sp := hostMatch(h, s.fqdn)
				if sp == 0 {
					continue
				}
				matched = true
				c, ok := best[s.fqdn]
				switch {
				case !ok || sp > c.specificity:
					best[s.fqdn] = claim{v, sp}
				case sp == c.specificity && c.vs != v && sp == 1<<20:
					idx.warn(v.ref, "host %q is also claimed by %s, which is older; this VirtualService is ignored for it", s.fqdn, c.vs.ref)
				}
			}
			if !matched && !strings.HasPrefix(h, "*") {
				idx.warn(v.ref, "host %q matches no service; no route is built for it", h)
			}
		}
	}
	for host, c := range best {
		idx.vs[host] = c.vs
	}
	idx.allVS = vss
	for _, v := range vss {
		idx.checkDestinations(v)
	}
}

func (idx *index) indexDestinationRules(list []*api.DestinationRule) {
	var drs []*destinationRule
	for _, o := range list {
		if o == nil || o.Spec == nil {
			continue
		}
		d := &destinationRule{obj: o, spec: o.Spec, ns: nsOrDefault(o.Namespace)}
		d.ref = "DestinationRule " + key(d.ns, o.Name)
		d.host = resolveHost(o.Spec.GetHost(), d.ns, idx.domain)
		drs = append(drs, d)
	}
	slices.SortStableFunc(drs, func(a, b *destinationRule) int { return olderFirst(a.obj, b.obj) })
	idx.allDR = drs
	seen := map[string]*destinationRule{} // ns + host → first
	for _, d := range drs {
		k := d.ns + " " + d.host
		if first, dup := seen[k]; dup {
			idx.warn(d.ref, "host %q already has %s in namespace %s, which is older; this DestinationRule is ignored", d.host, first.ref, d.ns)
			continue
		}
		seen[k] = d
		for _, s := range idx.services {
			if hostMatch(d.host, s.fqdn) > 0 {
				idx.drs[s.fqdn] = append(idx.drs[s.fqdn], d)
			}
		}
	}
	for host, list := range idx.drs {
		slices.SortStableFunc(list, func(a, b *destinationRule) int {
			return hostMatch(b.host, host) - hostMatch(a.host, host)
		})
	}
	// Subsets named by VirtualServices must exist (checked after DRs).
	for _, v := range idx.allVS {
		idx.checkSubsets(v)
	}
}

// destinationRule picks the DestinationRule for a service as seen from a
// proxy namespace: Istio looks in the proxy's namespace, then the
// service's, then anywhere (Weft has no root namespace).
func (idx *index) destinationRule(s *service, proxyNS string) *destinationRule {
	list := idx.drs[s.fqdn]
	for _, d := range list {
		if d.ns == proxyNS {
			return d
		}
	}
	for _, d := range list {
		if d.ns == s.ns {
			return d
		}
	}
	if len(list) > 0 {
		return list[0]
	}
	return nil
}

func (d *destinationRule) subset(name string) *networking.Subset {
	if d == nil {
		return nil
	}
	for _, s := range d.spec.GetSubsets() {
		if s.GetName() == name {
			return s
		}
	}
	return nil
}

// checkDestinations warns about route destinations and mirrors whose host
// is not a service.
func (idx *index) checkDestinations(v *virtualService) {
	check := func(d *networking.Destination, where string) {
		if d == nil {
			return
		}
		if idx.byHost[resolveHost(d.GetHost(), v.ns, idx.domain)] == nil {
			idx.warn(v.ref, "%s: destination host %q is not a service; its share of traffic gets 503 (BlackHoleCluster)", where, d.GetHost())
		}
	}
	for i, r := range v.spec.GetHttp() {
		for j, d := range r.GetRoute() {
			check(d.GetDestination(), fmt.Sprintf("http[%d].route[%d]", i, j))
		}
		if r.GetMirror() != nil {
			check(r.GetMirror(), fmt.Sprintf("http[%d].mirror", i))
		}
		for j, m := range r.GetMirrors() {
			check(m.GetDestination(), fmt.Sprintf("http[%d].mirrors[%d]", i, j))
		}
	}
	for i, r := range v.spec.GetTcp() {
		for j, d := range r.GetRoute() {
			check(d.GetDestination(), fmt.Sprintf("tcp[%d].route[%d]", i, j))
		}
	}
}

// checkSubsets warns about subsets no DestinationRule defines.
func (idx *index) checkSubsets(v *virtualService) {
	check := func(d *networking.Destination, where string) {
		if d.GetSubset() == "" {
			return
		}
		s := idx.byHost[resolveHost(d.GetHost(), v.ns, idx.domain)]
		if s == nil {
			return
		}
		dr := idx.destinationRule(s, v.ns)
		if dr == nil {
			idx.warn(v.ref, "%s: subset %q of %s has no DestinationRule; its share of traffic gets 503 (BlackHoleCluster)", where, d.GetSubset(), s.fqdn)
		} else if dr.subset(d.GetSubset()) == nil {
			idx.warn(v.ref, "%s: subset %q is not defined by %s; its share of traffic gets 503 (BlackHoleCluster)", where, d.GetSubset(), dr.ref)
		}
	}
	for i, r := range v.spec.GetHttp() {
		for j, d := range r.GetRoute() {
			check(d.GetDestination(), fmt.Sprintf("http[%d].route[%d]", i, j))
		}
		if r.GetMirror() != nil {
			check(r.GetMirror(), fmt.Sprintf("http[%d].mirror", i))
		}
		for j, m := range r.GetMirrors() {
			check(m.GetDestination(), fmt.Sprintf("http[%d].mirrors[%d]", i, j))
		}
	}
	for i, r := range v.spec.GetTcp() {
		for j, d := range r.GetRoute() {
			check(d.GetDestination(), fmt.Sprintf("tcp[%d].route[%d]", i, j))
		}
	}
}

// labelsMatch reports whether labels contain every selector pair.
func labelsMatch(selector, labels map[string]string) bool {
	for k, v := range selector {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	return true
}

// servicePortByNumber finds a port of s.
func (s *service) portByNumber(port uint32) *servicePort {
	for i := range s.ports {
		if s.ports[i].port == port {
			return &s.ports[i]
		}
	}
	return nil
}
