package printers

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
)

// service is kubectl's describeService. Each port's endpoints come from the
// related EndpointSlices of the service (label kubernetes.io/service-name),
// or else from its related Endpoints object.
func (d *describer) service(svc *corev1.Service) string {
	var epSlices []*discoveryv1.EndpointSlice
	var endpoints *corev1.Endpoints
	for _, obj := range d.related {
		switch o := obj.(type) {
		case *discoveryv1.EndpointSlice:
			if o.Namespace == svc.Namespace && o.Labels[discoveryv1.LabelServiceName] == svc.Name {
				epSlices = append(epSlices, o)
			}
		case *corev1.Endpoints:
			if o.Namespace == svc.Namespace && o.Name == svc.Name {
				endpoints = o
			}
		}
	}
	portEndpoints := func(name string) string {
		switch {
		case len(epSlices) > 0:
			return formatEndpointSlices(epSlices, sets.New(name))
		case endpoints != nil:
			return orNone(formatEndpoints(endpoints, sets.New(name)))
		}
		return "<none>"
	}

	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", svc.Name)
		w.write(level0, "Namespace:\t%s\n", svc.Namespace)
		printLabels(w, "Labels", svc.Labels)
		printAnnotations(w, "Annotations", svc.Annotations)
		w.write(level0, "Selector:\t%s\n", labels.FormatLabels(svc.Spec.Selector))
		w.write(level0, "Type:\t%s\n", serviceType(svc))
		if svc.Spec.IPFamilyPolicy != nil {
			w.write(level0, "IP Family Policy:\t%s\n", *svc.Spec.IPFamilyPolicy)
		}
		if len(svc.Spec.IPFamilies) > 0 {
			families := make([]string, len(svc.Spec.IPFamilies))
			for i, f := range svc.Spec.IPFamilies {
				families[i] = string(f)
			}
			w.write(level0, "IP Families:\t%s\n", strings.Join(families, ","))
		} else {
			w.write(level0, "IP Families:\t<none>\n")
		}
		w.write(level0, "IP:\t%s\n", svc.Spec.ClusterIP)
		if len(svc.Spec.ClusterIPs) > 0 {
			w.write(level0, "IPs:\t%s\n", strings.Join(svc.Spec.ClusterIPs, ","))
		} else {
			w.write(level0, "IPs:\t<none>\n")
		}
		if len(svc.Spec.ExternalIPs) > 0 {
			w.write(level0, "External IPs:\t%v\n", strings.Join(svc.Spec.ExternalIPs, ","))
		}
		if svc.Spec.LoadBalancerIP != "" {
			w.write(level0, "Desired LoadBalancer IP:\t%s\n", svc.Spec.LoadBalancerIP)
		}
		if svc.Spec.ExternalName != "" {
			w.write(level0, "External Name:\t%s\n", svc.Spec.ExternalName)
		}
		if len(svc.Status.LoadBalancer.Ingress) > 0 {
			w.write(level0, "LoadBalancer Ingress:\t%s\n", loadBalancerIngress(svc.Status.LoadBalancer.Ingress))
		}
		for _, sp := range svc.Spec.Ports {
			name := sp.Name
			if name == "" {
				name = "<unset>"
			}
			w.write(level0, "Port:\t%s\t%d/%s\n", name, sp.Port, sp.Protocol)
			if sp.TargetPort.Type == intstr.Int {
				w.write(level0, "TargetPort:\t%d/%s\n", sp.TargetPort.IntVal, sp.Protocol)
			} else {
				w.write(level0, "TargetPort:\t%s/%s\n", sp.TargetPort.StrVal, sp.Protocol)
			}
			if sp.NodePort != 0 {
				w.write(level0, "NodePort:\t%s\t%d/%s\n", name, sp.NodePort, sp.Protocol)
			}
			w.write(level0, "Endpoints:\t%s\n", portEndpoints(sp.Name))
		}
		w.write(level0, "Session Affinity:\t%s\n", svc.Spec.SessionAffinity)
		if svc.Spec.ExternalTrafficPolicy != "" {
			w.write(level0, "External Traffic Policy:\t%s\n", svc.Spec.ExternalTrafficPolicy)
		}
		if svc.Spec.InternalTrafficPolicy != nil {
			w.write(level0, "Internal Traffic Policy:\t%s\n", *svc.Spec.InternalTrafficPolicy)
		}
		if svc.Spec.HealthCheckNodePort != 0 {
			w.write(level0, "HealthCheck NodePort:\t%d\n", svc.Spec.HealthCheckNodePort)
		}
		if len(svc.Spec.LoadBalancerSourceRanges) > 0 {
			w.write(level0, "LoadBalancer Source Ranges:\t%v\n", strings.Join(svc.Spec.LoadBalancerSourceRanges, ","))
		}
		d.describeEvents(w)
	})
}

// loadBalancerIngress lists a load balancer's addresses as describe shows
// them, with the IP mode when set.
func loadBalancerIngress(ingress []corev1.LoadBalancerIngress) string {
	parts := make([]string, len(ingress))
	for i, in := range ingress {
		switch {
		case in.IP != "" && in.IPMode != nil:
			parts[i] = fmt.Sprintf("%s (%s)", in.IP, *in.IPMode)
		case in.IP != "":
			parts[i] = in.IP
		default:
			parts[i] = in.Hostname
		}
	}
	return strings.Join(parts, ", ")
}

func (d *describer) endpoints(ep *corev1.Endpoints) string {
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", ep.Name)
		w.write(level0, "Namespace:\t%s\n", ep.Namespace)
		printLabels(w, "Labels", ep.Labels)
		printAnnotations(w, "Annotations", ep.Annotations)
		w.write(level0, "Subsets:\n")
		for _, ss := range ep.Subsets {
			ips := func(addrs []corev1.EndpointAddress) string {
				s := make([]string, len(addrs))
				for i, a := range addrs {
					s[i] = a.IP
				}
				return orNone(strings.Join(s, ","))
			}
			w.write(level1, "Addresses:\t%s\n", ips(ss.Addresses))
			w.write(level1, "NotReadyAddresses:\t%s\n", ips(ss.NotReadyAddresses))
			if len(ss.Ports) > 0 {
				w.write(level1, "Ports:\n")
				w.write(level2, "Name\tPort\tProtocol\n")
				w.write(level2, "----\t----\t--------\n")
				for _, p := range ss.Ports {
					name := p.Name
					if name == "" {
						name = "<unset>"
					}
					w.write(level2, "%s\t%d\t%s\n", name, p.Port, p.Protocol)
				}
			}
			w.write(level0, "\n")
		}
		d.describeEvents(w)
	})
}

// node is kubectl's describeNode, without the node lease (Weft has none);
// its non-terminated pods are the related pods bound to it.
func (d *describer) node(n *corev1.Node) string {
	var pods []*corev1.Pod
	for _, obj := range d.related {
		if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName == n.Name && !podPhaseTerminal(p.Status.Phase) {
			pods = append(pods, p)
		}
	}
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", n.Name)
		w.write(level0, "Roles:\t%s\n", orNone(strings.Join(nodeRoles(n), ",")))
		printLabels(w, "Labels", n.Labels)
		printAnnotations(w, "Annotations", n.Annotations)
		w.write(level0, "CreationTimestamp:\t%s\n", formatTime(n.CreationTimestamp))
		w.write(level0, "Taints:\t")
		if len(n.Spec.Taints) == 0 {
			w.writeLine("<none>")
		} else {
			taints := slices.Clone(n.Spec.Taints)
			sort.SliceStable(taints, func(i, j int) bool {
				return string(taints[i].Effect)+","+taints[i].Key < string(taints[j].Effect)+","+taints[j].Key
			})
			for i, t := range taints {
				if i != 0 {
					w.write(level0, "\t")
				}
				w.write(level0, "%s\n", t.ToString())
			}
		}
		w.write(level0, "Unschedulable:\t%v\n", n.Spec.Unschedulable)
		if len(n.Status.Conditions) > 0 {
			w.write(level0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
			w.write(level1, "----\t------\t-----------------\t------------------\t------\t-------\n")
			for _, c := range n.Status.Conditions {
				w.write(level1, "%v \t%v \t%s \t%s \t%v \t%v\n",
					c.Type, c.Status, formatTime(c.LastHeartbeatTime), formatTime(c.LastTransitionTime), c.Reason, c.Message)
			}
		}
		w.write(level0, "Addresses:\n")
		for _, a := range n.Status.Addresses {
			w.write(level1, "%s:\t%s\n", a.Type, a.Address)
		}
		printResourceList := func(title string, list corev1.ResourceList) {
			if len(list) == 0 {
				return
			}
			w.write(level0, "%s:\n", title)
			for _, name := range sortedResourceNames(list) {
				q := list[name]
				w.write(level0, "  %s:\t%s\n", name, q.String())
			}
		}
		printResourceList("Capacity", n.Status.Capacity)
		printResourceList("Allocatable", n.Status.Allocatable)
		info := n.Status.NodeInfo
		w.write(level0, "System Info:\n")
		w.write(level0, "  Machine ID:\t%s\n", info.MachineID)
		w.write(level0, "  System UUID:\t%s\n", info.SystemUUID)
		w.write(level0, "  Boot ID:\t%s\n", info.BootID)
		w.write(level0, "  Kernel Version:\t%s\n", info.KernelVersion)
		w.write(level0, "  OS Image:\t%s\n", info.OSImage)
		w.write(level0, "  Operating System:\t%s\n", info.OperatingSystem)
		w.write(level0, "  Architecture:\t%s\n", info.Architecture)
		w.write(level0, "  Container Runtime Version:\t%s\n", info.ContainerRuntimeVersion)
		w.write(level0, "  Kubelet Version:\t%s\n", info.KubeletVersion)
		w.write(level0, "  Kube-Proxy Version:\t%s\n", info.KubeProxyVersion)
		if n.Spec.PodCIDR != "" {
			w.write(level0, "PodCIDR:\t%s\n", n.Spec.PodCIDR)
		}
		if len(n.Spec.PodCIDRs) > 0 {
			w.write(level0, "PodCIDRs:\t%s\n", strings.Join(n.Spec.PodCIDRs, ","))
		}
		if n.Spec.ProviderID != "" {
			w.write(level0, "ProviderID:\t%s\n", n.Spec.ProviderID)
		}
		d.describeNodeResources(w, n, pods)
		d.describeEvents(w)
	})
}

// describeNodeResources lists the node's pods with their share of its
// allocatable CPU and memory, then the totals.
func (d *describer) describeNodeResources(w *prefixWriter, n *corev1.Node, pods []*corev1.Pod) {
	w.write(level0, "Non-terminated Pods:\t(%d in total)\n", len(pods))
	w.write(level1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
	w.write(level1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
	allocatable := n.Status.Capacity
	if len(n.Status.Allocatable) > 0 {
		allocatable = n.Status.Allocatable
	}
	percent := func(num, den int64) int64 {
		if den == 0 {
			return 0
		}
		return int64(float64(num) / float64(den) * 100)
	}
	allocCPU, allocMem := allocatable.Cpu().MilliValue(), allocatable.Memory().Value()
	totalReqs, totalLimits := corev1.ResourceList{}, corev1.ResourceList{}
	for _, pod := range pods {
		req, limit := podRequestsAndLimits(pod)
		for name, q := range req {
			v := q.DeepCopy()
			if have, ok := totalReqs[name]; ok {
				v.Add(have)
			}
			totalReqs[name] = v
		}
		for name, q := range limit {
			v := q.DeepCopy()
			if have, ok := totalLimits[name]; ok {
				v.Add(have)
			}
			totalLimits[name] = v
		}
		cpuReq, cpuLimit := req[corev1.ResourceCPU], limit[corev1.ResourceCPU]
		memReq, memLimit := req[corev1.ResourceMemory], limit[corev1.ResourceMemory]
		w.write(level1, "%s\t%s\t\t%s (%d%%)\t%s (%d%%)\t%s (%d%%)\t%s (%d%%)\t%s\n", pod.Namespace, pod.Name,
			cpuReq.String(), percent(cpuReq.MilliValue(), allocCPU), cpuLimit.String(), percent(cpuLimit.MilliValue(), allocCPU),
			memReq.String(), percent(memReq.Value(), allocMem), memLimit.String(), percent(memLimit.Value(), allocMem),
			since(d.now, pod.CreationTimestamp))
	}
	w.write(level0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
	w.write(level1, "Resource\tRequests\tLimits\n")
	w.write(level1, "--------\t--------\t------\n")
	for _, r := range []struct {
		name  corev1.ResourceName
		alloc int64
		milli bool
	}{
		{corev1.ResourceCPU, allocCPU, true},
		{corev1.ResourceMemory, allocMem, false},
		{corev1.ResourceEphemeralStorage, allocatable.StorageEphemeral().Value(), false},
	} {
		req, limit := totalReqs[r.name], totalLimits[r.name]
		reqV, limitV := req.Value(), limit.Value()
		if r.milli {
			reqV, limitV = req.MilliValue(), limit.MilliValue()
		}
		w.write(level1, "%s\t%s (%d%%)\t%s (%d%%)\n", r.name, req.String(), percent(reqV, r.alloc), limit.String(), percent(limitV, r.alloc))
	}
}

func (d *describer) namespace(ns *corev1.Namespace) string {
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", ns.Name)
		printLabels(w, "Labels", ns.Labels)
		printAnnotations(w, "Annotations", ns.Annotations)
		w.write(level0, "Status:\t%s\n", string(ns.Status.Phase))
		if len(ns.Status.Conditions) > 0 {
			w.write(level0, "Conditions:\n")
			w.write(level1, "Type\tStatus\tLastTransitionTime\tReason\tMessage\n")
			w.write(level1, "----\t------\t------------------\t------\t-------\n")
			for _, c := range ns.Status.Conditions {
				w.write(level1, "%v\t%v\t%s\t%v\t%v\n", c.Type, c.Status, formatTime(c.LastTransitionTime), c.Reason, c.Message)
			}
		}
		w.write(level0, "\nNo resource quota.\n")
		w.write(level0, "\nNo LimitRange resource.\n")
	})
}

// configMap is kubectl's ConfigMap describer, keys sorted.
func (d *describer) configMap(cm *corev1.ConfigMap) string {
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", cm.Name)
		w.write(level0, "Namespace:\t%s\n", cm.Namespace)
		printLabels(w, "Labels", cm.Labels)
		printAnnotations(w, "Annotations", cm.Annotations)
		w.write(level0, "\nData\n====\n")
		for _, k := range sortedKeys(cm.Data) {
			w.write(level0, "%s:\n----\n", k)
			w.write(level0, "%s\n", cm.Data[k])
			w.write(level0, "\n")
		}
		w.write(level0, "\nBinaryData\n====\n")
		for _, k := range sortedKeys(cm.BinaryData) {
			w.write(level0, "%s: %d bytes\n", k, len(cm.BinaryData[k]))
		}
		w.write(level0, "\n")
		d.describeEvents(w)
	})
}

// secret is kubectl's Secret describer: sizes, never values (but a
// service account token, which is meant to be read).
func (d *describer) secret(s *corev1.Secret) string {
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", s.Name)
		w.write(level0, "Namespace:\t%s\n", s.Namespace)
		printLabels(w, "Labels", s.Labels)
		printAnnotations(w, "Annotations", s.Annotations)
		w.write(level0, "\nType:\t%s\n", s.Type)
		w.write(level0, "\nData\n====\n")
		for _, k := range sortedKeys(s.Data) {
			if k == corev1.ServiceAccountTokenKey && s.Type == corev1.SecretTypeServiceAccountToken {
				w.write(level0, "%s:\t%s\n", k, string(s.Data[k]))
			} else {
				w.write(level0, "%s:\t%d bytes\n", k, len(s.Data[k]))
			}
		}
	})
}
