package framework

import (
	"context"
	"errors"
	"fmt"
)

// Score bounds: every ScorePlugin's scores, after normalizing, lie in
// [MinNodeScore, MaxNodeScore]; the Framework multiplies them by the
// plugin's weight.
const (
	MinNodeScore int64 = 0
	MaxNodeScore int64 = 100
)

// Plugin is anything the Framework runs.
type Plugin interface {
	Name() string
}

// PreFilterPlugin runs once per cycle before Filter, to compute what its
// Filter needs (in CycleState). Returning Skip skips its Filter for this
// pod; Unschedulable rejects the pod on every node.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *PodInfo) *Status
}

// FilterPlugin says whether a pod may run on a node.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status
}

// PreScorePlugin runs once per cycle over the nodes that passed the
// filters, before Score. Returning Skip skips its Score for this pod.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status
}

// ScorePlugin ranks a node that passed the filters. Scores must lie in
// [MinNodeScore, MaxNodeScore] after NormalizeScore, if the plugin is
// also a ScoreNormalizer.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status)
}

// ScoreNormalizer is implemented by a ScorePlugin whose raw scores need
// scaling to [MinNodeScore, MaxNodeScore] once all nodes are scored.
type ScoreNormalizer interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *PodInfo, scores NodeScoreList) *Status
}

// NodeScore is a node's score.
type NodeScore struct {
	Name  string
	Score int64
}

// NodeScoreList is a list of node scores, in the order of the nodes scored.
type NodeScoreList []NodeScore

// DefaultNormalizeScore scales scores to [0, maxPriority] by the highest
// one; reverse turns high raw scores into low ones (for counts of
// something bad).
func DefaultNormalizeScore(maxPriority int64, reverse bool, scores NodeScoreList) {
	var highest int64
	for _, s := range scores {
		highest = max(highest, s.Score)
	}
	if highest == 0 {
		if reverse {
			for i := range scores {
				scores[i].Score = maxPriority
			}
		}
		return
	}
	for i := range scores {
		s := maxPriority * scores[i].Score / highest
		if reverse {
			s = maxPriority - s
		}
		scores[i].Score = s
	}
}

// Handle is what plugins get from the Framework when they are built.
type Handle interface {
	// SnapshotSharedLister reads the snapshot of the current cycle.
	SnapshotSharedLister() SharedLister
}

// SharedLister reads a snapshot.
type SharedLister interface {
	NodeInfos() NodeInfoLister
}

// NodeInfoLister lists the nodes of a snapshot.
type NodeInfoLister interface {
	// List is every node.
	List() []*NodeInfo
	// HavePodsWithAffinityList is the nodes with a pod that has a pod
	// (anti-)affinity term.
	HavePodsWithAffinityList() []*NodeInfo
	// HavePodsWithRequiredAntiAffinityList is the nodes with a pod that
	// has a required anti-affinity term.
	HavePodsWithRequiredAntiAffinityList() []*NodeInfo
	// Get returns a node by name (ErrNodeNotFound when there is none).
	Get(name string) (*NodeInfo, error)
}

// ErrNodeNotFound is returned by NodeInfoLister.Get.
var ErrNodeNotFound = errors.New("node not found")

// StateKey names a value in a CycleState; plugins use their own name.
type StateKey string

// CycleState carries what plugins compute during one scheduling cycle
// (PreFilter → Filter, PreScore → Score). Writes happen in PreFilter and
// PreScore; Filter and Score only read, so they may run in parallel.
type CycleState struct {
	storage    map[StateKey]any
	skipFilter []bool
	skipScore  []bool
}

// NewCycleState returns an empty state.
func NewCycleState() *CycleState {
	return &CycleState{storage: make(map[StateKey]any, 8)}
}

// Write stores a value.
func (c *CycleState) Write(key StateKey, v any) { c.storage[key] = v }

// ErrNotFound is returned when a state key was never written.
var ErrNotFound = errors.New("not found")

// Read returns a value.
func (c *CycleState) Read(key StateKey) (any, error) {
	v, ok := c.storage[key]
	if !ok {
		return nil, fmt.Errorf("cycle state %q: %w", key, ErrNotFound)
	}
	return v, nil
}

// ReadState returns a typed value from the state.
func ReadState[T any](c *CycleState, key StateKey) (T, error) {
	var zero T
	v, err := c.Read(key)
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("cycle state %q holds %T, want %T", key, v, zero)
	}
	return t, nil
}

// ActionType is a kind of change in the cluster, as a bit set.
type ActionType uint32

// Changes a plugin may care about.
const (
	Add ActionType = 1 << iota
	Delete
	// UpdateNodeAllocatable: a node's allocatable resources changed.
	UpdateNodeAllocatable
	// UpdateNodeLabel: a node's labels changed.
	UpdateNodeLabel
	// UpdateNodeTaint: a node's taints changed.
	UpdateNodeTaint
	// UpdateNodeCondition: a node's condition statuses changed.
	UpdateNodeCondition
	// UpdateNodeSpecUnschedulable: spec.unschedulable changed.
	UpdateNodeSpecUnschedulable
	// UpdatePodLabel: a bound pod's labels changed.
	UpdatePodLabel
	// UpdatePodScaleDown: a bound pod needs less (it finished, or its
	// requests went down).
	UpdatePodScaleDown

	Update = UpdateNodeAllocatable | UpdateNodeLabel | UpdateNodeTaint | UpdateNodeCondition |
		UpdateNodeSpecUnschedulable | UpdatePodLabel | UpdatePodScaleDown
	All = Add | Delete | Update
)

// EventResource is the kind of object a ClusterEvent is about.
type EventResource string

// Resources that move unschedulable pods.
const (
	// Node events.
	Node EventResource = "Node"
	// AssignedPod events are about pods bound to a node.
	AssignedPod EventResource = "AssignedPod"
	// WildCard matches every resource.
	WildCard EventResource = "*"
)

// ClusterEvent is a change that may make a rejected pod schedulable.
type ClusterEvent struct {
	Resource   EventResource
	ActionType ActionType
	// Label names the event in logs.
	Label string
}

// Match says whether an event that happened (ev) is one that c waits for.
func (c ClusterEvent) Match(ev ClusterEvent) bool {
	return (c.Resource == WildCard || ev.Resource == WildCard || c.Resource == ev.Resource) && c.ActionType&ev.ActionType != 0
}

// EnqueueExtensions is implemented by a filter plugin to say which
// cluster events may make a pod it rejected schedulable. A rejected pod
// is retried early only on those; a plugin that does not implement it is
// taken to care about every event.
type EnqueueExtensions interface {
	EventsToRegister() []ClusterEvent
}
