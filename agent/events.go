package agent

import (
	"context"
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// eventCounter remembers the Events the agent wrote, so that a repeat of
// one — the same type, reason and message about the same pod, as a
// missing volume gives at every sync — is counted on the stored Event
// (count, lastTimestamp) as kubelet's recorder does, instead of written
// anew every time.
type eventCounter struct {
	mu   sync.Mutex
	seen map[string]string // aggregation key → the Event's name
}

// maxSeenEvents bounds the memory of written Events; when full it starts over.
const maxSeenEvents = 4096

func eventKey(ev *corev1.Event) string {
	o := ev.InvolvedObject
	return strings.Join([]string{string(o.UID), o.Kind, o.Namespace, o.Name, ev.Type, ev.Reason, ev.Message}, "\x00")
}

// write creates ev, or counts it on the Event it repeats.
func (e *eventCounter) write(ctx context.Context, c *client.Client, ev *corev1.Event) error {
	key := eventKey(ev)
	e.mu.Lock()
	name, ok := e.seen[key]
	e.mu.Unlock()
	if ok {
		obj, err := c.Get(ctx, api.LookupName("events"), ev.Namespace, name)
		if err == nil {
			old := obj.(*corev1.Event)
			old.Count++
			old.LastTimestamp = ev.LastTimestamp
			_, _, err = c.Update(ctx, old)
		}
		if err == nil {
			return nil
		}
		if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("count event %s: %w", name, err)
		}
		// Gone or changed meanwhile: write it anew.
	}
	if _, _, err := c.Create(ctx, ev); err != nil {
		return fmt.Errorf("create event %s: %w", ev.Name, err)
	}
	e.mu.Lock()
	if e.seen == nil || len(e.seen) >= maxSeenEvents {
		e.seen = map[string]string{}
	}
	e.seen[key] = ev.Name
	e.mu.Unlock()
	return nil
}
