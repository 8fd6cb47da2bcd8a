package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/weft-mesh/weft/api"
)

func newScaleCommand(o *options) *cobra.Command {
	var replicas, current int32
	cmd := &cobra.Command{
		Use:   "scale (deploy|rs|rc) NAME --replicas=N | scale KIND/NAME --replicas=N",
		Short: "Set the replica count of a Deployment, ReplicaSet or ReplicationController",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("replicas") {
				return fmt.Errorf("--replicas is required")
			}
			if replicas < 0 {
				return fmt.Errorf("--replicas=%d: the replica count cannot be negative", replicas)
			}
			k, name, err := kindAndName(args, "deployments", "replicasets", "replicationcontrollers")
			if err != nil {
				return err
			}
			cur := int32(-1)
			if cmd.Flags().Changed("current-replicas") {
				cur = current
			}
			return o.scale(k, name, replicas, cur)
		},
	}
	cmd.Flags().Int32Var(&replicas, "replicas", 0, "the new replica count")
	cmd.Flags().Int32Var(&current, "current-replicas", -1, "precondition: scale only if the current count is this")
	return cmd
}

// kindAndName reads `KIND NAME` or `KIND/NAME` and checks the kind is one
// of allowed (resources).
func kindAndName(args []string, allowed ...string) (*api.Kind, string, error) {
	var kindArg, name string
	switch {
	case len(args) == 1 && strings.Contains(args[0], "/"):
		kindArg, name, _ = strings.Cut(args[0], "/")
	case len(args) == 2:
		kindArg, name = args[0], args[1]
	default:
		return nil, "", fmt.Errorf("name the object as KIND NAME or KIND/NAME")
	}
	if name == "" {
		return nil, "", fmt.Errorf("%q: the name is empty", strings.Join(args, " "))
	}
	k, err := lookupKind(kindArg)
	if err != nil {
		return nil, "", err
	}
	for _, a := range allowed {
		if k.Resource == a {
			return k, name, nil
		}
	}
	return nil, "", fmt.Errorf("%s cannot be used here: use one of %s", k.Resource, strings.Join(allowed, ", "))
}

// replicasOf reads (and with set, writes) a workload's spec.replicas.
func replicasOf(obj api.Object, set *int32) (int32, bool) {
	var p **int32
	switch x := obj.(type) {
	case *appsv1.Deployment:
		p = &x.Spec.Replicas
	case *appsv1.ReplicaSet:
		p = &x.Spec.Replicas
	case *appsv1.StatefulSet:
		p = &x.Spec.Replicas
	case *corev1.ReplicationController:
		p = &x.Spec.Replicas
	default:
		return 0, false
	}
	cur := int32(1)
	if *p != nil {
		cur = **p
	}
	if set != nil {
		*p = new(*set)
	}
	return cur, true
}

func (o *options) scale(k *api.Kind, name string, replicas, current int32) error {
	obj, err := o.modify(k, name, func(obj api.Object) error {
		cur, _ := replicasOf(obj, nil)
		if current >= 0 && cur != current {
			return fmt.Errorf("expected replicas to be %d, was %d", current, cur)
		}
		replicasOf(obj, &replicas)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(o.streams.Out, "%s scaled\n", objectName(obj))
	return nil
}

// modify reads an object, changes it with mutate and writes it back,
// starting again on a conflict (a few times), as kubectl's scale and
// set image do. A server error is printed kubectl's way (errSilent);
// mutate's errors are returned as they are.
func (o *options) modify(k *api.Kind, name string, mutate func(api.Object) error) (api.Object, error) {
	c, err := o.client()
	if err != nil {
		return nil, err
	}
	ctx, cancel := o.context()
	defer cancel()
	for attempt := 0; ; attempt++ {
		obj, err := c.Get(ctx, k, o.ns(), name)
		if err != nil {
			fmt.Fprintf(o.streams.Err, "Error from server (%s): %v\n", reason(err), err)
			return nil, errSilent
		}
		if err := mutate(obj); err != nil {
			return nil, err
		}
		_, _, err = c.Update(ctx, obj)
		if apierrors.IsConflict(err) && attempt < 5 {
			continue
		}
		if err != nil {
			fmt.Fprintf(o.streams.Err, "Error from server (%s): %v\n", reason(err), err)
			return nil, errSilent
		}
		return obj, nil
	}
}
