package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

func newDeleteCommand(o *options) *cobra.Command {
	var files []string
	var recursive, ignoreNotFound, force bool
	var selector string
	grace := int64(-1)
	cmd := &cobra.Command{
		Use:   "delete (-f FILE|DIR|- [-R] | KIND NAME... | KIND/NAME... | KIND -l SELECTOR)",
		Short: "Delete objects named in files or on the command line",
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case force && grace < 0:
				o.deleteOpts.GracePeriodSeconds = new(int64)
			case grace >= 0:
				o.deleteOpts.GracePeriodSeconds = &grace
			}
			if len(files) > 0 {
				if len(args) > 0 {
					return errors.New("give either -f or KIND NAME, not both")
				}
				return o.deleteFiles(files, recursive, ignoreNotFound)
			}
			if len(args) == 0 {
				return errors.New("must specify -f FILE or KIND NAME")
			}
			return o.deleteNamed(args, selector, ignoreNotFound)
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil, "file, folder or - (stdin) naming the objects")
	cmd.Flags().BoolVarP(&recursive, "recursive", "R", false, "read folders recursively")
	cmd.Flags().BoolVar(&ignoreNotFound, "ignore-not-found", false, "treat a missing object as deleted")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "delete the objects of the kind matching this label selector")
	cmd.Flags().Int64Var(&grace, "grace-period", -1, "seconds a pod gets to stop (-1: its terminationGracePeriodSeconds; 0: at once)")
	cmd.Flags().BoolVar(&force, "force", false, "remove pods at once, without waiting for their agent to stop them")
	return cmd
}

func (o *options) deleteFiles(files []string, recursive, ignoreNotFound bool) error {
	docs, decodeErr := api.DecodePaths(files, recursive, o.streams.In)
	failed := false
	if decodeErr != nil {
		fmt.Fprintln(o.streams.Err, decodeErr)
		failed = true
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	for _, d := range docs {
		if err := o.setNamespace(d.Object); err != nil {
			fmt.Fprintln(o.streams.Err, docError(d, err))
			failed = true
			continue
		}
		if !o.deleteOne(c, api.KindOf(d.Object), d.Object.GetNamespace(), d.Object.GetName(), ignoreNotFound) {
			failed = true
		}
	}
	if failed {
		return errSilent
	}
	return nil
}

func (o *options) deleteNamed(args []string, selector string, ignoreNotFound bool) error {
	targets, err := parseTargets(args)
	if err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	failed := false
	for _, t := range targets {
		names := t.names
		if len(names) == 0 {
			if selector == "" {
				return fmt.Errorf("name the %s to delete, or select them with -l", t.kind.Resource)
			}
			objs, err := o.fetch(c, t, o.ns(), selector)
			if err != nil {
				return err
			}
			for _, obj := range objs {
				names = append(names, obj.GetName())
			}
		}
		for _, n := range names {
			if !o.deleteOne(c, t.kind, o.ns(), n, ignoreNotFound) {
				failed = true
			}
		}
	}
	if failed {
		return errSilent
	}
	return nil
}

func (o *options) deleteOne(c interface {
	DeleteWith(ctx context.Context, k *api.Kind, ns, name string, opts client.DeleteOptions) (api.Object, error)
}, k *api.Kind, ns, name string, ignoreNotFound bool) bool {
	ctx, cancel := o.context()
	defer cancel()
	if !k.Namespaced {
		ns = ""
	}
	_, err := c.DeleteWith(ctx, k, ns, name, o.deleteOpts)
	if apierrors.IsNotFound(err) && ignoreNotFound {
		return true
	}
	if err != nil {
		fmt.Fprintf(o.streams.Err, "Error from server (%s): %v\n", reason(err), err)
		return false
	}
	fmt.Fprintf(o.streams.Out, "%s/%s deleted\n", kindName(k), name)
	return true
}

// reason is the Status reason of an API error, as kubectl prints it.
func reason(err error) string {
	var se *apierrors.StatusError
	if errors.As(err, &se) && se.ErrStatus.Reason != "" {
		return string(se.ErrStatus.Reason)
	}
	return "Error"
}
