package cache

import (
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// ErrPodKnown is returned by AssumePod for a pod the cache already holds.
var ErrPodKnown = errors.New("pod is already in the cache")

// Cache holds the nodes and the pods bound or assumed bound to them. It
// is safe for concurrent use: informer handlers, the scheduling cycle and
// binding goroutines all call it.
type Cache struct {
	mu sync.Mutex
	// nodes by name, also linked most recently changed first.
	nodes    map[string]*nodeItem
	headNode *nodeItem
	// listChanged: a node appeared, went or changed zone since the last
	// snapshot, so the snapshot's node order must be rebuilt.
	listChanged bool
	pods        map[types.UID]*podState
}

type nodeItem struct {
	info       *framework.NodeInfo
	prev, next *nodeItem
}

type podState struct {
	pi       *framework.PodInfo
	assumed  bool
	finished bool // binding call returned
}

// New returns an empty cache.
func New() *Cache {
	return &Cache{nodes: map[string]*nodeItem{}, pods: map[types.UID]*podState{}}
}

// moveToHead marks the node as the latest changed.
func (c *Cache) moveToHead(it *nodeItem) {
	if c.headNode == it {
		return
	}
	if it.prev != nil {
		it.prev.next = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	}
	it.prev = nil
	it.next = c.headNode
	if c.headNode != nil {
		c.headNode.prev = it
	}
	c.headNode = it
}

func (c *Cache) unlink(it *nodeItem) {
	if it.prev != nil {
		it.prev.next = it.next
	}
	if it.next != nil {
		it.next.prev = it.prev
	}
	if c.headNode == it {
		c.headNode = it.next
	}
	it.prev, it.next = nil, nil
}

// item returns the node's entry, making an empty one (a node known only
// from its pods so far) when needed.
func (c *Cache) item(name string) *nodeItem {
	it, ok := c.nodes[name]
	if !ok {
		it = &nodeItem{info: framework.NewNodeInfo()}
		c.nodes[name] = it
	}
	return it
}

func (c *Cache) addPodLocked(pi *framework.PodInfo) {
	it := c.item(pi.Pod.Spec.NodeName)
	it.info.AddPod(pi)
	c.moveToHead(it)
}

func (c *Cache) removePodLocked(pod *corev1.Pod) error {
	it, ok := c.nodes[pod.Spec.NodeName]
	if !ok {
		return fmt.Errorf("remove pod %s/%s: node %q is not in the cache", pod.Namespace, pod.Name, pod.Spec.NodeName)
	}
	if err := it.info.RemovePod(pod); err != nil {
		return fmt.Errorf("remove pod: %w", err)
	}
	if len(it.info.Pods) == 0 && it.info.Node() == nil {
		c.unlink(it)
		delete(c.nodes, pod.Spec.NodeName)
	} else {
		c.moveToHead(it)
	}
	return nil
}

// AssumePod records a pod (with spec.nodeName set to its chosen node) as
// bound before the binding is confirmed.
func (c *Cache) AssumePod(pi *framework.PodInfo) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[pi.Pod.UID]; ok {
		return fmt.Errorf("assume pod %s/%s: %w", pi.Pod.Namespace, pi.Pod.Name, ErrPodKnown)
	}
	c.addPodLocked(pi)
	c.pods[pi.Pod.UID] = &podState{pi: pi, assumed: true}
	return nil
}

// FinishBinding records that the binding call for an assumed pod returned.
func (c *Cache) FinishBinding(pod *corev1.Pod) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok && ps.assumed {
		ps.finished = true
	}
}

// ForgetPod drops an assumed pod whose binding failed.
func (c *Cache) ForgetPod(pod *corev1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	if !ok || !ps.assumed {
		return nil // confirmed meanwhile, or already gone
	}
	delete(c.pods, pod.UID)
	return c.removePodLocked(ps.pi.Pod)
}

// AddPod records a bound pod seen by the informer, confirming it if it
// was assumed.
func (c *Cache) AddPod(pod *corev1.Pod) error {
	pi := framework.NewPodInfo(pod)
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps, ok := c.pods[pod.UID]; ok {
		if err := c.removePodLocked(ps.pi.Pod); err != nil {
			return err
		}
	}
	c.addPodLocked(pi)
	c.pods[pod.UID] = &podState{pi: pi}
	return nil
}

// UpdatePod replaces a bound pod.
func (c *Cache) UpdatePod(_, pod *corev1.Pod) error { return c.AddPod(pod) }

// RemovePod forgets a pod that was deleted or finished.
func (c *Cache) RemovePod(pod *corev1.Pod) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	if !ok {
		return nil
	}
	delete(c.pods, pod.UID)
	return c.removePodLocked(ps.pi.Pod)
}

// IsAssumedPod says whether the pod is assumed and not yet confirmed.
func (c *Cache) IsAssumedPod(pod *corev1.Pod) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps, ok := c.pods[pod.UID]
	return ok && ps.assumed
}

// AddNode records a node.
func (c *Cache) AddNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it := c.item(node.Name)
	if old := it.info.Node(); old == nil || framework.ZoneKey(old) != framework.ZoneKey(node) {
		c.listChanged = true
	}
	it.info.SetNode(node)
	c.moveToHead(it)
}

// UpdateNode replaces a node.
func (c *Cache) UpdateNode(_, node *corev1.Node) { c.AddNode(node) }

// RemoveNode forgets a node; its pods stay counted until they go.
func (c *Cache) RemoveNode(node *corev1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.nodes[node.Name]
	if !ok {
		return
	}
	c.listChanged = true
	if len(it.info.Pods) == 0 {
		c.unlink(it)
		delete(c.nodes, node.Name)
		return
	}
	it.info.RemoveNode()
	c.moveToHead(it)
}

// Counts returns the number of nodes (with a Node object) and of pods.
func (c *Cache) Counts() (nodes, pods int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, it := range c.nodes {
		if it.info.Node() != nil {
			nodes++
		}
	}
	return nodes, len(c.pods)
}

// UpdateSnapshot brings the snapshot up to date, copying only the nodes
// that changed since it was last updated.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	affinityChanged := false
	for it := c.headNode; it != nil && it.info.Generation > s.generation; it = it.next {
		n := it.info.Node()
		if n == nil {
			continue
		}
		clone := it.info.Clone()
		existing, ok := s.nodeInfoMap[n.Name]
		if !ok {
			c.listChanged = true
			s.nodeInfoMap[n.Name] = clone
			continue
		}
		if (len(existing.PodsWithAffinity) > 0) != (len(clone.PodsWithAffinity) > 0) ||
			(len(existing.PodsWithRequiredAntiAffinity) > 0) != (len(clone.PodsWithRequiredAntiAffinity) > 0) {
			affinityChanged = true
		}
		*existing = *clone
	}
	if c.headNode != nil {
		s.generation = c.headNode.info.Generation
	}
	if c.listChanged {
		for name := range s.nodeInfoMap {
			if it, ok := c.nodes[name]; !ok || it.info.Node() == nil {
				delete(s.nodeInfoMap, name)
			}
		}
		s.rebuildLists()
		c.listChanged = false
		return
	}
	if affinityChanged {
		s.rebuildAffinityLists()
	}
}

// HasPod says whether the pod is known, bound or assumed.
func (c *Cache) HasPod(pod *corev1.Pod) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.pods[pod.UID]
	return ok
}
