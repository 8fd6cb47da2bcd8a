package scheduler

import (
	"maps"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// Informer event handlers: bound pods and nodes feed the cache, pending
// pods feed the queue, and changes that may help waiting pods move them.
// Handlers read event objects, never change them.

func assigned(p *corev1.Pod) bool { return p.Spec.NodeName != "" }

func terminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func (s *scheduler) responsibleFor(name string, p *corev1.Pod) bool {
	return p.Spec.SchedulerName == name || p.Spec.SchedulerName == ""
}

func podOf(obj any) *corev1.Pod {
	switch o := obj.(type) {
	case *corev1.Pod:
		return o
	case cache.DeletedFinalStateUnknown:
		p, _ := o.Obj.(*corev1.Pod)
		return p
	}
	return nil
}

func nodeOf(obj any) *corev1.Node {
	switch o := obj.(type) {
	case *corev1.Node:
		return o
	case cache.DeletedFinalStateUnknown:
		n, _ := o.Obj.(*corev1.Node)
		return n
	}
	return nil
}

var (
	assignedPodAdd    = framework.ClusterEvent{Resource: framework.AssignedPod, ActionType: framework.Add, Label: "AssignedPodAdd"}
	assignedPodDelete = framework.ClusterEvent{Resource: framework.AssignedPod, ActionType: framework.Delete, Label: "AssignedPodDelete"}
	nodeAdd           = framework.ClusterEvent{Resource: framework.Node, ActionType: framework.Add, Label: "NodeAdd"}
)

// podHandlers returns the pod informer's handlers for a scheduler named
// name.
func (s *scheduler) podHandlers(name string) cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			p := podOf(obj)
			if p == nil {
				return
			}
			switch {
			case assigned(p):
				if terminal(p) {
					return
				}
				s.logErr("add pod to cache", p, s.cache.AddPod(p))
				s.queue.MoveAllToActiveOrBackoffQueue(assignedPodAdd)
			case s.responsibleFor(name, p) && p.DeletionTimestamp == nil && !terminal(p):
				s.queue.Add(p)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			old, p := podOf(oldObj), podOf(newObj)
			if old == nil || p == nil {
				return
			}
			switch {
			case assigned(p):
				if !assigned(old) {
					s.queue.Delete(p) // just bound
				}
				if terminal(p) {
					s.logErr("remove finished pod from cache", p, s.cache.RemovePod(p))
					s.queue.MoveAllToActiveOrBackoffQueue(assignedPodDelete)
					return
				}
				s.logErr("update pod in cache", p, s.cache.AddPod(p))
				if ev := assignedPodUpdate(old, p); ev.ActionType != 0 {
					s.queue.MoveAllToActiveOrBackoffQueue(ev)
				}
			case !s.responsibleFor(name, p) || p.DeletionTimestamp != nil || terminal(p):
				s.queue.Delete(p)
			default:
				s.queue.Update(old, p)
			}
		},
		DeleteFunc: func(obj any) {
			p := podOf(obj)
			if p == nil {
				return
			}
			if assigned(p) {
				s.logErr("remove pod from cache", p, s.cache.RemovePod(p))
				s.queue.MoveAllToActiveOrBackoffQueue(assignedPodDelete)
				return
			}
			s.queue.Delete(p)
			// An assumed pod deleted before its binding showed up.
			s.logErr("forget deleted pod", p, s.cache.RemovePod(p))
		},
	}
}

// assignedPodUpdate classifies a change of a bound pod.
func assignedPodUpdate(old, p *corev1.Pod) framework.ClusterEvent {
	ev := framework.ClusterEvent{Resource: framework.AssignedPod, Label: "AssignedPodUpdate"}
	if !maps.Equal(old.Labels, p.Labels) {
		ev.ActionType |= framework.UpdatePodLabel
	}
	if p.DeletionTimestamp != nil && old.DeletionTimestamp == nil {
		ev.ActionType |= framework.UpdatePodScaleDown
	}
	return ev
}

// nodeHandlers returns the node informer's handlers.
func (s *scheduler) nodeHandlers() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if n := nodeOf(obj); n != nil {
				s.cache.AddNode(n)
				s.queue.MoveAllToActiveOrBackoffQueue(nodeAdd)
			}
		},
		UpdateFunc: func(oldObj, newObj any) {
			old, n := nodeOf(oldObj), nodeOf(newObj)
			if old == nil || n == nil {
				return
			}
			s.cache.UpdateNode(old, n)
			if a := nodeChange(old, n); a != 0 {
				s.queue.MoveAllToActiveOrBackoffQueue(framework.ClusterEvent{Resource: framework.Node, ActionType: a, Label: "NodeUpdate"})
			}
		},
		DeleteFunc: func(obj any) {
			if n := nodeOf(obj); n != nil {
				s.cache.RemoveNode(n)
			}
		},
	}
}

// nodeChange says what changed in a node that scheduling looks at (a
// heartbeat changes nothing of it).
func nodeChange(old, n *corev1.Node) framework.ActionType {
	var a framework.ActionType
	if !sameResources(old.Status.Allocatable, n.Status.Allocatable) {
		a |= framework.UpdateNodeAllocatable
	}
	if !maps.Equal(old.Labels, n.Labels) {
		a |= framework.UpdateNodeLabel
	}
	if !reflect.DeepEqual(old.Spec.Taints, n.Spec.Taints) {
		a |= framework.UpdateNodeTaint
	}
	if old.Spec.Unschedulable != n.Spec.Unschedulable {
		a |= framework.UpdateNodeSpecUnschedulable
	}
	if !sameConditionStatuses(old.Status.Conditions, n.Status.Conditions) {
		a |= framework.UpdateNodeCondition
	}
	return a
}

func sameResources(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, qa := range a {
		qb, ok := b[k]
		if !ok || qa.Cmp(qb) != 0 {
			return false
		}
	}
	return true
}

func sameConditionStatuses(a, b []corev1.NodeCondition) bool {
	if len(a) != len(b) {
		return false
	}
	m := make(map[corev1.NodeConditionType]corev1.ConditionStatus, len(a))
	for _, c := range a {
		m[c.Type] = c.Status
	}
	for _, c := range b {
		if s, ok := m[c.Type]; !ok || s != c.Status {
			return false
		}
	}
	return true
}
