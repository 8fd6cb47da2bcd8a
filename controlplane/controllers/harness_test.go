package controllers_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/apiserver/apiservertest"
	"github.com/weft-mesh/weft/controlplane/controllers"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

// cluster is an API server with the controllers running in-process.
type cluster struct {
	c   *client.Client
	ctx context.Context
}

func startCluster(t *testing.T, cfg controllers.Config) *cluster {
	t.Helper()
	s := apiservertest.Start(t, boltstore.Options{})
	c := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cfg.Client = c
	if cfg.Log == nil {
		cfg.Log = zaptest.NewLogger(t).WithOptions()
	}
	done := make(chan error, 1)
	go func() { done <- controllers.Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controllers.Run: %v", err)
		}
	})
	return &cluster{c: c, ctx: ctx}
}

// eventually polls cond until it holds or the bound passes.
func (cl *cluster) eventually(t *testing.T, bound time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(bound)
	last := ""
	for {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		if time.Now().After(deadline) || cl.ctx.Err() != nil {
			t.Fatalf("timed out waiting for %s: %s", what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (cl *cluster) create(t *testing.T, obj api.Object) api.Object {
	t.Helper()
	out, _, err := cl.c.Create(cl.ctx, obj)
	if err != nil {
		t.Fatalf("create %s: %v", obj.GetName(), err)
	}
	return out
}

func (cl *cluster) get(t *testing.T, kind, ns, name string) api.Object {
	t.Helper()
	obj, err := cl.c.Get(cl.ctx, api.LookupName(kind), ns, name)
	if err != nil {
		t.Fatalf("get %s %s: %v", kind, name, err)
	}
	return obj
}

func (cl *cluster) pods(t *testing.T, ns, selector string) []*corev1.Pod {
	t.Helper()
	objs, _, err := cl.c.List(cl.ctx, api.LookupName("pods"), ns, client.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*corev1.Pod))
	}
	return out
}

// kubelet is a fake node agent and scheduler: it binds pending pods to
// one of its live nodes and reports them Running and Ready with an IP.
type kubelet struct {
	cl    *cluster
	mu    sync.Mutex
	nodes []string // live nodes, round robin
	next  int
	ip    atomic.Int32
	// delay before a new pod turns ready
	delay time.Duration
	// ready decides whether a pod becomes ready (nil: all do).
	ready func(*corev1.Pod) bool
}

func (cl *cluster) startKubelet(t *testing.T, nodes ...string) *kubelet {
	k := &kubelet{cl: cl, nodes: nodes}
	for _, n := range nodes {
		cl.create(t, node(n))
	}
	ch, err := cl.c.Watch(cl.ctx, api.LookupName("pods"), "", client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for ev := range ch {
			if ev.Err != nil || ev.Type == "DELETED" {
				continue
			}
			p := ev.Object.(*corev1.Pod)
			if p.DeletionTimestamp != nil {
				// A kubelet finishes a graceful deletion once the pod's
				// containers have stopped: at once here, on live nodes.
				go k.finishDeletion(p)
				continue
			}
			if isReady(p) {
				continue
			}
			go k.run(p)
		}
	}()
	return k
}

func (k *kubelet) finishDeletion(p *corev1.Pod) {
	k.mu.Lock()
	alive := false
	for _, n := range k.nodes {
		alive = alive || n == p.Spec.NodeName
	}
	k.mu.Unlock()
	if !alive {
		return
	}
	zero := int64(0)
	_, _ = k.cl.c.DeleteWith(k.cl.ctx, api.LookupName("pods"), p.Namespace, p.Name, client.DeleteOptions{GracePeriodSeconds: &zero})
}

func (k *kubelet) setNodes(nodes ...string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.nodes = nodes
}

func (k *kubelet) run(p *corev1.Pod) {
	ctx := k.cl.ctx
	if k.delay > 0 {
		time.Sleep(k.delay)
	}
	if p.Spec.NodeName == "" {
		k.mu.Lock()
		if len(k.nodes) == 0 {
			k.mu.Unlock()
			return
		}
		n := k.nodes[k.next%len(k.nodes)]
		k.next++
		k.mu.Unlock()
		if err := k.cl.c.Bind(ctx, p.Namespace, p.Name, n); err != nil {
			return
		}
	}
	obj, err := k.cl.c.Get(ctx, api.LookupName("pods"), p.Namespace, p.Name)
	if err != nil {
		return
	}
	p = obj.(*corev1.Pod)
	if isReady(p) {
		return
	}
	k.mu.Lock()
	alive := false
	for _, n := range k.nodes {
		alive = alive || n == p.Spec.NodeName
	}
	k.mu.Unlock()
	if !alive {
		return
	}
	ready := k.ready == nil || k.ready(p)
	now := metav1.Now()
	p.Status.Phase = corev1.PodRunning
	if p.Status.PodIP == "" {
		n := k.ip.Add(1)
		p.Status.PodIP = fmt.Sprintf("10.244.%d.%d", n/250, n%250+1)
		p.Status.PodIPs = []corev1.PodIP{{IP: p.Status.PodIP}}
	}
	p.Status.StartTime = &now
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st, LastTransitionTime: now}}
	_, _ = k.cl.c.UpdateStatus(ctx, p)
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// Fixtures.

func node(name string) *corev1.Node {
	now := metav1.Now()
	return &corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now}},
			Capacity:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")},
		},
	}
}

func podTemplate(labels map[string]string, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: image,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("64Mi"),
			}},
		}}},
	}
}

func deployment(name string, replicas int32, image string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(labels, image),
		},
	}
}
