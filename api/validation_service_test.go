package api

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestValidateService(t *testing.T) {
	lb := corev1.ServiceTypeLoadBalancer
	np := corev1.ServiceTypeNodePort
	runValidationCases(t, []validationCase{
		{"valid", makeService().obj(), nil},
		{"LoadBalancer without port (seed 03)", makeService().typ(lb).ports(corev1.ServicePort{Name: "http", TargetPort: intstr.FromInt32(80), Protocol: corev1.ProtocolTCP}).obj(),
			[]string{"spec.ports[0].port: Required value"}},
		{"port and target port missing: one error", makeService().ports(corev1.ServicePort{Name: "http"}).obj(), []string{"spec.ports[0].port: Required value"}},
		{"port range", makeService().ports(corev1.ServicePort{Port: 70000}).obj(), []string{"spec.ports[0].port: Invalid value"}},
		{"ports required", makeService().ports().obj(), []string{"spec.ports: Required value"}},
		{"headless needs no ports", makeService().ports().with(func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone }).obj(), nil},
		{"ExternalName needs no ports", makeService().typ(corev1.ServiceTypeExternalName).ports().with(func(s *corev1.Service) { s.Spec.ExternalName = "db.example.com." }).obj(), nil},
		{"names required with several ports", makeService().ports(corev1.ServicePort{Name: "http", Port: 80}, corev1.ServicePort{Port: 443}).obj(),
			[]string{"spec.ports[1].name: Required value"}},
		{"names unique", makeService().ports(corev1.ServicePort{Name: "http", Port: 80}, corev1.ServicePort{Name: "http", Port: 81}).obj(),
			[]string{"spec.ports[1].name: Duplicate value"}},
		{"names are DNS labels", makeService().ports(corev1.ServicePort{Name: "http_web", Port: 80}).obj(), []string{"spec.ports[0].name: Invalid value"}},
		{"port and protocol unique", makeService().ports(corev1.ServicePort{Name: "a", Port: 53}, corev1.ServicePort{Name: "b", Port: 53}).obj(),
			[]string{"spec.ports[1]: Duplicate value"}},
		{"same port, other protocol", makeService().ports(corev1.ServicePort{Name: "a", Port: 53}, corev1.ServicePort{Name: "b", Port: 53, Protocol: corev1.ProtocolUDP}).obj(), nil},
		{"protocol", makeService().ports(corev1.ServicePort{Port: 80, Protocol: "HTTP"}).obj(), []string{"spec.ports[0].protocol: Unsupported value"}},
		{"target port range", makeService().ports(corev1.ServicePort{Port: 80, TargetPort: intstr.FromInt32(70000)}).obj(), []string{"spec.ports[0].targetPort: Invalid value"}},
		{"target port name", makeService().ports(corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("http_web")}).obj(), []string{"spec.ports[0].targetPort: Invalid value"}},
		{"named target port", makeService().ports(corev1.ServicePort{Port: 80, TargetPort: intstr.FromString("http")}).obj(), nil},
		{"appProtocol", makeService().ports(corev1.ServicePort{Port: 80, AppProtocol: new("a/b/c")}).obj(), []string{"spec.ports[0].appProtocol: Invalid value"}},
		{"node ports", makeService().typ(np).ports(corev1.ServicePort{Name: "a", Port: 80, NodePort: 30080}, corev1.ServicePort{Name: "b", Port: 81}).obj(), nil},
		{"node port range", makeService().typ(np).ports(corev1.ServicePort{Port: 80, NodePort: 8080}).obj(), []string{"spec.ports[0].nodePort: Invalid value"}},
		{"node ports unique", makeService().typ(lb).ports(corev1.ServicePort{Name: "a", Port: 80, NodePort: 30080}, corev1.ServicePort{Name: "b", Port: 81, NodePort: 30080}).obj(),
			[]string{"spec.ports[1].nodePort: Duplicate value"}},
		{"no node port for ClusterIP", makeService().ports(corev1.ServicePort{Port: 80, NodePort: 30080}).obj(), []string{"spec.ports[0].nodePort: Forbidden"}},
		{"type", makeService().typ("Ingress").obj(), []string{"spec.type: Unsupported value"}},
		{"clusterIP", makeService().with(func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.300" }).obj(), []string{"spec.clusterIPs[0]: Invalid value"}},
		{"clusterIPs agree", makeService().with(func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.1"; s.Spec.ClusterIPs = []string{"10.96.0.2"} }).obj(),
			[]string{"spec.clusterIPs[0]: Invalid value"}},
		{"dual stack", makeService().with(func(s *corev1.Service) {
			s.Spec.ClusterIPs = []string{"10.96.0.1", "fd00::1"}
			s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
			s.Spec.IPFamilyPolicy = new(corev1.IPFamilyPolicyPreferDualStack)
		}).obj(), nil},
		{"single stack holds one family", makeService().with(func(s *corev1.Service) {
			s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}
		}).obj(),
			[]string{"spec.ipFamilies: Invalid value"}},
		{"ip families", makeService().with(func(s *corev1.Service) {
			s.Spec.IPFamilyPolicy = new(corev1.IPFamilyPolicyRequireDualStack)
			s.Spec.IPFamilies = []corev1.IPFamily{"IPv5", corev1.IPv4Protocol, corev1.IPv4Protocol}
		}).obj(), []string{"spec.ipFamilies: Invalid value", "spec.ipFamilies[0]: Unsupported value", "spec.ipFamilies[2]: Duplicate value"}},
		{"ip family policy", makeService().with(func(s *corev1.Service) { s.Spec.IPFamilyPolicy = new(corev1.IPFamilyPolicy("Dual")) }).obj(),
			[]string{"spec.ipFamilyPolicy: Unsupported value"}},
		{"headless NodePort", makeService().typ(np).with(func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone }).obj(), []string{"spec.clusterIPs[0]: Invalid value"}},
		{"selector", makeService().with(func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "web app"} }).obj(), []string{"spec.selector: Invalid value"}},
		{"ExternalName needs a name", makeService().typ(corev1.ServiceTypeExternalName).obj(), []string{"spec.externalName: Required value"}},
		{"ExternalName is a DNS name", makeService().typ(corev1.ServiceTypeExternalName).with(func(s *corev1.Service) { s.Spec.ExternalName = "db_1.example.com" }).obj(),
			[]string{"spec.externalName: Invalid value"}},
		{"ExternalName has no cluster IP", makeService().typ(corev1.ServiceTypeExternalName).with(func(s *corev1.Service) {
			s.Spec.ExternalName = "db.example.com"
			s.Spec.ClusterIP = "10.96.0.1"
		}).obj(), []string{"spec.clusterIP: Forbidden"}},
		{"session affinity", makeService().with(func(s *corev1.Service) { s.Spec.SessionAffinity = "Cookie" }).obj(), []string{"spec.sessionAffinity: Unsupported value"}},
		{"session affinity timeout", makeService().with(func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: new(int32(86401))}}
		}).obj(), []string{"spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value"}},
		{"source ranges only for LoadBalancer", makeService().with(func(s *corev1.Service) { s.Spec.LoadBalancerSourceRanges = []string{"10.0.0.0/8"} }).obj(),
			[]string{"spec.loadBalancerSourceRanges: Forbidden"}},
		{"source ranges are CIDRs", makeService().typ(lb).with(func(s *corev1.Service) { s.Spec.LoadBalancerSourceRanges = []string{" 10.0.0.0/8", "10.0.0.1"} }).obj(),
			[]string{"spec.loadBalancerSourceRanges[1]: Invalid value"}},
		{"external IPs", makeService().with(func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"192.0.2.1", "example.com"} }).obj(),
			[]string{"spec.externalIPs[1]: Invalid value"}},
		{"external traffic policy only for external services", makeService().with(func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal }).obj(),
			[]string{"spec.externalTrafficPolicy: Invalid value"}},
		{"external traffic policy", makeService().typ(np).with(func(s *corev1.Service) { s.Spec.ExternalTrafficPolicy = "Global" }).obj(),
			[]string{"spec.externalTrafficPolicy: Unsupported value"}},
		{"health check node port", makeService().typ(np).with(func(s *corev1.Service) { s.Spec.HealthCheckNodePort = 30999 }).obj(),
			[]string{"spec.healthCheckNodePort: Invalid value"}},
		{"internal traffic policy", makeService().with(func(s *corev1.Service) {
			s.Spec.InternalTrafficPolicy = new(corev1.ServiceInternalTrafficPolicy("Node"))
		}).obj(),
			[]string{"spec.internalTrafficPolicy: Unsupported value"}},
		{"node port allocation only for LoadBalancer", makeService().with(func(s *corev1.Service) { s.Spec.AllocateLoadBalancerNodePorts = new(false) }).obj(),
			[]string{"spec.allocateLoadBalancerNodePorts: Forbidden"}},
		{"traffic distribution", makeService().with(func(s *corev1.Service) { s.Spec.TrafficDistribution = new("Anywhere") }).obj(),
			[]string{"spec.trafficDistribution: Unsupported value"}},
	})
}

func TestNodePortRange(t *testing.T) {
	saved := NodePortRange
	t.Cleanup(func() { NodePortRange = saved })
	svc := makeService().typ(corev1.ServiceTypeNodePort).ports(corev1.ServicePort{Port: 80, NodePort: 8080}).obj()
	got := problems(svc)
	if len(got) != 1 {
		t.Fatalf("default range: got %v", got)
	}
	obj := svc.DeepCopy()
	Default(obj)
	errs, _ := Validate(obj)
	if want := "provided port is not in the valid range. The range of valid ports is 30000-32767"; !strings.Contains(errs[0].Error(), want) {
		t.Errorf("error %q does not say %q", errs[0].Error(), want)
	}
	NodePortRange = PortRange{Min: 8000, Max: 8999}
	if got := problems(svc); len(got) != 0 {
		t.Errorf("range 8000-8999: got %v", got)
	}
}

func TestValidateEndpoints(t *testing.T) {
	ep := func(f func(*corev1.EndpointSubset)) *corev1.Endpoints {
		e := &corev1.Endpoints{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Subsets: []corev1.EndpointSubset{{
				Addresses: []corev1.EndpointAddress{{IP: "10.244.1.5", NodeName: new("node-1")}},
				Ports:     []corev1.EndpointPort{{Port: 8080}},
			}},
		}
		f(&e.Subsets[0])
		return e
	}
	runValidationCases(t, []validationCase{
		{"valid", ep(func(*corev1.EndpointSubset) {}), nil},
		{"loopback pod IPs of host network mode", ep(func(s *corev1.EndpointSubset) { s.Addresses[0].IP = "127.0.10.3" }), nil},
		{"addresses required", ep(func(s *corev1.EndpointSubset) { s.Addresses = nil }), []string{"subsets[0]: Required value"}},
		{"IP", ep(func(s *corev1.EndpointSubset) { s.NotReadyAddresses = []corev1.EndpointAddress{{IP: "web-1"}} }), []string{"subsets[0].notReadyAddresses[0].ip: Invalid value"}},
		{"not unspecified", ep(func(s *corev1.EndpointSubset) { s.Addresses[0].IP = "0.0.0.0" }), []string{"subsets[0].addresses[0].ip: Invalid value"}},
		{"not link-local", ep(func(s *corev1.EndpointSubset) { s.Addresses[0].IP = "169.254.1.1" }), []string{"subsets[0].addresses[0].ip: Invalid value"}},
		{"port names with several ports", ep(func(s *corev1.EndpointSubset) { s.Ports = append(s.Ports, corev1.EndpointPort{Name: "b", Port: 9090}) }),
			[]string{"subsets[0].ports[0].name: Required value"}},
		{"port", ep(func(s *corev1.EndpointSubset) { s.Ports[0].Port = 0 }), []string{"subsets[0].ports[0].port: Invalid value"}},
	})
}

func TestValidateEndpointSlice(t *testing.T) {
	es := func(f func(*discoveryv1.EndpointSlice)) *discoveryv1.EndpointSlice {
		e := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: "web-abc", Namespace: "default"},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.244.1.5"}}},
			Ports:       []discoveryv1.EndpointPort{{Name: new("http"), Port: new(int32(8080))}},
		}
		f(e)
		return e
	}
	runValidationCases(t, []validationCase{
		{"valid", es(func(*discoveryv1.EndpointSlice) {}), nil},
		{"address type", es(func(e *discoveryv1.EndpointSlice) { e.AddressType = "" }), []string{"addressType: Required value"}},
		{"address of the type", es(func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Addresses = []string{"fd00::5"} }), []string{"endpoints[0].addresses[0]: Invalid value"}},
		{"an address", es(func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Addresses = nil }), []string{"endpoints[0].addresses: Required value"}},
		{"port names unique", es(func(e *discoveryv1.EndpointSlice) {
			e.Ports = append(e.Ports, discoveryv1.EndpointPort{Name: new("http"), Port: new(int32(81))})
		}),
			[]string{"ports[1].name: Duplicate value"}},
		{"FQDN", es(func(e *discoveryv1.EndpointSlice) {
			e.AddressType = discoveryv1.AddressTypeFQDN
			e.Endpoints[0].Addresses = []string{"db.example.com", "not a name"}
		}), []string{"endpoints[0].addresses[1]: Invalid value"}},
	})
}
