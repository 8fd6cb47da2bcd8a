package xds

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/policies"
)

const corpusDir = "../../testdata/corpus"

// accepted reports whether validation accepts a decoded object, as apply
// would: defaulting, then the API's own checks and the policies package's.
func accepted(obj api.Object) bool {
	api.Default(obj)
	if errs, _ := api.Validate(obj); len(errs) > 0 {
		return false
	}
	switch o := obj.(type) {
	case *api.VirtualService:
		errs, _ := policies.ValidateVirtualService(o.Spec, field.NewPath("spec"))
		return len(errs) == 0
	case *api.DestinationRule:
		errs, _ := policies.ValidateDestinationRule(o.Spec, field.NewPath("spec"))
		return len(errs) == 0
	}
	return true
}

// TestCorpusTranslates translates every VirtualService and DestinationRule
// of the corpus (istio/, istio-docs/, seeds/) that validation accepts,
// with the file's other objects and a Service for every in-mesh host the
// rules name, for a sidecar and a proxyless client in the rule's
// namespace. Each translation must be consistent, and each rule must show
// in the output.
func TestCorpusTranslates(t *testing.T) {
	var translated, skipped int
	for _, dir := range []string{"istio", "istio-docs", "seeds"} {
		err := filepath.WalkDir(filepath.Join(corpusDir, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
				return err
			}
			docs, _ := api.DecodeFile(path) // documents that fail to decode are skipped
			b := &meshBuilder{}
			var rules []api.Object
			for _, doc := range docs {
				switch doc.Object.(type) {
				case *api.VirtualService, *api.DestinationRule:
					if !accepted(doc.Object) {
						skipped++
						continue
					}
					rules = append(rules, doc.Object)
				}
				b.add(doc.Object)
			}
			if len(rules) == 0 {
				return nil
			}
			rel, _ := filepath.Rel(corpusDir, path)
			t.Run(rel, func(t *testing.T) {
				synthesizeServices(b)
				m := b.mesh()
				for _, r := range rules {
					ns := nsOrDefault(r.GetNamespace())
					for _, p := range []Proxy{
						{ID: "sidecar~10.9.0.1~client.ns~ns.svc.cluster.local", Type: Sidecar, IP: "10.9.0.1", Name: "client", Namespace: ns},
						{ID: "sidecar~10.9.0.1~client.ns~ns.svc.cluster.local", Type: GRPC, IP: "10.9.0.1", Name: "client", Namespace: ns},
					} {
						res, _ := Translate(m, p)
						checkConsistent(t, res)
						checkRuleShows(t, m, r, res)
					}
					translated++
				}
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d rules translated, %d rejected by validation and skipped", translated, skipped)
	if translated < 50 {
		t.Errorf("only %d rules translated", translated)
	}
}

// checkRuleShows asserts that a rule is visible in the output: a
// VirtualService for the mesh has a virtual host for each of its service
// hosts, a DestinationRule's subsets have clusters.
func checkRuleShows(t *testing.T, m *Mesh, r api.Object, res *Resources) {
	t.Helper()
	idx := m.index()
	switch o := r.(type) {
	case *api.VirtualService:
		if !appliesToMesh(o.Spec.GetGateways()) || len(o.Spec.GetHttp()) == 0 {
			return
		}
		for _, h := range o.Spec.GetHosts() {
			s := idx.byHost[resolveHost(h, nsOrDefault(o.Namespace), idx.domain)]
			if s == nil || idx.vs[s.fqdn] == nil || idx.vs[s.fqdn].obj != o {
				continue
			}
			found := false
			for _, rc := range res.Routes {
				for _, vh := range rc.GetVirtualHosts() {
					if strings.HasPrefix(vh.GetName(), s.fqdn+":") && len(vh.GetRoutes()) > 0 {
						found = true
					}
				}
			}
			if !found && hasHTTPPort(s) {
				t.Errorf("VirtualService %s: no virtual host for %s", o.Name, s.fqdn)
			}
		}
	case *api.DestinationRule:
		s := idx.byHost[resolveHost(o.Spec.GetHost(), nsOrDefault(o.Namespace), idx.domain)]
		if s == nil || len(s.ports) == 0 {
			return
		}
		names := names(res.Clusters)
		for _, ss := range o.Spec.GetSubsets() {
			want := OutboundCluster(s.ports[0].port, ss.GetName(), s.fqdn)
			if idx.destinationRule(s, nsOrDefault(o.Namespace)).obj == o && !slices.Contains(names, want) {
				t.Errorf("DestinationRule %s: no cluster %s", o.Name, want)
			}
		}
	}
}

func hasHTTPPort(s *service) bool {
	for _, p := range s.ports {
		if p.proto.isHTTP() {
			return true
		}
	}
	return false
}

// synthesizeServices adds a Service (with one ready pod per subset) for
// every in-mesh host the rules name that the documents do not define, with
// the ports the rules use (80 when none).
func synthesizeServices(b *meshBuilder) {
	type hostUse struct {
		ports  map[uint32]bool
		tcp    bool
		labels []map[string]string
	}
	uses := map[string]*hostUse{}
	use := func(host, ns string) *hostUse {
		fqdn := resolveHost(host, ns, "cluster.local")
		if !strings.HasSuffix(fqdn, ".svc.cluster.local") || strings.Contains(fqdn, "*") {
			return nil
		}
		u := uses[fqdn]
		if u == nil {
			u = &hostUse{ports: map[uint32]bool{}}
			uses[fqdn] = u
		}
		return u
	}
	for _, v := range b.vss {
		ns := nsOrDefault(v.Namespace)
		for _, h := range v.Spec.GetHosts() {
			if u := use(h, ns); u != nil {
				for _, r := range v.Spec.GetHttp() {
					for _, m := range r.GetMatch() {
						if m.GetPort() != 0 {
							u.ports[m.GetPort()] = true
						}
					}
				}
				if len(v.Spec.GetTcp()) > 0 && len(v.Spec.GetHttp()) == 0 {
					u.tcp = true
				}
			}
		}
		dest := func(d *networking.Destination, tcp bool) {
			if u := use(d.GetHost(), ns); u != nil {
				if p := d.GetPort().GetNumber(); p != 0 {
					u.ports[p] = true
				}
				u.tcp = u.tcp || tcp
			}
		}
		for _, r := range v.Spec.GetHttp() {
			for _, d := range r.GetRoute() {
				dest(d.GetDestination(), false)
			}
			if r.GetMirror() != nil {
				dest(r.GetMirror(), false)
			}
			for _, m := range r.GetMirrors() {
				dest(m.GetDestination(), false)
			}
		}
		for _, r := range v.Spec.GetTcp() {
			for _, d := range r.GetRoute() {
				dest(d.GetDestination(), true)
			}
		}
	}
	for _, d := range b.drs {
		if u := use(d.Spec.GetHost(), nsOrDefault(d.Namespace)); u != nil {
			for _, ss := range d.Spec.GetSubsets() {
				u.labels = append(u.labels, ss.GetLabels())
			}
		}
	}
	have := map[string]bool{}
	for _, s := range b.services {
		have[s.Name+"."+nsOrDefault(s.Namespace)+".svc.cluster.local"] = true
	}
	for _, fqdn := range sortedKeys(uses) {
		if have[fqdn] {
			continue
		}
		u := uses[fqdn]
		name, rest, _ := strings.Cut(fqdn, ".")
		ns, _, _ := strings.Cut(rest, ".")
		if len(u.ports) == 0 {
			u.ports[80] = true
		}
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: corev1.ServiceSpec{Selector: map[string]string{"synthetic": name}}}
		for _, p := range sortedPorts(u.ports) {
			pn := "http"
			if u.tcp {
				pn = "tcp"
			}
			svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: fmt.Sprintf("%s-%d", pn, p), Port: int32(p)})
		}
		b.add(svc)
		if len(u.labels) == 0 {
			u.labels = []map[string]string{nil}
		}
		for i, l := range u.labels {
			labels := map[string]string{"synthetic": name}
			for k, v := range l {
				labels[k] = v
			}
			b.add(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", name, i), Namespace: ns, Labels: labels}})
		}
	}
}

func sortedPorts(m map[uint32]bool) []uint32 {
	var out []uint32
	for p := range m {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
