package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/weft-mesh/weft/controlplane/scheduler/framework"
	"github.com/weft-mesh/weft/controlplane/scheduler/internal/cache"
	"github.com/weft-mesh/weft/controlplane/scheduler/internal/queue"
	"github.com/weft-mesh/weft/controlplane/scheduler/plugins"
)

// ErrNoNodesAvailable is the failure when the cluster has no nodes.
var ErrNoNodesAvailable = errors.New("no nodes available to schedule pods")

// Binder commits a placement; *client.Client is one (POST
// pods/{name}/binding, a conflict when the pod is already bound).
type Binder interface {
	Bind(ctx context.Context, namespace, pod, node string) error
}

// reporter tells the cluster what the scheduler decided. Its methods must
// not block on the network: the scheduling loop calls them.
type reporter interface {
	// Scheduled: the binding of pod to node succeeded.
	Scheduled(pod *corev1.Pod, node string)
	// Unschedulable: the pod stays Pending with PodScheduled=False.
	Unschedulable(pod *corev1.Pod, reason, message string)
}

// Pod condition reasons, as Kubernetes'.
const (
	ReasonUnschedulable  = corev1.PodReasonUnschedulable  // "Unschedulable"
	ReasonSchedulerError = corev1.PodReasonSchedulerError // "SchedulerError"
)

// noNodes stands for the rejecting plugin of a pod that met an empty
// cluster: only a node added helps it.
const noNodes = "NoNodes"

// maxBindingsInFlight bounds the binding goroutines.
const maxBindingsInFlight = 64

// scheduler is the scheduling loop's state. One goroutine runs
// scheduleOne; binding runs beside it.
type scheduler struct {
	log      *zap.Logger
	cache    *cache.Cache
	queue    *queue.PriorityQueue
	fwk      *framework.Framework
	snapshot *cache.Snapshot
	binder   Binder
	report   reporter
	// latestPod returns the current version of a pending pod from the
	// informer (nil when it is gone).
	latestPod func(key string) *corev1.Pod

	percentageOfNodesToScore int32
	nextStartNodeIndex       int
	rng                      *rand.Rand

	bindWG    sync.WaitGroup
	bindSlots chan struct{}

	feasibleBuf []*framework.NodeInfo // reused from cycle to cycle
}

type options struct {
	log                      *zap.Logger
	profile                  framework.Profile
	binder                   Binder
	report                   reporter
	latestPod                func(key string) *corev1.Pod
	queue                    queue.Options
	percentageOfNodesToScore int32
	seed                     uint64
}

// handle gives plugins the cycle's snapshot.
type handle struct{ snapshot *cache.Snapshot }

func (h handle) SnapshotSharedLister() framework.SharedLister { return h.snapshot }

func newScheduler(o options) (*scheduler, error) {
	snap := cache.NewEmptySnapshot()
	fwk, err := framework.New(plugins.NewRegistry(), o.profile, handle{snap})
	if err != nil {
		return nil, fmt.Errorf("scheduler profile: %w", err)
	}
	o.queue.PluginEvents = fwk.EventsToRegister()
	o.queue.PluginEvents[noNodes] = []framework.ClusterEvent{nodeAdd}
	log := o.log
	if log == nil {
		log = zap.NewNop()
	}
	return &scheduler{
		log:                      log,
		cache:                    cache.New(),
		queue:                    queue.New(o.queue),
		fwk:                      fwk,
		snapshot:                 snap,
		binder:                   o.binder,
		report:                   o.report,
		latestPod:                o.latestPod,
		percentageOfNodesToScore: o.percentageOfNodesToScore,
		rng:                      rand.New(rand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15)),
		bindSlots:                make(chan struct{}, maxBindingsInFlight),
	}, nil
}

// scheduleResult is where a pod goes.
type scheduleResult struct {
	host           string
	evaluatedNodes int
	feasibleNodes  int
}

// scheduleOne takes one pod from the queue through a scheduling cycle:
// snapshot, filters, scores, assume, then binds it in the background. It
// returns false once the queue is closed.
func (s *scheduler) scheduleOne(ctx context.Context) bool {
	qpi, err := s.queue.Pop()
	if err != nil {
		return false
	}
	pod := qpi.Pod
	cycle := s.queue.SchedulingCycle()
	if pod.DeletionTimestamp != nil || s.cache.HasPod(pod) {
		s.queue.Done(qpi.Key())
		return true
	}
	s.cache.UpdateSnapshot(s.snapshot)
	state := framework.NewCycleState()
	res, err := s.schedulePod(ctx, state, qpi.PodInfo)
	if err != nil {
		s.handleFailure(qpi, err, cycle)
		return true
	}
	assumed := *pod // shallow: the spec's slices stay shared and read-only
	assumed.Spec.NodeName = res.host
	assumedInfo := *qpi.PodInfo
	assumedInfo.Pod = &assumed
	if err := s.cache.AssumePod(&assumedInfo); err != nil {
		s.handleFailure(qpi, fmt.Errorf("assume pod: %w", err), cycle)
		return true
	}
	s.queue.Done(qpi.Key())
	select {
	case s.bindSlots <- struct{}{}:
	case <-ctx.Done():
		_ = s.cache.ForgetPod(&assumed)
		return false
	}
	s.bindWG.Add(1)
	go func() {
		defer s.bindWG.Done()
		defer func() { <-s.bindSlots }()
		s.bind(ctx, qpi, &assumed, cycle)
	}()
	return true
}

// bind commits the placement; on failure the pod is forgotten and tried
// again.
func (s *scheduler) bind(ctx context.Context, qpi *queue.QueuedPodInfo, assumed *corev1.Pod, cycle int64) {
	err := s.binder.Bind(ctx, assumed.Namespace, assumed.Name, assumed.Spec.NodeName)
	if err != nil {
		if ferr := s.cache.ForgetPod(assumed); ferr != nil {
			s.log.Warn("forget pod after failed binding", zap.String("pod", qpi.Key()), zap.Error(ferr))
		}
		// The room it held is free again.
		s.queue.MoveAllToActiveOrBackoffQueue(framework.ClusterEvent{Resource: framework.AssignedPod, ActionType: framework.Delete, Label: "BindingFailed"})
		if ctx.Err() != nil {
			return
		}
		s.handleFailure(qpi, fmt.Errorf("bind pod %s to node %s: %w", qpi.Key(), assumed.Spec.NodeName, err), cycle)
		return
	}
	s.cache.FinishBinding(assumed)
	s.report.Scheduled(qpi.Pod, assumed.Spec.NodeName)
}

// handleFailure requeues a pod that could not be placed (if it still
// waits) and reports why.
func (s *scheduler) handleFailure(qpi *queue.QueuedPodInfo, err error, cycle int64) {
	reason, msg := ReasonSchedulerError, err.Error()
	var fitErr *framework.FitError
	switch {
	case errors.As(err, &fitErr):
		reason = ReasonUnschedulable
		qpi.UnschedulablePlugins = fitErr.Diagnosis.UnschedulablePlugins
	case errors.Is(err, ErrNoNodesAvailable):
		reason = ReasonUnschedulable
		qpi.UnschedulablePlugins = sets.New(noNodes)
	default:
		qpi.UnschedulablePlugins = nil
	}
	latest := qpi.Pod
	if s.latestPod != nil {
		latest = s.latestPod(qpi.Key())
	}
	if latest == nil || latest.UID != qpi.Pod.UID || latest.Spec.NodeName != "" || latest.DeletionTimestamp != nil {
		s.queue.Done(qpi.Key())
		return
	}
	s.log.Debug("pod not scheduled", zap.String("pod", qpi.Key()), zap.String("reason", reason), zap.String("message", msg))
	s.queue.AddUnschedulable(qpi, latest, cycle)
	s.report.Unschedulable(latest, reason, msg)
}

// schedulePod runs the filters and scores over the snapshot and picks a
// node. It reads only the snapshot: no I/O, no clock.
func (s *scheduler) schedulePod(ctx context.Context, state *framework.CycleState, pi *framework.PodInfo) (scheduleResult, error) {
	if s.snapshot.NumNodes() == 0 {
		return scheduleResult{}, ErrNoNodesAvailable
	}
	feasible, diag, err := s.findNodesThatFitPod(ctx, state, pi)
	if err != nil {
		return scheduleResult{}, err
	}
	if len(feasible) == 0 {
		return scheduleResult{}, &framework.FitError{Pod: pi.Pod, NumAllNodes: s.snapshot.NumNodes(), Diagnosis: diag}
	}
	evaluated := len(feasible) + len(diag.NodeToStatus)
	if len(feasible) == 1 {
		return scheduleResult{host: feasible[0].Node().Name, evaluatedNodes: evaluated, feasibleNodes: 1}, nil
	}
	if st := s.fwk.RunPreScorePlugins(ctx, state, pi, feasible); !st.IsSuccess() {
		return scheduleResult{}, fmt.Errorf("prescore plugin %s: %w", st.Plugin(), st.AsError())
	}
	scores, st := s.fwk.RunScorePlugins(ctx, state, pi, feasible)
	if !st.IsSuccess() {
		return scheduleResult{}, fmt.Errorf("score plugin %s: %w", st.Plugin(), st.AsError())
	}
	return scheduleResult{host: s.selectHost(scores), evaluatedNodes: evaluated, feasibleNodes: len(feasible)}, nil
}

// findNodesThatFitPod runs the filters from where the last cycle stopped,
// until enough feasible nodes are found (numFeasibleNodesToFind) or every
// node was tried.
func (s *scheduler) findNodesThatFitPod(ctx context.Context, state *framework.CycleState, pi *framework.PodInfo) ([]*framework.NodeInfo, framework.Diagnosis, error) {
	diag := framework.Diagnosis{NodeToStatus: map[string]*framework.Status{}, UnschedulablePlugins: sets.New[string]()}
	nodes := s.snapshot.List()
	if st := s.fwk.RunPreFilterPlugins(ctx, state, pi); !st.IsSuccess() {
		if !st.IsRejected() {
			return nil, diag, fmt.Errorf("prefilter plugin %s: %w", st.Plugin(), st.AsError())
		}
		diag.PreFilterMsg = st.Message()
		diag.UnschedulablePlugins.Insert(st.Plugin())
		for _, ni := range nodes {
			diag.NodeToStatus[ni.Node().Name] = st
		}
		return nil, diag, nil
	}
	want := s.numFeasibleNodesToFind(len(nodes))
	feasible := s.feasibleBuf[:0]
	defer func() { s.feasibleBuf = feasible[:0] }()
	processed := 0
	for i := 0; i < len(nodes) && len(feasible) < want; i++ {
		ni := nodes[(s.nextStartNodeIndex+i)%len(nodes)]
		processed++
		st := s.fwk.RunFilterPlugins(ctx, state, pi, ni)
		if st.IsSuccess() {
			feasible = append(feasible, ni)
			continue
		}
		if !st.IsRejected() {
			return nil, diag, fmt.Errorf("filter plugin %s on node %s: %w", st.Plugin(), ni.Node().Name, st.AsError())
		}
		diag.NodeToStatus[ni.Node().Name] = st
		diag.UnschedulablePlugins.Insert(st.Plugin())
	}
	s.nextStartNodeIndex = (s.nextStartNodeIndex + processed) % len(nodes)
	return feasible, diag, nil
}

// Adaptive search, as kube-scheduler: in a large cluster, stop filtering
// once this share of nodes is feasible; score only those.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
)

func (s *scheduler) numFeasibleNodesToFind(all int) int {
	if all < minFeasibleNodesToFind || s.percentageOfNodesToScore >= 100 {
		return all
	}
	pct := int(s.percentageOfNodesToScore)
	if pct <= 0 {
		pct = max(50-all/125, minFeasibleNodesPercentageToFind)
	}
	return max(all*pct/100, minFeasibleNodesToFind)
}

// selectHost picks a highest-scored node, ties broken at random
// (reservoir sampling).
func (s *scheduler) selectHost(scores framework.NodeScoreList) string {
	best, host, ties := scores[0].Score, scores[0].Name, 1
	for _, ns := range scores[1:] {
		switch {
		case ns.Score > best:
			best, host, ties = ns.Score, ns.Name, 1
		case ns.Score == best:
			ties++
			if s.rng.IntN(ties) == 0 {
				host = ns.Name
			}
		}
	}
	return host
}

// podScheduledCondition is the condition an unschedulable pod carries.
func podScheduledCondition(reason, msg string, now metav1.Time) corev1.PodCondition {
	return corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: reason, Message: msg, LastTransitionTime: now}
}

func (s *scheduler) logErr(what string, p *corev1.Pod, err error) {
	if err != nil {
		s.log.Warn(what, zap.String("pod", p.Namespace+"/"+p.Name), zap.Error(err))
	}
}
