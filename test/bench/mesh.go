package main

import (
	"fmt"
	"strings"

	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/controlplane/xds"
)

// The clusters the comparisons configure, built in Go as weftd's informer
// caches would hold them.

// meshSpec is the xDS benchmark's mesh: services in 10 namespaces, each
// with endpoints ready pods (half version v1, half v2); every tenth
// service has a DestinationRule with subsets v1 and v2 and a
// VirtualService splitting weight / 100-weight between them. generation
// moves one endpoint of svc-0 to another address: an endpoint change.
type meshSpec struct {
	services, endpoints int
	weight              int32
	generation          int
}

func meshNamespace(i int) string { return fmt.Sprintf("ns-%d", i%10) }

// meshPod names the pod of endpoint j of service i, and gives its address.
func meshPod(i, j int) (name, ip string) {
	return fmt.Sprintf("svc-%d-%d", i, j), fmt.Sprintf("10.%d.%d.%d", 1+i/250, i%250, j+1)
}

// mesh builds the Mesh. Every call returns new objects, as a new Mesh
// must be handed to Push for every change.
func (s meshSpec) mesh() *xds.Mesh {
	m := &xds.Mesh{}
	for i := range s.services {
		ns, name := meshNamespace(i), fmt.Sprintf("svc-%d", i)
		m.Services = append(m.Services, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: corev1.ServiceSpec{
				ClusterIP: fmt.Sprintf("10.96.%d.%d", i/250, i%250+1),
				Selector:  map[string]string{"app": name},
				Ports:     []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
			},
		})
		ss := corev1.EndpointSubset{Ports: []corev1.EndpointPort{{Name: "http", Port: 8080}}}
		for j := range s.endpoints {
			podName, ip := meshPod(i, j)
			if i == 0 && j == 0 && s.generation > 0 {
				ip = fmt.Sprintf("10.250.%d.%d", s.generation/250%250, s.generation%250+1)
			}
			m.Pods = append(m.Pods, &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: podName, Namespace: ns,
					Labels: map[string]string{"app": name, "version": fmt.Sprintf("v%d", j%2+1)}},
				Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
				Status: corev1.PodStatus{PodIP: ip, Phase: corev1.PodRunning},
			})
			ss.Addresses = append(ss.Addresses, corev1.EndpointAddress{IP: ip, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: podName, Namespace: ns}})
		}
		m.Endpoints = append(m.Endpoints, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Subsets: []corev1.EndpointSubset{ss}})
		if i%10 == 0 {
			m.DestinationRules = append(m.DestinationRules, splitRule(ns, name))
			m.VirtualServices = append(m.VirtualServices, splitRoute(ns, name, s.weight))
		}
	}
	return m
}

func splitRule(ns, name string) *api.DestinationRule {
	return &api.DestinationRule{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: &networking.DestinationRule{
		Host:    name,
		Subsets: []*networking.Subset{{Name: "v1", Labels: map[string]string{"version": "v1"}}, {Name: "v2", Labels: map[string]string{"version": "v2"}}},
	}}
}

func splitRoute(ns, name string, weight int32) *api.VirtualService {
	return &api.VirtualService{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: &networking.VirtualService{
		Hosts: []string{name},
		Http: []*networking.HTTPRoute{{Route: []*networking.HTTPRouteDestination{
			{Destination: &networking.Destination{Host: name, Subset: "v1"}, Weight: weight},
			{Destination: &networking.Destination{Host: name, Subset: "v2"}, Weight: 100 - weight},
		}}},
	}}
}

// meshProxy is the node id and labels of simulated proxy k: the sidecar
// of pod k%endpoints of service k/endpoints, so that 1,000 proxies are the
// replicas of 100 services, as a Deployment's replicas share their labels.
func (s meshSpec) meshProxy(k int) (id string, labels map[string]string) {
	i, j := k/s.endpoints, k%s.endpoints
	name, ip := meshPod(i, j)
	ns := meshNamespace(i)
	return fmt.Sprintf("sidecar~%s~%s.%s~%s.svc.cluster.local", ip, name, ns, ns),
		map[string]string{"app": fmt.Sprintf("svc-%d", i), "version": fmt.Sprintf("v%d", j%2+1)}
}

// The sidecar comparison's mesh, in namespace "bench": 100 services with
// two subsets and a 90/10 VirtualService each (what the proxy's route
// table holds besides the services under test), and
//   - bench-direct: one endpoint, the backend at 127.0.0.1:<backend port>;
//   - bench-mesh: one endpoint, the server pod bench-server-0 at
//     127.0.0.2:<backend port>, where the server-side weft-proxy's inbound
//     listener is bound; its inbound cluster is 127.0.0.1:<backend port>.
//
// The client-side weft-proxy is the sidecar of pod bench-client-0
// (127.0.0.1).
const (
	benchNS       = "bench"
	clientPodIP   = "127.0.0.1"
	serverPodIP   = "127.0.0.2"
	directHost    = "bench-direct.bench"
	meshHost      = "bench-mesh.bench"
	clientProxyID = "sidecar~" + clientPodIP + "~bench-client-0." + benchNS + "~" + benchNS + ".svc.cluster.local"
	serverProxyID = "sidecar~" + serverPodIP + "~bench-server-0." + benchNS + "~" + benchNS + ".svc.cluster.local"
)

func sidecarMesh(otherServices, backendPort int) *xds.Mesh {
	m := &xds.Mesh{}
	addService := func(name, clusterIP string, target int, eps ...corev1.EndpointAddress) {
		m.Services = append(m.Services, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNS},
			Spec: corev1.ServiceSpec{
				ClusterIP: clusterIP,
				Selector:  map[string]string{"app": name},
				Ports:     []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(int32(target))}},
			},
		})
		m.Endpoints = append(m.Endpoints, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNS},
			Subsets: []corev1.EndpointSubset{{Addresses: eps, Ports: []corev1.EndpointPort{{Name: "http", Port: int32(target)}}}}})
	}
	pod := func(name, ip, app string, port int) {
		m.Pods = append(m.Pods, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: benchNS, Labels: map[string]string{"app": app, "version": "v1"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}}}},
			Status:     corev1.PodStatus{PodIP: ip, Phase: corev1.PodRunning},
		})
	}
	for i := range otherServices {
		name := fmt.Sprintf("svc-%d", i)
		var eps []corev1.EndpointAddress
		for j := range 2 {
			podName := fmt.Sprintf("%s-%d", name, j)
			ip := fmt.Sprintf("10.1.%d.%d", i, j+1)
			pod(podName, ip, name, 8080)
			m.Pods[len(m.Pods)-1].Labels["version"] = fmt.Sprintf("v%d", j+1)
			eps = append(eps, corev1.EndpointAddress{IP: ip, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: podName, Namespace: benchNS}})
		}
		addService(name, fmt.Sprintf("10.96.1.%d", i+1), 8080, eps...)
		m.DestinationRules = append(m.DestinationRules, splitRule(benchNS, name))
		m.VirtualServices = append(m.VirtualServices, splitRoute(benchNS, name, 90))
	}
	pod("bench-client-0", clientPodIP, "bench-client", 9)
	pod("bench-server-0", serverPodIP, "bench-mesh", backendPort)
	addService("bench-direct", "10.96.2.1", backendPort, corev1.EndpointAddress{IP: "127.0.0.1"})
	addService("bench-mesh", "10.96.2.2", backendPort, corev1.EndpointAddress{IP: serverPodIP,
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: "bench-server-0", Namespace: benchNS}})
	return m
}

// dnsCluster is the DNS comparison's cluster: n ClusterIP services in 50
// namespaces with two named ports (http 80, grpc 9090), three ready pods
// each — what weftd's informers would hand dns.BuildIndex.
func dnsCluster(n int) ([]*corev1.Service, []*corev1.Endpoints, []*corev1.Pod) {
	services := make([]*corev1.Service, 0, n)
	eps := make([]*corev1.Endpoints, 0, n)
	pods := make([]*corev1.Pod, 0, 3*n)
	for i := range n {
		ns, name := dnsService(i)
		ip := dnsClusterIP(i)
		services = append(services, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: ip, ClusterIPs: []string{ip},
				Ports: []corev1.ServicePort{
					{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)},
					{Name: "grpc", Port: 9090, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9090)},
				}},
		})
		var addrs []corev1.EndpointAddress
		for j := range 3 {
			pip := fmt.Sprintf("10.%d.%d.%d", 100+j, i/250, i%250+1)
			podName := fmt.Sprintf("%s-%d", name, j)
			addrs = append(addrs, corev1.EndpointAddress{IP: pip, TargetRef: &corev1.ObjectReference{Kind: "Pod", Name: podName, Namespace: ns}})
			pods = append(pods, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: podName},
				Status: corev1.PodStatus{PodIP: pip, PodIPs: []corev1.PodIP{{IP: pip}}, Phase: corev1.PodRunning}})
		}
		eps = append(eps, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Subsets: []corev1.EndpointSubset{{Addresses: addrs, Ports: []corev1.EndpointPort{
				{Name: "http", Port: 8080, Protocol: corev1.ProtocolTCP}, {Name: "grpc", Port: 9090, Protocol: corev1.ProtocolTCP}}}}})
	}
	return services, eps, pods
}

func dnsService(i int) (ns, name string) { return fmt.Sprintf("ns-%d", i%50), fmt.Sprintf("svc-%d", i) }

func dnsClusterIP(i int) string { return fmt.Sprintf("10.96.%d.%d", i/250, i%250+1) }

// dnsZoneFile is the same cluster as an RFC 1035 zone file for CoreDNS's
// file plugin: each service's A record and the SRV records of its named
// ports, with weft's TTL (5 s).
func dnsZoneFile(n int) string {
	var b strings.Builder
	b.WriteString("$ORIGIN cluster.local.\n$TTL 5\n")
	b.WriteString("@ IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5\n")
	b.WriteString("@ IN NS ns.dns.cluster.local.\nns.dns IN A 127.0.0.1\n")
	for i := range n {
		ns, name := dnsService(i)
		fqdn := name + "." + ns + ".svc"
		fmt.Fprintf(&b, "%s IN A %s\n", fqdn, dnsClusterIP(i))
		fmt.Fprintf(&b, "_http._tcp.%s IN SRV 0 100 80 %s.cluster.local.\n", fqdn, fqdn)
		fmt.Fprintf(&b, "_grpc._tcp.%s IN SRV 0 100 9090 %s.cluster.local.\n", fqdn, fqdn)
	}
	return b.String()
}
