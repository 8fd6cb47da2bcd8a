package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// Pod garbage collection, as kube-controller-manager's PodGC does it: a pod
// bound to a node that no longer exists has nobody to run or stop it.
// Once its node has been missing for the quarantine (40s), the pod gets
// phase Failed with a DisruptionTarget condition (reason DeletionByPodGC)
// and is deleted at once, so that its controller replaces it on a node that
// exists. (Upstream's other passes have nothing to do here: the API server
// deletes an unscheduled pod at once, and Weft keeps no terminated-pod
// threshold yet.)

// Reasons and messages of the pods PodGC deletes, upstream's.
const (
	reasonDeletionByPodGC = "DeletionByPodGC"
	podGCOrphanMessage    = "PodGC: node no longer exists"
)

// podGCDecision is what one pass decides.
type podGCDecision struct {
	// Orphans are pods whose node has been missing for the quarantine.
	Orphans []*corev1.Pod
	// Missing is when each missing node was first seen missing, for the
	// next pass; nodes that exist (again) are dropped.
	Missing map[string]time.Time
	// Next is when a quarantine ends, zero when none runs.
	Next time.Time
}

// decidePodGC looks at every pod once. nodeExists tells whether a node is
// in the cache; missing is the previous pass's Decision.Missing.
func decidePodGC(pods []*corev1.Pod, nodeExists func(string) bool, missing map[string]time.Time, now time.Time, quarantine time.Duration) podGCDecision {
	d := podGCDecision{Missing: map[string]time.Time{}}
	for _, p := range pods {
		node := p.Spec.NodeName
		if node == "" || nodeExists(node) {
			continue
		}
		since, ok := d.Missing[node]
		if !ok {
			since, ok = missing[node]
			if !ok {
				since = now
			}
			d.Missing[node] = since
		}
		due := since.Add(quarantine)
		if !now.Before(due) {
			d.Orphans = append(d.Orphans, p)
		} else if d.Next.IsZero() || due.Before(d.Next) {
			d.Next = due
		}
	}
	return d
}

type podGCController struct {
	c           *client.Client
	nodes, pods cache.SharedIndexInformer
	rec         eventRecorder
	now         func() time.Time
	period      time.Duration
	quarantine  time.Duration

	mu      sync.Mutex
	missing map[string]time.Time
}

func newPodGCController(cfg Config, inf *informers, rec *recorder) *podGCController {
	return &podGCController{c: cfg.Client, nodes: inf.nodes, pods: inf.pods, rec: rec.For("pod-garbage-collector"), now: cfg.Now,
		period: cfg.PodGCPeriod, quarantine: cfg.PodGCQuarantine, missing: map[string]time.Time{}}
}

// tick runs a pass every period (upstream's gcCheckPeriod, 20s), or sooner
// when a quarantine ends.
func (g *podGCController) tick(ctx context.Context) {
	t := time.NewTimer(g.period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		next := g.pass(ctx)
		wait := g.period
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(g.now()), 10*time.Millisecond))
		}
		t.Reset(wait)
	}
}

// pass decides from the caches and acts; it returns when to look again.
func (g *podGCController) pass(ctx context.Context) time.Time {
	var pods []*corev1.Pod
	for _, o := range g.pods.GetStore().List() {
		pods = append(pods, o.(*corev1.Pod))
	}
	nodeExists := func(name string) bool {
		_, ok, err := g.nodes.GetStore().GetByKey(name)
		return ok || err != nil
	}
	g.mu.Lock()
	d := decidePodGC(pods, nodeExists, g.missing, g.now(), g.quarantine)
	g.missing = d.Missing
	g.mu.Unlock()

	// The cache may lag: a node is gone only if the API says so.
	gone := map[string]bool{}
	for _, p := range d.Orphans {
		node := p.Spec.NodeName
		if _, checked := gone[node]; !checked {
			_, err := g.c.Get(ctx, api.LookupName("nodes"), "", node)
			gone[node] = apierrors.IsNotFound(err)
		}
		if gone[node] {
			g.deleteOrphan(ctx, p)
		}
	}
	return d.Next
}

// deleteOrphan marks a pod Failed with the DisruptionTarget condition, as
// upstream does, and force-deletes it.
func (g *podGCController) deleteOrphan(ctx context.Context, p *corev1.Pod) {
	msg := podGCOrphanMessage
	if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
		out := p.DeepCopy()
		out.Status.Phase = corev1.PodFailed
		setPodCondition(&out.Status, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
			Reason: reasonDeletionByPodGC, Message: msg, LastTransitionTime: metav1.NewTime(g.now())})
		if _, err := g.c.UpdateStatus(ctx, out); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			g.rec.Eventf(p, corev1.EventTypeWarning, "FailedToUpdatePodStatus", "%s: %v", msg, err)
		}
	}
	zero := int64(0)
	_, err := g.c.DeleteWith(ctx, api.LookupName("pods"), p.Namespace, p.Name, client.DeleteOptions{GracePeriodSeconds: &zero})
	if err != nil && !apierrors.IsNotFound(err) {
		if !errors.Is(err, context.Canceled) {
			g.rec.Eventf(p, corev1.EventTypeWarning, "FailedDelete", "%s: %v", msg, fmt.Errorf("delete pod %s/%s: %w", p.Namespace, p.Name, err))
		}
		return
	}
	if err == nil {
		g.rec.Eventf(p, corev1.EventTypeNormal, "PodGC", "%s: deleted pod bound to node %q", msg, p.Spec.NodeName)
	}
}

// setPodCondition replaces the condition of c's type, or adds it.
func setPodCondition(st *corev1.PodStatus, c corev1.PodCondition) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == c.Type {
			st.Conditions[i] = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}
