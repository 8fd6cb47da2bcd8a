package policies

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/weft-mesh/weft/api"
)

// The checks of VirtualServices and DestinationRules.

// schemas reports what ValidateVirtualService and ValidateDestinationRule
// find (IST0106, IST0133): the cluster's objects passed them when applied,
// but files have not, and warnings are worth repeating.
func (a *analysis) schemas() {
	for _, vs := range a.ix.virtualServices {
		errs, warnings := ValidateVirtualService(vs.Spec, field.NewPath("spec"))
		a.schemaFindings(a.ix.ref(vs), errs, warnings)
	}
	for _, dr := range a.ix.destinationRules {
		errs, warnings := ValidateDestinationRule(dr.Spec, field.NewPath("spec"))
		a.schemaFindings(a.ix.ref(dr), errs, warnings)
	}
}

func (a *analysis) schemaFindings(ref Ref, errs field.ErrorList, warnings []string) {
	for _, e := range errs {
		a.report(SchemaValidationError, ref, e.Field, "correct the field: the API server rejects the resource as it is",
			"Schema validation error: %v", e.Error())
	}
	for _, w := range warnings {
		path, _, _ := strings.Cut(w, ": ")
		a.report(SchemaWarning, ref, path, "the resource is accepted, but review the field: it does not do what it seems to",
			"Schema validation warning: %s", w)
	}
}

// routeDestination is one destination of a VirtualService and its path.
type routeDestination struct {
	dest   *networking.Destination
	path   string // spec.http[0].route[1].destination
	mirror bool
}

// routeDestinations lists the destinations of a VirtualService: those of
// its http, tcp and tls routes, then its mirrors.
func routeDestinations(vs *networking.VirtualService) []routeDestination {
	var out []routeDestination
	add := func(d *networking.Destination, mirror bool, format string, args ...any) {
		if d != nil {
			out = append(out, routeDestination{dest: d, path: fmt.Sprintf(format, args...), mirror: mirror})
		}
	}
	for i, r := range vs.GetHttp() {
		for j, rd := range r.GetRoute() {
			add(rd.GetDestination(), false, "spec.http[%d].route[%d].destination", i, j)
		}
	}
	for i, r := range vs.GetTcp() {
		for j, rd := range r.GetRoute() {
			add(rd.GetDestination(), false, "spec.tcp[%d].route[%d].destination", i, j)
		}
	}
	for i, r := range vs.GetTls() {
		for j, rd := range r.GetRoute() {
			add(rd.GetDestination(), false, "spec.tls[%d].route[%d].destination", i, j)
		}
	}
	for i, r := range vs.GetHttp() {
		add(r.GetMirror(), true, "spec.http[%d].mirror", i)
		for j, m := range r.GetMirrors() {
			add(m.GetDestination(), true, "spec.http[%d].mirrors[%d].destination", i, j)
		}
	}
	return out
}

// virtualServices checks what each VirtualService refers to: hosts, ports
// and subsets of its destinations (IST0101, IST0112), and its gateways
// (IST0101, IST0132).
func (a *analysis) virtualServices() {
	for _, vs := range a.ix.virtualServices {
		ns, ref := namespaceOf(vs), a.ix.ref(vs)
		for _, rd := range routeDestinations(vs.Spec) {
			host := rd.dest.GetHost()
			if host == "" {
				continue // a schema error
			}
			if b := a.ix.lookupHost(ns, vs.Spec.GetExportTo(), host); b == nil {
				reftype := "host"
				if rd.mirror {
					reftype = "mirror host"
				}
				a.report(ReferencedResourceNotFound, ref, rd.path+".host", a.missingHostFix("VirtualService", ns, host),
					"Referenced %s not found: %q", reftype, host)
			} else {
				a.destinationPort(ref, rd, b)
			}
			a.destinationSubset(ns, ref, rd)
		}
		for i, g := range vs.Spec.GetGateways() {
			if g == meshGateway {
				continue
			}
			gw, key := a.ix.gateway(ns, g)
			p := fmt.Sprintf("spec.gateways[%d]", i)
			if gw == nil {
				a.report(ReferencedResourceNotFound, ref, p,
					fmt.Sprintf("create Gateway %s/%s, or correct the name (%q binds the VirtualService to the sidecars)", key.namespace, key.name, meshGateway),
					"Referenced %s not found: %q", "gateway", g)
				continue
			}
			a.gatewayHosts(vs, ref, gw, p)
		}
	}
}

// missingHostFix says where a host that resolves to nothing may be.
func (a *analysis) missingHostFix(kind, ns, host string) string {
	fqdn := HostFQDN(ns, host)
	if serviceFQDNRegexp.MatchString(fqdn) {
		k := keyOfHost(ns, fqdn)
		var elsewhere []string
		for _, s := range a.ix.services {
			if s.Name == k.name && namespaceOf(s) != k.namespace {
				elsewhere = append(elsewhere, HostFQDN(namespaceOf(s), s.Name))
			}
		}
		if len(elsewhere) > 0 {
			return fmt.Sprintf("there is no Service %s in namespace %s (a short host is looked up in the %s's namespace); for the Service of another namespace, write its full name: %s",
				k.name, k.namespace, kind, strings.Join(elsewhere, ", "))
		}
		return fmt.Sprintf("create Service %s in namespace %s, correct the host, or describe a host outside the cluster with a ServiceEntry", k.name, k.namespace)
	}
	return fmt.Sprintf("add a ServiceEntry with host %s, or correct the host", host)
}

// destinationPort checks the port of a destination against its service's (IST0101, IST0112).
func (a *analysis) destinationPort(ref Ref, rd routeDestination, b *backend) {
	port := rd.dest.GetPort().GetNumber()
	if port == 0 {
		if len(b.ports) > 1 {
			a.report(VirtualServiceDestinationPortSelectorRequired, ref, rd.path,
				fmt.Sprintf("set %s.port.number to one of %s's ports: %s", rd.path, b.ref, joinPorts(b.ports)),
				"This VirtualService routes to a service %q that exposes multiple ports %v. Specifying a port in the destination is required to disambiguate.",
				rd.dest.GetHost(), b.ports)
		}
		return
	}
	if slices.Contains(b.ports, port) {
		return
	}
	fix := fmt.Sprintf("route to a port of %s (%s), or add port %d to it", b.ref, joinPorts(b.ports), port)
	if len(b.ports) == 0 {
		fix = fmt.Sprintf("%s has no ports: add port %d to it", b.ref, port)
	}
	a.report(ReferencedResourceNotFound, ref, rd.path+".port", fix,
		"Referenced %s not found: %q", "host:port", fmt.Sprintf("%s:%d", rd.dest.GetHost(), port))
}

func joinPorts(ports []uint32) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = fmt.Sprint(p)
	}
	return strings.Join(s, ", ")
}

// destinationSubset checks that a DestinationRule defines the subset a
// destination names (IST0101), as Istio's DestinationRuleAnalyzer: by
// service (namespace and name), whatever namespace the rule is in.
func (a *analysis) destinationSubset(ns string, ref Ref, rd routeDestination) {
	subset, host := rd.dest.GetSubset(), rd.dest.GetHost()
	if subset == "" {
		return
	}
	k := keyOfHost(ns, HostFQDN(ns, host))
	defined := a.ix.subsets[k]
	if slices.Contains(defined, subset) {
		return
	}
	reftype := "host+subset in destinationrule"
	if rd.mirror {
		reftype = "mirror+subset in destinationrule"
	}
	fix := fmt.Sprintf("no DestinationRule defines subsets for host %s: add one with spec.host: %s and a subset named %q, or route without a subset",
		HostFQDN(ns, host), host, subset)
	if len(defined) > 0 {
		sorted := slices.Clone(defined)
		sort.Strings(sorted)
		fix = fmt.Sprintf("define subset %q in the DestinationRule for %s, or route to a subset it defines: %s",
			subset, HostFQDN(ns, host), strings.Join(sorted, ", "))
	}
	a.report(ReferencedResourceNotFound, ref, rd.path+".subset", fix,
		"Referenced %s not found: %q", reftype, host+"+"+subset)
}

// gateway finds the Gateway a VirtualService names: "namespace/name",
// "name" in the VirtualService's namespace, or the legacy "name.namespace".
func (ix *index) gateway(ns, name string) (*api.Gateway, hostKey) {
	if gns, gname, ok := strings.Cut(name, "/"); ok {
		if gns == exportPrivate {
			gns = ns
		}
		k := hostKey{gns, gname}
		return ix.gateways[k], k
	}
	k := hostKey{ns, name}
	if gw := ix.gateways[k]; gw != nil {
		return gw, k
	}
	if gname, gns, ok := strings.Cut(name, "."); ok && !strings.Contains(gns, ".") {
		if gw := ix.gateways[hostKey{gns, gname}]; gw != nil {
			return gw, hostKey{gns, gname}
		}
	}
	return nil, k
}

// gatewayHosts checks that the Gateway serves every host of the
// VirtualService (IST0132), as Istio's GatewayAnalyzer: a server host
// "ns/host" counts for VirtualServices of ns ("*": any, ".": the Gateway's).
func (a *analysis) gatewayHosts(vs *api.VirtualService, ref Ref, gw *api.Gateway, fieldPath string) {
	vsNs, gwNs := namespaceOf(vs), namespaceOf(gw)
	var missing []string
	for _, h := range vs.Spec.GetHosts() {
		found := false
		for _, s := range gw.Spec.GetServers() {
			for _, gh := range s.GetHosts() {
				hns, hh, ok := strings.Cut(gh, "/")
				if !ok {
					hns, hh = exportPublic, gh
				}
				if hns == exportPrivate {
					hns = gwNs
				}
				if hns != exportPublic && hns != vsNs {
					continue
				}
				if hostName(hh).matches(hostName(h)) {
					found = true
				}
			}
		}
		if !found {
			missing = append(missing, h)
		}
	}
	if len(missing) == 0 {
		return
	}
	a.report(VirtualServiceHostNotFoundInGateway, ref, fieldPath,
		fmt.Sprintf("add the hosts to a server of Gateway %s/%s (spec.servers[].hosts), or remove them from the VirtualService's hosts", gwNs, gw.Name),
		"one or more host %v defined in VirtualService %s not found in Gateway %s.", missing, vsNs+"/"+vs.Name, gwNs+"/"+gw.Name)
}

// conflictingMeshHosts reports VirtualServices bound to the mesh that define
// the same host for the same namespaces (IST0109), as Istio's
// ConflictingMeshGatewayHostsAnalyzer.
func (a *analysis) conflictingMeshHosts() {
	type entry struct {
		host string
		vss  []*api.VirtualService
	}
	byHost := map[string]*entry{}
	var keys []string
	for _, vs := range a.ix.virtualServices {
		gws := vs.Spec.GetGateways()
		if len(gws) > 0 && !slices.Contains(gws, meshGateway) {
			continue
		}
		ns := namespaceOf(vs)
		scopes := []string{exportPublic}
		if et := vs.Spec.GetExportTo(); len(et) > 0 && !slices.Contains(et, exportPublic) {
			scopes = nil
			for _, e := range et {
				if e == exportPrivate {
					e = ns
				}
				if !slices.Contains(scopes, e) {
					scopes = append(scopes, e)
				}
			}
		}
		for _, scope := range scopes {
			for _, h := range vs.Spec.GetHosts() {
				fqdn := HostFQDN(ns, h)
				k := scoped(scope, fqdn)
				e := byHost[k]
				if e == nil {
					e = &entry{host: fqdn}
					byHost[k] = e
					keys = append(keys, k)
				}
				if !slices.Contains(e.vss, vs) {
					e.vss = append(e.vss, vs)
				}
			}
		}
	}
	for _, k := range keys {
		e := byHost[k]
		if len(e.vss) < 2 {
			continue
		}
		names := make([]string, len(e.vss))
		for i, vs := range e.vss {
			names[i] = namespaceOf(vs) + "/" + vs.Name
		}
		for _, vs := range e.vss {
			a.report(ConflictingMeshGatewayVirtualServiceHosts, a.ix.ref(vs), "spec.hosts",
				fmt.Sprintf("merge the routes of %s into one VirtualService for %s: which of them a sidecar uses is undefined", strings.Join(names, " and "), e.host),
				"The VirtualServices %s associated with mesh gateway define the same host %s which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.",
				strings.Join(names, ","), e.host)
		}
	}
}

// destinationRules checks each DestinationRule's host (IST0174) and that
// each of its subsets selects pods of the host's service (IST0173).
func (a *analysis) destinationRules() {
	for _, dr := range a.ix.destinationRules {
		ns, ref, host := namespaceOf(dr), a.ix.ref(dr), dr.Spec.GetHost()
		if host == "" {
			continue // a schema error
		}
		unknown := func() {
			a.report(UnknownDestinationRuleHost, ref, "spec.host", a.missingHostFix("DestinationRule", ns, host),
				"The host %s defined in the DestinationRule does not match any services in the mesh.", host)
		}
		if strings.HasPrefix(host, "*") {
			if len(a.ix.coveredHosts(ns, host)) == 0 {
				unknown()
			}
			continue
		}
		b := a.ix.lookupHost(ns, dr.Spec.GetExportTo(), host)
		if b == nil {
			unknown()
			continue
		}
		a.subsetsSelectPods(dr, ref, b)
	}
}
