package client

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/api"
)

// NewInformer returns client-go's SharedIndexInformer over one kind, fed by
// this client: a watch cache with event handlers, as controllers, the
// scheduler, the agent, xDS and DNS use it. ns "" watches all namespaces.
// Indexed by namespace; resync disabled (controllers are level-triggered
// and requeue themselves).
//
//	inf := client.NewInformer(c, api.LookupName("pods"), "", client.ListOptions{})
//	inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: ...})
//	go inf.Run(ctx.Done())
//	cache.WaitForCacheSync(ctx.Done(), inf.HasSynced)
//
// Objects in the cache are shared: treat them as read-only, DeepCopy before
// changing one.
func NewInformer(c *Client, k *api.Kind, ns string, opts ListOptions) cache.SharedIndexInformer {
	return cache.NewSharedIndexInformerWithOptions(c.ListerWatcher(k, ns, opts), k.New(k.Version),
		cache.SharedIndexInformerOptions{
			Indexers:          cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc},
			ObjectDescription: k.Resource,
		})
}

// ListerWatcher adapts the client to client-go's cache.ListerWatcher.
func (c *Client) ListerWatcher(k *api.Kind, ns string, opts ListOptions) cache.ListerWatcher {
	return &listerWatcher{c: c, k: k, ns: ns, opts: opts}
}

type listerWatcher struct {
	c    *Client
	k    *api.Kind
	ns   string
	opts ListOptions
}

// IsWatchListSemanticsUnSupported tells client-go's reflector to list and
// then watch: the server does not stream initial events with bookmarks.
func (lw *listerWatcher) IsWatchListSemanticsUnSupported() bool { return true }

func (lw *listerWatcher) ListWithContext(ctx context.Context, _ metav1.ListOptions) (runtime.Object, error) {
	items, rv, err := lw.c.List(ctx, lw.k, lw.ns, lw.opts)
	if err != nil {
		return nil, err
	}
	l := &List{Items: make([]runtime.Object, len(items))}
	l.ResourceVersion = rv
	l.SetGroupVersionKind(schema.GroupVersionKind{Group: lw.k.Group, Version: lw.k.Version, Kind: lw.k.ListKind()})
	for i, it := range items {
		l.Items[i] = it
	}
	return l, nil
}

// List implements cache.ListerWatcher (client-go prefers ListWithContext).
func (lw *listerWatcher) List(o metav1.ListOptions) (runtime.Object, error) {
	return lw.ListWithContext(context.Background(), o)
}

// Watch implements cache.ListerWatcher (client-go prefers WatchWithContext).
func (lw *listerWatcher) Watch(o metav1.ListOptions) (watch.Interface, error) {
	return lw.WatchWithContext(context.Background(), o)
}

func (lw *listerWatcher) WatchWithContext(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	opts := lw.opts
	opts.ResourceVersion = o.ResourceVersion
	timeout := time.Duration(0)
	if o.TimeoutSeconds != nil && *o.TimeoutSeconds > 0 {
		timeout = time.Duration(*o.TimeoutSeconds) * time.Second
	}
	var cancel context.CancelFunc
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	ch, err := lw.c.Watch(ctx, lw.k, lw.ns, opts)
	if err != nil {
		cancel()
		return nil, err
	}
	out := make(chan watch.Event)
	go func() {
		defer close(out)
		for ev := range ch {
			var we watch.Event
			if ev.Err != nil {
				we = watch.Event{Type: watch.Error, Object: statusOf(ev.Err)}
			} else {
				we = watch.Event{Type: watch.EventType(ev.Type), Object: ev.Object}
			}
			select {
			case out <- we:
			case <-ctx.Done():
				return
			}
		}
	}()
	return &watcher{ch: out, cancel: cancel}, nil
}

func statusOf(err error) runtime.Object {
	if se, ok := err.(interface{ Status() metav1.Status }); ok {
		st := se.Status()
		return &st
	}
	return &metav1.Status{Status: metav1.StatusFailure, Message: fmt.Sprint(err), Code: 500}
}

type watcher struct {
	ch     chan watch.Event
	cancel context.CancelFunc
}

func (w *watcher) Stop()                          { w.cancel() }
func (w *watcher) ResultChan() <-chan watch.Event { return w.ch }

// List is a list of objects of one kind, as client-go's reflector wants it.
type List struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []runtime.Object `json:"items"`
}

// DeepCopyObject implements runtime.Object.
func (l *List) DeepCopyObject() runtime.Object {
	out := &List{TypeMeta: l.TypeMeta}
	l.ListMeta.DeepCopyInto(&out.ListMeta)
	out.Items = make([]runtime.Object, len(l.Items))
	for i, it := range l.Items {
		out.Items[i] = it.DeepCopyObject()
	}
	return out
}
