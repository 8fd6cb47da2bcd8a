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

// nodeNameIndex indexes pods by spec.nodeName.
const nodeNameIndex = "spec.nodeName"

// nodeLifecycleController watches node heartbeats: nodes that stop
// heartbeating become Ready=Unknown and get the unreachable taints, their
// pods are marked not ready at once and deleted after the eviction
// timeout, so their controllers replace them elsewhere.
type nodeLifecycleController struct {
	c               *client.Client
	nodes, pods     cache.SharedIndexInformer
	rec             eventRecorder
	now             func() time.Time
	period, grace   time.Duration
	evictionTimeout time.Duration
	loop            *loop

	mu     sync.Mutex
	health map[string]nodeHealth
}

func newNodeLifecycleController(cfg Config, inf *informers, rec *recorder) *nodeLifecycleController {
	n := &nodeLifecycleController{
		c: cfg.Client, nodes: inf.nodes, pods: inf.pods, rec: rec.For("node-controller"), now: cfg.Now,
		period: cfg.NodeMonitorPeriod, grace: cfg.NodeMonitorGracePeriod, evictionTimeout: cfg.PodEvictionTimeout,
		health: map[string]nodeHealth{},
	}
	addPodNodeIndex(inf.pods)
	n.loop = newLoop(NodeLifecycleName, cfg.Workers, cfg.Log, n.reconcile)
	_, _ = n.nodes.AddEventHandler(n.loop.handlers())
	return n
}

func addPodNodeIndex(pods cache.SharedIndexInformer) {
	_ = pods.AddIndexers(cache.Indexers{nodeNameIndex: func(obj any) ([]string, error) {
		if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
			return []string{p.Spec.NodeName}, nil
		}
		return nil, nil
	}})
}

// tick enqueues every node each monitor period: time passing is what
// this controller reacts to.
func (n *nodeLifecycleController) tick(ctx context.Context) {
	t := time.NewTicker(n.period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, key := range n.nodes.GetIndexer().ListKeys() {
				n.loop.queue.Add(key)
			}
		}
	}
}

func (n *nodeLifecycleController) reconcile(ctx context.Context, key string) (time.Duration, error) {
	obj, exists, err := n.nodes.GetIndexer().GetByKey(key)
	if err != nil {
		return 0, err
	}
	if !exists {
		n.mu.Lock()
		delete(n.health, key)
		n.mu.Unlock()
		return 0, nil
	}
	node := obj.(*corev1.Node).DeepCopy()
	now := n.now()
	n.mu.Lock()
	prev := n.health[key]
	n.mu.Unlock()
	d := decideNode(node, prev, now, n.grace)
	n.mu.Lock()
	n.health[key] = d.Health
	n.mu.Unlock()

	if d.Status != nil {
		node.Status = *d.Status
		out, err := n.c.UpdateStatus(ctx, node)
		if err != nil {
			return 0, fmt.Errorf("mark node %s unknown: %w", node.Name, err)
		}
		node.ResourceVersion = out.GetResourceVersion()
		n.rec.Eventf(node, corev1.EventTypeNormal, "NodeNotReady", "Node %s status is now: NodeNotReady", node.Name)
		if err := n.markPodsNotReady(ctx, node.Name, now); err != nil {
			return 0, err
		}
	}
	if d.TaintsChanged {
		node.Spec.Taints = d.Taints
		if _, _, err := n.c.Update(ctx, node); err != nil {
			return 0, fmt.Errorf("taint node %s: %w", node.Name, err)
		}
		if d.Ready == corev1.ConditionTrue {
			n.rec.Eventf(node, corev1.EventTypeNormal, "NodeReady", "Node %s status is now: NodeReady", node.Name)
		}
	}
	next, err := n.evict(ctx, node, now)
	if err != nil {
		return 0, err
	}
	// Come back when the grace period would run out, or a pod is due.
	wait := n.grace - now.Sub(d.Health.Probe) + 10*time.Millisecond
	return minDuration(wait, next), nil
}

// markPodsNotReady sets Ready=False on the node's pods, as upstream does
// when a node becomes unreachable, so endpoints stop sending them traffic.
func (n *nodeLifecycleController) markPodsNotReady(ctx context.Context, node string, now time.Time) error {
	objs, err := n.pods.GetIndexer().ByIndex(nodeNameIndex, node)
	if err != nil {
		return err
	}
	var errs []error
	for _, o := range objs {
		p := o.(*corev1.Pod).DeepCopy()
		c := podReadyCondition(p)
		if c == nil || c.Status == corev1.ConditionFalse {
			continue
		}
		c.Status, c.LastTransitionTime = corev1.ConditionFalse, metav1.NewTime(now)
		c.Reason, c.Message = "NodeNotReady", "the node's agent stopped posting status"
		if _, err := n.c.UpdateStatus(ctx, p); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("mark pod %s/%s not ready: %w", p.Namespace, p.Name, err))
			continue
		}
		n.rec.Eventf(p, corev1.EventTypeWarning, "NodeNotReady", "Node is not ready")
	}
	return errors.Join(errs...)
}

// evict deletes the pods whose time on a NoExecute-tainted node is up,
// and returns how long until the next one is.
func (n *nodeLifecycleController) evict(ctx context.Context, node *corev1.Node, now time.Time) (time.Duration, error) {
	var taint *corev1.Taint
	for i, t := range node.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoExecute && (t.Key == corev1.TaintNodeUnreachable || t.Key == corev1.TaintNodeNotReady) {
			taint = &node.Spec.Taints[i]
		}
	}
	if taint == nil {
		return 0, nil
	}
	objs, err := n.pods.GetIndexer().ByIndex(nodeNameIndex, node.Name)
	if err != nil {
		return 0, err
	}
	var next time.Duration
	var errs []error
	for _, o := range objs {
		p := o.(*corev1.Pod)
		if p.DeletionTimestamp != nil {
			continue
		}
		at, ok := podEviction(p, *taint, n.evictionTimeout)
		if !ok {
			continue
		}
		if at.After(now) {
			next = minDuration(next, at.Sub(now)+10*time.Millisecond)
			continue
		}
		n.rec.Eventf(p, corev1.EventTypeNormal, "TaintManagerEviction", "Marking for deletion Pod %s/%s", p.Namespace, p.Name)
		// Its node is gone: nobody would finish a graceful deletion.
		zero := int64(0)
		if _, err := n.c.DeleteWith(ctx, api.LookupName("pods"), p.Namespace, p.Name, client.DeleteOptions{GracePeriodSeconds: &zero}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("evict pod %s/%s: %w", p.Namespace, p.Name, err))
		}
	}
	return next, errors.Join(errs...)
}
