package scheduler

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// Event reasons, as kube-scheduler's.
const (
	EventReasonScheduled        = "Scheduled"
	EventReasonFailedScheduling = "FailedScheduling"
)

// apiReporter writes pod conditions and Events through the API from a few
// worker goroutines, so the scheduling loop never waits on the network.
// Condition updates are queued (the loop waits if the queue is full);
// Events are dropped when it is, as client-go's recorder does.
type apiReporter struct {
	ctx       context.Context // ends the reporter; sends give up then
	c         *client.Client
	log       *zap.Logger
	component string
	now       func() time.Time
	tasks     chan func(context.Context)

	mu     sync.Mutex
	recent map[string]*corev1.Event // correlation: same pod, reason, message
}

const (
	reporterWorkers   = 4
	reporterQueueLen  = 1024
	maxRecentEvents   = 4096
	statusUpdateTries = 3
)

func newAPIReporter(ctx context.Context, c *client.Client, log *zap.Logger, component string) *apiReporter {
	return &apiReporter{ctx: ctx, c: c, log: log, component: component, now: time.Now,
		tasks: make(chan func(context.Context), reporterQueueLen), recent: map[string]*corev1.Event{}}
}

// run works the queue until the reporter's context ends.
func (r *apiReporter) run() {
	ctx := r.ctx
	var wg sync.WaitGroup
	for range reporterWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case t := <-r.tasks:
					t(ctx)
				}
			}
		}()
	}
	wg.Wait()
}

func (r *apiReporter) Scheduled(pod *corev1.Pod, node string) {
	msg := fmt.Sprintf("Successfully assigned %s/%s to %s", pod.Namespace, pod.Name, node)
	r.tryEnqueue(func(ctx context.Context) { r.event(ctx, pod, corev1.EventTypeNormal, EventReasonScheduled, msg) })
}

func (r *apiReporter) Unschedulable(pod *corev1.Pod, reason, msg string) {
	t := func(ctx context.Context) {
		r.setCondition(ctx, pod, reason, msg)
		r.event(ctx, pod, corev1.EventTypeWarning, EventReasonFailedScheduling, msg)
	}
	select {
	case r.tasks <- t:
	case <-r.ctx.Done():
	}
}

func (r *apiReporter) tryEnqueue(t func(context.Context)) {
	select {
	case r.tasks <- t:
	default:
		r.log.Debug("event dropped: reporter queue full")
	}
}

// setCondition sets PodScheduled=False with the reason and message, unless
// the pod already says so or got bound meanwhile (resourceVersion guards
// the write; on a conflict the pod is read again).
func (r *apiReporter) setCondition(ctx context.Context, pod *corev1.Pod, reason, msg string) {
	podKind := api.LookupName("pods")
	for range statusUpdateTries {
		if pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil {
			return
		}
		p := pod.DeepCopy()
		if !setPodCondition(&p.Status, podScheduledCondition(reason, msg, metav1.NewTime(r.now().UTC().Truncate(time.Second)))) {
			return
		}
		_, err := r.c.UpdateStatus(ctx, p)
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			if !apierrors.IsNotFound(err) && ctx.Err() == nil {
				r.log.Warn("update pod condition", zap.String("pod", pod.Namespace+"/"+pod.Name), zap.Error(err))
			}
			return
		}
		obj, err := r.c.Get(ctx, podKind, pod.Namespace, pod.Name)
		if err != nil {
			return
		}
		var ok bool
		if pod, ok = obj.(*corev1.Pod); !ok {
			return
		}
	}
}

// setPodCondition sets c in st and says whether anything changed; the
// transition time moves only when the status does.
func setPodCondition(st *corev1.PodStatus, c corev1.PodCondition) bool {
	for i := range st.Conditions {
		old := &st.Conditions[i]
		if old.Type != c.Type {
			continue
		}
		if old.Status == c.Status && old.Reason == c.Reason && old.Message == c.Message {
			return false
		}
		if old.Status == c.Status {
			c.LastTransitionTime = old.LastTransitionTime
		}
		*old = c
		return true
	}
	st.Conditions = append(st.Conditions, c)
	return true
}

// event records an Event about the pod; a repeat of the last one with the
// same reason and message bumps its count instead of adding another.
func (r *apiReporter) event(ctx context.Context, pod *corev1.Pod, typ, reason, msg string) {
	now := metav1.NewTime(r.now().UTC().Truncate(time.Second))
	key := string(pod.UID) + "\x00" + reason + "\x00" + msg
	r.mu.Lock()
	prev := r.recent[key]
	r.mu.Unlock()
	if prev != nil {
		ev := prev.DeepCopy()
		ev.Count++
		ev.LastTimestamp = now
		if out, _, err := r.c.Update(ctx, ev); err == nil {
			r.remember(key, out)
			return
		}
	}
	ev := &corev1.Event{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      fmt.Sprintf("%s.%x", pod.Name, r.now().UnixNano()),
			Namespace: pod.Namespace,
		},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
			UID: pod.UID, ResourceVersion: pod.ResourceVersion},
		Reason: reason, Message: msg, Type: typ,
		Source:         corev1.EventSource{Component: r.component},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: r.component,
	}
	out, _, err := r.c.Create(ctx, ev)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Debug("record event", zap.String("pod", pod.Namespace+"/"+pod.Name), zap.String("reason", reason), zap.Error(err))
		}
		return
	}
	r.remember(key, out)
}

func (r *apiReporter) remember(key string, obj api.Object) {
	ev, ok := obj.(*corev1.Event)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.recent) >= maxRecentEvents {
		clear(r.recent)
	}
	r.recent[key] = ev
}
