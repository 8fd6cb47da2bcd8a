package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/weft-mesh/weft/client"
)

func newLogsCommand(o *options) *cobra.Command {
	var opts client.LogOptions
	tail := int64(-1)
	cmd := &cobra.Command{
		Use:   "logs POD [-c CONTAINER] [-f] [--previous] [--tail N]",
		Short: "Print a container's logs (the run before, with --previous)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if tail >= 0 {
				opts.TailLines = &tail
			}
			return o.logs(podName(args[0]), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Container, "container", "c", "", "the container (needed when the pod has several)")
	f.BoolVarP(&opts.Follow, "follow", "f", false, "keep streaming while the container runs")
	f.BoolVarP(&opts.Previous, "previous", "p", false, "the logs of the container's previous run")
	f.BoolVar(&opts.Timestamps, "timestamps", false, "prefix each line with its time")
	f.Int64Var(&tail, "tail", -1, "only the last N lines")
	return cmd
}

// podName accepts POD and pod/POD (pods/POD, po/POD).
func podName(arg string) string {
	if k, n, ok := strings.Cut(arg, "/"); ok && (k == "pod" || k == "pods" || k == "po") {
		return n
	}
	return arg
}

func (o *options) logs(pod string, opts client.LogOptions) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if !opts.Follow {
		var cancel context.CancelFunc
		ctx, cancel = o.context()
		defer cancel()
	}
	rc, err := c.Logs(ctx, o.ns(), pod, opts)
	if err != nil {
		fmt.Fprintf(o.streams.Err, "Error from server (%s): %v\n", reason(err), err)
		return errSilent
	}
	defer rc.Close()
	if _, err := io.Copy(o.streams.Out, rc); err != nil && ctx.Err() == nil {
		return fmt.Errorf("read logs: %w", err)
	}
	return nil
}
