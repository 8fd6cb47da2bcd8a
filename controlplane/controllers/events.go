package controllers

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

// recorder writes core/v1 Events as kube-controller-manager's recorders do:
// named "<object>.<hex nanoseconds>", in the object's namespace ("default"
// for cluster-scoped objects), a repeat of the same event on the same
// object counted on the existing Event (count, lastTimestamp). Writing is
// asynchronous and never blocks a reconcile: when the buffer is full the
// event is dropped and logged.
type recorder struct {
	c   *client.Client
	log *zap.Logger
	now func() time.Time
	ch  chan *corev1.Event

	mu   sync.Mutex
	seen map[string]seenEvent // aggregation key → the stored event
}

type seenEvent struct {
	namespace, name string
}

// maxSeen bounds the aggregation cache; when full it starts over.
const maxSeen = 4096

func newRecorder(c *client.Client, log *zap.Logger, now func() time.Time) *recorder {
	return &recorder{c: c, log: log.Named("events"), now: now, ch: make(chan *corev1.Event, 1024), seen: map[string]seenEvent{}}
}

// eventRecorder is what one controller uses: the recorder with its
// component name (Source.Component, as upstream: "deployment-controller").
type eventRecorder struct {
	r         *recorder
	component string
}

func (r *recorder) For(component string) eventRecorder {
	return eventRecorder{r: r, component: component}
}

// Eventf records an event about obj. eventType is corev1.EventTypeNormal or Warning.
func (e eventRecorder) Eventf(obj api.Object, eventType, reason, format string, args ...any) {
	if e.r == nil || obj == nil {
		return
	}
	k := api.KindOf(obj)
	if k == nil {
		return
	}
	now := metav1.NewTime(e.r.now())
	ns := obj.GetNamespace()
	evNS := ns
	if evNS == "" {
		evNS = metav1.NamespaceDefault
	}
	ev := &corev1.Event{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", obj.GetName(), now.UnixNano()), Namespace: evNS},
		InvolvedObject: corev1.ObjectReference{
			Kind: k.Kind, APIVersion: k.APIVersion(), Namespace: ns, Name: obj.GetName(),
			UID: obj.GetUID(), ResourceVersion: obj.GetResourceVersion(),
		},
		Reason:              reason,
		Message:             fmt.Sprintf(format, args...),
		Source:              corev1.EventSource{Component: e.component},
		FirstTimestamp:      now,
		LastTimestamp:       now,
		Count:               1,
		Type:                eventType,
		ReportingController: e.component,
	}
	select {
	case e.r.ch <- ev:
	default:
		e.r.log.Warn("event dropped: buffer full", zap.String("reason", reason), zap.String("object", ns+"/"+obj.GetName()))
	}
}

// run writes events until ctx is done.
func (r *recorder) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-r.ch:
			if err := r.write(ctx, ev); err != nil && ctx.Err() == nil {
				r.log.Warn("write event", zap.String("reason", ev.Reason), zap.Error(err))
			}
		}
	}
}

func (r *recorder) write(ctx context.Context, ev *corev1.Event) error {
	key := string(ev.InvolvedObject.UID) + "|" + ev.InvolvedObject.Kind + "|" + ev.InvolvedObject.Namespace + "|" +
		ev.InvolvedObject.Name + "|" + ev.Type + "|" + ev.Reason + "|" + ev.Message + "|" + ev.Source.Component
	r.mu.Lock()
	prev, ok := r.seen[key]
	r.mu.Unlock()
	evKind := api.LookupName("events")
	if ok {
		obj, err := r.c.Get(ctx, evKind, prev.namespace, prev.name)
		if err == nil {
			old := obj.(*corev1.Event)
			old.Count++
			old.LastTimestamp = ev.LastTimestamp
			if _, _, err := r.c.Update(ctx, old); err == nil {
				return nil
			} else if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return fmt.Errorf("update event %s: %w", prev.name, err)
			}
		} else if !apierrors.IsNotFound(err) {
			return fmt.Errorf("get event %s: %w", prev.name, err)
		}
	}
	if _, _, err := r.c.Create(ctx, ev); err != nil {
		return fmt.Errorf("create event %s: %w", ev.Name, err)
	}
	r.mu.Lock()
	if len(r.seen) >= maxSeen {
		r.seen = map[string]seenEvent{}
	}
	r.seen[key] = seenEvent{namespace: ev.Namespace, name: ev.Name}
	r.mu.Unlock()
	return nil
}
