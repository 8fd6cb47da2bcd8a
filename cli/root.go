package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/weft-mesh/weft/client"
)

// Streams are where a command reads and writes.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

// options are the flags every command shares.
type options struct {
	streams    Streams
	configPath string
	server     string
	token      string
	namespace  string
	timeout    time.Duration
	deleteOpts client.DeleteOptions
}

// errSilent is returned after a command has already printed why it failed.
var errSilent = errors.New("")

// NewCommand builds weftctl's command tree.
func NewCommand(s Streams) *cobra.Command {
	o := &options{streams: s}
	root := &cobra.Command{
		Use:           "weftctl",
		Short:         "weftctl drives a Weft cluster: kubectl's and istioctl's verbs for Weft",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	pf := root.PersistentFlags()
	pf.StringVar(&o.configPath, "config", "", "client config file (default $WEFTCONFIG, then ~/.weft/config)")
	pf.StringVar(&o.server, "server", "", "API server URL, overrides the config file")
	pf.StringVar(&o.token, "token", "", "bearer token, overrides the config file")
	pf.StringVarP(&o.namespace, "namespace", "n", "", "namespace (default \"default\")")
	pf.DurationVar(&o.timeout, "request-timeout", 60*time.Second, "how long to wait for the server")
	root.AddCommand(
		newApplyCommand(o),
		newGetCommand(o),
		newDescribeCommand(o),
		newDeleteCommand(o),
		newAPIResourcesCommand(o),
		newVersionCommand(o),
		newProxyStatusCommand(o),
		newProxyConfigCommand(o),
		newTopCommand(o),
		newExecCommand(o),
		newLogsCommand(o),
		newRolloutCommand(o),
		newScaleCommand(o),
		newSetCommand(o),
		newAnalyzeCommand(o),
		newKubeInjectCommand(o),
		newExperimentalCommand(o),
	)
	return root
}

// Main runs weftctl with args and returns the process exit code.
func Main(args []string, s Streams) int {
	cmd := NewCommand(s)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		var ec interface{ ExitCode() int }
		if errors.As(err, &ec) {
			return ec.ExitCode()
		}
		if !errors.Is(err, errSilent) {
			fmt.Fprintln(s.Err, "error:", err)
		}
		return 1
	}
	return 0
}

func (o *options) client() (*client.Client, error) {
	path := client.ConfigPath(o.configPath)
	cfg, err := client.LoadConfig(path, o.configPath == "")
	if err != nil {
		return nil, err
	}
	if o.server != "" {
		cfg.Server = o.server
	}
	if o.token != "" {
		cfg.Token = o.token
	}
	if cfg.Server == "" {
		return nil, fmt.Errorf("no server configured: start weftd (make run) and use --config <data-dir>/weftctl.yaml, set $%s, or pass --server", client.EnvConfig)
	}
	return client.New(cfg.Server, cfg.Token)
}

func (o *options) ns() string {
	if o.namespace == "" {
		return "default"
	}
	return o.namespace
}

func (o *options) context() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), o.timeout)
}
