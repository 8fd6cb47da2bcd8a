package xds

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/api"
)

// meshBuilder turns decoded documents into a Mesh the way the control
// plane's caches would hold it: Services get ClusterIPs (10.96.0.x in
// order), Deployments get one ready Pod each (10.1.<n>.1), and Endpoints
// are computed from the pods unless the documents carry their own.
type meshBuilder struct {
	services  []*corev1.Service
	pods      []*corev1.Pod
	endpoints []*corev1.Endpoints
	vss       []*api.VirtualService
	drs       []*api.DestinationRule
}

// add adds objects; one with the kind, namespace and name of an earlier
// one replaces it, as applying it to the API would.
func (b *meshBuilder) add(objs ...api.Object) *meshBuilder {
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.Service:
			b.services = upsert(b.services, o)
		case *corev1.Pod:
			b.pods = upsert(b.pods, o)
		case *corev1.Endpoints:
			b.endpoints = upsert(b.endpoints, o)
		case *appsv1.Deployment:
			b.pods = upsert(b.pods, podFor(o))
		case *api.VirtualService:
			b.vss = upsert(b.vss, o)
		case *api.DestinationRule:
			b.drs = upsert(b.drs, o)
		}
	}
	return b
}

func upsert[T api.Object](list []T, o T) []T {
	for i, x := range list {
		if nsOrDefault(x.GetNamespace()) == nsOrDefault(o.GetNamespace()) && x.GetName() == o.GetName() {
			list[i] = o
			return list
		}
	}
	return append(list, o)
}

func (b *meshBuilder) addFile(t testing.TB, path string) *meshBuilder {
	t.Helper()
	docs, err := api.DecodeFile(path)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	for _, d := range docs {
		b.add(d.Object)
	}
	return b
}

func podFor(d *appsv1.Deployment) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-0", Namespace: d.Namespace, Labels: d.Spec.Template.Labels},
		Spec:       d.Spec.Template.Spec,
	}
	return p
}

func (b *meshBuilder) mesh() *Mesh {
	for i, s := range b.services {
		if s.Namespace == "" {
			s.Namespace = "default"
		}
		if s.Spec.ClusterIP == "" {
			s.Spec.ClusterIP = fmt.Sprintf("10.96.0.%d", i+1)
		}
		for j := range s.Spec.Ports {
			if s.Spec.Ports[j].TargetPort == (intstr.IntOrString{}) {
				s.Spec.Ports[j].TargetPort = intstr.FromInt32(s.Spec.Ports[j].Port)
			}
		}
	}
	for i, p := range b.pods {
		if p.Namespace == "" {
			p.Namespace = "default"
		}
		if p.Status.PodIP == "" {
			p.Status.PodIP = fmt.Sprintf("10.1.%d.1", i+1)
		}
	}
	have := map[string]bool{}
	for _, e := range b.endpoints {
		have[key(nsOrDefault(e.Namespace), e.Name)] = true
	}
	for _, s := range b.services {
		if have[key(s.Namespace, s.Name)] || len(s.Spec.Selector) == 0 {
			continue
		}
		b.endpoints = append(b.endpoints, endpointsFor(s, b.pods))
	}
	for _, v := range b.vss {
		if v.Namespace == "" {
			v.Namespace = "default"
		}
	}
	for _, d := range b.drs {
		if d.Namespace == "" {
			d.Namespace = "default"
		}
	}
	return &Mesh{Services: b.services, Pods: b.pods, Endpoints: b.endpoints, VirtualServices: b.vss, DestinationRules: b.drs}
}

// endpointsFor is what the endpoints controller publishes: one subset per
// distinct resolved port set, addresses of ready pods in the namespace.
func endpointsFor(s *corev1.Service, pods []*corev1.Pod) *corev1.Endpoints {
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace}}
	bySig := map[string]*corev1.EndpointSubset{}
	var sigs []string
	for _, p := range pods {
		if p.Namespace != s.Namespace || !labelsMatch(s.Spec.Selector, p.Labels) {
			continue
		}
		var ports []corev1.EndpointPort
		for _, sp := range s.Spec.Ports {
			port := sp.TargetPort.IntVal
			if sp.TargetPort.Type == intstr.String {
				port = 0
				for _, c := range p.Spec.Containers {
					for _, cp := range c.Ports {
						if cp.Name == sp.TargetPort.StrVal {
							port = cp.ContainerPort
						}
					}
				}
				if port == 0 {
					continue
				}
			}
			ports = append(ports, corev1.EndpointPort{Name: sp.Name, Port: port, Protocol: sp.Protocol})
		}
		sig := fmt.Sprint(ports)
		ss := bySig[sig]
		if ss == nil {
			ss = &corev1.EndpointSubset{Ports: ports}
			bySig[sig] = ss
			sigs = append(sigs, sig)
		}
		ss.Addresses = append(ss.Addresses, corev1.EndpointAddress{
			IP:        p.Status.PodIP,
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: p.Name, Namespace: p.Namespace},
		})
	}
	sort.Strings(sigs)
	for _, sig := range sigs {
		ep.Subsets = append(ep.Subsets, *bySig[sig])
	}
	return ep
}

// sidecarFor is the Proxy of a pod's sidecar (netns mode).
func sidecarFor(m *Mesh, ns, pod string) Proxy {
	for _, p := range m.Pods {
		if p.Namespace == ns && p.Name == pod {
			return Proxy{
				ID:        fmt.Sprintf("sidecar~%s~%s.%s~%s.svc.cluster.local", p.Status.PodIP, p.Name, ns, ns),
				Type:      Sidecar,
				IP:        p.Status.PodIP,
				Name:      p.Name,
				Namespace: ns,
				Labels:    p.Labels,
			}
		}
	}
	panic("no pod " + ns + "/" + pod)
}

func names[T interface{ GetName() string }](list []T) []string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = x.GetName()
	}
	return slices.Clip(out)
}
