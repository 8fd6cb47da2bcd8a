package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/weft-mesh/weft/cli/printers"
	"github.com/weft-mesh/weft/controlplane/xds"
)

// proxyStatusPath is weftd's proxy status endpoint (controlplane.ProxyStatusPath).
const proxyStatusPath = "/weft/v1/proxy-status"

func newProxyStatusCommand(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "proxy-status [POD[.NAMESPACE]]",
		Short: "Show every proxy's xDS sync state (SYNCED, STALE, NACK per type), like istioctl proxy-status",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.client()
			if err != nil {
				return err
			}
			ctx, cancel := o.context()
			defer cancel()
			b, err := c.Raw(ctx, proxyStatusPath)
			if err != nil {
				return fmt.Errorf("proxy status: %w", err)
			}
			var st struct {
				Proxies  []xds.ProxyStatus `json:"proxies"`
				Warnings []xds.Warning     `json:"warnings"`
			}
			if err := json.Unmarshal(b, &st); err != nil {
				return fmt.Errorf("proxy status: %w", err)
			}
			want := ""
			if len(args) == 1 {
				want = args[0]
				if !strings.Contains(want, ".") {
					want += "." + o.ns()
				}
			}
			headers, rows := proxyStatusTable(st.Proxies, want)
			if len(rows) == 0 {
				if want != "" {
					return fmt.Errorf("no proxy %s is connected", want)
				}
				fmt.Fprintln(o.streams.Err, "No proxies are connected.")
			} else if err := printers.PrintTable(o.streams.Out, headers, rows); err != nil {
				return err
			}
			for _, p := range st.Proxies {
				for _, t := range p.Types {
					if t.State == xds.StateNACK && (want == "" || p.Name+"."+p.Namespace == want) {
						fmt.Fprintf(o.streams.Out, "\n%s.%s rejected %s version %s: %s\n", p.Name, p.Namespace, t.Type, t.NACKVersion, t.Error)
					}
				}
			}
			return nil
		},
	}
}

// proxyStatusTable is istioctl's proxy-status table, less the istiod columns.
func proxyStatusTable(proxies []xds.ProxyStatus, want string) ([]string, [][]string) {
	headers := []string{"NAME", "TYPE", "CDS", "LDS", "EDS", "RDS", "IP"}
	sort.Slice(proxies, func(i, j int) bool { return proxies[i].ID < proxies[j].ID })
	var rows [][]string
	for _, p := range proxies {
		name := p.Name + "." + p.Namespace
		if p.Name == "" {
			name = p.ID
		}
		if want != "" && name != want {
			continue
		}
		byType := map[string]string{}
		for _, t := range p.Types {
			byType[t.Type] = t.State
		}
		rows = append(rows, []string{name, string(p.Type), byType["CDS"], byType["LDS"], byType["EDS"], byType["RDS"], p.IP})
	}
	return headers, rows
}
