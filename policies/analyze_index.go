package policies

import (
	"regexp"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/weft-mesh/weft/api"
)

// The objects Analyze looks at, indexed for the checks' lookups, and host
// resolution as Istio's analyzers do it.

// clusterDomain is the DNS suffix of Kubernetes services.
const clusterDomain = "svc.cluster.local"

// annotationExportTo limits which namespaces see a Service, as
// networking.istio.io/exportTo does.
const annotationExportTo = "networking.istio.io/exportTo"

// systemNamespaces are skipped by the injection and port name checks, as
// Istio skips them.
var systemNamespaces = map[string]bool{
	"kube-system": true, "kube-public": true, "kube-node-lease": true, "local-path-storage": true, "istio-system": true,
}

// HostFQDN is a VirtualService or DestinationRule host as a fully qualified
// name: a short name ("reviews", no dot, no wildcard) is a Service in the
// resource's namespace, "reviews.default.svc.cluster.local"; any other host
// is taken as written.
func HostFQDN(namespace, host string) string {
	if strings.HasPrefix(host, "*") || strings.Contains(host, ".") {
		return host
	}
	return host + "." + namespace + "." + clusterDomain
}

var serviceFQDNRegexp = regexp.MustCompile(`^(.+)\.(.+)\.svc\.cluster\.local$`)

// hostKey is the Service a host names: its namespace and name, or, for a
// host that is not a Kubernetes service name, the host in the namespace of
// the resource that wrote it.
type hostKey struct{ namespace, name string }

func keyOfHost(namespace, host string) hostKey {
	if m := serviceFQDNRegexp.FindStringSubmatch(host); m != nil {
		return hostKey{namespace: m[2], name: m[1]}
	}
	return hostKey{namespace: namespace, name: host}
}

// backend is what a host resolves to: a Service or a ServiceEntry.
type backend struct {
	ref   Ref
	host  string // the FQDN or ServiceEntry host that matched
	ports []uint32
	// selector picks the pods behind the host in ref.Namespace; nil when
	// pods are not its backends (no selector, ExternalName, a ServiceEntry
	// without workloadSelector).
	selector map[string]string
	// endpointLabels are the labels of a ServiceEntry's endpoints.
	endpointLabels []map[string]string
}

// workload is a pod, or the pod template of a workload.
type workload struct {
	ref         Ref
	namespace   string
	labels      map[string]string
	annotations map[string]string
	spec        *corev1.PodSpec
	specPath    string // "spec" for a pod, "spec.template.spec" for a template
	isPod       bool
	// owned: controlled by another object (a ReplicaSet of a Deployment, a
	// Deployment's pod), whose own checks already cover the template.
	owned bool
	// serving: the pod is, or the template's pods will be, backends (not
	// finished, not being deleted, not scaled to zero).
	serving bool
}

// index holds the objects by kind.
type index struct {
	namespaces       []*corev1.Namespace
	nsLabels         map[string]map[string]string // namespace → labels, for the namespaces present
	nodeLabels       map[string]map[string]string
	services         []*corev1.Service
	serviceEntries   []*api.ServiceEntry
	workloads        []workload
	virtualServices  []*api.VirtualService
	destinationRules []*api.DestinationRule
	gateways         map[hostKey]*api.Gateway
	origins          map[api.Object]string

	// hosts: scope ("*" or a namespace) + "/" + FQDN → backend, as Istio's
	// InitServiceEntryHostMap; hostKeys are its keys in order.
	hosts    map[string]*backend
	hostKeys []string
	// subsets: the subsets DestinationRules define per host.
	subsets map[hostKey][]string
}

func newIndex(resources []Resource) *index {
	ix := &index{
		nsLabels:   map[string]map[string]string{},
		nodeLabels: map[string]map[string]string{},
		gateways:   map[hostKey]*api.Gateway{},
		origins:    map[api.Object]string{},
		hosts:      map[string]*backend{},
		subsets:    map[hostKey][]string{},
	}
	// A later resource replaces an earlier one of the same kind and name.
	type key struct{ kind, ns, name string }
	last := map[key]int{}
	for i, r := range resources {
		if r.Object == nil {
			continue
		}
		last[key{kindName(r.Object), namespaceOf(r.Object), r.Object.GetName()}] = i
	}
	for i, r := range resources {
		if r.Object == nil || last[key{kindName(r.Object), namespaceOf(r.Object), r.Object.GetName()}] != i {
			continue
		}
		ix.origins[r.Object] = r.Origin
		ix.add(r.Object)
	}
	for _, s := range ix.serviceEntries {
		ix.addServiceEntryHosts(s)
	}
	for _, s := range ix.services {
		ix.addServiceHost(s)
	}
	for k := range ix.hosts {
		ix.hostKeys = append(ix.hostKeys, k)
	}
	sort.Strings(ix.hostKeys)
	for _, dr := range ix.destinationRules {
		ns := namespaceOf(dr)
		k := keyOfHost(ns, HostFQDN(ns, dr.Spec.GetHost()))
		for _, s := range dr.Spec.GetSubsets() {
			ix.subsets[k] = append(ix.subsets[k], s.GetName())
		}
	}
	return ix
}

func (ix *index) add(obj api.Object) {
	switch o := obj.(type) {
	case *corev1.Namespace:
		ix.namespaces = append(ix.namespaces, o)
		ix.nsLabels[o.Name] = o.Labels
	case *corev1.Node:
		ix.nodeLabels[o.Name] = o.Labels
	case *corev1.Service:
		ix.services = append(ix.services, o)
	case *api.ServiceEntry:
		if o.Spec != nil {
			ix.serviceEntries = append(ix.serviceEntries, o)
		}
	case *api.VirtualService:
		if o.Spec != nil {
			ix.virtualServices = append(ix.virtualServices, o)
		}
	case *api.DestinationRule:
		if o.Spec != nil {
			ix.destinationRules = append(ix.destinationRules, o)
		}
	case *api.Gateway:
		if o.Spec != nil {
			ix.gateways[hostKey{namespaceOf(o), o.Name}] = o
		}
	case *corev1.Pod:
		finished := o.Status.Phase == corev1.PodSucceeded || o.Status.Phase == corev1.PodFailed
		ix.workloads = append(ix.workloads, workload{ref: ix.ref(o), namespace: namespaceOf(o), labels: o.Labels,
			annotations: o.Annotations, spec: &o.Spec, specPath: "spec", isPod: true, owned: controlled(o),
			serving: !finished && o.DeletionTimestamp == nil})
	case *appsv1.Deployment:
		ix.addTemplate(o, &o.Spec.Template, o.Spec.Replicas)
	case *appsv1.ReplicaSet:
		ix.addTemplate(o, &o.Spec.Template, o.Spec.Replicas)
	case *appsv1.StatefulSet:
		ix.addTemplate(o, &o.Spec.Template, o.Spec.Replicas)
	case *appsv1.DaemonSet:
		ix.addTemplate(o, &o.Spec.Template, nil)
	case *batchv1.Job:
		ix.addTemplate(o, &o.Spec.Template, o.Spec.Parallelism)
	case *corev1.ReplicationController:
		if o.Spec.Template != nil {
			ix.addTemplate(o, o.Spec.Template, o.Spec.Replicas)
		}
	}
}

func (ix *index) addTemplate(obj api.Object, t *corev1.PodTemplateSpec, replicas *int32) {
	ix.workloads = append(ix.workloads, workload{ref: ix.ref(obj), namespace: namespaceOf(obj), labels: t.Labels,
		annotations: t.Annotations, spec: &t.Spec, specPath: "spec.template.spec",
		owned: controlled(obj), serving: replicas == nil || *replicas > 0})
}

// controlled reports whether obj has a controlling owner.
func controlled(obj api.Object) bool {
	for _, o := range obj.GetOwnerReferences() {
		if o.Controller != nil && *o.Controller {
			return true
		}
	}
	return false
}

// ref names an object for a message.
func (ix *index) ref(obj api.Object) Ref {
	r := Ref{Kind: kindName(obj), Name: obj.GetName(), Origin: ix.origins[obj]}
	if k := api.KindOf(obj); k == nil || k.Namespaced {
		r.Namespace = namespaceOf(obj)
	}
	return r
}

func kindName(obj api.Object) string {
	if k := api.KindOf(obj); k != nil {
		return k.Kind
	}
	return obj.GetObjectKind().GroupVersionKind().Kind
}

// namespaceOf is the object's namespace: "default" when a namespaced object
// has none, "" for a cluster-scoped one.
func namespaceOf(obj api.Object) string {
	if k := api.KindOf(obj); k != nil && !k.Namespaced {
		return ""
	}
	if ns := obj.GetNamespace(); ns != "" {
		return ns
	}
	return "default"
}

func scoped(scope, fqdn string) string { return scope + "/" + fqdn }

func (ix *index) addServiceHost(s *corev1.Service) {
	ns := namespaceOf(s)
	b := &backend{ref: ix.ref(s), host: HostFQDN(ns, s.Name)}
	for _, p := range s.Spec.Ports {
		b.ports = append(b.ports, uint32(p.Port))
	}
	if len(s.Spec.Selector) > 0 && s.Spec.Type != corev1.ServiceTypeExternalName {
		b.selector = s.Spec.Selector
	}
	scopes := []string{exportPublic}
	if anno := s.Annotations[annotationExportTo]; anno != "" {
		scopes = nil
		for _, e := range strings.Split(anno, ",") {
			switch e = strings.TrimSpace(e); e {
			case exportPrivate:
				scopes = append(scopes, ns)
			case exportNone:
			default:
				scopes = append(scopes, e)
			}
		}
	}
	for _, scope := range scopes {
		ix.hosts[scoped(scope, b.host)] = b
	}
}

func (ix *index) addServiceEntryHosts(se *api.ServiceEntry) {
	ns := namespaceOf(se)
	for _, h := range se.Spec.GetHosts() {
		b := &backend{ref: ix.ref(se), host: HostFQDN(ns, h)}
		for _, p := range se.Spec.GetPorts() {
			b.ports = append(b.ports, p.GetNumber())
		}
		if sel := se.Spec.GetWorkloadSelector().GetLabels(); len(sel) > 0 {
			b.selector = sel
		}
		for _, e := range se.Spec.GetEndpoints() {
			b.endpointLabels = append(b.endpointLabels, e.GetLabels())
		}
		scopes := []string{exportPublic}
		if len(se.Spec.GetExportTo()) > 0 {
			scopes = nil
			for _, e := range se.Spec.GetExportTo() {
				switch e {
				case exportPrivate:
					scopes = append(scopes, ns)
				case exportNone:
				default:
					scopes = append(scopes, e)
				}
			}
		}
		for _, scope := range scopes {
			ix.hosts[scoped(scope, b.host)] = b
		}
	}
}

// lookupHost resolves a host written in a resource of namespace ns with
// exportTo, as Istio's GetDestinationHost: services visible everywhere,
// then those visible where the resource is exported, then wildcard
// ServiceEntry hosts. nil when nothing defines the host.
func (ix *index) lookupHost(ns string, exportTo []string, host string) *backend {
	fqdn := HostFQDN(ns, host)
	if b := ix.hosts[scoped(exportPublic, fqdn)]; b != nil {
		return b
	}
	if len(exportTo) == 0 {
		if b := ix.hosts[scoped(ns, fqdn)]; b != nil {
			return b
		}
	}
	for _, e := range exportTo {
		if e == exportPrivate {
			e = ns
		}
		if b := ix.hosts[scoped(e, fqdn)]; b != nil {
			return b
		}
	}
	for _, k := range ix.hostKeys {
		scope, seHost, _ := strings.Cut(k, "/")
		if !strings.HasPrefix(seHost, "*") || (scope != exportPublic && scope != ns) {
			continue
		}
		if strings.HasSuffix(strings.TrimPrefix(fqdn, "*"), strings.TrimPrefix(seHost, "*")) {
			return ix.hosts[k]
		}
	}
	return nil
}

// coveredHosts returns the known hosts a wildcard host covers, visible
// from namespace ns.
func (ix *index) coveredHosts(ns, wildcard string) []*backend {
	var out []*backend
	for _, k := range ix.hostKeys {
		scope, h, _ := strings.Cut(k, "/")
		if scope != exportPublic && scope != ns {
			continue
		}
		if hostName(h).subsetOf(hostName(wildcard)) {
			out = append(out, ix.hosts[k])
		}
	}
	return out
}

// nodeTopologyLabels are the node labels Istio adds to a pod's endpoint.
var nodeTopologyLabels = []string{"topology.kubernetes.io/region", "topology.kubernetes.io/zone", "topology.istio.io/subzone"}

// endpointLabels are a workload's labels as its endpoints carry them: with
// the region, zone, subzone and hostname of its node, as Istio adds them.
func (ix *index) endpointLabels(w workload) labels.Set {
	out := labels.Set{}
	for k, v := range w.labels {
		out[k] = v
	}
	node := w.spec.NodeName
	if node == "" {
		return out
	}
	nl, ok := ix.nodeLabels[node]
	if !ok {
		return out
	}
	for _, k := range nodeTopologyLabels {
		if v, ok := nl[k]; ok {
			out[k] = v
		}
	}
	out["kubernetes.io/hostname"] = node
	return out
}

// backendWorkloads are the serving workloads behind a backend with a selector.
func (ix *index) backendWorkloads(b *backend) []workload {
	if b.selector == nil {
		return nil
	}
	sel := labels.SelectorFromSet(b.selector)
	var out []workload
	for _, w := range ix.workloads {
		if w.serving && w.namespace == b.ref.Namespace && sel.Matches(labels.Set(w.labels)) {
			out = append(out, w)
		}
	}
	return out
}
