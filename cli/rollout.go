package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// Annotations the deployment controller keeps on ReplicaSets.
const (
	revisionAnnotation   = "deployment.kubernetes.io/revision"
	podTemplateHashLabel = "pod-template-hash"
	timedOutReason       = "ProgressDeadlineExceeded"
)

// rollbackSkippedAnnotations are not copied from a ReplicaSet to its
// Deployment on undo, as kubectl.
var rollbackSkippedAnnotations = map[string]bool{
	"kubectl.kubernetes.io/last-applied-configuration": true,
	revisionAnnotation:                          true,
	"deployment.kubernetes.io/revision-history": true,
	"deployment.kubernetes.io/desired-replicas": true,
	"deployment.kubernetes.io/max-replicas":     true,
	"deprecated.deployment.rollback.to":         true,
}

func newRolloutCommand(o *options) *cobra.Command {
	root := &cobra.Command{Use: "rollout", Short: "Follow, list and undo the rollouts of a Deployment"}
	var watch bool
	var timeout time.Duration
	var statusRev int64
	status := &cobra.Command{
		Use:   "status (deploy NAME | deploy/NAME)",
		Short: "Show a rollout's progress until it completes; exit non-zero if it fails",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, name, err := kindAndName(args, "deployments")
			if err != nil {
				return err
			}
			return o.rolloutStatus(name, watch, timeout, statusRev)
		},
	}
	status.Flags().BoolVarP(&watch, "watch", "w", true, "follow the rollout until it ends")
	status.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (0: never)")
	status.Flags().Int64Var(&statusRev, "revision", 0, "pin the status to this revision")

	var histRev int64
	history := &cobra.Command{
		Use:   "history (deploy NAME | deploy/NAME)",
		Short: "List a Deployment's revisions and their change-cause",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, name, err := kindAndName(args, "deployments")
			if err != nil {
				return err
			}
			return o.rolloutHistory(name, histRev)
		},
	}
	history.Flags().Int64Var(&histRev, "revision", 0, "show the pod template of this revision")

	var toRev int64
	undo := &cobra.Command{
		Use:   "undo (deploy NAME | deploy/NAME) [--to-revision=N]",
		Short: "Roll back to the previous revision, or to --to-revision",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, name, err := kindAndName(args, "deployments")
			if err != nil {
				return err
			}
			return o.rolloutUndo(name, toRev)
		},
	}
	undo.Flags().Int64Var(&toRev, "to-revision", 0, "the revision to roll back to (0: the previous one)")
	root.AddCommand(status, history, undo)
	return root
}

// errRolloutFailed: the rollout exceeded its progress deadline.
var errRolloutFailed = errors.New("exceeded its progress deadline")

// rolloutStatusMessage is kubectl's DeploymentStatusViewer: the line to
// show, whether the rollout is done, or an error when it failed.
func rolloutStatusMessage(d *appsv1.Deployment, revision int64) (string, bool, error) {
	if revision > 0 {
		cur, _ := strconv.ParseInt(d.Annotations[revisionAnnotation], 10, 64)
		if cur != revision {
			return "", false, fmt.Errorf("desired revision (%d) is different from the running revision (%d)", revision, cur)
		}
	}
	if d.Generation > d.Status.ObservedGeneration {
		return "Waiting for deployment spec update to be observed...\n", false, nil
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == timedOutReason {
			return "", false, fmt.Errorf("deployment %q %w", d.Name, errRolloutFailed)
		}
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	switch {
	case st.UpdatedReplicas < want:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...\n", d.Name, st.UpdatedReplicas, want), false, nil
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...\n", d.Name, st.Replicas-st.UpdatedReplicas), false, nil
	case st.AvailableReplicas < st.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...\n", d.Name, st.AvailableReplicas, st.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out\n", d.Name), true, nil
}

func (o *options) rolloutStatus(name string, watch bool, timeout time.Duration, revision int64) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	k := api.LookupName("deployments")
	last := ""
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		reqCtx, cancel := context.WithTimeout(ctx, o.timeout)
		obj, err := c.Get(reqCtx, k, o.ns(), name)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("timed out waiting for the condition")
			}
			fmt.Fprintf(o.streams.Err, "Error from server (%s): %v\n", reason(err), err)
			return errSilent
		}
		msg, done, err := rolloutStatusMessage(obj.(*appsv1.Deployment), revision)
		if err != nil {
			return err
		}
		if msg != last {
			fmt.Fprint(o.streams.Out, msg)
			last = msg
		}
		if done || !watch {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for the condition")
		case <-tick.C:
		}
	}
}

// revisions lists the Deployment's ReplicaSets by revision.
func (o *options) revisions(ctx context.Context, c *client.Client, d *appsv1.Deployment) (map[int64]*appsv1.ReplicaSet, error) {
	objs, _, err := c.List(ctx, api.LookupName("replicasets"), d.Namespace, client.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[int64]*appsv1.ReplicaSet{}
	for _, obj := range objs {
		rs := obj.(*appsv1.ReplicaSet)
		if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != d.UID {
			continue
		}
		rev, err := strconv.ParseInt(rs.Annotations[revisionAnnotation], 10, 64)
		if err != nil {
			continue
		}
		out[rev] = rs
	}
	return out, nil
}

func sortedRevisions(m map[int64]*appsv1.ReplicaSet) []int64 {
	var revs []int64
	for r := range m {
		revs = append(revs, r)
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i] < revs[j] })
	return revs
}

func (o *options) getDeployment(ctx context.Context, c *client.Client, name string) (*appsv1.Deployment, error) {
	obj, err := c.Get(ctx, api.LookupName("deployments"), o.ns(), name)
	if err != nil {
		fmt.Fprintf(o.streams.Err, "Error from server (%s): %v\n", reason(err), err)
		return nil, errSilent
	}
	return obj.(*appsv1.Deployment), nil
}

func (o *options) rolloutHistory(name string, revision int64) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	ctx, cancel := o.context()
	defer cancel()
	d, err := o.getDeployment(ctx, c, name)
	if err != nil {
		return err
	}
	revs, err := o.revisions(ctx, c, d)
	if err != nil {
		return err
	}
	w := o.streams.Out
	if revision > 0 {
		rs, ok := revs[revision]
		if !ok {
			return fmt.Errorf("unable to find the specified revision")
		}
		fmt.Fprintf(w, "%s with revision #%d\n", objectName(d), revision)
		printTemplate(w, rs)
		return nil
	}
	fmt.Fprintf(w, "%s \n", objectName(d))
	if len(revs) == 0 {
		fmt.Fprintln(w, "No rollout history found.")
		return nil
	}
	fmt.Fprintln(w, "REVISION  CHANGE-CAUSE")
	for _, r := range sortedRevisions(revs) {
		cause := revs[r].Annotations[ChangeCauseAnnotation]
		if cause == "" {
			cause = "<none>"
		}
		fmt.Fprintf(w, "%-9d %s\n", r, cause)
	}
	fmt.Fprintln(w)
	return nil
}

func printTemplate(w interface{ Write([]byte) (int, error) }, rs *appsv1.ReplicaSet) {
	t := rs.Spec.Template
	fmt.Fprintln(w, "Pod Template:")
	var labels []string
	for k, v := range t.Labels {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	fmt.Fprintf(w, "  Labels:\t%s\n", strings.Join(labels, "\n\t\t"))
	if cause := rs.Annotations[ChangeCauseAnnotation]; cause != "" {
		fmt.Fprintf(w, "  Annotations:\t%s: %s\n", ChangeCauseAnnotation, cause)
	}
	fmt.Fprintln(w, "  Containers:")
	for _, ctr := range t.Spec.Containers {
		fmt.Fprintf(w, "   %s:\n    Image:\t%s\n", ctr.Name, ctr.Image)
		for _, p := range ctr.Ports {
			fmt.Fprintf(w, "    Port:\t%d/%s\n", p.ContainerPort, protocolOrTCP(p.Protocol))
		}
	}
	fmt.Fprintln(w)
}

func protocolOrTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// rolloutUndo is kubectl's client-side rollback: the Deployment gets the
// pod template (and change-cause) of the ReplicaSet of the revision.
func (o *options) rolloutUndo(name string, toRevision int64) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	ctx, cancel := o.context()
	defer cancel()
	for attempt := 0; ; attempt++ {
		d, err := o.getDeployment(ctx, c, name)
		if err != nil {
			return err
		}
		if d.Spec.Paused {
			return fmt.Errorf("you cannot rollback a paused deployment; resume it first with 'weftctl rollout resume deployment/%s' and try again", d.Name)
		}
		revs, err := o.revisions(ctx, c, d)
		if err != nil {
			return err
		}
		var rs *appsv1.ReplicaSet
		if toRevision == 0 {
			sorted := sortedRevisions(revs)
			if len(sorted) < 2 {
				return fmt.Errorf("no rollout history found for deployment %q", d.Name)
			}
			toRevision = sorted[len(sorted)-2]
		}
		rs, ok := revs[toRevision]
		if !ok {
			return fmt.Errorf("unable to find specified revision %d in history", toRevision)
		}
		t := rs.Spec.Template.DeepCopy()
		delete(t.Labels, podTemplateHashLabel)
		if apiequality.Semantic.DeepEqual(t, &d.Spec.Template) {
			fmt.Fprintf(o.streams.Out, "%s skipped rollback (current template already matches revision %d)\n", objectName(d), toRevision)
			return nil
		}
		d.Spec.Template = *t
		ann := d.Annotations
		if ann == nil {
			ann = map[string]string{}
		}
		for k, v := range rs.Annotations {
			if !rollbackSkippedAnnotations[k] {
				ann[k] = v
			}
		}
		if _, ok := rs.Annotations[ChangeCauseAnnotation]; !ok {
			delete(ann, ChangeCauseAnnotation)
		}
		d.Annotations = ann
		_, _, err = c.Update(ctx, d)
		if apierrors.IsConflict(err) && attempt < 5 {
			continue
		}
		if err != nil {
			fmt.Fprintf(o.streams.Err, "Error from server (%s): %v\n", reason(err), err)
			return errSilent
		}
		fmt.Fprintf(o.streams.Out, "%s rolled back\n", objectName(d))
		return nil
	}
}
