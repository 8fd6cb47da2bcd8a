package framework

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Diagnosis is why a pod fits no node.
type Diagnosis struct {
	// NodeToStatus is each node's rejection.
	NodeToStatus map[string]*Status
	// UnschedulablePlugins are the plugins that rejected the pod
	// somewhere; the queue retries the pod early on their events.
	UnschedulablePlugins sets.Set[string]
	// PreFilterMsg is set when a PreFilter rejected the pod outright.
	PreFilterMsg string
}

// FitError is the error of a pod that fits no node. Its message is
// Kubernetes' (`0/3 nodes are available: 1 node(s) had untolerated taint
// {node.kubernetes.io/unreachable: }, 2 Insufficient cpu.`).
type FitError struct {
	Pod         *corev1.Pod
	NumAllNodes int
	Diagnosis   Diagnosis
}

// Error counts each reason over the nodes, and lists the counts sorted.
func (f *FitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "0/%d nodes are available:", f.NumAllNodes)
	if f.Diagnosis.PreFilterMsg != "" {
		fmt.Fprintf(&b, " %s.", f.Diagnosis.PreFilterMsg)
		return b.String()
	}
	counts := map[string]int{}
	for _, st := range f.Diagnosis.NodeToStatus {
		for _, r := range st.Reasons() {
			counts[r]++
		}
	}
	if len(counts) == 0 {
		return b.String()
	}
	list := make([]string, 0, len(counts))
	for r, n := range counts {
		list = append(list, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(list)
	fmt.Fprintf(&b, " %s.", strings.Join(list, ", "))
	return b.String()
}
