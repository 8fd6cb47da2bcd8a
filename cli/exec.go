package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/weft-mesh/weft/client"
)

func newExecCommand(o *options) *cobra.Command {
	var container string
	var stdin bool
	cmd := &cobra.Command{
		Use:   "exec POD [-c CONTAINER] [-i] -- COMMAND [ARG...]",
		Short: "Run a command in a container; weftctl exits with the command's exit code",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dash := cmd.ArgsLenAtDash(); dash != 1 {
				return errors.New("use: weftctl exec POD -- COMMAND [ARG...]")
			}
			return o.exec(podName(args[0]), container, stdin, args[1:])
		},
	}
	cmd.Flags().StringVarP(&container, "container", "c", "", "the container (needed when the pod has several)")
	cmd.Flags().BoolVarP(&stdin, "stdin", "i", false, "pass weftctl's stdin to the command")
	cmd.Flags().BoolP("tty", "t", false, "accepted for kubectl's habits; no terminal is allocated")
	return cmd
}

// exitCode is an error that sets weftctl's exit code.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("command terminated with exit code %d", int(e)) }
func (e exitCode) ExitCode() int { return int(e) }

func (o *options) exec(pod, container string, stdin bool, argv []string) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	opts := client.ExecOptions{Container: container, Command: argv, Stdout: o.streams.Out, Stderr: o.streams.Err}
	if stdin {
		opts.Stdin = o.streams.In
	}
	code, err := c.Exec(context.Background(), o.ns(), pod, opts)
	var ee *client.ExitError
	switch {
	case errors.As(err, &ee):
		fmt.Fprintln(o.streams.Err, ee.Error())
		return exitCode(ee.Code)
	case err != nil:
		fmt.Fprintf(o.streams.Err, "Error from server (%s): %v\n", reason(err), err)
		if code != 0 {
			return exitCode(code)
		}
		return errSilent
	}
	return nil
}
