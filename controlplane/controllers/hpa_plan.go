package controllers

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
)

// hpaParams are the controller's knobs the algorithm uses.
type hpaParams struct {
	Tolerance      float64
	CPUInit        time.Duration // --horizontal-pod-autoscaler-cpu-initialization-period
	ReadinessDelay time.Duration // --horizontal-pod-autoscaler-initial-readiness-delay
	// DownscaleStabilization applies when the HPA's behavior sets none.
	DownscaleStabilization time.Duration
}

// hpaHistory is what the HPA remembers between evaluations (upstream keeps
// it in memory too): recent recommendations for stabilization, and recent
// scale events for the rate policies.
type hpaHistory struct {
	Recommendations []timedValue
	ScaleUps        []timedValue
	ScaleDowns      []timedValue
}

type timedValue struct {
	At    time.Time
	Value int32
}

// hpaInput is everything one evaluation looks at.
type hpaInput struct {
	HPA             *autoscalingv2.HorizontalPodAutoscaler
	CurrentReplicas int32
	Pods            []*corev1.Pod // the pods the target selects
	Usage           []PodUsage    // from the metrics API
	UsageErr        error         // the metrics API failed
	History         hpaHistory    // what earlier evaluations left
	Now             time.Time
	Params          hpaParams
}

// hpaEvent is an Event the decision asks for.
type hpaEvent struct {
	Type, Reason, Message string
}

// hpaDecision is the outcome of one evaluation.
type hpaDecision struct {
	Desired        int32
	Rescale        bool
	Reason         string // why, for the SuccessfulRescale event
	MetricStatuses []autoscalingv2.MetricStatus
	Conditions     []autoscalingv2.HorizontalPodAutoscalerCondition
	Events         []hpaEvent
	History        hpaHistory // with this evaluation's recommendation
	Err            error      // the metrics could not be computed
}

// decideHPA is upstream's reconcileAutoscaler without the I/O: from the
// target's size, its pods and their usage, the replica count to scale to.
func decideHPA(in hpaInput) hpaDecision {
	h := in.HPA
	out := hpaDecision{Conditions: append([]autoscalingv2.HorizontalPodAutoscalerCondition(nil), h.Status.Conditions...), History: in.History}
	cond := func(t autoscalingv2.HorizontalPodAutoscalerConditionType, s corev1.ConditionStatus, reason, msg string, args ...any) {
		out.Conditions = setHPACondition(out.Conditions, t, s, reason, fmt.Sprintf(msg, args...), in.Now)
	}
	cond(autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededGetScale", "the HPA controller was able to get the target's current scale")
	minReplicas := ptrOr(h.Spec.MinReplicas, 1)
	current := in.CurrentReplicas
	desired := current
	switch {
	case current == 0 && minReplicas != 0:
		cond(autoscalingv2.ScalingActive, corev1.ConditionFalse, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero")
		out.Desired = current
		return out
	case current > h.Spec.MaxReplicas:
		out.Reason = "Current number of replicas above Spec.MaxReplicas"
		desired = h.Spec.MaxReplicas
	case current < minReplicas:
		out.Reason = "Current number of replicas below Spec.MinReplicas"
		desired = minReplicas
	default:
		proposal, metricName, statuses, err := computeReplicasForMetrics(in, &out, cond)
		out.MetricStatuses = statuses
		if err != nil {
			out.Err = err
			out.Desired = current
			return out
		}
		desired = proposal
		switch {
		case desired > current:
			out.Reason = metricName + " above target"
		case desired < current:
			out.Reason = "All metrics below target"
		}
		desired = normalizeWithBehaviors(in, desired, minReplicas, &out, cond)
	}
	out.Desired = desired
	out.Rescale = desired != current
	return out
}

// computeReplicasForMetrics takes the largest proposal over the HPA's
// metrics. Invalid metrics make it fail when all are invalid, or when some
// are and the others would scale down.
func computeReplicasForMetrics(in hpaInput, out *hpaDecision, cond func(autoscalingv2.HorizontalPodAutoscalerConditionType, corev1.ConditionStatus, string, string, ...any)) (int32, string, []autoscalingv2.MetricStatus, error) {
	var (
		replicas   int32
		name       string
		statuses   []autoscalingv2.MetricStatus
		invalid    int
		firstErr   error
		firstCause string
	)
	for _, spec := range in.HPA.Spec.Metrics {
		proposal, st, metricName, err := replicasForMetric(in, spec)
		if err != nil {
			if invalid == 0 {
				firstErr = err
				firstCause = "FailedGetResourceMetric"
				if spec.Type == autoscalingv2.ContainerResourceMetricSourceType {
					firstCause = "FailedGetContainerResourceMetric"
				}
				out.Events = append(out.Events, hpaEvent{corev1.EventTypeWarning, firstCause, err.Error()})
			}
			invalid++
			continue
		}
		statuses = append(statuses, st)
		if replicas == 0 || proposal > replicas {
			replicas, name = proposal, metricName
		}
	}
	if invalid > 0 && (invalid >= len(in.HPA.Spec.Metrics) || replicas < in.CurrentReplicas) {
		cond(autoscalingv2.ScalingActive, corev1.ConditionFalse, firstCause, "the HPA was unable to compute the replica count: %v", firstErr)
		err := fmt.Errorf("invalid metrics (%d invalid out of %d), first error is: %w", invalid, len(in.HPA.Spec.Metrics), firstErr)
		out.Events = append(out.Events, hpaEvent{corev1.EventTypeWarning, "FailedComputeMetricsReplicas", err.Error()})
		return 0, "", statuses, err
	}
	cond(autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound", "the HPA was able to successfully calculate a replica count from %s", name)
	return replicas, name, statuses, nil
}

// replicasForMetric handles one Resource or ContainerResource metric.
func replicasForMetric(in hpaInput, spec autoscalingv2.MetricSpec) (int32, autoscalingv2.MetricStatus, string, error) {
	var res corev1.ResourceName
	var target autoscalingv2.MetricTarget
	container := ""
	switch spec.Type {
	case autoscalingv2.ResourceMetricSourceType:
		if spec.Resource == nil {
			return 0, autoscalingv2.MetricStatus{}, "", errors.New("resource metric without a resource")
		}
		res, target = spec.Resource.Name, spec.Resource.Target
	case autoscalingv2.ContainerResourceMetricSourceType:
		if spec.ContainerResource == nil {
			return 0, autoscalingv2.MetricStatus{}, "", errors.New("container resource metric without a resource")
		}
		res, target, container = spec.ContainerResource.Name, spec.ContainerResource.Target, spec.ContainerResource.Container
	default:
		return 0, autoscalingv2.MetricStatus{}, "", fmt.Errorf("metric type %s is not supported by Weft's HPA (Resource and ContainerResource are)", spec.Type)
	}
	if in.UsageErr != nil {
		return 0, autoscalingv2.MetricStatus{}, "", fmt.Errorf("failed to get %s resource metric value: %w", res, in.UsageErr)
	}
	metrics := usageOf(in.Usage, res, container)
	if len(metrics) == 0 {
		return 0, autoscalingv2.MetricStatus{}, "", fmt.Errorf("failed to get %s resource metric value: unable to get metrics for resource %s: no metrics returned from resource metrics API", res, res)
	}
	if len(in.Pods) == 0 {
		return 0, autoscalingv2.MetricStatus{}, "", fmt.Errorf("failed to get %s resource metric value: no pods returned by selector while calculating replica count", res)
	}
	g := groupPods(in.Pods, metrics, samples(in.Usage), res, in.Params, in.Now)
	for p := range g.ignored {
		delete(metrics, p)
	}
	for p := range g.unready {
		delete(metrics, p)
	}
	if len(metrics) == 0 {
		return 0, autoscalingv2.MetricStatus{}, "", fmt.Errorf("failed to get %s resource metric value: did not receive metrics for targeted pods (pods might be unready)", res)
	}
	st := autoscalingv2.MetricStatus{Type: spec.Type}
	current := autoscalingv2.MetricValueStatus{}
	var name string
	var replicas int32
	switch {
	case target.Type == autoscalingv2.UtilizationMetricType && target.AverageUtilization != nil:
		requests, err := podRequests(in.Pods, res, container)
		if err != nil {
			return 0, autoscalingv2.MetricStatus{}, "", fmt.Errorf("failed to get %s utilization: %w", res, err)
		}
		t := *target.AverageUtilization
		ratio := func(m map[string]int64) (float64, int32, int64, error) { return utilizationRatio(m, requests, t) }
		r, util, raw, err := ratio(metrics)
		if err != nil {
			return 0, autoscalingv2.MetricStatus{}, "", fmt.Errorf("failed to get %s utilization: %w", res, err)
		}
		fill := func(pod string) int64 { return requests[pod] * int64(max(100, t)) / 100 }
		replicas = calcReplicas(in, metrics, g, r, func(m map[string]int64) float64 { x, _, _, _ := ratio(m); return x }, fill)
		current.AverageUtilization = new(util)
		current.AverageValue = resource.NewMilliQuantity(raw, resource.DecimalSI)
		name = fmt.Sprintf("%s resource utilization (percentage of request)", res)
	case target.Type == autoscalingv2.AverageValueMetricType && target.AverageValue != nil:
		t := target.AverageValue.MilliValue()
		if t <= 0 {
			return 0, autoscalingv2.MetricStatus{}, "", fmt.Errorf("invalid target average value %s for %s", target.AverageValue, res)
		}
		ratio := func(m map[string]int64) float64 {
			var sum int64
			for _, v := range m {
				sum += v
			}
			return float64(sum) / float64(len(m)) / float64(t)
		}
		var sum int64
		for _, v := range metrics {
			sum += v
		}
		replicas = calcReplicas(in, metrics, g, ratio(metrics), ratio, func(string) int64 { return t })
		current.AverageValue = resource.NewMilliQuantity(sum/int64(len(metrics)), resource.DecimalSI)
		name = fmt.Sprintf("%s resource", res)
	default:
		return 0, autoscalingv2.MetricStatus{}, "", fmt.Errorf("invalid %s metric target: want averageUtilization or averageValue", res)
	}
	if spec.Type == autoscalingv2.ResourceMetricSourceType {
		st.Resource = &autoscalingv2.ResourceMetricStatus{Name: res, Current: current}
	} else {
		st.ContainerResource = &autoscalingv2.ContainerResourceMetricStatus{Name: res, Container: container, Current: current}
		name = fmt.Sprintf("%s container resource", container) + name[len(string(res)):]
	}
	return replicas, st, name, nil
}

// usageOf is each pod's usage of res in milli-units (summed over its
// containers, or of one container).
func usageOf(usage []PodUsage, res corev1.ResourceName, container string) map[string]int64 {
	out := map[string]int64{}
	for _, u := range usage {
		var sum int64
		found := false
		for c, rl := range u.Containers {
			if container != "" && c != container {
				continue
			}
			if q, ok := rl[res]; ok {
				sum += q.MilliValue()
				found = true
			}
		}
		if found {
			out[u.Name] = sum
		}
	}
	return out
}

// podRequests sums the containers' requests of res per pod (app
// containers and sidecars, i.e. init containers with restartPolicy Always);
// a container without one is an error, as upstream.
func podRequests(pods []*corev1.Pod, res corev1.ResourceName, container string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, p := range pods {
		var sum int64
		containers := slices.Clone(p.Spec.Containers)
		for _, c := range p.Spec.InitContainers {
			if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
				containers = append(containers, c)
			}
		}
		for _, c := range containers {
			if container != "" && c.Name != container {
				continue
			}
			q, ok := c.Resources.Requests[res]
			if !ok {
				return nil, fmt.Errorf("missing request for %s in container %s of Pod %s", res, c.Name, p.Name)
			}
			sum += q.MilliValue()
		}
		out[p.Name] = sum
	}
	return out, nil
}

// utilizationRatio is upstream's GetResourceUtilizationRatio.
func utilizationRatio(metrics, requests map[string]int64, target int32) (float64, int32, int64, error) {
	var mt, rt int64
	n := 0
	for p, m := range metrics {
		r, ok := requests[p]
		if !ok {
			continue
		}
		mt += m
		rt += r
		n++
	}
	if rt == 0 || n == 0 {
		return 0, 0, 0, errors.New("no metrics returned matched known pods")
	}
	util := int32(mt * 100 / rt)
	return float64(util) / float64(target), util, mt / int64(n), nil
}

// podGroups is upstream's groupPods.
type podGroups struct {
	ready                     int
	unready, missing, ignored map[string]bool
}

func samples(usage []PodUsage) map[string]PodUsage {
	out := make(map[string]PodUsage, len(usage))
	for _, u := range usage {
		out[u.Name] = u
	}
	return out
}

func groupPods(pods []*corev1.Pod, metrics map[string]int64, sample map[string]PodUsage, res corev1.ResourceName, p hpaParams, now time.Time) podGroups {
	g := podGroups{unready: map[string]bool{}, missing: map[string]bool{}, ignored: map[string]bool{}}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil || pod.Status.Phase == corev1.PodFailed {
			g.ignored[pod.Name] = true
			continue
		}
		if pod.Status.Phase == corev1.PodPending {
			g.unready[pod.Name] = true
			continue
		}
		if _, ok := metrics[pod.Name]; !ok {
			g.missing[pod.Name] = true
			continue
		}
		if res == corev1.ResourceCPU {
			c := podReadyCondition(pod)
			unready := c == nil || pod.Status.StartTime == nil
			if !unready {
				if pod.Status.StartTime.Add(p.CPUInit).After(now) {
					// Young pods count once they have been ready for a
					// whole sample window (the metric is not from start-up).
					s := sample[pod.Name]
					unready = c.Status == corev1.ConditionFalse || s.Timestamp.Before(c.LastTransitionTime.Add(s.Window))
				} else {
					unready = c.Status == corev1.ConditionFalse && pod.Status.StartTime.Add(p.ReadinessDelay).After(c.LastTransitionTime.Time)
				}
			}
			if unready {
				g.unready[pod.Name] = true
				continue
			}
		}
		g.ready++
	}
	return g
}

// calcReplicas is the shared core of upstream's resource and plain
// replica calculations: the ratio of usage to target times the ready
// pods, within tolerance; when pods are missing metrics or unready, the
// ratio is recomputed assuming they would dampen the change, and a
// change that would flip direction is dropped.
func calcReplicas(in hpaInput, metrics map[string]int64, g podGroups, usageRatio float64, ratio func(map[string]int64) float64, fillBelow func(pod string) int64) int32 {
	current := in.CurrentReplicas
	tol := hpaTolerance(in, usageRatio)
	scaleUpWithUnready := len(g.unready) > 0 && usageRatio > 1.0
	if !scaleUpWithUnready && len(g.missing) == 0 {
		if math.Abs(1.0-usageRatio) <= tol {
			return current
		}
		return int32(math.Ceil(usageRatio * float64(g.ready)))
	}
	m := make(map[string]int64, len(metrics)+len(g.missing)+len(g.unready))
	for k, v := range metrics {
		m[k] = v
	}
	if len(g.missing) > 0 {
		for p := range g.missing {
			switch {
			case usageRatio < 1.0:
				m[p] = fillBelow(p)
			case usageRatio > 1.0:
				m[p] = 0
			}
		}
	}
	if scaleUpWithUnready {
		for p := range g.unready {
			m[p] = 0
		}
	}
	newRatio := ratio(m)
	tol = hpaTolerance(in, newRatio)
	if math.Abs(1.0-newRatio) <= tol || (usageRatio < 1.0 && newRatio > 1.0) || (usageRatio > 1.0 && newRatio < 1.0) {
		return current
	}
	n := int32(math.Ceil(newRatio * float64(len(m))))
	if (newRatio < 1.0 && n > current) || (newRatio > 1.0 && n < current) {
		return current
	}
	return n
}

// hpaTolerance is the behavior's tolerance for the direction, else the controller's.
func hpaTolerance(in hpaInput, ratio float64) float64 {
	b := in.HPA.Spec.Behavior
	if b != nil {
		r := b.ScaleDown
		if ratio > 1.0 {
			r = b.ScaleUp
		}
		if r != nil && r.Tolerance != nil {
			return r.Tolerance.AsApproximateFloat64()
		}
	}
	return in.Params.Tolerance
}

// behavior is the HPA's behavior with defaults, the scale-down
// stabilization window from the controller's flag when not set.
func behavior(h *autoscalingv2.HorizontalPodAutoscaler, p hpaParams) *autoscalingv2.HorizontalPodAutoscalerBehavior {
	b := h.Spec.Behavior.DeepCopy()
	if b == nil {
		b = &autoscalingv2.HorizontalPodAutoscalerBehavior{}
	}
	if b.ScaleDown == nil {
		b.ScaleDown = &autoscalingv2.HPAScalingRules{}
	}
	if b.ScaleDown.StabilizationWindowSeconds == nil {
		b.ScaleDown.StabilizationWindowSeconds = new(int32(p.DownscaleStabilization / time.Second))
	}
	return api.DefaultHPABehavior(b)
}

// normalizeWithBehaviors is upstream's normalizeDesiredReplicasWithBehaviors:
// stabilize over the windows, then limit the rate by the policies and
// bound by min and max.
func normalizeWithBehaviors(in hpaInput, desired, minReplicas int32, out *hpaDecision, cond func(autoscalingv2.HorizontalPodAutoscalerConditionType, corev1.ConditionStatus, string, string, ...any)) int32 {
	b := behavior(in.HPA, in.Params)
	now := in.Now
	upWin := time.Duration(ptrOr(b.ScaleUp.StabilizationWindowSeconds, 0)) * time.Second
	downWin := time.Duration(ptrOr(b.ScaleDown.StabilizationWindowSeconds, 0)) * time.Second
	up, down := desired, desired
	var recs []timedValue
	for _, r := range in.History.Recommendations {
		if r.At.After(now.Add(-upWin)) {
			up = min(up, r.Value)
		}
		if r.At.After(now.Add(-downWin)) {
			down = max(down, r.Value)
		}
		if r.At.After(now.Add(-max(upWin, downWin))) {
			recs = append(recs, r)
		}
	}
	out.History.Recommendations = append(recs, timedValue{At: now, Value: desired})
	stabilized := in.CurrentReplicas
	if stabilized < up {
		stabilized = up
	}
	if stabilized > down {
		stabilized = down
	}
	switch {
	case stabilized < desired:
		cond(autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation")
	case stabilized > desired:
		cond(autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation")
	default:
		cond(autoscalingv2.AbleToScale, corev1.ConditionTrue, "ReadyForNewScale", "recommended size matches current size")
	}
	final, reason, msg := limitRate(in, b, stabilized, minReplicas)
	if final == stabilized {
		cond(autoscalingv2.ScalingLimited, corev1.ConditionFalse, reason, "%s", msg)
	} else {
		cond(autoscalingv2.ScalingLimited, corev1.ConditionTrue, reason, "%s", msg)
	}
	return final
}

// limitRate is upstream's convertDesiredReplicasWithBehaviorRate.
func limitRate(in hpaInput, b *autoscalingv2.HorizontalPodAutoscalerBehavior, desired, minReplicas int32) (int32, string, string) {
	current, maxReplicas := in.CurrentReplicas, in.HPA.Spec.MaxReplicas
	switch {
	case desired > current:
		limit := max(scaleUpLimit(current, in.History, b.ScaleUp, in.Now), current)
		allowed, reason, msg := maxReplicas, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
		if allowed > limit {
			allowed, reason, msg = limit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"
		}
		if desired > allowed {
			return allowed, reason, msg
		}
	case desired < current:
		limit := min(scaleDownLimit(current, in.History, b.ScaleDown, in.Now), current)
		allowed, reason, msg := minReplicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
		if allowed < limit {
			allowed, reason, msg = limit, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"
		}
		if desired < allowed {
			return allowed, reason, msg
		}
	}
	return desired, "DesiredWithinRange", "the desired count is within the acceptable range"
}

func changeInPeriod(events []timedValue, period int32, now time.Time) int32 {
	var n int32
	cut := now.Add(-time.Duration(period) * time.Second)
	for _, e := range events {
		if e.At.After(cut) {
			n += e.Value
		}
	}
	return n
}

func scaleUpLimit(current int32, h hpaHistory, r *autoscalingv2.HPAScalingRules, now time.Time) int32 {
	sel := ptrOr(r.SelectPolicy, autoscalingv2.MaxChangePolicySelect)
	if sel == autoscalingv2.DisabledPolicySelect {
		return current
	}
	result := int32(math.MinInt32)
	pick := func(a, b int32) int32 { return max(a, b) }
	if sel == autoscalingv2.MinChangePolicySelect {
		result = math.MaxInt32
		pick = func(a, b int32) int32 { return min(a, b) }
	}
	for _, p := range r.Policies {
		start := current - changeInPeriod(h.ScaleUps, p.PeriodSeconds, now) + changeInPeriod(h.ScaleDowns, p.PeriodSeconds, now)
		var proposed int32
		switch p.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start + p.Value
		case autoscalingv2.PercentScalingPolicy:
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		result = pick(result, proposed)
	}
	return result
}

func scaleDownLimit(current int32, h hpaHistory, r *autoscalingv2.HPAScalingRules, now time.Time) int32 {
	sel := ptrOr(r.SelectPolicy, autoscalingv2.MaxChangePolicySelect)
	if sel == autoscalingv2.DisabledPolicySelect {
		return current
	}
	result := int32(math.MaxInt32)
	pick := func(a, b int32) int32 { return min(a, b) }
	if sel == autoscalingv2.MinChangePolicySelect {
		result = math.MinInt32
		pick = func(a, b int32) int32 { return max(a, b) }
	}
	for _, p := range r.Policies {
		start := current - changeInPeriod(h.ScaleUps, p.PeriodSeconds, now) + changeInPeriod(h.ScaleDowns, p.PeriodSeconds, now)
		var proposed int32
		switch p.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start - p.Value
		case autoscalingv2.PercentScalingPolicy:
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		}
		result = pick(result, proposed)
	}
	return result
}

// recordScale adds a scale event to the history, dropping those older
// than every policy period.
func (h hpaHistory) recordScale(b *autoscalingv2.HorizontalPodAutoscalerBehavior, from, to int32, now time.Time) hpaHistory {
	longest := func(r *autoscalingv2.HPAScalingRules) time.Duration {
		var d int32
		if r != nil {
			for _, p := range r.Policies {
				d = max(d, p.PeriodSeconds)
			}
		}
		return time.Duration(d) * time.Second
	}
	prune := func(evs []timedValue, keep time.Duration) []timedValue {
		var out []timedValue
		for _, e := range evs {
			if e.At.After(now.Add(-keep)) {
				out = append(out, e)
			}
		}
		return out
	}
	h.ScaleUps = prune(h.ScaleUps, longest(b.ScaleUp))
	h.ScaleDowns = prune(h.ScaleDowns, longest(b.ScaleDown))
	if to > from {
		h.ScaleUps = append(h.ScaleUps, timedValue{At: now, Value: to - from})
	} else if to < from {
		h.ScaleDowns = append(h.ScaleDowns, timedValue{At: now, Value: from - to})
	}
	return h
}

// setHPACondition sets a condition, keeping its transition time when the
// status did not change.
func setHPACondition(cs []autoscalingv2.HorizontalPodAutoscalerCondition, t autoscalingv2.HorizontalPodAutoscalerConditionType, s corev1.ConditionStatus, reason, msg string, now time.Time) []autoscalingv2.HorizontalPodAutoscalerCondition {
	for i := range cs {
		if cs[i].Type != t {
			continue
		}
		if cs[i].Status != s {
			cs[i].LastTransitionTime = metav1.NewTime(now)
		}
		cs[i].Status, cs[i].Reason, cs[i].Message = s, reason, msg
		return cs
	}
	return append(cs, autoscalingv2.HorizontalPodAutoscalerCondition{Type: t, Status: s, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(now)})
}
