package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// informers are the shared watch caches every controller reads.
type informers struct {
	pods, nodes, services, endpoints, endpointSlices cache.SharedIndexInformer
	replicaSets, replicationControllers, deployments cache.SharedIndexInformer
	hpas                                             cache.SharedIndexInformer
	// extra are caches only the garbage collector watches, by resource.
	extra map[string]cache.SharedIndexInformer
	all   []cache.SharedIndexInformer
}

func newInformers(c *client.Client) *informers {
	inf := &informers{extra: map[string]cache.SharedIndexInformer{}}
	mk := func(resource string) cache.SharedIndexInformer {
		i := client.NewInformer(c, api.LookupName(resource), "", client.ListOptions{})
		inf.all = append(inf.all, i)
		return i
	}
	inf.pods = mk("pods")
	inf.nodes = mk("nodes")
	inf.services = mk("services")
	inf.endpoints = mk("endpoints")
	inf.endpointSlices = mk("endpointslices")
	inf.replicaSets = mk("replicasets")
	inf.replicationControllers = mk("replicationcontrollers")
	inf.deployments = mk("deployments")
	inf.hpas = mk("horizontalpodautoscalers")
	return inf
}

// byResource returns the cache of a kind, if one is kept.
func (inf *informers) byResource(resource string) cache.SharedIndexInformer {
	switch resource {
	case "pods":
		return inf.pods
	case "nodes":
		return inf.nodes
	case "services":
		return inf.services
	case "endpoints":
		return inf.endpoints
	case "endpointslices":
		return inf.endpointSlices
	case "replicasets":
		return inf.replicaSets
	case "replicationcontrollers":
		return inf.replicationControllers
	case "deployments":
		return inf.deployments
	case "horizontalpodautoscalers":
		return inf.hpas
	}
	return inf.extra[resource]
}

// Run starts the shared caches and every enabled controller, and blocks
// until ctx is done. It returns an error only when it cannot start.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Client == nil {
		return errors.New("controllers: no API client")
	}
	cfg = cfg.withDefaults()
	inf := newInformers(cfg.Client)
	rec := newRecorder(cfg.Client, cfg.Log, cfg.Now)

	var loops []*loop
	var tickers []func(ctx context.Context)
	if cfg.enabled(ReplicaSetName) {
		loops = append(loops, newReplicaSetController(cfg, inf, rec).loop)
	}
	if cfg.enabled(ReplicationControllerName) {
		loops = append(loops, newReplicationControllerController(cfg, inf, rec).loop)
	}
	if cfg.enabled(DeploymentName) {
		loops = append(loops, newDeploymentController(cfg, inf, rec).loop)
	}
	if cfg.enabled(HPAName) {
		h := newHPAController(cfg, inf, rec)
		loops = append(loops, h.loop)
	}
	if cfg.enabled(NodeLifecycleName) {
		n := newNodeLifecycleController(cfg, inf, rec)
		loops = append(loops, n.loop)
		tickers = append(tickers, n.tick)
	}
	if cfg.enabled(PodGCName) {
		tickers = append(tickers, newPodGCController(cfg, inf, rec).tick)
	}
	if cfg.enabled(EndpointsName) {
		loops = append(loops, newEndpointsController(cfg, inf, rec).loop)
	}
	if cfg.enabled(GarbageCollectorName) {
		g, err := newGarbageCollector(cfg, inf)
		if err != nil {
			return err
		}
		loops = append(loops, g.loop)
		tickers = append(tickers, g.resync)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	goRun := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f()
		}()
	}
	goRun(func() { rec.run(ctx) })
	for _, i := range inf.all {
		goRun(func() { i.Run(ctx.Done()) })
	}
	synced := make([]cache.InformerSynced, 0, len(inf.all))
	for _, i := range inf.all {
		synced = append(synced, i.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		cancel()
		wg.Wait()
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("controllers: caches did not sync")
	}
	cfg.Log.Info("controllers started", zap.Int("loops", len(loops)))
	for _, l := range loops {
		goRun(func() { l.run(ctx) })
	}
	for _, t := range tickers {
		goRun(func() { t(ctx) })
	}
	<-ctx.Done()
	wg.Wait()
	return nil
}
