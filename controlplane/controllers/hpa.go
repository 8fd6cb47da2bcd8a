package controllers

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// MetricsSource is where the HPA reads the resource usage of pods: the
// metrics API (metrics.k8s.io/v1beta1 PodMetrics), or a fake in tests.
type MetricsSource interface {
	// PodMetrics returns the usage of the pods in namespace that selector
	// matches; pods without a sample are left out.
	PodMetrics(ctx context.Context, namespace string, selector labels.Selector) ([]PodUsage, error)
}

// PodUsage is one pod's sample.
type PodUsage struct {
	Name string
	// Timestamp is the end of the sample window, Window its length.
	Timestamp time.Time
	Window    time.Duration
	// Containers is each container's usage (cpu, memory).
	Containers map[string]corev1.ResourceList
}

// hpaController is upstream's horizontal pod autoscaler controller.
type hpaController struct {
	c          *client.Client
	hpas, pods cache.SharedIndexInformer
	targets    map[string]cache.SharedIndexInformer // by kind
	metrics    MetricsSource
	rec        eventRecorder
	now        func() time.Time
	period     time.Duration
	params     hpaParams
	loop       *loop

	mu      sync.Mutex
	history map[string]hpaHistory
}

func newHPAController(cfg Config, inf *informers, rec *recorder) *hpaController {
	m := cfg.Metrics
	if m == nil {
		m = clientMetrics(cfg.Client)
	}
	h := &hpaController{
		c: cfg.Client, hpas: inf.hpas, pods: inf.pods, metrics: m,
		targets: map[string]cache.SharedIndexInformer{
			"Deployment": inf.deployments, "ReplicaSet": inf.replicaSets, "ReplicationController": inf.replicationControllers,
		},
		rec: rec.For("horizontal-pod-autoscaler"), now: cfg.Now, period: cfg.HPASyncPeriod,
		params: hpaParams{
			Tolerance: cfg.HPATolerance, CPUInit: cfg.HPACPUInitializationPeriod,
			ReadinessDelay: cfg.HPAInitialReadinessDelay, DownscaleStabilization: cfg.HPADownscaleStabilization,
		},
		history: map[string]hpaHistory{},
	}
	h.loop = newLoop(HPAName, cfg.Workers, cfg.Log, h.reconcile)
	// As upstream: a new HPA is evaluated at once, then every sync period
	// whatever happens to it (its own status writes included).
	_, _ = h.hpas.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: h.loop.add,
		UpdateFunc: func(o, n any) {
			oh, ok1 := o.(*autoscalingv2.HorizontalPodAutoscaler)
			nh, ok2 := n.(*autoscalingv2.HorizontalPodAutoscaler)
			if ok1 && ok2 && oh.Generation != nh.Generation {
				h.loop.add(n)
				return
			}
			if key, err := cache.MetaNamespaceKeyFunc(n); err == nil {
				h.loop.queue.AddAfter(key, h.period)
			}
		},
		DeleteFunc: h.loop.add,
	})
	return h
}

// scaleTarget is the target's size and selector.
type scaleTarget struct {
	obj      api.Object
	replicas int32
	selector labels.Selector
}

func (h *hpaController) target(hpa *autoscalingv2.HorizontalPodAutoscaler) (scaleTarget, error) {
	ref := hpa.Spec.ScaleTargetRef
	inf, ok := h.targets[ref.Kind]
	if !ok {
		return scaleTarget{}, fmt.Errorf("unsupported scale target kind %q (Deployment, ReplicaSet and ReplicationController are)", ref.Kind)
	}
	obj, exists, err := inf.GetIndexer().GetByKey(hpa.Namespace + "/" + ref.Name)
	if err != nil {
		return scaleTarget{}, err
	}
	if !exists {
		return scaleTarget{}, fmt.Errorf("%s %q not found", ref.Kind, ref.Name)
	}
	var t scaleTarget
	var ls *metav1.LabelSelector
	switch o := obj.(type) {
	case *appsv1.Deployment:
		t = scaleTarget{obj: o, replicas: ptrOr(o.Spec.Replicas, 1)}
		ls = o.Spec.Selector
	case *appsv1.ReplicaSet:
		t = scaleTarget{obj: o, replicas: ptrOr(o.Spec.Replicas, 1)}
		ls = o.Spec.Selector
	case *corev1.ReplicationController:
		t = scaleTarget{obj: o, replicas: ptrOr(o.Spec.Replicas, 1)}
		ls = &metav1.LabelSelector{MatchLabels: o.Spec.Selector}
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return scaleTarget{}, fmt.Errorf("selector of %s %q: %w", ref.Kind, ref.Name, err)
	}
	t.selector = sel
	return t, nil
}

// scale writes the target's new replica count.
func (h *hpaController) scale(ctx context.Context, t scaleTarget, replicas int32) error {
	o := t.obj.DeepCopyObject().(api.Object)
	switch x := o.(type) {
	case *appsv1.Deployment:
		x.Spec.Replicas = new(replicas)
	case *appsv1.ReplicaSet:
		x.Spec.Replicas = new(replicas)
	case *corev1.ReplicationController:
		x.Spec.Replicas = new(replicas)
	}
	_, _, err := h.c.Update(ctx, o)
	return err
}

func (h *hpaController) reconcile(ctx context.Context, key string) (time.Duration, error) {
	obj, exists, err := h.hpas.GetIndexer().GetByKey(key)
	if err != nil {
		return 0, err
	}
	if !exists {
		h.mu.Lock()
		delete(h.history, key)
		h.mu.Unlock()
		return 0, nil
	}
	hpa := obj.(*autoscalingv2.HorizontalPodAutoscaler).DeepCopy()
	now := h.now()
	t, err := h.target(hpa)
	if err != nil {
		h.rec.Eventf(hpa, corev1.EventTypeWarning, "FailedGetScale", "%v", err)
		hpa.Status.Conditions = setHPACondition(hpa.Status.Conditions, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedGetScale",
			fmt.Sprintf("the HPA controller was unable to get the target's current scale: %v", err), now)
		return h.period, h.writeStatus(ctx, obj.(*autoscalingv2.HorizontalPodAutoscaler), hpa)
	}
	in := hpaInput{HPA: hpa, CurrentReplicas: t.replicas, Now: now, Params: h.params}
	objs, _ := h.pods.GetIndexer().ByIndex(cache.NamespaceIndex, hpa.Namespace)
	for _, o := range objs {
		if p := o.(*corev1.Pod); t.selector.Matches(labels.Set(p.Labels)) {
			in.Pods = append(in.Pods, p)
		}
	}
	in.Usage, in.UsageErr = h.metrics.PodMetrics(ctx, hpa.Namespace, t.selector)
	h.mu.Lock()
	in.History = h.history[key]
	h.mu.Unlock()

	d := decideHPA(in)
	for _, e := range d.Events {
		h.rec.Eventf(hpa, e.Type, e.Reason, "%s", e.Message)
	}
	hist := d.History
	hpa.Status.Conditions = d.Conditions
	hpa.Status.CurrentReplicas = t.replicas
	hpa.Status.DesiredReplicas = d.Desired
	if d.Err == nil || len(d.MetricStatuses) > 0 {
		hpa.Status.CurrentMetrics = d.MetricStatuses
	}
	hpa.Status.ObservedGeneration = new(hpa.Generation)
	if d.Rescale {
		if err := h.scale(ctx, t, d.Desired); err != nil {
			h.rec.Eventf(hpa, corev1.EventTypeWarning, "FailedRescale", "New size: %d; reason: %s; error: %v", d.Desired, d.Reason, err)
			hpa.Status.Conditions = setHPACondition(hpa.Status.Conditions, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedUpdateScale",
				fmt.Sprintf("the HPA controller was unable to update the target scale: %v", err), now)
			hpa.Status.DesiredReplicas = t.replicas
			_ = h.writeStatus(ctx, obj.(*autoscalingv2.HorizontalPodAutoscaler), hpa)
			return 0, fmt.Errorf("rescale %s: %w", key, err)
		}
		hpa.Status.Conditions = setHPACondition(hpa.Status.Conditions, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededRescale",
			fmt.Sprintf("the HPA controller was able to update the target scale to %d", d.Desired), now)
		h.rec.Eventf(hpa, corev1.EventTypeNormal, "SuccessfulRescale", "New size: %d; reason: %s", d.Desired, d.Reason)
		hist = hist.recordScale(behavior(hpa, h.params), t.replicas, d.Desired, now)
		hpa.Status.LastScaleTime = new(metav1.NewTime(now))
	}
	h.mu.Lock()
	h.history[key] = hist
	h.mu.Unlock()
	if err := h.writeStatus(ctx, obj.(*autoscalingv2.HorizontalPodAutoscaler), hpa); err != nil {
		return 0, err
	}
	return h.period, nil
}

func (h *hpaController) writeStatus(ctx context.Context, old, hpa *autoscalingv2.HorizontalPodAutoscaler) error {
	if reflect.DeepEqual(old.Status, hpa.Status) {
		return nil
	}
	if _, err := h.c.UpdateStatus(ctx, hpa); err != nil {
		return fmt.Errorf("update status of hpa %s/%s: %w", hpa.Namespace, hpa.Name, err)
	}
	return nil
}
