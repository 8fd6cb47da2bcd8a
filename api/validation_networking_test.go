package api

import (
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestValidateNetworkPolicy(t *testing.T) {
	np := func(f func(*networkingv1.NetworkPolicySpec)) *networkingv1.NetworkPolicy {
		p := &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "allow-web", Namespace: "default"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{
					From:  []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "sleep"}}}},
					Ports: []networkingv1.NetworkPolicyPort{{Port: new(intstr.FromInt32(80))}},
				}},
			},
		}
		f(&p.Spec)
		return p
	}
	runValidationCases(t, []validationCase{
		{"valid", np(func(*networkingv1.NetworkPolicySpec) {}), nil},
		{"peer required", np(func(s *networkingv1.NetworkPolicySpec) { s.Ingress[0].From[0].PodSelector = nil }), []string{"spec.ingress[0].from[0]: Required value"}},
		{"ipBlock alone", np(func(s *networkingv1.NetworkPolicySpec) {
			s.Ingress[0].From[0].IPBlock = &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}
		}),
			[]string{"spec.ingress[0].from[0]: Forbidden"}},
		{"except within cidr", np(func(s *networkingv1.NetworkPolicySpec) {
			s.Egress = []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16", "192.168.0.0/16"}}}}}}
		}), []string{"spec.egress[0].to[0].ipBlock.except[1]: Invalid value"}},
		{"end port", np(func(s *networkingv1.NetworkPolicySpec) { s.Ingress[0].Ports[0].EndPort = new(int32(79)) }), []string{"spec.ingress[0].ports[0].endPort: Invalid value"}},
		{"end port needs a number", np(func(s *networkingv1.NetworkPolicySpec) {
			s.Ingress[0].Ports[0] = networkingv1.NetworkPolicyPort{Port: new(intstr.FromString("http")), EndPort: new(int32(90))}
		}), []string{"spec.ingress[0].ports[0].endPort: Invalid value"}},
		{"policy types", np(func(s *networkingv1.NetworkPolicySpec) { s.PolicyTypes = []networkingv1.PolicyType{"Both"} }), []string{"spec.policyTypes[0]: Unsupported value"}},
		{"pod selector", np(func(s *networkingv1.NetworkPolicySpec) { s.PodSelector.MatchLabels = map[string]string{"a b": "c"} }), []string{"spec.podSelector.matchLabels: Invalid value"}},
	})
}

func TestValidateIngress(t *testing.T) {
	prefix := networkingv1.PathTypePrefix
	ing := func(f func(*networkingv1.IngressSpec)) *networkingv1.Ingress {
		i := &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
			Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
				Host: "web.example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
					{Path: "/", PathType: &prefix, Backend: networkingv1.IngressBackend{
						Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}},
					}},
				}}},
			}}},
		}
		f(&i.Spec)
		return i
	}
	path := func(s *networkingv1.IngressSpec) *networkingv1.HTTPIngressPath { return &s.Rules[0].HTTP.Paths[0] }
	runValidationCases(t, []validationCase{
		{"valid", ing(func(*networkingv1.IngressSpec) {}), nil},
		{"wildcard host", ing(func(s *networkingv1.IngressSpec) { s.Rules[0].Host = "*.example.com" }), nil},
		{"rules or default backend", ing(func(s *networkingv1.IngressSpec) { s.Rules = nil }), []string{"spec: Invalid value"}},
		{"host is not an IP", ing(func(s *networkingv1.IngressSpec) { s.Rules[0].Host = "10.0.0.1" }), []string{"spec.rules[0].host: Invalid value"}},
		{"paths required", ing(func(s *networkingv1.IngressSpec) { s.Rules[0].HTTP.Paths = nil }), []string{"spec.rules[0].http.paths: Required value"}},
		{"path type required", ing(func(s *networkingv1.IngressSpec) { path(s).PathType = nil }), []string{"spec.rules[0].http.paths[0].pathType: Required value"}},
		{"absolute path", ing(func(s *networkingv1.IngressSpec) { path(s).Path = "api" }), []string{"spec.rules[0].http.paths[0].path: Invalid value"}},
		{"clean path", ing(func(s *networkingv1.IngressSpec) { path(s).Path = "/a//b" }), []string{"spec.rules[0].http.paths[0].path: Invalid value"}},
		{"port name or number", ing(func(s *networkingv1.IngressSpec) { path(s).Backend.Service.Port.Name = "http" }), []string{"spec.rules[0].http.paths[0].backend.service.port: Invalid value"}},
		{"backend", ing(func(s *networkingv1.IngressSpec) { path(s).Backend = networkingv1.IngressBackend{} }), []string{"spec.rules[0].http.paths[0].backend: Invalid value"}},
		{"service name", ing(func(s *networkingv1.IngressSpec) { path(s).Backend.Service.Name = "Web" }), []string{"spec.rules[0].http.paths[0].backend.service.name: Invalid value"}},
	})
}
