package framework

import (
	corev1 "k8s.io/api/core/v1"
)

// Defaults counted for a container that requests no CPU or memory, when
// scoring (not when filtering), as kube-scheduler does: otherwise nodes
// full of request-less pods would look empty.
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of compute resources as integers, the form the
// plugins compare.
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	// AllowedPodNumber is the node's pod capacity (allocatable only).
	AllowedPodNumber int64
	// Scalar holds extended resources (nvidia.com/gpu, hugepages-2Mi, …).
	Scalar map[corev1.ResourceName]int64
}

// NewResource converts a resource list.
func NewResource(rl corev1.ResourceList) Resource {
	var r Resource
	r.Add(rl)
	return r
}

// Add adds a resource list.
func (r *Resource) Add(rl corev1.ResourceList) {
	for name, q := range rl {
		switch name {
		case corev1.ResourceCPU:
			r.MilliCPU += q.MilliValue()
		case corev1.ResourceMemory:
			r.Memory += q.Value()
		case corev1.ResourceEphemeralStorage:
			r.EphemeralStorage += q.Value()
		case corev1.ResourcePods:
			r.AllowedPodNumber += q.Value()
		default:
			r.addScalar(name, q.Value())
		}
	}
}

func (r *Resource) addScalar(name corev1.ResourceName, v int64) {
	if r.Scalar == nil {
		r.Scalar = map[corev1.ResourceName]int64{}
	}
	r.Scalar[name] += v
}

// AddResource adds o to r.
func (r *Resource) AddResource(o *Resource) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	r.AllowedPodNumber += o.AllowedPodNumber
	for k, v := range o.Scalar {
		r.addScalar(k, v)
	}
}

// SubResource subtracts o from r.
func (r *Resource) SubResource(o *Resource) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.AllowedPodNumber -= o.AllowedPodNumber
	for k, v := range o.Scalar {
		r.addScalar(k, -v)
	}
}

// SetMax raises each of r's amounts to o's where o's is larger.
func (r *Resource) SetMax(o *Resource) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.EphemeralStorage = max(r.EphemeralStorage, o.EphemeralStorage)
	r.AllowedPodNumber = max(r.AllowedPodNumber, o.AllowedPodNumber)
	for k, v := range o.Scalar {
		if v > r.Scalar[k] {
			if r.Scalar == nil {
				r.Scalar = map[corev1.ResourceName]int64{}
			}
			r.Scalar[k] = v
		}
	}
}

// IsZero says whether nothing is requested.
func (r *Resource) IsZero() bool {
	if r.MilliCPU != 0 || r.Memory != 0 || r.EphemeralStorage != 0 || r.AllowedPodNumber != 0 {
		return false
	}
	for _, v := range r.Scalar {
		if v != 0 {
			return false
		}
	}
	return true
}

// Clone returns a copy that shares nothing with r.
func (r *Resource) Clone() Resource {
	out := *r
	if r.Scalar != nil {
		out.Scalar = make(map[corev1.ResourceName]int64, len(r.Scalar))
		for k, v := range r.Scalar {
			out.Scalar[k] = v
		}
	}
	return out
}

// PodRequests computes what a pod asks of a node, with Kubernetes' rules:
// the sum of its app containers, raised to what any init container needs
// while it runs (an init container runs alone, beside the restartable
// "sidecar" init containers started before it, which keep running and add
// to the app containers), plus the pod overhead. Pod-level requests
// (spec.resources), when given, replace the containers' CPU and memory.
//
// nonZero is the same with the scoring defaults for containers that
// request no CPU or memory.
func PodRequests(pod *corev1.Pod) (reqs, nonZero Resource) {
	var sidecars, sidecarsNZ Resource
	var initMax, initMaxNZ Resource
	for i := range pod.Spec.Containers {
		rl := pod.Spec.Containers[i].Resources.Requests
		reqs.Add(rl)
		addNonZero(&nonZero, rl)
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		rl := c.Resources.Requests
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			reqs.Add(rl)
			addNonZero(&nonZero, rl)
			sidecars.Add(rl)
			addNonZero(&sidecarsNZ, rl)
			initMax.SetMax(&sidecars)
			initMaxNZ.SetMax(&sidecarsNZ)
			continue
		}
		running := NewResource(rl)
		running.AddResource(&sidecars)
		initMax.SetMax(&running)
		var runningNZ Resource
		addNonZero(&runningNZ, rl)
		runningNZ.AddResource(&sidecarsNZ)
		initMaxNZ.SetMax(&runningNZ)
	}
	reqs.SetMax(&initMax)
	nonZero.SetMax(&initMaxNZ)
	if pr := pod.Spec.Resources; pr != nil {
		if q, ok := pr.Requests[corev1.ResourceCPU]; ok {
			reqs.MilliCPU, nonZero.MilliCPU = q.MilliValue(), q.MilliValue()
		}
		if q, ok := pr.Requests[corev1.ResourceMemory]; ok {
			reqs.Memory, nonZero.Memory = q.Value(), q.Value()
		}
	}
	if pod.Spec.Overhead != nil {
		o := NewResource(pod.Spec.Overhead)
		reqs.AddResource(&o)
		nonZero.MilliCPU += o.MilliCPU
		nonZero.Memory += o.Memory
	}
	return reqs, nonZero
}

// addNonZero adds one container's CPU and memory with the scoring defaults.
func addNonZero(r *Resource, rl corev1.ResourceList) {
	if q, ok := rl[corev1.ResourceCPU]; ok {
		r.MilliCPU += q.MilliValue()
	} else {
		r.MilliCPU += DefaultMilliCPURequest
	}
	if q, ok := rl[corev1.ResourceMemory]; ok {
		r.Memory += q.Value()
	} else {
		r.Memory += DefaultMemoryRequest
	}
}
