package printers

import (
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/weft-mesh/weft/api"
)

// replicas is a spec.replicas, 1 when unset (the API server's default).
func replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

func itoa[T ~int32 | ~int64 | ~int](n T) string { return strconv.FormatInt(int64(n), 10) }

// containerCells lays all containers out on one line, as -o wide does.
func containerCells(containers []corev1.Container) (names, images string) {
	n := make([]string, len(containers))
	im := make([]string, len(containers))
	for i, c := range containers {
		n[i], im[i] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(im, ",")
}

// selectorString is a label selector as kubectl's deployment printer shows
// it ("" for none).
func selectorString(s *metav1.LabelSelector) string {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return "<invalid>"
	}
	return sel.String()
}

func deploymentRow(d *appsv1.Deployment, o TableOptions) []string {
	names, images := containerCells(d.Spec.Template.Spec.Containers)
	return []string{
		d.Name,
		fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
		itoa(d.Status.UpdatedReplicas),
		itoa(d.Status.AvailableReplicas),
		since(o.Now, d.CreationTimestamp),
		names, images, selectorString(d.Spec.Selector),
	}
}

func replicaSetRow(rs *appsv1.ReplicaSet, o TableOptions) []string {
	names, images := containerCells(rs.Spec.Template.Spec.Containers)
	return []string{
		rs.Name,
		itoa(replicas(rs.Spec.Replicas)),
		itoa(rs.Status.Replicas),
		itoa(rs.Status.ReadyReplicas),
		since(o.Now, rs.CreationTimestamp),
		names, images, metav1.FormatLabelSelector(rs.Spec.Selector),
	}
}

func replicationControllerRow(rc *corev1.ReplicationController, o TableOptions) []string {
	var containers []corev1.Container
	if rc.Spec.Template != nil {
		containers = rc.Spec.Template.Spec.Containers
	}
	names, images := containerCells(containers)
	return []string{
		rc.Name,
		itoa(replicas(rc.Spec.Replicas)),
		itoa(rc.Status.Replicas),
		itoa(rc.Status.ReadyReplicas),
		since(o.Now, rc.CreationTimestamp),
		names, images, labels.FormatLabels(rc.Spec.Selector),
	}
}

func statefulSetRow(s *appsv1.StatefulSet, o TableOptions) []string {
	names, images := containerCells(s.Spec.Template.Spec.Containers)
	return []string{
		s.Name,
		fmt.Sprintf("%d/%d", s.Status.ReadyReplicas, replicas(s.Spec.Replicas)),
		since(o.Now, s.CreationTimestamp),
		names, images,
	}
}

func daemonSetRow(ds *appsv1.DaemonSet, o TableOptions) []string {
	names, images := containerCells(ds.Spec.Template.Spec.Containers)
	return []string{
		ds.Name,
		itoa(ds.Status.DesiredNumberScheduled),
		itoa(ds.Status.CurrentNumberScheduled),
		itoa(ds.Status.NumberReady),
		itoa(ds.Status.UpdatedNumberScheduled),
		itoa(ds.Status.NumberAvailable),
		labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector),
		since(o.Now, ds.CreationTimestamp),
		names, images, metav1.FormatLabelSelector(ds.Spec.Selector),
	}
}

func jobRow(j *batchv1.Job, o TableOptions) []string {
	var completions string
	if j.Spec.Completions != nil {
		completions = fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	} else {
		parallelism := int32(0)
		if j.Spec.Parallelism != nil {
			parallelism = *j.Spec.Parallelism
		}
		if parallelism > 1 {
			completions = fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, parallelism)
		} else {
			completions = fmt.Sprintf("%d/1", j.Status.Succeeded)
		}
	}
	var jobDuration string
	switch {
	case j.Status.StartTime == nil:
	case j.Status.CompletionTime == nil:
		jobDuration = HumanDuration(o.Now.Sub(j.Status.StartTime.Time))
	default:
		jobDuration = HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
	}
	var status string
	switch {
	case jobCondition(j.Status.Conditions, batchv1.JobComplete):
		status = "Complete"
	case jobCondition(j.Status.Conditions, batchv1.JobFailed):
		status = "Failed"
	case j.DeletionTimestamp != nil:
		status = "Terminating"
	case jobCondition(j.Status.Conditions, batchv1.JobSuspended):
		status = "Suspended"
	case jobCondition(j.Status.Conditions, batchv1.JobFailureTarget):
		status = "FailureTarget"
	default:
		status = "Running"
	}
	names, images := containerCells(j.Spec.Template.Spec.Containers)
	return []string{
		j.Name, status, completions, jobDuration, since(o.Now, j.CreationTimestamp),
		names, images, metav1.FormatLabelSelector(j.Spec.Selector),
	}
}

func jobCondition(conditions []batchv1.JobCondition, t batchv1.JobConditionType) bool {
	for _, c := range conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func cronJobRow(cj *batchv1.CronJob, o TableOptions) []string {
	lastSchedule := "<none>"
	if cj.Status.LastScheduleTime != nil {
		lastSchedule = since(o.Now, *cj.Status.LastScheduleTime)
	}
	timeZone := "<none>"
	if cj.Spec.TimeZone != nil {
		timeZone = *cj.Spec.TimeZone
	}
	names, images := containerCells(cj.Spec.JobTemplate.Spec.Template.Spec.Containers)
	return []string{
		cj.Name, cj.Spec.Schedule, timeZone, boolPtrString(cj.Spec.Suspend),
		strconv.Itoa(len(cj.Status.Active)), lastSchedule, since(o.Now, cj.CreationTimestamp),
		names, images, metav1.FormatLabelSelector(cj.Spec.JobTemplate.Spec.Selector),
	}
}

// boolString and boolPtrString are kubectl's printBool and printBoolPtr.
func boolString(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func boolPtrString(b *bool) string {
	if b == nil {
		return "<unset>"
	}
	return boolString(*b)
}

// hpaRow prints an autoscaling/v2 HPA; a v1 object is converted first, as
// the API server would serve it.
func hpaRow(obj api.Object, o TableOptions) []string {
	var hpa *autoscalingv2.HorizontalPodAutoscaler
	switch h := obj.(type) {
	case *autoscalingv2.HorizontalPodAutoscaler:
		hpa = h
	case *autoscalingv1.HorizontalPodAutoscaler:
		hpa = api.HPAv1ToV2(h)
	default:
		return nil
	}
	minPods := "<unset>"
	if hpa.Spec.MinReplicas != nil {
		minPods = itoa(*hpa.Spec.MinReplicas)
	}
	return []string{
		hpa.Name,
		hpa.Spec.ScaleTargetRef.Kind + "/" + hpa.Spec.ScaleTargetRef.Name,
		formatHPAMetrics(hpa.Spec.Metrics, hpa.Status.CurrentMetrics),
		minPods,
		itoa(hpa.Spec.MaxReplicas),
		itoa(hpa.Status.CurrentReplicas),
		since(o.Now, hpa.CreationTimestamp),
	}
}

// formatHPAMetrics is kubectl's TARGETS cell: "current/target" per metric,
// at most two, then "+ N more...".
func formatHPAMetrics(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	if len(specs) == 0 {
		return "<none>"
	}
	const maxShown = 2
	list := make([]string, 0, len(specs))
	status := func(i int) *autoscalingv2.MetricStatus {
		if i < len(statuses) {
			return &statuses[i]
		}
		return nil
	}
	for i, spec := range specs {
		st := status(i)
		current := "<unknown>"
		switch spec.Type {
		case autoscalingv2.ExternalMetricSourceType:
			if spec.External == nil {
				list = append(list, "<unknown type>")
				continue
			}
			if spec.External.Target.AverageValue != nil {
				if st != nil && st.External != nil && st.External.Current.AverageValue != nil {
					current = st.External.Current.AverageValue.String()
				}
				list = append(list, fmt.Sprintf("%s/%s (avg)", current, spec.External.Target.AverageValue.String()))
			} else {
				if st != nil && st.External != nil {
					current = st.External.Current.Value.String()
				}
				list = append(list, fmt.Sprintf("%s/%s", current, spec.External.Target.Value.String()))
			}
		case autoscalingv2.PodsMetricSourceType:
			if spec.Pods == nil {
				list = append(list, "<unknown type>")
				continue
			}
			if st != nil && st.Pods != nil {
				current = st.Pods.Current.AverageValue.String()
			}
			list = append(list, fmt.Sprintf("%s/%s", current, spec.Pods.Target.AverageValue.String()))
		case autoscalingv2.ObjectMetricSourceType:
			if spec.Object == nil {
				list = append(list, "<unknown type>")
				continue
			}
			if spec.Object.Target.AverageValue != nil {
				if st != nil && st.Object != nil && st.Object.Current.AverageValue != nil {
					current = st.Object.Current.AverageValue.String()
				}
				list = append(list, fmt.Sprintf("%s/%s (avg)", current, spec.Object.Target.AverageValue.String()))
			} else {
				if st != nil && st.Object != nil {
					current = st.Object.Current.Value.String()
				}
				list = append(list, fmt.Sprintf("%s/%s", current, spec.Object.Target.Value.String()))
			}
		case autoscalingv2.ResourceMetricSourceType:
			if spec.Resource == nil {
				list = append(list, "<unknown type>")
				continue
			}
			list = append(list, resourceTarget(string(spec.Resource.Name), spec.Resource.Target, resourceCurrent(st, false)))
		case autoscalingv2.ContainerResourceMetricSourceType:
			if spec.ContainerResource == nil {
				list = append(list, "<unknown type>")
				continue
			}
			list = append(list, resourceTarget(string(spec.ContainerResource.Name), spec.ContainerResource.Target, resourceCurrent(st, true)))
		default:
			list = append(list, "<unknown type>")
		}
	}
	if len(list) > maxShown {
		return fmt.Sprintf("%s + %d more...", strings.Join(list[:maxShown], ", "), len(list)-maxShown)
	}
	return strings.Join(list, ", ")
}

// resourceCurrent is the current value of a (container) resource metric.
func resourceCurrent(st *autoscalingv2.MetricStatus, container bool) *autoscalingv2.MetricValueStatus {
	if st == nil {
		return nil
	}
	if container {
		if st.ContainerResource == nil {
			return nil
		}
		return &st.ContainerResource.Current
	}
	if st.Resource == nil {
		return nil
	}
	return &st.Resource.Current
}

// resourceTarget is "cpu: 12%/30%" or, for an average value target,
// "memory: 100Mi/200Mi".
func resourceTarget(name string, target autoscalingv2.MetricTarget, current *autoscalingv2.MetricValueStatus) string {
	cur := "<unknown>"
	if target.AverageValue != nil {
		if current != nil && current.AverageValue != nil {
			cur = current.AverageValue.String()
		}
		return fmt.Sprintf("%s: %s/%s", name, cur, target.AverageValue.String())
	}
	if current != nil && current.AverageUtilization != nil {
		cur = fmt.Sprintf("%d%%", *current.AverageUtilization)
	}
	tgt := "<auto>"
	if target.AverageUtilization != nil {
		tgt = fmt.Sprintf("%d%%", *target.AverageUtilization)
	}
	return fmt.Sprintf("%s: %s/%s", name, cur, tgt)
}

func pdbRow(pdb *policyv1.PodDisruptionBudget, o TableOptions) []string {
	minAvailable, maxUnavailable := "N/A", "N/A"
	if pdb.Spec.MinAvailable != nil {
		minAvailable = pdb.Spec.MinAvailable.String()
	}
	if pdb.Spec.MaxUnavailable != nil {
		maxUnavailable = pdb.Spec.MaxUnavailable.String()
	}
	return []string{pdb.Name, minAvailable, maxUnavailable, itoa(pdb.Status.DisruptionsAllowed), since(o.Now, pdb.CreationTimestamp)}
}
