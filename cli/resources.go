package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/cli/printers"
)

func newAPIResourcesCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "api-resources",
		Short: "List the kinds the server serves",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			headers := []string{"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "ACTED ON"}
			var rows [][]string
			for _, k := range api.Kinds() {
				acted := "yes"
				if !k.ActedOn {
					acted = "stored only"
				}
				rows = append(rows, []string{k.Resource, strings.Join(k.ShortNames, ","), k.APIVersion(), fmt.Sprint(k.Namespaced), k.Kind, acted})
			}
			return printers.PrintTable(o.streams.Out, headers, rows)
		},
	}
}

// Version is weftctl's version, set by the linker.
var Version = "v0.1.0-dev"

func newVersionCommand(o *options) *cobra.Command {
	var clientOnly bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the client and server versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(o.streams.Out, "Client Version: %s\n", Version)
			if clientOnly {
				return nil
			}
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.context()
			defer cancel()
			b, err := c.Raw(ctx, "/version")
			if err != nil {
				return fmt.Errorf("server version: %w", err)
			}
			var v struct {
				GitVersion string `json:"gitVersion"`
			}
			if err := json.Unmarshal(b, &v); err != nil {
				return fmt.Errorf("server version: %w", err)
			}
			fmt.Fprintf(o.streams.Out, "Server Version: %s\n", v.GitVersion)
			return nil
		},
	}
	cmd.Flags().BoolVar(&clientOnly, "client", false, "print only the client version")
	return cmd
}
