package controllers

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// reconcileFunc converges the object named by key ("ns/name" or "name").
// A positive requeueAfter asks to be called again after that long (to
// wait for time to pass); an error requeues with back-off.
type reconcileFunc func(ctx context.Context, key string) (requeueAfter time.Duration, err error)

// loop is one controller: a rate-limited queue of keys and the workers
// that reconcile them.
type loop struct {
	name      string
	queue     workqueue.TypedRateLimitingInterface[string]
	reconcile reconcileFunc
	log       *zap.Logger
	workers   int
}

func newLoop(name string, workers int, log *zap.Logger, r reconcileFunc) *loop {
	return &loop{
		name: name,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedMaxOfRateLimiter(
				workqueue.NewTypedItemExponentialFailureRateLimiter[string](50*time.Millisecond, 30*time.Second),
			),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: name}),
		reconcile: r,
		log:       log.Named(name),
		workers:   workers,
	}
}

// add enqueues the key of a cached object (or tombstone).
func (l *loop) add(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	l.queue.Add(key)
}

// run works the queue until ctx is done; it returns once the workers stopped.
func (l *loop) run(ctx context.Context) {
	var wg sync.WaitGroup
	for range l.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l.next(ctx) {
			}
		}()
	}
	<-ctx.Done()
	l.queue.ShutDown()
	wg.Wait()
}

func (l *loop) next(ctx context.Context) bool {
	key, quit := l.queue.Get()
	if quit {
		return false
	}
	defer l.queue.Done(key)
	after, err := l.reconcile(ctx, key)
	switch {
	case err != nil && ctx.Err() != nil:
		return true
	case err != nil:
		lvl := l.log.Warn
		if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) || errors.Is(err, errExpectations) {
			lvl = l.log.Debug // a stale cache: the retry sees the new state
		}
		lvl("reconcile failed, will retry", zap.String("key", key), zap.Error(err))
		l.queue.AddRateLimited(key)
	default:
		l.queue.Forget(key)
		if after > 0 {
			l.queue.AddAfter(key, after)
		}
	}
	return true
}

// errExpectations is returned when a reconcile waits for the cache to
// catch up with its own writes.
var errExpectations = errors.New("waiting for the cache to observe earlier writes")

// handlers returns event handlers enqueueing the object's own key.
func (l *loop) handlers() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    l.add,
		UpdateFunc: func(_, n any) { l.add(n) },
		DeleteFunc: l.add,
	}
}

// splitKey splits "ns/name".
func splitKey(key string) (ns, name string) {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return "", key
	}
	return ns, name
}

// minDuration returns the smallest positive duration of ds, or 0.
func minDuration(ds ...time.Duration) time.Duration {
	var out time.Duration
	for _, d := range ds {
		if d > 0 && (out == 0 || d < out) {
			out = d
		}
	}
	return out
}
