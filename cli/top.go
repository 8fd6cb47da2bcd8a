package cli

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/cli/printers"
	"github.com/weft-mesh/weft/client"
)

func newTopCommand(o *options) *cobra.Command {
	top := &cobra.Command{
		Use:   "top pod|node",
		Short: "Show CPU and memory use of pods or nodes (from the metrics API)",
	}
	var selector string
	var allNamespaces, containers bool
	pod := &cobra.Command{
		Use:     "pod [NAME]",
		Aliases: []string{"pods", "po"},
		Short:   "Show pods' CPU and memory use",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.topPods(args, selector, allNamespaces, containers)
		},
	}
	pod.Flags().StringVarP(&selector, "selector", "l", "", "label selector")
	pod.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "across all namespaces")
	pod.Flags().BoolVar(&containers, "containers", false, "one line per container")
	node := &cobra.Command{
		Use:     "node [NAME]",
		Aliases: []string{"nodes", "no"},
		Short:   "Show nodes' CPU and memory use",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.topNodes(args, selector)
		},
	}
	node.Flags().StringVarP(&selector, "selector", "l", "", "label selector")
	top.AddCommand(pod, node)
	return top
}

func cpuMilli(q resource.Quantity) string { return fmt.Sprintf("%dm", q.MilliValue()) }
func memMi(q resource.Quantity) string    { return fmt.Sprintf("%dMi", q.Value()/(1<<20)) }

func (o *options) topPods(args []string, selector string, all, containers bool) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	ctx, cancel := o.context()
	defer cancel()
	ns := o.ns()
	if all {
		ns = ""
	}
	items, err := c.PodMetrics(ctx, ns, selector)
	if err != nil {
		fmt.Fprintf(o.streams.Err, "Error from server (%s): %v\n", reason(err), err)
		return errSilent
	}
	var rows [][]string
	for _, m := range items {
		if len(args) == 1 && m.Name != args[0] {
			continue
		}
		var cpu, mem resource.Quantity
		for _, ct := range m.Containers {
			if containers {
				row := []string{m.Name, ct.Name, cpuMilli(*ct.Usage.Cpu()), memMi(*ct.Usage.Memory())}
				if all {
					row = append([]string{m.Namespace}, row...)
				}
				rows = append(rows, row)
			}
			cpu.Add(*ct.Usage.Cpu())
			mem.Add(*ct.Usage.Memory())
		}
		if !containers {
			row := []string{m.Name, cpuMilli(cpu), memMi(mem)}
			if all {
				row = append([]string{m.Namespace}, row...)
			}
			rows = append(rows, row)
		}
	}
	if len(rows) == 0 {
		if len(args) == 1 {
			fmt.Fprintf(o.streams.Err, "Error from server (NotFound): podmetrics.metrics.k8s.io %q not found\n", args[0])
			return errSilent
		}
		fmt.Fprintln(o.streams.Err, "No resources found (metrics appear once the agents sampled their pods)")
		return nil
	}
	headers := []string{"NAME", "CPU(cores)", "MEMORY(bytes)"}
	if containers {
		headers = []string{"POD", "NAME", "CPU(cores)", "MEMORY(bytes)"}
	}
	if all {
		headers = append([]string{"NAMESPACE"}, headers...)
	}
	return printers.PrintTable(o.streams.Out, headers, rows)
}

func (o *options) topNodes(args []string, selector string) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	ctx, cancel := o.context()
	defer cancel()
	items, err := c.NodeMetrics(ctx, selector)
	if err != nil {
		fmt.Fprintf(o.streams.Err, "Error from server (%s): %v\n", reason(err), err)
		return errSilent
	}
	nodes, _, err := c.List(ctx, api.LookupName("nodes"), "", client.ListOptions{})
	if err != nil {
		return err
	}
	alloc := map[string]corev1.ResourceList{}
	for _, n := range nodes {
		node := n.(*corev1.Node)
		alloc[node.Name] = node.Status.Allocatable
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	var rows [][]string
	for _, m := range items {
		if len(args) == 1 && m.Name != args[0] {
			continue
		}
		cpu, mem := *m.Usage.Cpu(), *m.Usage.Memory()
		cpuPct, memPct := "<unknown>", "<unknown>"
		if a, ok := alloc[m.Name]; ok {
			if v := a.Cpu().MilliValue(); v > 0 {
				cpuPct = fmt.Sprintf("%d%%", cpu.MilliValue()*100/v)
			}
			if v := a.Memory().Value(); v > 0 {
				memPct = fmt.Sprintf("%d%%", mem.Value()*100/v)
			}
		}
		rows = append(rows, []string{m.Name, cpuMilli(cpu), cpuPct, memMi(mem), memPct})
	}
	if len(rows) == 0 {
		fmt.Fprintln(o.streams.Err, "No resources found (metrics appear once the agents sampled their nodes)")
		return nil
	}
	return printers.PrintTable(o.streams.Out, []string{"NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"}, rows)
}
