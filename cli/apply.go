package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/weft-mesh/weft/api"
)

func newApplyCommand(o *options) *cobra.Command {
	var files []string
	var recursive bool
	var wait applyWait
	cmd := &cobra.Command{
		Use:   "apply -f FILE|DIR|- [-R] [--wait [--timeout D]]",
		Short: "Create or update objects from YAML or JSON files, as kubectl apply does",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return errors.New("must specify -f FILE (a file, a folder or - for stdin)")
			}
			return o.apply(files, recursive, wait)
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil, "file, folder or - (stdin) with the objects")
	cmd.Flags().BoolVarP(&recursive, "recursive", "R", false, "read folders named with -f recursively")
	cmd.Flags().BoolVar(&wait.enabled, "wait", false, "wait until every proxy the change affects has ACKed its new configuration")
	cmd.Flags().DurationVar(&wait.timeout, "timeout", 60*time.Second, "with --wait, how long to wait for the proxies")
	return cmd
}

// applyWait are apply's --wait flags.
type applyWait struct {
	enabled bool
	timeout time.Duration
}

func (o *options) apply(files []string, recursive bool, wait applyWait) error {
	docs, decodeErr := api.DecodePaths(files, recursive, o.streams.In)
	failed := false
	if decodeErr != nil {
		fmt.Fprintln(o.streams.Err, decodeErr)
		failed = true
	}
	if len(docs) > 0 {
		c, err := o.client()
		if err != nil {
			return err
		}
		var before proxyVersions
		if wait.enabled {
			ctx, cancel := o.context()
			ps, err := readProxyStatus(ctx, c)
			cancel()
			switch {
			case errors.Is(err, errNoXDS):
				fmt.Fprintln(o.streams.Err, "Warning: --wait: weftd runs without xDS; there are no proxies to wait for")
				wait.enabled = false
			case err != nil:
				return fmt.Errorf("--wait: %w", err)
			default:
				before = versionsOf(ps)
			}
		}
		changed := false
		for _, d := range docs {
			if err := o.setNamespace(d.Object); err != nil {
				fmt.Fprintln(o.streams.Err, docError(d, err))
				failed = true
				continue
			}
			ctx, cancel := o.context()
			_, resp, err := c.Apply(ctx, d.Object)
			cancel()
			printWarnings(o.streams.Err, resp.Warnings)
			if err != nil {
				fmt.Fprintln(o.streams.Err, docError(d, err))
				failed = true
				continue
			}
			fmt.Fprintf(o.streams.Out, "%s %s\n", objectName(d.Object), resp.ApplyResult)
			changed = changed || resp.ApplyResult != "unchanged"
		}
		if wait.enabled && !failed {
			if !changed {
				fmt.Fprintln(o.streams.Out, "nothing changed: no proxy to wait for")
				return nil
			}
			return o.waitForProxies(c, before, wait.timeout)
		}
	}
	if failed {
		return errSilent
	}
	return nil
}

// setNamespace puts a namespaced object without one in the -n namespace,
// and refuses one whose namespace contradicts -n (as kubectl does).
func (o *options) setNamespace(obj api.Object) error {
	k := api.KindOf(obj)
	if k == nil || !k.Namespaced {
		return nil
	}
	switch ns := obj.GetNamespace(); {
	case ns == "":
		obj.SetNamespace(o.ns())
	case o.namespace != "" && ns != o.namespace:
		return fmt.Errorf("the namespace from the provided object %q does not match the namespace %q: pass --namespace=%s or remove the namespace from the file", ns, o.namespace, ns)
	}
	return nil
}

// docError names the document an error is about; server validation
// failures list each cause with its field path.
func docError(d api.Document, err error) error {
	de := &api.DocError{Source: d.Source, Index: d.Index, Kind: d.Object.GetObjectKind().GroupVersionKind().Kind, Name: d.Object.GetName()}
	var se *apierrors.StatusError
	if errors.As(err, &se) && se.ErrStatus.Details != nil && len(se.ErrStatus.Details.Causes) > 0 {
		de.Causes = se.ErrStatus.Details.Causes
		return de
	}
	return fmt.Errorf("%s: %w", de.Where(), err)
}

func printWarnings(w interface{ Write([]byte) (int, error) }, warnings []string) {
	for _, msg := range warnings {
		fmt.Fprintf(w, "Warning: %s\n", msg)
	}
}

// objectName is kubectl's `kind.group/name`, e.g. deployment.apps/web.
func objectName(obj api.Object) string {
	k := api.KindOf(obj)
	if k == nil {
		return obj.GetName()
	}
	return kindName(k) + "/" + obj.GetName()
}

func kindName(k *api.Kind) string {
	n := lowerASCII(k.Kind)
	if k.Group != "" {
		n += "." + k.Group
	}
	return n
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
