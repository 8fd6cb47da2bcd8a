// Package schedtest has fixture builders for scheduler tests, after
// kube-scheduler's testing package:
//
//	pod := schedtest.MakePod().Name("a").CPU("500m").Obj()
//	node := schedtest.MakeNode().Name("n1").Allocatable("4", "8Gi").Obj()
//
// Pods get a UID (from their name) and the default scheduler; nodes get a
// Ready condition, a kubernetes.io/hostname label and room for 110 pods
// unless told otherwise.
package schedtest

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// PodWrapper builds a pod.
type PodWrapper struct {
	corev1.Pod
	uidSet bool
}

// MakePod starts a pod in namespace "default" with one container.
func MakePod() *PodWrapper {
	return &PodWrapper{Pod: corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "default"},
		Spec: corev1.PodSpec{
			SchedulerName: corev1.DefaultSchedulerName,
			Containers:    []corev1.Container{{Name: "app", Image: "nginx"}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}}
}

// Obj returns the pod.
func (p *PodWrapper) Obj() *corev1.Pod { return &p.Pod }

// Name sets the name (and the UID, if none was set).
func (p *PodWrapper) Name(n string) *PodWrapper {
	p.Pod.Name = n
	p.defaultUID()
	return p
}

// Namespace sets the namespace.
func (p *PodWrapper) Namespace(ns string) *PodWrapper {
	p.Pod.Namespace = ns
	p.defaultUID()
	return p
}

func (p *PodWrapper) defaultUID() {
	if !p.uidSet {
		p.Pod.UID = types.UID("uid-" + p.Pod.Namespace + "-" + p.Pod.Name)
	}
}

// UID sets the UID.
func (p *PodWrapper) UID(u string) *PodWrapper {
	p.Pod.UID, p.uidSet = types.UID(u), true
	return p
}

// Label adds a label.
func (p *PodWrapper) Label(k, v string) *PodWrapper {
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Labels[k] = v
	return p
}

// Node sets spec.nodeName (a bound pod).
func (p *PodWrapper) Node(n string) *PodWrapper { p.Spec.NodeName = n; return p }

// SchedulerName sets spec.schedulerName.
func (p *PodWrapper) SchedulerName(n string) *PodWrapper { p.Spec.SchedulerName = n; return p }

// Priority sets spec.priority.
func (p *PodWrapper) Priority(v int32) *PodWrapper { p.Spec.Priority = &v; return p }

// Phase sets status.phase.
func (p *PodWrapper) Phase(ph corev1.PodPhase) *PodWrapper { p.Status.Phase = ph; return p }

// Terminating sets a deletion timestamp.
func (p *PodWrapper) Terminating() *PodWrapper {
	now := metav1.Now()
	p.DeletionTimestamp = &now
	return p
}

// Owner sets a controller ownerReference (kind ReplicaSet) with this UID.
func (p *PodWrapper) Owner(uid string) *PodWrapper {
	yes := true
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: uid, UID: types.UID(uid), Controller: &yes}}
	return p
}

func (p *PodWrapper) requests() corev1.ResourceList {
	c := &p.Spec.Containers[0]
	if c.Resources.Requests == nil {
		c.Resources.Requests = corev1.ResourceList{}
	}
	return c.Resources.Requests
}

// CPU sets the first container's CPU request ("500m").
func (p *PodWrapper) CPU(q string) *PodWrapper {
	p.requests()[corev1.ResourceCPU] = resource.MustParse(q)
	return p
}

// Memory sets the first container's memory request ("1Gi").
func (p *PodWrapper) Memory(q string) *PodWrapper {
	p.requests()[corev1.ResourceMemory] = resource.MustParse(q)
	return p
}

// Req sets requests of the first container.
func (p *PodWrapper) Req(rl map[corev1.ResourceName]string) *PodWrapper {
	for k, v := range rl {
		p.requests()[k] = resource.MustParse(v)
	}
	return p
}

// Container adds a container with these requests.
func (p *PodWrapper) Container(rl map[corev1.ResourceName]string) *PodWrapper {
	p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "c" + itoa(len(p.Spec.Containers)), Image: "nginx", Resources: corev1.ResourceRequirements{Requests: list(rl)}})
	return p
}

// InitReq adds an init container with these requests.
func (p *PodWrapper) InitReq(rl map[corev1.ResourceName]string) *PodWrapper {
	p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: "init" + itoa(len(p.Spec.InitContainers)), Image: "busybox", Resources: corev1.ResourceRequirements{Requests: list(rl)}})
	return p
}

// SidecarReq adds a restartable init container (a sidecar) with these
// requests.
func (p *PodWrapper) SidecarReq(rl map[corev1.ResourceName]string) *PodWrapper {
	always := corev1.ContainerRestartPolicyAlways
	p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: "sidecar" + itoa(len(p.Spec.InitContainers)), Image: "weft/proxy", RestartPolicy: &always, Resources: corev1.ResourceRequirements{Requests: list(rl)}})
	return p
}

// HostPort adds a host port (TCP, all addresses) to the first container.
func (p *PodWrapper) HostPort(port int32) *PodWrapper {
	return p.HostPortIP("", corev1.ProtocolTCP, port)
}

// HostPortIP adds a host port on an address and protocol.
func (p *PodWrapper) HostPortIP(ip string, proto corev1.Protocol, port int32) *PodWrapper {
	c := &p.Spec.Containers[0]
	c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: port, HostPort: port, HostIP: ip, Protocol: proto})
	return p
}

// NodeSelector adds a nodeSelector entry.
func (p *PodWrapper) NodeSelector(k, v string) *PodWrapper {
	if p.Spec.NodeSelector == nil {
		p.Spec.NodeSelector = map[string]string{}
	}
	p.Spec.NodeSelector[k] = v
	return p
}

func (p *PodWrapper) nodeAffinity() *corev1.NodeAffinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &corev1.Affinity{}
	}
	if p.Spec.Affinity.NodeAffinity == nil {
		p.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	return p.Spec.Affinity.NodeAffinity
}

// RequiredNodeTerm adds a required node affinity term (terms are ORed).
func (p *PodWrapper) RequiredNodeTerm(t corev1.NodeSelectorTerm) *PodWrapper {
	na := p.nodeAffinity()
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{}
	}
	rs := na.RequiredDuringSchedulingIgnoredDuringExecution
	rs.NodeSelectorTerms = append(rs.NodeSelectorTerms, t)
	return p
}

// PreferredNodeTerm adds a preferred node affinity term.
func (p *PodWrapper) PreferredNodeTerm(weight int32, t corev1.NodeSelectorTerm) *PodWrapper {
	na := p.nodeAffinity()
	na.PreferredDuringSchedulingIgnoredDuringExecution = append(na.PreferredDuringSchedulingIgnoredDuringExecution, corev1.PreferredSchedulingTerm{Weight: weight, Preference: t})
	return p
}

// Toleration adds a toleration.
func (p *PodWrapper) Toleration(key string, op corev1.TolerationOperator, value string, effect corev1.TaintEffect) *PodWrapper {
	p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: key, Operator: op, Value: value, Effect: effect})
	return p
}

// Term is a pod affinity term selecting pods with label k=v in the
// topology key.
func Term(topologyKey, k, v string) corev1.PodAffinityTerm {
	return corev1.PodAffinityTerm{TopologyKey: topologyKey, LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}}
}

func (p *PodWrapper) podAffinity() *corev1.Affinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &corev1.Affinity{}
	}
	if p.Spec.Affinity.PodAffinity == nil {
		p.Spec.Affinity.PodAffinity = &corev1.PodAffinity{}
	}
	if p.Spec.Affinity.PodAntiAffinity == nil {
		p.Spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{}
	}
	return p.Spec.Affinity
}

// PodAffinity adds a required pod affinity term.
func (p *PodWrapper) PodAffinity(t corev1.PodAffinityTerm) *PodWrapper {
	a := p.podAffinity().PodAffinity
	a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution, t)
	return p
}

// PodAntiAffinity adds a required pod anti-affinity term.
func (p *PodWrapper) PodAntiAffinity(t corev1.PodAffinityTerm) *PodWrapper {
	a := p.podAffinity().PodAntiAffinity
	a.RequiredDuringSchedulingIgnoredDuringExecution = append(a.RequiredDuringSchedulingIgnoredDuringExecution, t)
	return p
}

// PreferredPodAffinity adds a preferred pod affinity term.
func (p *PodWrapper) PreferredPodAffinity(weight int32, t corev1.PodAffinityTerm) *PodWrapper {
	a := p.podAffinity().PodAffinity
	a.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PreferredDuringSchedulingIgnoredDuringExecution, corev1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: t})
	return p
}

// PreferredPodAntiAffinity adds a preferred pod anti-affinity term.
func (p *PodWrapper) PreferredPodAntiAffinity(weight int32, t corev1.PodAffinityTerm) *PodWrapper {
	a := p.podAffinity().PodAntiAffinity
	a.PreferredDuringSchedulingIgnoredDuringExecution = append(a.PreferredDuringSchedulingIgnoredDuringExecution, corev1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: t})
	return p
}

// NodeWrapper builds a node.
type NodeWrapper struct{ corev1.Node }

// MakeNode starts a Ready node with room for 110 pods.
func MakeNode() *NodeWrapper {
	return &NodeWrapper{corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{}},
		Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110")},
			Capacity:    corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110")},
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}},
		},
	}}
}

// Obj returns the node.
func (n *NodeWrapper) Obj() *corev1.Node { return &n.Node }

// Name sets the name and the kubernetes.io/hostname label.
func (n *NodeWrapper) Name(name string) *NodeWrapper {
	n.Node.Name = name
	n.Node.UID = types.UID("uid-node-" + name)
	n.Labels[corev1.LabelHostname] = name
	return n
}

// Label adds a label.
func (n *NodeWrapper) Label(k, v string) *NodeWrapper { n.Labels[k] = v; return n }

// Zone sets the topology.kubernetes.io/zone label.
func (n *NodeWrapper) Zone(z string) *NodeWrapper { return n.Label(corev1.LabelTopologyZone, z) }

// Allocatable sets allocatable (and capacity) CPU and memory.
func (n *NodeWrapper) Allocatable(cpu, memory string) *NodeWrapper {
	return n.Res(map[corev1.ResourceName]string{corev1.ResourceCPU: cpu, corev1.ResourceMemory: memory})
}

// Res sets allocatable (and capacity) amounts.
func (n *NodeWrapper) Res(rl map[corev1.ResourceName]string) *NodeWrapper {
	for k, v := range rl {
		n.Status.Allocatable[k] = resource.MustParse(v)
		n.Status.Capacity[k] = resource.MustParse(v)
	}
	return n
}

// Pods sets the allocatable pod count.
func (n *NodeWrapper) Pods(count string) *NodeWrapper {
	return n.Res(map[corev1.ResourceName]string{corev1.ResourcePods: count})
}

// Ready sets the Ready condition's status.
func (n *NodeWrapper) Ready(s corev1.ConditionStatus) *NodeWrapper {
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: s}}
	return n
}

// NoConditions removes all conditions.
func (n *NodeWrapper) NoConditions() *NodeWrapper { n.Status.Conditions = nil; return n }

// Taint adds a taint.
func (n *NodeWrapper) Taint(key, value string, effect corev1.TaintEffect) *NodeWrapper {
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: effect})
	return n
}

// Unschedulable cordons the node.
func (n *NodeWrapper) Unschedulable() *NodeWrapper { n.Spec.Unschedulable = true; return n }

// Expr is a node selector requirement.
func Expr(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorRequirement {
	return corev1.NodeSelectorRequirement{Key: key, Operator: op, Values: values}
}

// NodeTerm is a node selector term of label requirements.
func NodeTerm(exprs ...corev1.NodeSelectorRequirement) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: exprs}
}

func list(rl map[corev1.ResourceName]string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, v := range rl {
		out[k] = resource.MustParse(v)
	}
	return out
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
