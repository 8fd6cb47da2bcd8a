package queue

import "container/heap"

// keyedHeap is a heap of pods addressable by key.
type keyedHeap struct {
	items []*QueuedPodInfo
	index map[string]int
	less  func(a, b *QueuedPodInfo) bool
}

func newKeyedHeap(less func(a, b *QueuedPodInfo) bool) *keyedHeap {
	return &keyedHeap{index: map[string]int{}, less: less}
}

func (h *keyedHeap) Len() int           { return len(h.items) }
func (h *keyedHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *keyedHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.index[h.items[i].key] = i
	h.index[h.items[j].key] = j
}
func (h *keyedHeap) Push(x any) {
	q := x.(*QueuedPodInfo)
	h.index[q.key] = len(h.items)
	h.items = append(h.items, q)
}
func (h *keyedHeap) Pop() any {
	last := len(h.items) - 1
	q := h.items[last]
	h.items[last] = nil
	h.items = h.items[:last]
	delete(h.index, q.key)
	return q
}

// add inserts or replaces by key.
func (h *keyedHeap) add(q *QueuedPodInfo) {
	if i, ok := h.index[q.key]; ok {
		h.items[i] = q
		heap.Fix(h, i)
		return
	}
	heap.Push(h, q)
}

func (h *keyedHeap) get(key string) (*QueuedPodInfo, bool) {
	i, ok := h.index[key]
	if !ok {
		return nil, false
	}
	return h.items[i], true
}

func (h *keyedHeap) delete(key string) bool {
	i, ok := h.index[key]
	if !ok {
		return false
	}
	heap.Remove(h, i)
	return true
}

func (h *keyedHeap) peek() *QueuedPodInfo {
	if len(h.items) == 0 {
		return nil
	}
	return h.items[0]
}

func (h *keyedHeap) pop() *QueuedPodInfo {
	if len(h.items) == 0 {
		return nil
	}
	return heap.Pop(h).(*QueuedPodInfo)
}

func (h *keyedHeap) has(key string) bool {
	_, ok := h.index[key]
	return ok
}
