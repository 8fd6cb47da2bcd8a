package controllers

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func svcFixture(ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid-svc"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: ports},
	}
}

// compact renders subsets as "ready IPs | not-ready IPs | ports".
func compact(ss []corev1.EndpointSubset) []string {
	var out []string
	for _, s := range ss {
		line := ""
		for _, a := range s.Addresses {
			line += a.IP
			if a.Hostname != "" {
				line += "(" + a.Hostname + ")"
			}
			line += " "
		}
		line += "|"
		for _, a := range s.NotReadyAddresses {
			line += " " + a.IP
		}
		line += " |"
		for _, p := range s.Ports {
			b, _ := json.Marshal(p.Port)
			line += " " + p.Name + ":" + string(b)
		}
		out = append(out, line)
	}
	return out
}

func TestEndpointSubsets(t *testing.T) {
	named := corev1.ServicePort{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP}
	number := corev1.ServicePort{Name: "metrics", Port: 9090, TargetPort: intstr.FromInt32(9091), Protocol: corev1.ProtocolTCP}
	other := makePod("other").ip("10.0.0.3").ready(t0).obj()
	other.Spec.Containers[0].Ports[0].ContainerPort = 8081 // its "http" is another number
	for _, tc := range []struct {
		name string
		svc  *corev1.Service
		pods []*corev1.Pod
		want []string
	}{
		{"ready and not ready", svcFixture(named), []*corev1.Pod{
			makePod("a").ip("10.0.0.2").ready(t0).obj(), makePod("b").ip("10.0.0.1").notReady().obj(),
		}, []string{"10.0.0.2 | 10.0.0.1 | http:8080"}},
		{"named port resolved per pod", svcFixture(named), []*corev1.Pod{makePod("a").ip("10.0.0.2").ready(t0).obj(), other},
			[]string{"10.0.0.2 | | http:8080", "10.0.0.3 | | http:8081"}},
		{"no such port name: left out", svcFixture(corev1.ServicePort{Name: "grpc", Port: 90, TargetPort: intstr.FromString("grpc")}),
			[]*corev1.Pod{makePod("a").ready(t0).obj()}, nil},
		{"two ports", svcFixture(named, number), []*corev1.Pod{makePod("a").ip("10.0.0.2").ready(t0).obj()},
			[]string{"10.0.0.2 | | http:8080 metrics:9091"}},
		{"no IP yet, terminating, finished: left out", svcFixture(named), []*corev1.Pod{
			makePod("a").ip("").obj(), makePod("b").terminating().ready(t0).obj(),
			func() *corev1.Pod {
				p := makePod("c").phase(corev1.PodSucceeded).obj()
				p.Spec.RestartPolicy = corev1.RestartPolicyNever
				return p
			}(),
		}, nil},
		{"publishNotReadyAddresses", func() *corev1.Service {
			s := svcFixture(named)
			s.Spec.PublishNotReadyAddresses = true
			return s
		}(), []*corev1.Pod{makePod("a").ip("10.0.0.1").notReady().obj()}, []string{"10.0.0.1 | | http:8080"}},
		{"hostname under its subdomain", svcFixture(named), []*corev1.Pod{
			makePod("a").ip("10.0.0.1").ready(t0).hostname("a-0", "web").obj(), makePod("b").ip("10.0.0.2").ready(t0).hostname("b-0", "elsewhere").obj(),
		}, []string{"10.0.0.1(a-0) 10.0.0.2 | | http:8080"}},
		{"headless without ports", func() *corev1.Service {
			s := svcFixture()
			s.Spec.ClusterIP = corev1.ClusterIPNone
			return s
		}(), []*corev1.Pod{makePod("a").ip("10.0.0.1").ready(t0).obj()}, []string{"10.0.0.1 | |"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := compact(endpointSubsets(tc.svc, tc.pods))
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("got %q, want %q", got, tc.want)
				}
			}
		})
	}
}

func TestEndpointSlices(t *testing.T) {
	svc := svcFixture(corev1.ServicePort{Name: "http", Port: 80, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP})
	slices := endpointSlices(svc, []*corev1.Pod{
		makePod("a").ip("10.0.0.1").ready(t0).obj(), makePod("b").ip("10.0.0.2").notReady().obj(), makePod("c").ip("10.0.0.3").ready(t0).terminating().obj(),
	})
	if len(slices) != 1 {
		t.Fatalf("%d slices", len(slices))
	}
	s := slices[0]
	if s.Labels[ServiceNameLabel] != "web" || s.Labels[ManagedByLabel] != ManagedByValue || s.AddressType != "IPv4" ||
		len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != "uid-svc" || *s.Ports[0].Port != 8080 {
		t.Errorf("slice %+v", s)
	}
	type cond struct{ ready, serving, terminating bool }
	want := []cond{{true, true, false}, {false, false, false}, {false, true, true}}
	for i, e := range s.Endpoints {
		got := cond{*e.Conditions.Ready, *e.Conditions.Serving, *e.Conditions.Terminating}
		if got != want[i] || *e.NodeName != "node-a" || e.TargetRef.Kind != "Pod" {
			t.Errorf("endpoint %s: %+v, want %+v", e.Addresses[0], got, want[i])
		}
	}
	// No pods: one empty slice with the Service's numeric ports.
	empty := endpointSlices(svcFixture(corev1.ServicePort{Name: "x", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}), nil)
	if len(empty) != 1 || len(empty[0].Endpoints) != 0 || *empty[0].Ports[0].Port != 8080 {
		t.Errorf("empty: %+v", empty)
	}
}
