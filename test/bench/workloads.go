package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/agent"
	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// Targets of the benchmark issue for workloads.
const (
	targetPodReadyP99Ms = 1000
	targetBurstReadyS   = 15
)

// Row names the chart picks.
const (
	wlSeqP50 = "one pod with a sidecar, created after the previous is Ready: apply → Ready, p50"
	wlSeqP99 = "one pod with a sidecar, created after the previous is Ready: apply → Ready, p99"
)

// workloadPod is a pod the workloads benchmark runs: the nginx stand-in
// (weft-demo static) on port 8080, with a sidecar injected.
func workloadPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "bench-web"},
			Annotations: map[string]string{api.AnnotationSidecarInject: "true"}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: new(int64(1)),
			Containers: []corev1.Container{{
				Name:  "web",
				Image: "nginx:1.25",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
			}},
		},
	}
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// readyTracker follows a namespace's pods through a watch and notes when
// each was first seen Ready, and when each was deleted.
type readyTracker struct {
	mu      sync.Mutex
	ready   map[string]time.Time
	gone    map[string]bool
	changed chan struct{} // signalled (not closed) on every change
	err     error
}

func (t *readyTracker) follow(ctx context.Context, events <-chan client.Event) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			now := time.Now()
			t.mu.Lock()
			switch {
			case !ok:
				if t.err == nil && ctx.Err() == nil {
					t.err = fmt.Errorf("the pods' watch ended")
				}
			case ev.Err != nil:
				t.err = ev.Err
			default:
				if p, isPod := ev.Object.(*corev1.Pod); isPod {
					if ev.Type == "DELETED" {
						t.gone[p.Name] = true
					} else if _, seen := t.ready[p.Name]; !seen && podReady(p) {
						t.ready[p.Name] = now
					}
				}
			}
			t.mu.Unlock()
			select {
			case t.changed <- struct{}{}:
			default:
			}
			if !ok {
				return
			}
		}
	}
}

// await waits until cond holds (called with the lock held) or limit passes.
func (t *readyTracker) await(ctx context.Context, limit time.Duration, what string, cond func() bool) error {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		t.mu.Lock()
		ok, err := cond(), t.err
		t.mu.Unlock()
		if ok {
			return nil
		}
		if err != nil {
			return err
		}
		select {
		case <-t.changed:
		case <-time.After(100 * time.Millisecond):
		case <-deadline.C:
			return fmt.Errorf("%s: not done after %s", what, limit)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// runWorkloads starts a weftd of its own with its agent in host mode and
// times pods with sidecars from create to Ready: one at a time, then many
// at once; every round in a fresh namespace, the pods deleted after.
func (b *bench) runWorkloads(ctx context.Context) error {
	dataDir := filepath.Join(b.tmp, "workloads")
	node := nodeNameFor(dataDir)
	w, err := startWeftd(ctx, filepath.Join(b.bins, "weftd"), dataDir,
		"--network", "host", "--pod-cidr", "127.240.0.0/16", "--node-name", node)
	if err != nil {
		return err
	}
	defer func() {
		w.stop()
		// Containers outlive their agent by design: remove them.
		if err := agent.Reset(filepath.Join(dataDir, "agent"), node); err != nil {
			progress("workloads: reset the agent: %v", err)
		}
	}()
	c := w.client()
	if err := awaitNodeReady(ctx, c, node); err != nil {
		return fmt.Errorf("%w\nweftd's log (last part):\n%s", err, tail(w.log.String(), 20))
	}
	for round := 1; round <= b.sz.wlRounds; round++ {
		t := time.Now()
		if err := b.workloadRound(ctx, w, round); err != nil {
			return fmt.Errorf("round %d: %w\nweftd's log (last part):\n%s", round, err, tail(w.log.String(), 20))
		}
		progress("round %d/%d: workloads done in %s", round, b.sz.wlRounds, time.Since(t).Round(10*time.Millisecond))
	}
	return nil
}

// nodeNameFor names the local node of a weftd by its data directory: node
// names are global on the host (cgroup paths carry them).
func nodeNameFor(dataDir string) string {
	sum := sha256.Sum256([]byte(dataDir))
	return "bench-" + hex.EncodeToString(sum[:4])
}

func awaitNodeReady(ctx context.Context, c *client.Client, node string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if obj, err := c.Get(ctx, api.LookupName("nodes"), "", node); err == nil {
			if n, ok := obj.(*corev1.Node); ok {
				for _, cond := range n.Status.Conditions {
					if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
						return nil
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("node %s not Ready after 60s", node)
}

func (b *bench) workloadRound(ctx context.Context, w *weftd, round int) error {
	c := w.client()
	ns := fmt.Sprintf("bench-r%d-workloads", round)
	if err := createNamespace(ctx, c, ns); err != nil {
		return err
	}
	pods := api.LookupName("pods")
	_, rv, err := c.List(ctx, pods, ns, client.ListOptions{})
	if err != nil {
		return err
	}
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	events, err := c.Watch(wctx, pods, ns, client.ListOptions{ResourceVersion: rv})
	if err != nil {
		return err
	}
	tr := &readyTracker{ready: map[string]time.Time{}, gone: map[string]bool{}, changed: make(chan struct{}, 1)}
	go tr.follow(wctx, events)

	// One at a time.
	var seq []float64
	var names []string
	for i := range b.sz.podsSequential {
		name := fmt.Sprintf("seq-%03d", i)
		start := time.Now()
		if _, _, err := c.Create(ctx, workloadPod(ns, name)); err != nil {
			return fmt.Errorf("create pod %s: %w", name, err)
		}
		names = append(names, name)
		if err := tr.await(ctx, 60*time.Second, "pod "+name+" Ready", func() bool { _, ok := tr.ready[name]; return ok }); err != nil {
			return err
		}
		tr.mu.Lock()
		seq = append(seq, float64(tr.ready[name].Sub(start))/float64(time.Millisecond))
		tr.mu.Unlock()
	}
	b.res.add(areaWorkloads, wlSeqP50, "ms", percentile(seq, 50))
	b.res.addAtMost(areaWorkloads, wlSeqP99, "ms", percentile(seq, 99), targetPodReadyP99Ms)
	b.res.samples(areaWorkloads, "one pod at a time", len(seq))
	if err := deletePods(ctx, c, tr, ns, names); err != nil {
		return err
	}

	// Many at once.
	names = names[:0]
	for i := range b.sz.podsBurst {
		names = append(names, fmt.Sprintf("burst-%03d", i))
	}
	clients := b.workloadClients(w, 16)
	var next atomic.Int64
	start := time.Now()
	err = parallel(len(clients), func(k int) error {
		for i := next.Add(1) - 1; i < int64(len(names)); i = next.Add(1) - 1 {
			if _, _, err := clients[k].Create(ctx, workloadPod(ns, names[i])); err != nil {
				return fmt.Errorf("create pod %s: %w", names[i], err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	created := time.Since(start)
	limit := 120 * time.Second
	if err := tr.await(ctx, limit, fmt.Sprintf("%d pods Ready", len(names)), func() bool {
		for _, n := range names {
			if _, ok := tr.ready[n]; !ok {
				return false
			}
		}
		return true
	}); err != nil {
		return err
	}
	var last time.Time
	tr.mu.Lock()
	for _, n := range names {
		if at := tr.ready[n]; at.After(last) {
			last = at
		}
	}
	tr.mu.Unlock()
	what := fmt.Sprintf("%d pods with sidecars created at once (16 clients)", len(names))
	b.res.addAtMost(areaWorkloads, what+": first create → all Ready", "s", last.Sub(start).Seconds(), targetBurstReadyS)
	b.res.add(areaWorkloads, what+": the creates alone", "s", created.Seconds())
	return deletePods(ctx, c, tr, ns, names)
}

// workloadClients returns n clients of w, each with its own connections.
func (b *bench) workloadClients(w *weftd, n int) []*client.Client {
	out := make([]*client.Client, n)
	for i := range out {
		out[i] = w.client()
	}
	return out
}

// deletePods deletes the pods and waits until the watch has seen them go
// (their processes stopped), so the next phase starts on an idle node.
func deletePods(ctx context.Context, c *client.Client, tr *readyTracker, ns string, names []string) error {
	pods := api.LookupName("pods")
	for _, n := range names {
		if _, err := c.Delete(ctx, pods, ns, n); err != nil {
			return fmt.Errorf("delete pod %s: %w", n, err)
		}
	}
	return tr.await(ctx, 120*time.Second, fmt.Sprintf("%d pods deleted", len(names)), func() bool {
		for _, n := range names {
			if !tr.gone[n] {
				return false
			}
		}
		return true
	})
}
