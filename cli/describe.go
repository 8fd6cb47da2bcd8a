package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/cli/printers"
	"github.com/weft-mesh/weft/client"
)

func newDescribeCommand(o *options) *cobra.Command {
	var selector string
	var allNamespaces bool
	cmd := &cobra.Command{
		Use:   "describe KIND [NAME...] | KIND/NAME...",
		Short: "Show an object in detail, with related objects and its events",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.describe(args, selector, allNamespaces)
		},
	}
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "label selector")
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "across all namespaces")
	return cmd
}

func (o *options) describe(args []string, selector string, allNamespaces bool) error {
	targets, err := parseTargets(args)
	if err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	ns := o.ns()
	if allNamespaces {
		ns = ""
	}
	first := true
	for _, t := range targets {
		objs, err := o.fetch(c, t, ns, selector)
		if err != nil {
			fmt.Fprintf(o.streams.Err, "Error from server (%s): %v\n", reason(err), err)
			return errSilent
		}
		for _, obj := range objs {
			if !first {
				fmt.Fprintln(o.streams.Out)
			}
			first = false
			related, events := o.related(c, obj)
			fmt.Fprint(o.streams.Out, printers.Describe(obj, related, events, time.Now()))
		}
	}
	return nil
}

// related fetches what describe shows beside an object: its events, and
// for a Service its Endpoints, for a workload its ReplicaSets and Pods.
func (o *options) related(c *client.Client, obj api.Object) ([]api.Object, []*corev1.Event) {
	ctx, cancel := o.context()
	defer cancel()
	var related []api.Object
	ns := obj.GetNamespace()
	listSel := func(kind string, sel labels.Selector) {
		objs, _, err := c.List(ctx, api.LookupName(kind), ns, client.ListOptions{LabelSelector: sel.String()})
		if err == nil {
			related = append(related, objs...)
		}
	}
	switch x := obj.(type) {
	case *corev1.Service:
		if ep, err := c.Get(ctx, api.LookupName("endpoints"), ns, x.Name); err == nil {
			related = append(related, ep)
		}
	case *appsv1.Deployment:
		if x.Spec.Selector != nil && len(x.Spec.Selector.MatchLabels)+len(x.Spec.Selector.MatchExpressions) > 0 {
			if sel, err := metaSelector(x.Spec.Selector); err == nil {
				listSel("replicasets", sel)
			}
		}
	case *appsv1.ReplicaSet:
		if sel, err := metaSelector(x.Spec.Selector); err == nil {
			listSel("pods", sel)
		}
	case *corev1.ReplicationController:
		if len(x.Spec.Selector) > 0 {
			listSel("pods", labels.SelectorFromSet(x.Spec.Selector))
		}
	}
	var events []*corev1.Event
	if k := api.KindOf(obj); k != nil && k.Kind != "Event" {
		evs, _, err := c.List(ctx, api.LookupName("events"), ns, client.ListOptions{})
		if err == nil {
			for _, e := range evs {
				ev := e.(*corev1.Event)
				if ev.InvolvedObject.Kind == k.Kind && ev.InvolvedObject.Name == obj.GetName() &&
					(ev.InvolvedObject.UID == "" || ev.InvolvedObject.UID == obj.GetUID()) {
					events = append(events, ev)
				}
			}
		}
	}
	return related, events
}

func metaSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	return metav1.LabelSelectorAsSelector(s)
}
