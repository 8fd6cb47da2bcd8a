package controlplane

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// debounce is how long the view waits after a change for more before it
// tells its consumers (DNS, xDS): a burst of informer events (one apply of
// many objects, a controller's writes) becomes one snapshot. It is short
// on purpose: the xDS server debounces its pushes itself (--push-debounce),
// and two long debounces in a row would add up on every endpoint change.
// maxDelay bounds how long a steady stream of changes can defer it.
const (
	debounce = 20 * time.Millisecond
	maxDelay = time.Second
)

// snapshot is a consistent, read-only copy of what the mesh's consumers read.
type snapshot struct {
	services         []*corev1.Service
	endpoints        []*corev1.Endpoints
	pods             []*corev1.Pod
	virtualServices  []*api.VirtualService
	destinationRules []*api.DestinationRule
}

// clusterView watches the objects DNS and xDS are built from and hands
// debounced snapshots to its consumers.
type clusterView struct {
	log       *zap.Logger
	informers map[string]cache.SharedIndexInformer
	changed   chan struct{}

	mu        sync.Mutex
	consumers []func(*snapshot)
}

func newClusterView(c *client.Client, log *zap.Logger) *clusterView {
	v := &clusterView{log: log, informers: map[string]cache.SharedIndexInformer{}, changed: make(chan struct{}, 1)}
	for _, r := range []string{"services", "endpoints", "pods", "virtualservices", "destinationrules"} {
		inf := client.NewInformer(c, api.LookupName(r), "", client.ListOptions{})
		_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(any) { v.poke() },
			UpdateFunc: func(any, any) { v.poke() },
			DeleteFunc: func(any) { v.poke() },
		})
		v.informers[r] = inf
	}
	return v
}

// onChange registers a consumer; call before run.
func (v *clusterView) onChange(f func(*snapshot)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.consumers = append(v.consumers, f)
}

func (v *clusterView) poke() {
	select {
	case v.changed <- struct{}{}:
	default:
	}
}

func (v *clusterView) run(ctx context.Context) error {
	var synced []cache.InformerSynced
	for _, inf := range v.informers {
		go inf.RunWithContext(ctx)
		synced = append(synced, inf.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("cluster view: caches did not sync")
	}
	v.publish()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-v.changed:
		}
		deadline := time.NewTimer(maxDelay)
	wait:
		for {
			quiet := time.NewTimer(debounce)
			select {
			case <-ctx.Done():
				quiet.Stop()
				deadline.Stop()
				return nil
			case <-v.changed:
				quiet.Stop()
			case <-quiet.C:
				break wait
			case <-deadline.C:
				quiet.Stop()
				break wait
			}
		}
		deadline.Stop()
		v.publish()
	}
}

func (v *clusterView) publish() {
	s := &snapshot{}
	for _, o := range v.informers["services"].GetStore().List() {
		s.services = append(s.services, o.(*corev1.Service))
	}
	for _, o := range v.informers["endpoints"].GetStore().List() {
		s.endpoints = append(s.endpoints, o.(*corev1.Endpoints))
	}
	for _, o := range v.informers["pods"].GetStore().List() {
		s.pods = append(s.pods, o.(*corev1.Pod))
	}
	for _, o := range v.informers["virtualservices"].GetStore().List() {
		s.virtualServices = append(s.virtualServices, o.(*api.VirtualService))
	}
	for _, o := range v.informers["destinationrules"].GetStore().List() {
		s.destinationRules = append(s.destinationRules, o.(*api.DestinationRule))
	}
	v.mu.Lock()
	consumers := append([]func(*snapshot){}, v.consumers...)
	v.mu.Unlock()
	for _, f := range consumers {
		f(s)
	}
}
