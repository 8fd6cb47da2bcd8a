package framework

import (
	"fmt"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

var generation atomic.Int64

// NextGeneration returns a number larger than any returned before; a
// NodeInfo carries the generation of its last change so a snapshot can
// copy only what changed.
func NextGeneration() int64 { return generation.Add(1) }

// NodeInfo is a node with the pods on it (bound, or assumed bound by this
// scheduler) and their sums. A NodeInfo in a snapshot is read-only.
type NodeInfo struct {
	node *corev1.Node

	// Pods on the node.
	Pods []*PodInfo
	// PodsWithAffinity are the pods with any pod (anti-)affinity term.
	PodsWithAffinity []*PodInfo
	// PodsWithRequiredAntiAffinity are the pods with a required
	// anti-affinity term.
	PodsWithRequiredAntiAffinity []*PodInfo
	// UsedPorts are the host ports taken.
	UsedPorts HostPortInfo
	// Requested sums the pods' requests.
	Requested Resource
	// NonZeroRequested sums the pods' requests with the scoring defaults.
	NonZeroRequested Resource
	// Allocatable is the node's allocatable resources.
	Allocatable Resource
	// Zone is the node's region and zone (ZoneKey), "" without a zone
	// label.
	Zone string
	// Generation is the generation of the last change.
	Generation int64

	owners map[types.UID]int
}

// NewNodeInfo returns a NodeInfo with the given pods and no node.
func NewNodeInfo(pods ...*PodInfo) *NodeInfo {
	n := &NodeInfo{Generation: NextGeneration()}
	for _, p := range pods {
		n.AddPod(p)
	}
	return n
}

// Node is the node; nil while pods reference a node not seen yet (or gone).
func (n *NodeInfo) Node() *corev1.Node {
	if n == nil {
		return nil
	}
	return n.node
}

// SetNode sets the node and its allocatable resources.
func (n *NodeInfo) SetNode(node *corev1.Node) {
	n.node = node
	n.Zone = ZoneKey(node)
	n.Allocatable = NewResource(node.Status.Allocatable)
	n.Generation = NextGeneration()
}

// RemoveNode forgets the node, keeping its pods until they go.
func (n *NodeInfo) RemoveNode() {
	n.node = nil
	n.Generation = NextGeneration()
}

// OwnerCount is how many of the node's pods the controller with this UID
// owns.
func (n *NodeInfo) OwnerCount(uid types.UID) int { return n.owners[uid] }

// AddPod adds a pod to the node.
func (n *NodeInfo) AddPod(pi *PodInfo) {
	n.Pods = append(n.Pods, pi)
	if pi.HasAffinity() {
		n.PodsWithAffinity = append(n.PodsWithAffinity, pi)
	}
	if len(pi.RequiredAntiAffinityTerms) > 0 {
		n.PodsWithRequiredAntiAffinity = append(n.PodsWithRequiredAntiAffinity, pi)
	}
	n.update(pi, 1)
}

// RemovePod removes the pod with pod's UID from the node.
func (n *NodeInfo) RemovePod(pod *corev1.Pod) error {
	n.PodsWithAffinity = removeByUID(n.PodsWithAffinity, pod.UID)
	n.PodsWithRequiredAntiAffinity = removeByUID(n.PodsWithRequiredAntiAffinity, pod.UID)
	for i, p := range n.Pods {
		if p.Pod.UID == pod.UID {
			last := len(n.Pods) - 1
			n.Pods[i] = n.Pods[last]
			n.Pods[last] = nil
			n.Pods = n.Pods[:last]
			n.update(p, -1)
			return nil
		}
	}
	return fmt.Errorf("no pod %s/%s (uid %s) on node %q", pod.Namespace, pod.Name, pod.UID, pod.Spec.NodeName)
}

func removeByUID(list []*PodInfo, uid types.UID) []*PodInfo {
	for i, p := range list {
		if p.Pod.UID == uid {
			last := len(list) - 1
			list[i] = list[last]
			list[last] = nil
			return list[:last]
		}
	}
	return list
}

func (n *NodeInfo) update(pi *PodInfo, sign int) {
	if sign > 0 {
		n.Requested.AddResource(&pi.Requests)
		n.NonZeroRequested.AddResource(&pi.NonZeroRequests)
	} else {
		n.Requested.SubResource(&pi.Requests)
		n.NonZeroRequested.SubResource(&pi.NonZeroRequests)
	}
	for _, p := range pi.HostPorts {
		if sign > 0 {
			n.UsedPorts.Add(p.HostIP, string(p.Protocol), p.HostPort)
		} else {
			n.UsedPorts.Remove(p.HostIP, string(p.Protocol), p.HostPort)
		}
	}
	if pi.ControllerUID != "" {
		if n.owners == nil {
			n.owners = map[types.UID]int{}
		}
		n.owners[pi.ControllerUID] += sign
		if n.owners[pi.ControllerUID] <= 0 {
			delete(n.owners, pi.ControllerUID)
		}
	}
	n.Generation = NextGeneration()
}

// Clone returns a copy for a snapshot: its lists and maps are its own, the
// pods and the node are shared (read-only).
func (n *NodeInfo) Clone() *NodeInfo {
	out := &NodeInfo{
		node:             n.node,
		Requested:        n.Requested.Clone(),
		NonZeroRequested: n.NonZeroRequested.Clone(),
		Allocatable:      n.Allocatable.Clone(),
		Generation:       n.Generation,
		Zone:             n.Zone,
		UsedPorts:        n.UsedPorts.Clone(),
	}
	if len(n.Pods) > 0 {
		out.Pods = append([]*PodInfo(nil), n.Pods...)
	}
	if len(n.PodsWithAffinity) > 0 {
		out.PodsWithAffinity = append([]*PodInfo(nil), n.PodsWithAffinity...)
	}
	if len(n.PodsWithRequiredAntiAffinity) > 0 {
		out.PodsWithRequiredAntiAffinity = append([]*PodInfo(nil), n.PodsWithRequiredAntiAffinity...)
	}
	if len(n.owners) > 0 {
		out.owners = make(map[types.UID]int, len(n.owners))
		for k, v := range n.owners {
			out.owners[k] = v
		}
	}
	return out
}

// HostPortInfo records the host ports in use on a node: IP → protocol and
// port. The IP 0.0.0.0 takes the port on every address.
type HostPortInfo map[string]map[ProtocolPort]int

// ProtocolPort is a protocol and a port.
type ProtocolPort struct {
	Protocol string
	Port     int32
}

const wildcardIP = "0.0.0.0"

func normalizePort(ip, protocol string) (string, string) {
	if ip == "" || ip == "::" {
		ip = wildcardIP
	}
	if protocol == "" {
		protocol = string(corev1.ProtocolTCP)
	}
	return ip, protocol
}

// Add takes a port.
func (h *HostPortInfo) Add(ip, protocol string, port int32) {
	ip, protocol = normalizePort(ip, protocol)
	if *h == nil {
		*h = HostPortInfo{}
	}
	m := (*h)[ip]
	if m == nil {
		m = map[ProtocolPort]int{}
		(*h)[ip] = m
	}
	m[ProtocolPort{protocol, port}]++
}

// Remove gives a port back.
func (h HostPortInfo) Remove(ip, protocol string, port int32) {
	ip, protocol = normalizePort(ip, protocol)
	m := h[ip]
	pp := ProtocolPort{protocol, port}
	if m[pp]--; m[pp] <= 0 {
		delete(m, pp)
	}
	if len(m) == 0 {
		delete(h, ip)
	}
}

// CheckConflict says whether taking the port would collide with one in
// use: the same IP, or either side on 0.0.0.0.
func (h HostPortInfo) CheckConflict(ip, protocol string, port int32) bool {
	if port <= 0 || len(h) == 0 {
		return false
	}
	ip, protocol = normalizePort(ip, protocol)
	pp := ProtocolPort{protocol, port}
	if ip == wildcardIP {
		for _, m := range h {
			if m[pp] > 0 {
				return true
			}
		}
		return false
	}
	return h[ip][pp] > 0 || h[wildcardIP][pp] > 0
}

// Clone copies the ports.
func (h HostPortInfo) Clone() HostPortInfo {
	if len(h) == 0 {
		return nil
	}
	out := make(HostPortInfo, len(h))
	for ip, m := range h {
		c := make(map[ProtocolPort]int, len(m))
		for k, v := range m {
			c[k] = v
		}
		out[ip] = c
	}
	return out
}

// ZoneKey is a node's region and zone (topology.kubernetes.io labels, or
// the older failure-domain.beta ones), "" for a node without a zone.
func ZoneKey(n *corev1.Node) string {
	z, ok := n.Labels[corev1.LabelTopologyZone]
	r := n.Labels[corev1.LabelTopologyRegion]
	if !ok {
		z, ok = n.Labels[corev1.LabelFailureDomainBetaZone]
		r = n.Labels[corev1.LabelFailureDomainBetaRegion]
	}
	if !ok || z == "" {
		return ""
	}
	return r + ":\x00:" + z
}
