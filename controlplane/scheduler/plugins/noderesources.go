package plugins

import (
	"context"
	"math"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// Reasons NodeResourcesFit gives.
const (
	ErrReasonTooManyPods = "Too many pods"
	reasonInsufficient   = "Insufficient "
)

// NodeResourcesFit rejects nodes without room for the pod's requests
// (framework.PodRequests: init containers by Kubernetes' max rule) or with
// as many pods as their allocatable "pods".
type NodeResourcesFit struct{}

var (
	_ framework.FilterPlugin      = (*NodeResourcesFit)(nil)
	_ framework.EnqueueExtensions = (*NodeResourcesFit)(nil)
)

// Name implements framework.Plugin.
func (*NodeResourcesFit) Name() string { return NodeResourcesFitName }

// Filter implements framework.FilterPlugin. Every shortfall is a reason,
// so `2 Insufficient cpu, 1 Insufficient memory` counts them all.
func (*NodeResourcesFit) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	var reasons []string
	alloc, used, req := &ni.Allocatable, &ni.Requested, &pod.Requests
	if int64(len(ni.Pods))+1 > alloc.AllowedPodNumber {
		reasons = append(reasons, ErrReasonTooManyPods)
	}
	if req.MilliCPU > 0 && req.MilliCPU > alloc.MilliCPU-used.MilliCPU {
		reasons = append(reasons, reasonInsufficient+string(corev1.ResourceCPU))
	}
	if req.Memory > 0 && req.Memory > alloc.Memory-used.Memory {
		reasons = append(reasons, reasonInsufficient+string(corev1.ResourceMemory))
	}
	if req.EphemeralStorage > 0 && req.EphemeralStorage > alloc.EphemeralStorage-used.EphemeralStorage {
		reasons = append(reasons, reasonInsufficient+string(corev1.ResourceEphemeralStorage))
	}
	if len(req.Scalar) > 0 {
		var short []string
		for name, q := range req.Scalar {
			if q > 0 && q > alloc.Scalar[name]-used.Scalar[name] {
				short = append(short, reasonInsufficient+string(name))
			}
		}
		sort.Strings(short)
		reasons = append(reasons, short...)
	}
	if len(reasons) == 0 {
		return nil
	}
	return framework.NewStatus(framework.Unschedulable, reasons...)
}

// EventsToRegister implements framework.EnqueueExtensions.
func (*NodeResourcesFit) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.AssignedPod, ActionType: framework.Delete | framework.UpdatePodScaleDown},
		{Resource: framework.Node, ActionType: framework.Add | framework.UpdateNodeAllocatable},
	}
}

// LeastAllocated prefers nodes with the most CPU and memory left after
// the pod, weighing CPU and memory equally (requests counted with the
// scoring defaults, framework.NonZeroRequests).
type LeastAllocated struct{}

var _ framework.ScorePlugin = (*LeastAllocated)(nil)

// Name implements framework.Plugin.
func (*LeastAllocated) Name() string { return LeastAllocatedName }

// Score implements framework.ScorePlugin.
func (*LeastAllocated) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) (int64, *framework.Status) {
	cpu := leastRequested(ni.NonZeroRequested.MilliCPU+pod.NonZeroRequests.MilliCPU, ni.Allocatable.MilliCPU)
	mem := leastRequested(ni.NonZeroRequested.Memory+pod.NonZeroRequests.Memory, ni.Allocatable.Memory)
	return (cpu + mem) / 2, nil
}

func leastRequested(requested, capacity int64) int64 {
	if capacity <= 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * framework.MaxNodeScore / capacity
}

// BalancedAllocation prefers nodes whose CPU and memory would be used in
// the same proportion after the pod: score (1 − σ)·100 over the two
// fractions requested/allocatable.
type BalancedAllocation struct{}

var (
	_ framework.PreScorePlugin = (*BalancedAllocation)(nil)
	_ framework.ScorePlugin    = (*BalancedAllocation)(nil)
)

// Name implements framework.Plugin.
func (*BalancedAllocation) Name() string { return BalancedAllocationName }

// PreScore implements framework.PreScorePlugin: a pod that requests
// neither CPU nor memory changes no balance.
func (*BalancedAllocation) PreScore(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	if pod.Requests.MilliCPU == 0 && pod.Requests.Memory == 0 {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Score implements framework.ScorePlugin.
func (*BalancedAllocation) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, ni *framework.NodeInfo) (int64, *framework.Status) {
	var fractions [2]float64
	n := 0
	for _, r := range [2][2]int64{
		{ni.Requested.MilliCPU + pod.Requests.MilliCPU, ni.Allocatable.MilliCPU},
		{ni.Requested.Memory + pod.Requests.Memory, ni.Allocatable.Memory},
	} {
		if r[1] <= 0 {
			continue
		}
		fractions[n] = math.Min(1, float64(r[0])/float64(r[1]))
		n++
	}
	var std float64
	if n == 2 {
		std = math.Abs(fractions[0]-fractions[1]) / 2
	}
	return int64((1 - std) * float64(framework.MaxNodeScore)), nil
}
