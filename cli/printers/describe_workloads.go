package printers

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// controlledByOwner reports whether owner (of kind) is obj's controller: by
// UID when both have one, else by name; always in the same namespace.
func controlledByOwner(obj, owner metav1.Object, kind string) bool {
	ref := metav1.GetControllerOf(obj)
	if ref == nil || ref.Kind != kind || obj.GetNamespace() != owner.GetNamespace() {
		return false
	}
	if ref.UID != "" && owner.GetUID() != "" {
		return ref.UID == owner.GetUID()
	}
	return ref.Name == owner.GetName()
}

// podCounts counts the related pods owner controls by phase, for the
// "Pods Status" line.
func (d *describer) podCounts(owner metav1.Object, kind string) (running, waiting, succeeded, failed int) {
	for _, obj := range d.related {
		pod, ok := obj.(*corev1.Pod)
		if !ok || !controlledByOwner(pod, owner, kind) {
			continue
		}
		switch pod.Status.Phase {
		case corev1.PodRunning:
			running++
		case corev1.PodPending:
			waiting++
		case corev1.PodSucceeded:
			succeeded++
		case corev1.PodFailed:
			failed++
		}
	}
	return running, waiting, succeeded, failed
}

func (d *describer) writePodsStatus(w *prefixWriter, owner metav1.Object, kind string) {
	running, waiting, succeeded, failed := d.podCounts(owner, kind)
	w.write(level0, "Pods Status:\t%d Running / %d Waiting / %d Succeeded / %d Failed\n", running, waiting, succeeded, failed)
}

func writeConditions[C any](w *prefixWriter, conditions []C, cells func(C) (t, status, reason string)) {
	if len(conditions) == 0 {
		return
	}
	w.write(level0, "Conditions:\n  Type\tStatus\tReason\n")
	w.write(level1, "----\t------\t------\n")
	for _, c := range conditions {
		t, status, reason := cells(c)
		w.write(level1, "%v \t%v\t%v\n", t, status, reason)
	}
}

// deployment is kubectl's describeDeployment; old and new replica sets
// come from the related ReplicaSets the deployment controls.
func (d *describer) deployment(dep *appsv1.Deployment) string {
	oldRSs, newRS := d.deploymentReplicaSets(dep)
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", dep.Name)
		w.write(level0, "Namespace:\t%s\n", dep.Namespace)
		w.write(level0, "CreationTimestamp:\t%s\n", formatTime(dep.CreationTimestamp))
		printLabels(w, "Labels", dep.Labels)
		printAnnotations(w, "Annotations", dep.Annotations)
		w.write(level0, "Selector:\t%s\n", selectorString(dep.Spec.Selector))
		w.write(level0, "Replicas:\t%d desired | %d updated | %d total | %d available | %d unavailable\n",
			replicas(dep.Spec.Replicas), dep.Status.UpdatedReplicas, dep.Status.Replicas, dep.Status.AvailableReplicas, dep.Status.UnavailableReplicas)
		w.write(level0, "StrategyType:\t%s\n", dep.Spec.Strategy.Type)
		w.write(level0, "MinReadySeconds:\t%d\n", dep.Spec.MinReadySeconds)
		if ru := dep.Spec.Strategy.RollingUpdate; ru != nil {
			w.write(level0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge\n", ru.MaxUnavailable.String(), ru.MaxSurge.String())
		}
		describePodTemplate(w, &dep.Spec.Template)
		writeConditions(w, dep.Status.Conditions, func(c appsv1.DeploymentCondition) (string, string, string) {
			return string(c.Type), string(c.Status), c.Reason
		})
		if len(oldRSs) > 0 || newRS != nil {
			var newRSs []*appsv1.ReplicaSet
			if newRS != nil {
				newRSs = append(newRSs, newRS)
			}
			w.write(level0, "OldReplicaSets:\t%s\n", replicaSetsString(oldRSs))
			w.write(level0, "NewReplicaSet:\t%s\n", replicaSetsString(newRSs))
		}
		d.describeEvents(w)
	})
}

// podTemplateHashLabel is the label the deployment controller adds to the
// pod template of each replica set.
const podTemplateHashLabel = "pod-template-hash"

// deploymentReplicaSets splits the related replica sets the deployment
// controls into old ones and the new one (the oldest whose pod template is
// the deployment's, ignoring the template hash), as kubectl does.
func (d *describer) deploymentReplicaSets(dep *appsv1.Deployment) (old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) {
	var owned []*appsv1.ReplicaSet
	for _, obj := range d.related {
		if rs, ok := obj.(*appsv1.ReplicaSet); ok && controlledByOwner(rs, dep, "Deployment") {
			owned = append(owned, rs)
		}
	}
	sort.SliceStable(owned, func(i, j int) bool {
		ti, tj := owned[i].CreationTimestamp, owned[j].CreationTimestamp
		if ti.Equal(&tj) {
			return owned[i].Name < owned[j].Name
		}
		return ti.Before(&tj)
	})
	for _, rs := range owned {
		if newRS == nil && equalIgnoreHash(&rs.Spec.Template, &dep.Spec.Template) {
			newRS = rs
			continue
		}
		old = append(old, rs)
	}
	return old, newRS
}

func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, podTemplateHashLabel)
	delete(b.Labels, podTemplateHashLabel)
	return equality.Semantic.DeepEqual(a, b)
}

func replicaSetsString(rss []*appsv1.ReplicaSet) string {
	if len(rss) == 0 {
		return "<none>"
	}
	s := make([]string, len(rss))
	for i, rs := range rss {
		s[i] = fmt.Sprintf("%s (%d/%d replicas created)", rs.Name, rs.Status.Replicas, replicas(rs.Spec.Replicas))
	}
	return strings.Join(s, ", ")
}

// replicaSet is kubectl's describeReplicaSet; the pods status line counts
// the related pods it controls.
func (d *describer) replicaSet(rs *appsv1.ReplicaSet) string {
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", rs.Name)
		w.write(level0, "Namespace:\t%s\n", rs.Namespace)
		w.write(level0, "Selector:\t%s\n", metav1.FormatLabelSelector(rs.Spec.Selector))
		printLabels(w, "Labels", rs.Labels)
		printAnnotations(w, "Annotations", rs.Annotations)
		if c := controlledBy(rs); c != "" {
			w.write(level0, "Controlled By:\t%s\n", c)
		}
		w.write(level0, "Replicas:\t%d current / %d desired\n", rs.Status.Replicas, replicas(rs.Spec.Replicas))
		d.writePodsStatus(w, rs, "ReplicaSet")
		describePodTemplate(w, &rs.Spec.Template)
		writeConditions(w, rs.Status.Conditions, func(c appsv1.ReplicaSetCondition) (string, string, string) {
			return string(c.Type), string(c.Status), c.Reason
		})
		d.describeEvents(w)
	})
}

func (d *describer) replicationController(rc *corev1.ReplicationController) string {
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", rc.Name)
		w.write(level0, "Namespace:\t%s\n", rc.Namespace)
		w.write(level0, "Selector:\t%s\n", labels.FormatLabels(rc.Spec.Selector))
		printLabels(w, "Labels", rc.Labels)
		printAnnotations(w, "Annotations", rc.Annotations)
		w.write(level0, "Replicas:\t%d current / %d desired\n", rc.Status.Replicas, replicas(rc.Spec.Replicas))
		d.writePodsStatus(w, rc, "ReplicationController")
		describePodTemplate(w, rc.Spec.Template)
		writeConditions(w, rc.Status.Conditions, func(c corev1.ReplicationControllerCondition) (string, string, string) {
			return string(c.Type), string(c.Status), c.Reason
		})
		d.describeEvents(w)
	})
}

func (d *describer) statefulSet(s *appsv1.StatefulSet) string {
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", s.Name)
		w.write(level0, "Namespace:\t%s\n", s.Namespace)
		w.write(level0, "CreationTimestamp:\t%s\n", formatTime(s.CreationTimestamp))
		w.write(level0, "Selector:\t%s\n", selectorString(s.Spec.Selector))
		printLabels(w, "Labels", s.Labels)
		printAnnotations(w, "Annotations", s.Annotations)
		w.write(level0, "Replicas:\t%d desired | %d total\n", replicas(s.Spec.Replicas), s.Status.Replicas)
		w.write(level0, "Update Strategy:\t%s\n", s.Spec.UpdateStrategy.Type)
		if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
			w.write(level1, "Partition:\t%d\n", *ru.Partition)
			if ru.MaxUnavailable != nil {
				w.write(level1, "MaxUnavailable:\t%s\n", ru.MaxUnavailable.String())
			}
		}
		d.writePodsStatus(w, s, "StatefulSet")
		describePodTemplate(w, &s.Spec.Template)
		if len(s.Spec.VolumeClaimTemplates) == 0 {
			w.write(level0, "Volume Claims:\t<none>\n")
		} else {
			w.write(level0, "Volume Claims:\n")
			for _, pvc := range s.Spec.VolumeClaimTemplates {
				w.write(level1, "Name:\t%s\n", pvc.Name)
				w.write(level1, "StorageClass:\t%s\n", pvcClass(&pvc))
				printLabelsIndent(w, "  ", "Labels", "\t", pvc.Labels)
				printLabelsIndent(w, "  ", "Annotations", "\t", pvc.Annotations)
				if q, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
					w.write(level1, "Capacity:\t%s\n", q.String())
				} else {
					w.write(level1, "Capacity:\t<default>\n")
				}
				w.write(level1, "Access Modes:\t%s\n", pvc.Spec.AccessModes)
			}
		}
		d.describeEvents(w)
	})
}

func (d *describer) daemonSet(ds *appsv1.DaemonSet) string {
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", ds.Name)
		w.write(level0, "Namespace:\t%s\n", ds.Namespace)
		w.write(level0, "Selector:\t%s\n", selectorString(ds.Spec.Selector))
		w.write(level0, "Node-Selector:\t%s\n", labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector))
		printLabels(w, "Labels", ds.Labels)
		printAnnotations(w, "Annotations", ds.Annotations)
		w.write(level0, "Desired Number of Nodes Scheduled: %d\n", ds.Status.DesiredNumberScheduled)
		w.write(level0, "Current Number of Nodes Scheduled: %d\n", ds.Status.CurrentNumberScheduled)
		w.write(level0, "Number of Nodes Scheduled with Up-to-date Pods: %d\n", ds.Status.UpdatedNumberScheduled)
		w.write(level0, "Number of Nodes Scheduled with Available Pods: %d\n", ds.Status.NumberAvailable)
		w.write(level0, "Number of Nodes Misscheduled: %d\n", ds.Status.NumberMisscheduled)
		d.writePodsStatus(w, ds, "DaemonSet")
		describePodTemplate(w, &ds.Spec.Template)
		d.describeEvents(w)
	})
}

func (d *describer) job(j *batchv1.Job) string {
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", j.Name)
		w.write(level0, "Namespace:\t%s\n", j.Namespace)
		w.write(level0, "Selector:\t%s\n", selectorString(j.Spec.Selector))
		printLabels(w, "Labels", j.Labels)
		printAnnotations(w, "Annotations", j.Annotations)
		if c := controlledBy(j); c != "" {
			w.write(level0, "Controlled By:\t%s\n", c)
		}
		if j.Spec.Parallelism != nil {
			w.write(level0, "Parallelism:\t%d\n", *j.Spec.Parallelism)
		}
		if j.Spec.Completions != nil {
			w.write(level0, "Completions:\t%d\n", *j.Spec.Completions)
		} else {
			w.write(level0, "Completions:\t<unset>\n")
		}
		if j.Spec.CompletionMode != nil {
			w.write(level0, "Completion Mode:\t%s\n", *j.Spec.CompletionMode)
		}
		if j.Spec.Suspend != nil {
			w.write(level0, "Suspend:\t%v\n", *j.Spec.Suspend)
		}
		if j.Spec.BackoffLimit != nil {
			w.write(level0, "Backoff Limit:\t%v\n", *j.Spec.BackoffLimit)
		}
		if j.Spec.TTLSecondsAfterFinished != nil {
			w.write(level0, "TTL Seconds After Finished:\t%v\n", *j.Spec.TTLSecondsAfterFinished)
		}
		if j.Status.StartTime != nil {
			w.write(level0, "Start Time:\t%s\n", formatTime(*j.Status.StartTime))
		}
		if j.Status.CompletionTime != nil {
			w.write(level0, "Completed At:\t%s\n", formatTime(*j.Status.CompletionTime))
		}
		if j.Status.StartTime != nil && j.Status.CompletionTime != nil {
			w.write(level0, "Duration:\t%s\n", HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time)))
		}
		if j.Spec.ActiveDeadlineSeconds != nil {
			w.write(level0, "Active Deadline Seconds:\t%ds\n", *j.Spec.ActiveDeadlineSeconds)
		}
		if j.Status.Ready == nil {
			w.write(level0, "Pods Statuses:\t%d Active / %d Succeeded / %d Failed\n", j.Status.Active, j.Status.Succeeded, j.Status.Failed)
		} else {
			w.write(level0, "Pods Statuses:\t%d Active (%d Ready) / %d Succeeded / %d Failed\n", j.Status.Active, *j.Status.Ready, j.Status.Succeeded, j.Status.Failed)
		}
		describePodTemplate(w, &j.Spec.Template)
		d.describeEvents(w)
	})
}

// hpa is kubectl's describeHorizontalPodAutoscalerV2.
func (d *describer) hpa(hpa *autoscalingv2.HorizontalPodAutoscaler) string {
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", hpa.Name)
		w.write(level0, "Namespace:\t%s\n", hpa.Namespace)
		printLabels(w, "Labels", hpa.Labels)
		printAnnotations(w, "Annotations", hpa.Annotations)
		w.write(level0, "CreationTimestamp:\t%s\n", formatTime(hpa.CreationTimestamp))
		w.write(level0, "Reference:\t%s/%s\n", hpa.Spec.ScaleTargetRef.Kind, hpa.Spec.ScaleTargetRef.Name)
		w.write(level0, "Metrics:\t( current / target )\n")
		for i, m := range hpa.Spec.Metrics {
			var st *autoscalingv2.MetricStatus
			if i < len(hpa.Status.CurrentMetrics) {
				st = &hpa.Status.CurrentMetrics[i]
			}
			describeHPAMetric(w, m, st)
		}
		minReplicas := "<unset>"
		if hpa.Spec.MinReplicas != nil {
			minReplicas = itoa(*hpa.Spec.MinReplicas)
		}
		w.write(level0, "Min replicas:\t%s\n", minReplicas)
		w.write(level0, "Max replicas:\t%d\n", hpa.Spec.MaxReplicas)
		if b := hpa.Spec.Behavior; b != nil {
			w.write(level0, "Behavior:\n")
			describeScalingRules(w, "Scale Up", b.ScaleUp)
			describeScalingRules(w, "Scale Down", b.ScaleDown)
		}
		w.write(level0, "%s pods:\t", hpa.Spec.ScaleTargetRef.Kind)
		w.write(level0, "%d current / %d desired\n", hpa.Status.CurrentReplicas, hpa.Status.DesiredReplicas)
		if len(hpa.Status.Conditions) > 0 {
			w.write(level0, "Conditions:\n")
			w.write(level1, "Type\tStatus\tReason\tMessage\n")
			w.write(level1, "----\t------\t------\t-------\n")
			for _, c := range hpa.Status.Conditions {
				w.write(level1, "%v\t%v\t%v\t%v\n", c.Type, c.Status, c.Reason, c.Message)
			}
		}
		d.describeEvents(w)
	})
}

func describeHPAMetric(w *prefixWriter, m autoscalingv2.MetricSpec, st *autoscalingv2.MetricStatus) {
	unknown := "<unknown>"
	switch m.Type {
	case autoscalingv2.ExternalMetricSourceType:
		if m.External == nil {
			break
		}
		current := unknown
		if m.External.Target.AverageValue != nil {
			if st != nil && st.External != nil && st.External.Current.AverageValue != nil {
				current = st.External.Current.AverageValue.String()
			}
			w.write(level1, "%q (target average value):\t%s / %s\n", m.External.Metric.Name, current, m.External.Target.AverageValue.String())
		} else {
			if st != nil && st.External != nil {
				current = st.External.Current.Value.String()
			}
			w.write(level1, "%q (target value):\t%s / %s\n", m.External.Metric.Name, current, m.External.Target.Value.String())
		}
		return
	case autoscalingv2.PodsMetricSourceType:
		if m.Pods == nil {
			break
		}
		current := unknown
		if st != nil && st.Pods != nil {
			current = st.Pods.Current.AverageValue.String()
		}
		w.write(level1, "%q on pods:\t%s / %s\n", m.Pods.Metric.Name, current, m.Pods.Target.AverageValue.String())
		return
	case autoscalingv2.ObjectMetricSourceType:
		if m.Object == nil {
			break
		}
		w.write(level1, "%q on %s/%s ", m.Object.Metric.Name, m.Object.DescribedObject.Kind, m.Object.DescribedObject.Name)
		current := unknown
		if m.Object.Target.Type == autoscalingv2.AverageValueMetricType {
			if st != nil && st.Object != nil {
				current = st.Object.Current.AverageValue.String()
			}
			w.write(level0, "(target average value):\t%s / %s\n", current, m.Object.Target.AverageValue.String())
		} else {
			if st != nil && st.Object != nil {
				current = st.Object.Current.Value.String()
			}
			w.write(level0, "(target value):\t%s / %s\n", current, m.Object.Target.Value.String())
		}
		return
	case autoscalingv2.ResourceMetricSourceType:
		if m.Resource == nil {
			break
		}
		w.write(level1, "resource %s on pods", m.Resource.Name)
		describeResourceMetric(w, m.Resource.Target, resourceCurrent(st, false))
		return
	case autoscalingv2.ContainerResourceMetricSourceType:
		if m.ContainerResource == nil {
			break
		}
		w.write(level1, "resource %s of container \"%s\" on pods", m.ContainerResource.Name, m.ContainerResource.Container)
		describeResourceMetric(w, m.ContainerResource.Target, resourceCurrent(st, true))
		return
	}
	w.write(level1, "<unknown metric type %q>\n", string(m.Type))
}

func describeResourceMetric(w *prefixWriter, target autoscalingv2.MetricTarget, current *autoscalingv2.MetricValueStatus) {
	cur := "<unknown>"
	if target.AverageValue != nil {
		if current != nil && current.AverageValue != nil {
			cur = current.AverageValue.String()
		}
		w.write(level0, ":\t%s / %s\n", cur, target.AverageValue.String())
		return
	}
	if current != nil && current.AverageUtilization != nil {
		cur = fmt.Sprintf("%d%% (%s)", *current.AverageUtilization, current.AverageValue.String())
	}
	tgt := "<auto>"
	if target.AverageUtilization != nil {
		tgt = fmt.Sprintf("%d%%", *target.AverageUtilization)
	}
	w.write(level1, "(as a percentage of request):\t%s / %s\n", cur, tgt)
}

func describeScalingRules(w *prefixWriter, direction string, rules *autoscalingv2.HPAScalingRules) {
	if rules == nil {
		return
	}
	w.write(level1, "%s:\n", direction)
	if rules.StabilizationWindowSeconds != nil {
		w.write(level2, "Stabilization Window: %d seconds\n", *rules.StabilizationWindowSeconds)
	}
	if len(rules.Policies) > 0 {
		selectPolicy := autoscalingv2.MaxChangePolicySelect
		if rules.SelectPolicy != nil {
			selectPolicy = *rules.SelectPolicy
		}
		w.write(level2, "Select Policy: %s\n", selectPolicy)
		w.write(level2, "Policies:\n")
		for _, p := range rules.Policies {
			w.write(level3, "- Type: %s\tValue: %d\tPeriod: %d seconds\n", p.Type, p.Value, p.PeriodSeconds)
		}
	}
}
