package xds

import (
	"fmt"
	"testing"

	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/api"
)

// bigMesh has nServices services (in 10 namespaces) with nEndpoints ready
// pods each, half v1 and half v2; every tenth service has a
// DestinationRule with two subsets and a VirtualService splitting
// weight/100-weight between them.
func bigMesh(nServices, nEndpoints int, weight int32) *Mesh {
	m := &Mesh{}
	for i := range nServices {
		ns := fmt.Sprintf("ns-%d", i%10)
		name := fmt.Sprintf("svc-%d", i)
		m.Services = append(m.Services, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: corev1.ServiceSpec{
				ClusterIP: fmt.Sprintf("10.96.%d.%d", i/250, i%250+1),
				Selector:  map[string]string{"app": name},
				Ports:     []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
			},
		})
		ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
		ss := corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Name: "http", Port: 8080}}}
		for j := range nEndpoints {
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", name, j), Namespace: ns,
					Labels: map[string]string{"app": name, "version": fmt.Sprintf("v%d", j%2+1)}},
				Status: corev1.PodStatus{PodIP: fmt.Sprintf("10.%d.%d.%d", 1+i/250, i%250, j+1)},
			}
			m.Pods = append(m.Pods, pod)
			ss.Addresses = append(ss.Addresses, corev1.EndpointAddress{IP: pod.Status.PodIP, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: pod.Name, Namespace: ns}})
		}
		ep.Subsets = []corev1.EndpointSubset{ss}
		m.Endpoints = append(m.Endpoints, ep)
		if i%10 == 0 {
			m.DestinationRules = append(m.DestinationRules, &api.DestinationRule{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: &networking.DestinationRule{
				Host:    name,
				Subsets: []*networking.Subset{{Name: "v1", Labels: map[string]string{"version": "v1"}}, {Name: "v2", Labels: map[string]string{"version": "v2"}}},
			}})
			m.VirtualServices = append(m.VirtualServices, &api.VirtualService{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: &networking.VirtualService{
				Hosts: []string{name},
				Http: []*networking.HTTPRoute{{Route: []*networking.HTTPRouteDestination{
					{Destination: &networking.Destination{Host: name, Subset: "v1"}, Weight: weight},
					{Destination: &networking.Destination{Host: name, Subset: "v2"}, Weight: 100 - weight},
				}}},
			}})
		}
	}
	return m
}

var benchProxy = Proxy{ID: "sidecar~10.1.0.1~svc-0-0.ns-0~ns-0.svc.cluster.local", Type: Sidecar, IP: "10.1.0.1", Name: "svc-0-0", Namespace: "ns-0", Labels: map[string]string{"app": "svc-0", "version": "v1"}}

// BenchmarkTranslate: one proxy's configuration for 1,000 services × 10
// endpoints, with the mesh index built fresh (the first proxy after a
// change) and already built (every other proxy).
func BenchmarkTranslate(b *testing.B) {
	b.Run("fresh-mesh", func(b *testing.B) {
		meshes := make([]*Mesh, b.N)
		for i := range meshes {
			meshes[i] = bigMesh(1000, 10, 90)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			Translate(meshes[i], benchProxy)
		}
	})
	b.Run("indexed-mesh", func(b *testing.B) {
		m := bigMesh(1000, 10, 90)
		m.index()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			Translate(m, benchProxy)
		}
	})
}

// benchServer is a server with 100 connected proxies (10 namespaces × 10
// label sets: 100 views) and no streams.
func benchServer() *Server {
	s := NewServer(Options{})
	for i := range 100 {
		ns := fmt.Sprintf("ns-%d", i%10)
		p := Proxy{ID: fmt.Sprintf("sidecar~10.2.0.%d~p-%d.%s~%s.svc.cluster.local", i, i, ns, ns), Type: Sidecar, IP: fmt.Sprintf("10.2.0.%d", i),
			Name: fmt.Sprintf("p-%d", i), Namespace: ns, Labels: map[string]string{"app": fmt.Sprintf("svc-%d", i)}}
		s.proxies[p.ID] = &proxyState{proxy: p, streams: 1}
	}
	return s
}

// BenchmarkPush: a full recomputation for 100 connected proxies after a
// VirtualService change, including encoding and setting snapshots.
func BenchmarkPush(b *testing.B) {
	s := benchServer()
	meshes := [2]*Mesh{bigMesh(1000, 10, 90), bigMesh(1000, 10, 50)}
	s.mesh = meshes[1]
	s.recomputeAll(nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// Alternate meshes so every push changes routes; a fresh Mesh value
		// each time, as the caller builds one per change.
		src := meshes[i%2]
		prev := s.mesh
		s.mesh = &Mesh{Services: src.Services, Endpoints: src.Endpoints, Pods: src.Pods, VirtualServices: src.VirtualServices, DestinationRules: src.DestinationRules}
		s.recomputeAll(prev)
	}
}

// BenchmarkEndpointPush: the same proxies after one endpoint of one
// service moved (a fresh Mesh, objects built anew, as the bench harness
// does): only that service's endpoint assignments are rebuilt.
func BenchmarkEndpointPush(b *testing.B) {
	s := benchServer()
	meshes := [2]*Mesh{bigMesh(1000, 10, 90), bigMesh(1000, 10, 90)}
	meshes[1].Endpoints[0].Subsets[0].Addresses[0].IP = "10.250.0.1"
	s.mesh = meshes[1]
	s.recomputeAll(nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		src := meshes[i%2]
		prev := s.mesh
		s.mesh = &Mesh{Services: src.Services, Endpoints: src.Endpoints, Pods: src.Pods, VirtualServices: src.VirtualServices, DestinationRules: src.DestinationRules}
		s.recomputeAll(prev)
	}
}
