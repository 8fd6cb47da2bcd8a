package printers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/weft-mesh/weft/api"
)

// Describe renders one object as `kubectl describe` does: Name, Namespace,
// Labels, Annotations and the sections kubectl's describer for the kind
// shows, ending with the object's Events.
//
// events are the Events whose involvedObject is obj (nil for none). related
// carries other objects some describers show when given, and is searched
// for what fits: Endpoints or EndpointSlices for a Service; ReplicaSets for
// a Deployment (old and new replica sets); Pods for a ReplicaSet,
// ReplicationController, StatefulSet, DaemonSet or Job (the pods status
// line) and for a Node (its non-terminated pods and allocated resources).
// Objects that do not belong to obj are ignored. now is the time ages are
// measured from.
//
// Kinds without a describer of their own get a generic description:
// metadata, then every top-level field (spec, status, ...) as YAML.
func Describe(obj api.Object, related []api.Object, events []*corev1.Event, now time.Time) string {
	if obj == nil {
		return ""
	}
	d := &describer{related: related, events: events, now: now}
	switch o := obj.(type) {
	case *corev1.Pod:
		return d.pod(o)
	case *corev1.Service:
		return d.service(o)
	case *corev1.Endpoints:
		return d.endpoints(o)
	case *corev1.Node:
		return d.node(o)
	case *corev1.Namespace:
		return d.namespace(o)
	case *corev1.ConfigMap:
		return d.configMap(o)
	case *corev1.Secret:
		return d.secret(o)
	case *corev1.ReplicationController:
		return d.replicationController(o)
	case *appsv1.Deployment:
		return d.deployment(o)
	case *appsv1.ReplicaSet:
		return d.replicaSet(o)
	case *appsv1.StatefulSet:
		return d.statefulSet(o)
	case *appsv1.DaemonSet:
		return d.daemonSet(o)
	case *batchv1.Job:
		return d.job(o)
	case *autoscalingv2.HorizontalPodAutoscaler:
		return d.hpa(o)
	case *autoscalingv1.HorizontalPodAutoscaler:
		return d.hpa(api.HPAv1ToV2(o))
	case *api.VirtualService:
		return d.virtualService(o)
	case *api.DestinationRule:
		return d.destinationRule(o)
	default:
		return d.generic(obj)
	}
}

// describer holds what one Describe call was given.
type describer struct {
	related []api.Object
	events  []*corev1.Event
	now     time.Time
}

// The indentation levels of kubectl's PrefixWriter: two spaces each.
const (
	level0 = iota
	level1
	level2
	level3
)

// prefixWriter is kubectl's PrefixWriter: text at an indentation level,
// into a tabwriter that aligns the tab-separated fields of adjacent lines.
type prefixWriter struct {
	out *tabwriter.Writer
}

func (w *prefixWriter) write(level int, format string, a ...any) {
	fmt.Fprint(w.out, escapeTerminal(strings.Repeat("  ", level)+fmt.Sprintf(format, a...)))
}

// writeLine ends the current line with the values given.
func (w *prefixWriter) writeLine(a ...any) {
	fmt.Fprint(w.out, escapeTerminal(fmt.Sprintln(a...)))
}

// flush ends the current alignment block.
func (w *prefixWriter) flush() { _ = w.out.Flush() }

// tabbed runs f on a writer with kubectl describe's tabwriter settings and
// returns the text.
func tabbed(f func(w *prefixWriter)) string {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 8, 2, ' ', 0)
	f(&prefixWriter{out: tw})
	_ = tw.Flush()
	return buf.String()
}

// formatTime is how kubectl describe shows a point in time.
func formatTime(t metav1.Time) string { return t.Time.Format(time.RFC1123Z) }

// printLabels prints labels one per line, sorted, aligned after title.
func printLabels(w *prefixWriter, title string, labels map[string]string) {
	printLabelsIndent(w, "", title, "\t", labels)
}

func printLabelsIndent(w *prefixWriter, initialIndent, title, innerIndent string, labels map[string]string) {
	w.write(level0, "%s%s:%s", initialIndent, title, innerIndent)
	if len(labels) == 0 {
		w.writeLine("<none>")
		return
	}
	for i, k := range sortedKeys(labels) {
		if i != 0 {
			w.write(level0, "%s%s", initialIndent, innerIndent)
		}
		w.write(level0, "%s=%s\n", k, labels[k])
	}
}

// maxAnnotationLen is where kubectl starts folding annotation values.
const maxAnnotationLen = 140

// printAnnotations is kubectl's printAnnotationsMultiline: long or
// multi-line values go on lines of their own, and the last-applied
// configuration is left out.
func printAnnotations(w *prefixWriter, title string, annotations map[string]string) {
	w.write(level0, "%s:\t", title)
	var keys []string
	for _, k := range sortedKeys(annotations) {
		if k != corev1.LastAppliedConfigAnnotation {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		w.writeLine("<none>")
		return
	}
	for i, k := range keys {
		if i != 0 {
			w.write(level0, "\t")
		}
		value := strings.TrimSuffix(annotations[k], "\n")
		if len(value)+len(k)+2 > maxAnnotationLen || strings.Contains(value, "\n") {
			w.write(level0, "%s:\n", k)
			for _, s := range strings.Split(value, "\n") {
				w.write(level0, "\t  %s\n", shorten(s, maxAnnotationLen-2))
			}
		} else {
			w.write(level0, "%s: %s\n", k, value)
		}
	}
}

func shorten(s string, maxLength int) string {
	if len(s) > maxLength {
		return s[:maxLength] + "..."
	}
	return s
}

// describeEvents is kubectl's DescribeEvents: oldest first, a repeated
// event as "<last> (xN over <first>)".
func (d *describer) describeEvents(w *prefixWriter) {
	var events []*corev1.Event
	for _, e := range d.events {
		if e != nil {
			events = append(events, e)
		}
	}
	if len(events) == 0 {
		w.write(level0, "Events:\t<none>\n")
		return
	}
	w.flush()
	sort.SliceStable(events, func(i, j int) bool { return eventTime(events[i]).Before(eventTime(events[j])) })
	w.write(level0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
	w.write(level1, "----\t------\t----\t----\t-------\n")
	for _, e := range events {
		first := sinceMicro(d.now, e.EventTime)
		if e.EventTime.IsZero() {
			first = since(d.now, e.FirstTimestamp)
		}
		var interval string
		switch {
		case e.Series != nil:
			interval = fmt.Sprintf("%s (x%d over %s)", sinceMicro(d.now, e.Series.LastObservedTime), e.Series.Count, first)
		case e.Count > 1:
			interval = fmt.Sprintf("%s (x%d over %s)", since(d.now, e.LastTimestamp), e.Count, first)
		default:
			interval = first
		}
		source := firstNonEmpty(e.Source.Component, e.ReportingController)
		w.write(level1, "%v\t%v\t%s\t%v\t%v\n", e.Type, e.Reason, interval, source, strings.TrimSpace(e.Message))
	}
}

// eventTime is the time events are ordered by.
func eventTime(e *corev1.Event) time.Time {
	if e.Series != nil {
		return e.Series.LastObservedTime.Time
	}
	if !e.LastTimestamp.IsZero() {
		return e.LastTimestamp.Time
	}
	return e.EventTime.Time
}

// controlledBy is "Kind/name" of the object's controller, or "".
func controlledBy(obj metav1.Object) string {
	if ref := metav1.GetControllerOf(obj); ref != nil {
		return ref.Kind + "/" + ref.Name
	}
	return ""
}

// generic describes a kind without a describer of its own: metadata, then
// every top-level field of the object as YAML.
func (d *describer) generic(obj api.Object) string {
	k := api.KindOf(obj)
	return tabbed(func(w *prefixWriter) {
		w.write(level0, "Name:\t%s\n", obj.GetName())
		if k == nil || k.Namespaced {
			w.write(level0, "Namespace:\t%s\n", obj.GetNamespace())
		}
		printLabels(w, "Labels", obj.GetLabels())
		printAnnotations(w, "Annotations", obj.GetAnnotations())
		if k != nil {
			w.write(level0, "API Version:\t%s\n", k.APIVersion())
			w.write(level0, "Kind:\t%s\n", k.Kind)
		}
		w.write(level0, "CreationTimestamp:\t%s\n", formatTime(obj.GetCreationTimestamp()))
		writeFieldsYAML(w, obj)
		d.describeEvents(w)
	})
}

// writeFieldsYAML writes the object's top-level fields other than its
// type and metadata, spec and status first: a scalar on the title's line,
// anything else as indented YAML below it.
func writeFieldsYAML(w *prefixWriter, obj api.Object) {
	b, err := json.Marshal(obj)
	if err != nil {
		w.write(level0, "Error:\t%v\n", err)
		return
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		w.write(level0, "Error:\t%v\n", err)
		return
	}
	delete(fields, "apiVersion")
	delete(fields, "kind")
	delete(fields, "metadata")
	keys := sortedKeys(fields)
	slices.SortStableFunc(keys, func(a, b string) int { return fieldRank(a) - fieldRank(b) })
	for _, k := range keys {
		writeYAMLField(w, level0, smartLabel(k), fields[k])
	}
}

// fieldRank puts spec, then status, before other fields.
func fieldRank(field string) int {
	switch field {
	case "spec":
		return 0
	case "status":
		return 1
	}
	return 2
}

// writeYAMLField writes one value under a title.
func writeYAMLField(w *prefixWriter, level int, title string, v any) {
	switch x := v.(type) {
	case nil:
		return
	case map[string]any:
		if len(x) == 0 {
			w.write(level, "%s:\t<none>\n", title)
			return
		}
	case []any:
		if len(x) == 0 {
			w.write(level, "%s:\t<none>\n", title)
			return
		}
	default:
		w.write(level, "%s:\t%v\n", title, x)
		return
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		w.write(level, "%s:\t<error: %v>\n", title, err)
		return
	}
	w.write(level, "%s:\n", title)
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		w.write(level+1, "%s\n", line)
	}
}

// smartLabel is kubectl's smartLabelFor: "sessionAffinity" becomes
// "Session Affinity", with API, URL, UID, OSB and GUID in capitals. A field
// with characters other than letters and '-' is left as it is.
func smartLabel(field string) string {
	if strings.IndexFunc(field, func(r rune) bool { return !unicode.IsLetter(r) && r != '-' }) != -1 {
		return field
	}
	var parts []string
	runes := []rune(field)
	start := 0
	for i := 1; i < len(runes); i++ {
		prev, cur := runes[i-1], runes[i]
		next := rune(0)
		if i+1 < len(runes) {
			next = runes[i+1]
		}
		lowerToUpper := unicode.IsLower(prev) && unicode.IsUpper(cur)
		acronymEnd := unicode.IsUpper(prev) && unicode.IsUpper(cur) && unicode.IsLower(next)
		if lowerToUpper || acronymEnd {
			parts = append(parts, string(runes[start:i]))
			start = i
		}
	}
	parts = append(parts, string(runes[start:]))
	for i, p := range parts {
		switch up := strings.ToUpper(p); up {
		case "API", "URL", "UID", "OSB", "GUID":
			parts[i] = up
		default:
			r := []rune(p)
			r[0] = unicode.ToUpper(r[0])
			parts[i] = string(r)
		}
	}
	return strings.Join(parts, " ")
}
