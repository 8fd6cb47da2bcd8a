package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weft-mesh/weft/controlplane/scheduler/internal/queue"
)

// Benchmark workload, after kube-scheduler's scheduler_perf
// "SchedulingBasic" (node-default.yaml, pod-default.yaml): nodes of 4 CPU,
// 32 GiB and 110 pods in three zones; pods requesting 100m CPU and
// 500 MiB, here owned by ReplicaSets of 100 replicas so the spreading
// score has work to do.
const (
	benchReplicasPerOwner = 100
	benchZones            = 3
)

// BenchmarkThroughput runs the real scheduling loop — queue, snapshot,
// every plugin of DefaultProfile, assume, asynchronous binding — with
// nodes in memory and a binder that confirms each binding to the cache as
// the pod informer would, with no API server. It queues pods pending
// pods and returns how many it placed per second, from the first pop to
// the last binding. An error means a pod could not be placed.
func BenchmarkThroughput(nodes, pods int) (podsPerSec float64, err error) {
	if nodes <= 0 || pods <= 0 {
		return 0, fmt.Errorf("benchmark: want nodes and pods > 0, got %d and %d", nodes, pods)
	}
	r, err := newBenchRun(nodes, pods, 0)
	if err != nil {
		return 0, err
	}
	d, err := r.run(10 * time.Minute)
	if err != nil {
		return 0, err
	}
	return float64(pods) / d.Seconds(), nil
}

type benchRun struct {
	s       *scheduler
	pods    []*corev1.Pod
	bound   atomic.Int64
	done    chan struct{}
	finish  sync.Once
	failMu  sync.Mutex
	failure string
}

func newBenchRun(nodes, pods int, percentageOfNodesToScore int32) (*benchRun, error) {
	r := &benchRun{done: make(chan struct{})}
	b := &benchBinder{r: r}
	s, err := newScheduler(options{
		profile:   DefaultProfile(),
		binder:    b,
		report:    (*benchReporter)(r),
		latestPod: nil,
		queue:     queue.Options{},
		seed:      1,

		percentageOfNodesToScore: percentageOfNodesToScore,
	})
	if err != nil {
		return nil, err
	}
	r.s = s
	for i := range nodes {
		s.cache.AddNode(benchNode(i))
	}
	r.pods = make([]*corev1.Pod, pods)
	for i := range pods {
		r.pods[i] = benchPod(i)
	}
	b.byKey = make(map[string]*corev1.Pod, pods)
	for _, p := range r.pods {
		b.byKey[p.Namespace+"/"+p.Name] = p
	}
	return r, nil
}

// run queues the pods and schedules until all are bound or one fails.
func (r *benchRun) run(timeout time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, p := range r.pods {
		r.s.queue.Add(p)
	}
	start := time.Now()
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for r.s.scheduleOne(ctx) {
		}
	}()
	var err error
	select {
	case <-r.done:
	case <-time.After(timeout):
		err = fmt.Errorf("benchmark: %d of %d pods bound after %s", r.bound.Load(), len(r.pods), timeout)
	}
	elapsed := time.Since(start)
	r.s.queue.Close()
	cancel()
	<-loopDone
	r.s.bindWG.Wait()
	r.failMu.Lock()
	defer r.failMu.Unlock()
	if r.failure != "" {
		return 0, errors.New("benchmark: " + r.failure)
	}
	return elapsed, err
}

// benchBinder binds in memory and shows the bound pod to the cache, as
// the informer would.
type benchBinder struct {
	r     *benchRun
	byKey map[string]*corev1.Pod // read-only after setup
}

func (b *benchBinder) Bind(_ context.Context, ns, name, node string) error {
	p, ok := b.byKey[ns+"/"+name]
	if !ok {
		return fmt.Errorf("bind: no pod %s/%s", ns, name)
	}
	bound := *p
	bound.Spec.NodeName = node
	if err := b.r.s.cache.AddPod(&bound); err != nil {
		return err
	}
	if int(b.r.bound.Add(1)) == len(b.r.pods) {
		b.r.finish.Do(func() { close(b.r.done) })
	}
	return nil
}

// benchReporter records the first failure; a failure ends the run.
type benchReporter benchRun

func (r *benchReporter) Scheduled(*corev1.Pod, string) {}

func (r *benchReporter) Unschedulable(p *corev1.Pod, reason, msg string) {
	r.failMu.Lock()
	defer r.failMu.Unlock()
	if r.failure == "" {
		r.failure = fmt.Sprintf("pod %s/%s: %s: %s", p.Namespace, p.Name, reason, msg)
		r.finish.Do(func() { close(r.done) })
	}
}

func benchNode(i int) *corev1.Node {
	name := fmt.Sprintf("node-%04d", i)
	rl := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("32Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("node-uid-" + name), Labels: map[string]string{
			corev1.LabelHostname:       name,
			corev1.LabelTopologyZone:   fmt.Sprintf("zone-%d", i%benchZones),
			corev1.LabelTopologyRegion: "region-1",
		}},
		Status: corev1.NodeStatus{Capacity: rl, Allocatable: rl,
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}},
	}
}

func benchPod(i int) *corev1.Pod {
	owner := fmt.Sprintf("rs-%04d", i/benchReplicasPerOwner)
	yes := true
	name := fmt.Sprintf("%s-%06d", owner, i)
	rl := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("500Mi")}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "bench", UID: types.UID("pod-uid-" + name),
			Labels:          map[string]string{"app": owner},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: owner, UID: types.UID("rs-uid-" + owner), Controller: &yes}},
		},
		Spec: corev1.PodSpec{
			SchedulerName: corev1.DefaultSchedulerName,
			Containers: []corev1.Container{{Name: "pause", Image: "registry.k8s.io/pause:3.10",
				Ports:     []corev1.ContainerPort{{ContainerPort: 80}},
				Resources: corev1.ResourceRequirements{Requests: rl, Limits: rl}}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
}
