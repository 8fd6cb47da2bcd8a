// Package plugins holds the scheduler's built-in filter and score
// plugins, each in its own file with its table test, named and worded as
// kube-scheduler's so users recognise the reasons in
// `0/3 nodes are available: …`:
//
//	filters: NodeUnschedulable, NodeName, TaintToleration, NodeReady,
//	         NodeAffinity, NodePorts, NodeResourcesFit, InterPodAffinity
//	scores:  NodeResourcesLeastAllocated, NodeResourcesBalancedAllocation,
//	         SelectorSpread, NodeAffinity, InterPodAffinity, TaintToleration
//
// NewRegistry returns them all; which run, in what order and with what
// weights is the scheduler's Profile (controlplane/scheduler, profile.go).
//
// Limits: a non-empty namespaceSelector in a pod affinity term adds no
// namespaces (the scheduler does not watch namespace labels yet).
package plugins
