package queue

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
)

// ErrClosed is returned by Pop once the queue is closed.
var ErrClosed = errors.New("scheduling queue is closed")

// Defaults, as kube-scheduler's.
const (
	DefaultInitialBackoff          = time.Second
	DefaultMaxBackoff              = 10 * time.Second
	DefaultMaxInUnschedulablePods  = 5 * time.Minute
	flushUnschedulableLeftoverTick = 30 * time.Second
)

// UnschedulableTimeout is the event of a pod left unschedulable too long.
var UnschedulableTimeout = framework.ClusterEvent{Resource: framework.WildCard, ActionType: framework.All, Label: "UnschedulableTimeout"}

// QueuedPodInfo is a pod in the queue with its scheduling history.
type QueuedPodInfo struct {
	*framework.PodInfo
	key string
	// Timestamp is when the pod last entered a queue.
	Timestamp time.Time
	// Attempts counts scheduling attempts.
	Attempts int
	// InitialAttemptTimestamp is when the pod was first popped.
	InitialAttemptTimestamp time.Time
	// UnschedulablePlugins rejected the pod in its last attempt; empty
	// after an error.
	UnschedulablePlugins sets.Set[string]
}

// Key is namespace/name.
func (q *QueuedPodInfo) Key() string { return q.key }

// Options configure a queue.
type Options struct {
	InitialBackoff         time.Duration
	MaxBackoff             time.Duration
	MaxInUnschedulablePods time.Duration
	// PluginEvents is, per filter plugin, the events that may make a pod it
	// rejected schedulable (nil: any event); see framework.EnqueueExtensions.
	PluginEvents map[string][]framework.ClusterEvent
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// PriorityQueue holds the pods waiting for a node. It is safe for
// concurrent use.
type PriorityQueue struct {
	mu   sync.Mutex
	cond sync.Cond
	opts Options

	activeQ       *keyedHeap
	backoffQ      *keyedHeap
	unschedulable map[string]*QueuedPodInfo
	inFlight      sets.Set[string]

	schedulingCycle  int64
	moveRequestCycle int64
	closed           bool
}

// New returns an empty queue.
func New(opts Options) *PriorityQueue {
	if opts.InitialBackoff <= 0 {
		opts.InitialBackoff = DefaultInitialBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.InitialBackoff)
	if opts.MaxInUnschedulablePods <= 0 {
		opts.MaxInUnschedulablePods = DefaultMaxInUnschedulablePods
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	q := &PriorityQueue{
		opts:          opts,
		unschedulable: map[string]*QueuedPodInfo{},
		inFlight:      sets.New[string](),
	}
	q.cond.L = &q.mu
	q.activeQ = newKeyedHeap(func(a, b *QueuedPodInfo) bool {
		pa, pb := priority(a.Pod), priority(b.Pod)
		if pa != pb {
			return pa > pb
		}
		return a.Timestamp.Before(b.Timestamp)
	})
	q.backoffQ = newKeyedHeap(func(a, b *QueuedPodInfo) bool {
		return q.backoffTime(a).Before(q.backoffTime(b))
	})
	return q
}

func priority(p *corev1.Pod) int32 {
	if p.Spec.Priority != nil {
		return *p.Spec.Priority
	}
	return 0
}

// Key is a pod's queue key.
func Key(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// Add queues a new pending pod (or refreshes one already queued).
func (q *PriorityQueue) Add(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := Key(pod)
	pi := framework.NewPodInfo(pod)
	if old := q.find(key); old != nil {
		old.PodInfo = pi
		return
	}
	if q.inFlight.Has(key) {
		return
	}
	q.activeQ.add(&QueuedPodInfo{PodInfo: pi, key: key, Timestamp: q.opts.Now()})
	q.cond.Broadcast()
}

// find returns the queued entry, wherever it waits.
func (q *PriorityQueue) find(key string) *QueuedPodInfo {
	if e, ok := q.activeQ.get(key); ok {
		return e
	}
	if e, ok := q.backoffQ.get(key); ok {
		return e
	}
	return q.unschedulable[key]
}

// Update refreshes a pending pod. An unschedulable pod whose spec, labels
// or annotations changed is tried again (after its back-off); a change of
// status only (such as the scheduler's own condition) leaves it waiting.
func (q *PriorityQueue) Update(old, pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := Key(pod)
	pi := framework.NewPodInfo(pod)
	if e, ok := q.activeQ.get(key); ok {
		e.PodInfo = pi
		q.activeQ.add(e)
		return
	}
	if e, ok := q.backoffQ.get(key); ok {
		e.PodInfo = pi
		q.backoffQ.add(e)
		return
	}
	if e, ok := q.unschedulable[key]; ok {
		e.PodInfo = pi
		if old != nil && isPodUpdated(old, pod) {
			delete(q.unschedulable, key)
			q.requeueLocked(e)
		}
		return
	}
	if q.inFlight.Has(key) {
		return
	}
	q.activeQ.add(&QueuedPodInfo{PodInfo: pi, key: key, Timestamp: q.opts.Now()})
	q.cond.Broadcast()
}

// isPodUpdated says whether anything but status and bookkeeping changed.
func isPodUpdated(a, b *corev1.Pod) bool {
	strip := func(p *corev1.Pod) *corev1.Pod {
		c := p.DeepCopy()
		c.ResourceVersion = ""
		c.Generation = 0
		c.ManagedFields = nil
		c.Status = corev1.PodStatus{}
		return c
	}
	return !reflect.DeepEqual(strip(a), strip(b))
}

// Delete drops a pod (deleted, bound, or no longer ours).
func (q *PriorityQueue) Delete(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := Key(pod)
	q.activeQ.delete(key)
	q.backoffQ.delete(key)
	delete(q.unschedulable, key)
}

// Pop waits for a pod and returns it, counting an attempt. It returns
// ErrClosed once the queue is closed.
func (q *PriorityQueue) Pop() (*QueuedPodInfo, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.activeQ.Len() == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil, ErrClosed
	}
	e := q.activeQ.pop()
	e.Attempts++
	if e.Attempts == 1 {
		e.InitialAttemptTimestamp = q.opts.Now()
	}
	q.schedulingCycle++
	q.inFlight.Insert(e.key)
	return e, nil
}

// SchedulingCycle is the number of pods popped so far; a failed attempt
// hands back the cycle it started in.
func (q *PriorityQueue) SchedulingCycle() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.schedulingCycle
}

// Done ends an attempt that needs no requeue (the pod was placed or is
// gone).
func (q *PriorityQueue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inFlight.Delete(key)
}

// AddUnschedulable requeues a pod after a failed attempt that began in
// podCycle: to the unschedulable set to wait for a helpful event, or
// straight to back-off if such an event came during the attempt or the
// failure was an error (no UnschedulablePlugins). pod, when not nil, is
// the latest version of the pod.
func (q *PriorityQueue) AddUnschedulable(e *QueuedPodInfo, pod *corev1.Pod, podCycle int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.inFlight.Delete(e.key)
	if q.find(e.key) != nil {
		return
	}
	if pod != nil && pod != e.Pod {
		e.PodInfo = framework.NewPodInfo(pod)
	}
	e.Timestamp = q.opts.Now()
	if q.moveRequestCycle >= podCycle || len(e.UnschedulablePlugins) == 0 {
		q.backoffQ.add(e)
		return
	}
	q.unschedulable[e.key] = e
}

// requeueLocked puts a pod in back-off if its back-off has not expired,
// else in the active queue.
func (q *PriorityQueue) requeueLocked(e *QueuedPodInfo) {
	if q.backoffTime(e).After(q.opts.Now()) {
		q.backoffQ.add(e)
		return
	}
	q.activeQ.add(e)
	q.cond.Broadcast()
}

// MoveAllToActiveOrBackoffQueue moves the unschedulable pods that the
// event may help to the active queue, or to back-off while theirs runs.
func (q *PriorityQueue) MoveAllToActiveOrBackoffQueue(ev framework.ClusterEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for key, e := range q.unschedulable {
		if q.helps(e, ev) {
			delete(q.unschedulable, key)
			q.requeueLocked(e)
		}
	}
	q.moveRequestCycle = q.schedulingCycle
}

// helps says whether ev may make a pod schedulable that the plugins in
// e.UnschedulablePlugins rejected.
func (q *PriorityQueue) helps(e *QueuedPodInfo, ev framework.ClusterEvent) bool {
	if len(e.UnschedulablePlugins) == 0 || ev.Label == UnschedulableTimeout.Label {
		return true
	}
	for p := range e.UnschedulablePlugins {
		events, ok := q.opts.PluginEvents[p]
		if !ok || events == nil {
			return true
		}
		for _, want := range events {
			if want.Match(ev) {
				return true
			}
		}
	}
	return false
}

// backoffDuration is initial·2^(attempts-1), at most max.
func (q *PriorityQueue) backoffDuration(e *QueuedPodInfo) time.Duration {
	d := q.opts.InitialBackoff
	for i := 1; i < e.Attempts; i++ {
		d *= 2
		if d >= q.opts.MaxBackoff {
			return q.opts.MaxBackoff
		}
	}
	return d
}

func (q *PriorityQueue) backoffTime(e *QueuedPodInfo) time.Time {
	return e.Timestamp.Add(q.backoffDuration(e))
}

// FlushBackoffQCompleted moves the pods whose back-off expired to the
// active queue.
func (q *PriorityQueue) FlushBackoffQCompleted() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Now()
	moved := false
	for {
		e := q.backoffQ.peek()
		if e == nil || q.backoffTime(e).After(now) {
			break
		}
		q.backoffQ.pop()
		q.activeQ.add(e)
		moved = true
	}
	if moved {
		q.cond.Broadcast()
	}
}

// FlushUnschedulableLeftover moves pods unschedulable for longer than
// MaxInUnschedulablePods back to be tried again.
func (q *PriorityQueue) FlushUnschedulableLeftover() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.opts.Now()
	for key, e := range q.unschedulable {
		if now.Sub(e.Timestamp) > q.opts.MaxInUnschedulablePods {
			delete(q.unschedulable, key)
			q.requeueLocked(e)
		}
	}
}

// Run flushes the back-off and unschedulable pods on tickers until ctx
// ends, then closes the queue.
func (q *PriorityQueue) Run(ctx context.Context) {
	backoffTick := time.NewTicker(min(time.Second, max(q.opts.InitialBackoff/2, 5*time.Millisecond)))
	defer backoffTick.Stop()
	leftoverTick := time.NewTicker(min(flushUnschedulableLeftoverTick, q.opts.MaxInUnschedulablePods))
	defer leftoverTick.Stop()
	defer q.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case <-backoffTick.C:
			q.FlushBackoffQCompleted()
		case <-leftoverTick.C:
			q.FlushUnschedulableLeftover()
		}
	}
}

// Close wakes Pop with ErrClosed.
func (q *PriorityQueue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// Lens returns the sizes of the active, back-off and unschedulable queues.
func (q *PriorityQueue) Lens() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.activeQ.Len(), q.backoffQ.Len(), len(q.unschedulable)
}

// Where says which queue holds the pod: "active", "backoff",
// "unschedulable", "inflight" or "".
func (q *PriorityQueue) Where(key string) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.activeQ.has(key):
		return "active"
	case q.backoffQ.has(key):
		return "backoff"
	case q.unschedulable[key] != nil:
		return "unschedulable"
	case q.inFlight.Has(key):
		return "inflight"
	}
	return ""
}
