package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
	"github.com/weft-mesh/weft/controlplane/scheduler/internal/queue"
)

// Config configures Run. Zero values take the defaults noted.
type Config struct {
	// Client reads pods and nodes, binds, and writes conditions and
	// Events. Required.
	Client *client.Client
	// Log, nil for none.
	Log *zap.Logger
	// SchedulerName: the scheduler places pods whose spec.schedulerName is
	// this or empty. Default "default-scheduler".
	SchedulerName string
	// PodInitialBackoff and PodMaxBackoff bound the wait before a failed
	// pod is tried again: initial·2^(attempts-1), at most max. Defaults
	// 1 s and 10 s.
	PodInitialBackoff time.Duration
	PodMaxBackoff     time.Duration
	// PodMaxInUnschedulablePodsDuration: an unschedulable pod that no
	// event has moved is tried again after this long. Default 5 min.
	PodMaxInUnschedulablePodsDuration time.Duration
	// PercentageOfNodesToScore: in clusters of 100 nodes or more, stop
	// filtering once this share of nodes is feasible. 0 adapts to the
	// cluster size as kube-scheduler does (50% − nodes/125, at least 5%);
	// 100 always tries every node.
	PercentageOfNodesToScore int32
	// Profile says which plugins run and their weights. Default
	// DefaultProfile().
	Profile *framework.Profile
}

// ErrNoClient is returned by Run without a Client.
var ErrNoClient = errors.New("scheduler: Config.Client is required")

// Run schedules pods until ctx ends: it watches pods and nodes, queues the
// pending pods this scheduler is responsible for, places each on the best
// node and binds it through the API. A pod that fits no node stays Pending
// with PodScheduled=False, reason Unschedulable and Kubernetes' message,
// a FailedScheduling Event, and is tried again when the cluster changes
// in a way that may help it, or after its back-off. Run returns nil when
// ctx ends, after its goroutines stopped.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Client == nil {
		return ErrNoClient
	}
	log := cfg.Log
	if log == nil {
		log = zap.NewNop()
	}
	name := cfg.SchedulerName
	if name == "" {
		name = corev1.DefaultSchedulerName
	}
	profile := DefaultProfile()
	if cfg.Profile != nil {
		profile = *cfg.Profile
	}

	var wg sync.WaitGroup
	defer wg.Wait() // after cancel, deferred below
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	goRun := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}

	podInf := client.NewInformer(cfg.Client, api.LookupName("pods"), "", client.ListOptions{})
	nodeInf := client.NewInformer(cfg.Client, api.LookupName("nodes"), "", client.ListOptions{})
	rep := newAPIReporter(ctx, cfg.Client, log, name)
	s, err := newScheduler(options{
		log:     log,
		profile: profile,
		binder:  cfg.Client,
		report:  rep,
		latestPod: func(key string) *corev1.Pod {
			obj, ok, err := podInf.GetIndexer().GetByKey(key)
			if err != nil || !ok {
				return nil
			}
			p, _ := obj.(*corev1.Pod)
			return p
		},
		queue: queue.Options{
			InitialBackoff:         cfg.PodInitialBackoff,
			MaxBackoff:             cfg.PodMaxBackoff,
			MaxInUnschedulablePods: cfg.PodMaxInUnschedulablePodsDuration,
		},
		percentageOfNodesToScore: cfg.PercentageOfNodesToScore,
		seed:                     uint64(time.Now().UnixNano()),
	})
	if err != nil {
		return err
	}
	if _, err := nodeInf.AddEventHandler(s.nodeHandlers()); err != nil {
		return fmt.Errorf("node informer: %w", err)
	}
	if _, err := podInf.AddEventHandler(s.podHandlers(name)); err != nil {
		return fmt.Errorf("pod informer: %w", err)
	}
	goRun(func() { nodeInf.Run(ctx.Done()) })
	goRun(func() { podInf.Run(ctx.Done()) })
	goRun(rep.run)
	if !cache.WaitForCacheSync(ctx.Done(), nodeInf.HasSynced, podInf.HasSynced) {
		return nil // ctx ended first
	}
	goRun(func() { s.queue.Run(ctx) })
	log.Info("scheduler started", zap.String("name", name))
	for s.scheduleOne(ctx) {
	}
	s.bindWG.Wait()
	log.Info("scheduler stopped")
	return nil
}
