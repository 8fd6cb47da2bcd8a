package controllers

import (
	"fmt"
	"hash/fnv"
	"net"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Labels of EndpointSlices, as upstream.
const (
	ServiceNameLabel  = discoveryv1.LabelServiceName
	ManagedByLabel    = discoveryv1.LabelManagedBy
	ManagedByValue    = "endpointslice-controller.k8s.io"
	headlessLabel     = corev1.IsHeadlessService
	endpointsSelfName = "endpoint-controller"
)

// podInEndpoints is upstream's ShouldPodBeInEndpoints: the pod has an IP
// and may still serve (terminating pods only when includeTerminating).
func podInEndpoints(p *corev1.Pod, includeTerminating bool) bool {
	if p.Status.PodIP == "" && len(p.Status.PodIPs) == 0 {
		return false
	}
	if !includeTerminating && p.DeletionTimestamp != nil {
		return false
	}
	switch p.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded
	case corev1.RestartPolicyOnFailure:
		return p.Status.Phase != corev1.PodSucceeded
	}
	return true
}

func podIP(p *corev1.Pod) string {
	if p.Status.PodIP != "" {
		return p.Status.PodIP
	}
	if len(p.Status.PodIPs) > 0 {
		return p.Status.PodIPs[0].IP
	}
	return ""
}

// findPort resolves a Service port's targetPort on a pod: a number as is,
// a name by the pod's container ports of the same protocol.
func findPort(p *corev1.Pod, sp *corev1.ServicePort) (int32, bool) {
	tp := sp.TargetPort
	if tp.Type == intstr.Int {
		if tp.IntVal == 0 {
			return sp.Port, true
		}
		return tp.IntVal, true
	}
	proto := sp.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	for _, cs := range [][]corev1.Container{p.Spec.Containers, p.Spec.InitContainers} {
		for _, c := range cs {
			for _, port := range c.Ports {
				pp := port.Protocol
				if pp == "" {
					pp = corev1.ProtocolTCP
				}
				if port.Name == tp.StrVal && pp == proto {
					return port.ContainerPort, true
				}
			}
		}
	}
	return 0, false
}

// servingPod is one pod's contribution to a Service's endpoints.
type servingPod struct {
	pod   *corev1.Pod
	ip    string
	ready bool // in addresses (ready, or publishNotReadyAddresses)
	ports []corev1.EndpointPort
}

// servingPods resolves each pod of the Service to its address and ports.
// Pods whose every targetPort fails to resolve are left out (headless
// Services without ports keep them, with no ports).
func servingPods(svc *corev1.Service, pods []*corev1.Pod, includeTerminating bool) []servingPod {
	var out []servingPod
	for _, p := range pods {
		if !podInEndpoints(p, includeTerminating || svc.Spec.PublishNotReadyAddresses) {
			continue
		}
		sp := servingPod{pod: p, ip: podIP(p), ready: svc.Spec.PublishNotReadyAddresses || (isPodReady(p) && p.DeletionTimestamp == nil)}
		if len(svc.Spec.Ports) == 0 {
			if svc.Spec.ClusterIP != corev1.ClusterIPNone {
				continue
			}
		}
		for i := range svc.Spec.Ports {
			port := &svc.Spec.Ports[i]
			n, ok := findPort(p, port)
			if !ok {
				continue
			}
			ep := corev1.EndpointPort{Name: port.Name, Port: n, Protocol: port.Protocol, AppProtocol: port.AppProtocol}
			if ep.Protocol == "" {
				ep.Protocol = corev1.ProtocolTCP
			}
			sp.ports = append(sp.ports, ep)
		}
		if len(svc.Spec.Ports) > 0 && len(sp.ports) == 0 {
			continue
		}
		out = append(out, sp)
	}
	return out
}

func endpointAddress(svc *corev1.Service, s servingPod) corev1.EndpointAddress {
	a := corev1.EndpointAddress{IP: s.ip, TargetRef: &corev1.ObjectReference{
		Kind: "Pod", Namespace: s.pod.Namespace, Name: s.pod.Name, UID: s.pod.UID,
	}}
	if s.pod.Spec.NodeName != "" {
		a.NodeName = new(s.pod.Spec.NodeName)
	}
	if setHostname(s.pod, svc) {
		a.Hostname = s.pod.Spec.Hostname
	}
	return a
}

// setHostname: the pod names itself under this Service (hostname and
// subdomain = the Service's name, same namespace).
func setHostname(p *corev1.Pod, svc *corev1.Service) bool {
	return p.Spec.Hostname != "" && p.Spec.Subdomain == svc.Name && p.Namespace == svc.Namespace
}

func portsKey(ports []corev1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		ap := ""
		if p.AppProtocol != nil {
			ap = *p.AppProtocol
		}
		fmt.Fprintf(&b, "%s/%d/%s/%s;", p.Name, p.Port, p.Protocol, ap)
	}
	return b.String()
}

func sortPorts(ports []corev1.EndpointPort) {
	sort.Slice(ports, func(i, j int) bool {
		if ports[i].Name != ports[j].Name {
			return ports[i].Name < ports[j].Name
		}
		if ports[i].Port != ports[j].Port {
			return ports[i].Port < ports[j].Port
		}
		return ports[i].Protocol < ports[j].Protocol
	})
}

// endpointSubsets computes the subsets of a Service's Endpoints from its
// pods, packed as upstream's RepackSubsets: addresses grouped by the set
// of ports they serve, ready ones in addresses and the others in
// notReadyAddresses, everything sorted.
func endpointSubsets(svc *corev1.Service, pods []*corev1.Pod) []corev1.EndpointSubset {
	groups := map[string]*corev1.EndpointSubset{}
	var keys []string
	for _, s := range servingPods(svc, pods, false) {
		sortPorts(s.ports)
		k := portsKey(s.ports)
		g := groups[k]
		if g == nil {
			g = &corev1.EndpointSubset{Ports: s.ports}
			groups[k] = g
			keys = append(keys, k)
		}
		a := endpointAddress(svc, s)
		if s.ready {
			g.Addresses = append(g.Addresses, a)
		} else {
			g.NotReadyAddresses = append(g.NotReadyAddresses, a)
		}
	}
	sort.Strings(keys)
	var out []corev1.EndpointSubset
	for _, k := range keys {
		g := groups[k]
		sortAddresses(g.Addresses)
		sortAddresses(g.NotReadyAddresses)
		out = append(out, *g)
	}
	return out
}

func sortAddresses(as []corev1.EndpointAddress) {
	sort.Slice(as, func(i, j int) bool {
		if as[i].IP != as[j].IP {
			return as[i].IP < as[j].IP
		}
		return as[i].TargetRef.UID < as[j].TargetRef.UID
	})
}

// endpointSlices computes the EndpointSlices of a Service: one per address
// type and set of ports, named <service>-<hash of both>, every endpoint
// with its ready/serving/terminating conditions (terminating pods are kept
// with ready false, as upstream).
func endpointSlices(svc *corev1.Service, pods []*corev1.Pod) []*discoveryv1.EndpointSlice {
	groups := map[string]*discoveryv1.EndpointSlice{}
	var keys []string
	labels := sliceLabels(svc)
	for _, s := range servingPods(svc, pods, true) {
		sortPorts(s.ports)
		at := discoveryv1.AddressTypeIPv4
		if ip := net.ParseIP(s.ip); ip != nil && ip.To4() == nil {
			at = discoveryv1.AddressTypeIPv6
		}
		k := string(at) + "|" + portsKey(s.ports)
		sl := groups[k]
		if sl == nil {
			sl = &discoveryv1.EndpointSlice{
				TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
				ObjectMeta: metav1.ObjectMeta{
					Name: sliceName(svc.Name, k), Namespace: svc.Namespace, Labels: copyMap(labels),
					OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
						Controller: new(true), BlockOwnerDeletion: new(true)}},
				},
				AddressType: at,
				Ports:       slicePorts(s.ports),
			}
			groups[k] = sl
			keys = append(keys, k)
		}
		serving := svc.Spec.PublishNotReadyAddresses || isPodReady(s.pod)
		terminating := s.pod.DeletionTimestamp != nil
		ep := discoveryv1.Endpoint{
			Addresses: []string{s.ip},
			Conditions: discoveryv1.EndpointConditions{
				Ready: new(s.ready), Serving: new(serving), Terminating: new(terminating),
			},
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: s.pod.Namespace, Name: s.pod.Name, UID: s.pod.UID},
		}
		if s.pod.Spec.NodeName != "" {
			ep.NodeName = new(s.pod.Spec.NodeName)
		}
		if setHostname(s.pod, svc) {
			ep.Hostname = new(s.pod.Spec.Hostname)
		}
		sl.Endpoints = append(sl.Endpoints, ep)
	}
	if len(keys) == 0 {
		// An empty slice says "no endpoints" rather than "not computed".
		k := string(discoveryv1.AddressTypeIPv4) + "|"
		var ports []corev1.EndpointPort
		for _, p := range svc.Spec.Ports {
			if p.TargetPort.Type == intstr.Int {
				ports = append(ports, corev1.EndpointPort{Name: p.Name, Port: p.TargetPort.IntVal, Protocol: p.Protocol, AppProtocol: p.AppProtocol})
			}
		}
		groups[k] = &discoveryv1.EndpointSlice{
			TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
			ObjectMeta: metav1.ObjectMeta{
				Name: sliceName(svc.Name, k), Namespace: svc.Namespace, Labels: copyMap(labels),
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
					Controller: new(true), BlockOwnerDeletion: new(true)}},
			},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       slicePorts(ports),
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*discoveryv1.EndpointSlice, 0, len(keys))
	for _, k := range keys {
		sl := groups[k]
		sort.Slice(sl.Endpoints, func(i, j int) bool { return sl.Endpoints[i].Addresses[0] < sl.Endpoints[j].Addresses[0] })
		out = append(out, sl)
	}
	return out
}

func slicePorts(ports []corev1.EndpointPort) []discoveryv1.EndpointPort {
	out := make([]discoveryv1.EndpointPort, 0, len(ports))
	for _, p := range ports {
		out = append(out, discoveryv1.EndpointPort{Name: new(p.Name), Port: new(p.Port), Protocol: new(p.Protocol), AppProtocol: p.AppProtocol})
	}
	return out
}

func sliceName(svc, key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	return fmt.Sprintf("%s-%08x", svc, h.Sum32())[:min(len(svc)+9, 253)]
}

// sliceLabels are the Service's labels plus the slice's own.
func sliceLabels(svc *corev1.Service) map[string]string {
	l := copyMap(svc.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l[ServiceNameLabel] = svc.Name
	l[ManagedByLabel] = ManagedByValue
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		l[headlessLabel] = ""
	} else {
		delete(l, headlessLabel)
	}
	return l
}

// endpointsLabels are the Service's labels, plus the headless label.
func endpointsLabels(svc *corev1.Service) map[string]string {
	l := copyMap(svc.Labels)
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		if l == nil {
			l = map[string]string{}
		}
		l[headlessLabel] = ""
	}
	return l
}
