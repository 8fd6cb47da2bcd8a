package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/cli/printers"
	"github.com/weft-mesh/weft/client"
)

type getOptions struct {
	allNamespaces bool
	selector      string
	output        string
	showLabels    bool
}

func newGetCommand(o *options) *cobra.Command {
	g := &getOptions{}
	cmd := &cobra.Command{
		Use:   "get KIND[,KIND...] [NAME...] | KIND/NAME...",
		Short: "List objects in kubectl's tables, or print them as YAML or JSON",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.get(g, args)
		},
	}
	cmd.Flags().BoolVarP(&g.allNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	cmd.Flags().StringVarP(&g.selector, "selector", "l", "", "label selector, e.g. app=web,tier!=db")
	cmd.Flags().StringVarP(&g.output, "output", "o", "", "output format: wide, yaml, json or name")
	cmd.Flags().BoolVar(&g.showLabels, "show-labels", false, "add a LABELS column")
	return cmd
}

// target is what one argument group of get/describe/delete names.
type target struct {
	kind  *api.Kind
	names []string // empty: every object of the kind
}

// parseTargets understands `pods`, `pods a b`, `po,svc`, `pod/a svc/b`.
func parseTargets(args []string) ([]target, error) {
	if strings.Contains(args[0], "/") {
		var out []target
		for _, a := range args {
			kindName, name, ok := strings.Cut(a, "/")
			if !ok || name == "" {
				return nil, fmt.Errorf("%q: use KIND/NAME for every argument when one uses it", a)
			}
			k, err := lookupKind(kindName)
			if err != nil {
				return nil, err
			}
			out = append(out, target{kind: k, names: []string{name}})
		}
		return out, nil
	}
	var out []target
	for _, kn := range strings.Split(args[0], ",") {
		k, err := lookupKind(kn)
		if err != nil {
			return nil, err
		}
		out = append(out, target{kind: k, names: args[1:]})
	}
	if len(out) > 1 && len(args) > 1 {
		return nil, fmt.Errorf("names cannot be given with several kinds (%s): use KIND/NAME", args[0])
	}
	return out, nil
}

func lookupKind(name string) (*api.Kind, error) {
	if name == "all" {
		return nil, fmt.Errorf(`"all" is not supported: name the kinds, e.g. "get po,svc,deploy"`)
	}
	k := api.LookupName(name)
	if k == nil {
		return nil, fmt.Errorf("the server doesn't have a resource type %q (see `weftctl api-resources`)", name)
	}
	return k, nil
}

func (o *options) get(g *getOptions, args []string) error {
	switch g.output {
	case "", "wide", "yaml", "json", "name":
	default:
		return fmt.Errorf("unknown output format %q: use wide, yaml, json or name", g.output)
	}
	targets, err := parseTargets(args)
	if err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	ns := o.ns()
	if g.allNamespaces {
		ns = ""
	}
	var all []api.Object
	failed := false
	for i, t := range targets {
		objs, err := o.fetch(c, t, ns, g.selector)
		if err != nil {
			fmt.Fprintf(o.streams.Err, "Error from server (%s): %v\n", reason(err), err)
			failed = true
		}
		switch g.output {
		case "yaml", "json":
			all = append(all, objs...)
		case "name":
			for _, obj := range objs {
				fmt.Fprintln(o.streams.Out, objectName(obj))
			}
		default:
			if len(objs) == 0 {
				if err == nil && len(t.names) == 0 {
					if ns == "" || !t.kind.Namespaced {
						fmt.Fprintln(o.streams.Err, "No resources found")
					} else {
						fmt.Fprintf(o.streams.Err, "No resources found in %s namespace.\n", ns)
					}
				}
				continue
			}
			if i > 0 && len(targets) > 1 {
				fmt.Fprintln(o.streams.Out)
			}
			headers, rows := printers.Table(t.kind, objs, printers.TableOptions{
				AllNamespaces: g.allNamespaces && t.kind.Namespaced, Wide: g.output == "wide", ShowLabels: g.showLabels, Now: time.Now(),
			})
			if len(targets) > 1 {
				for _, r := range rows {
					r[nameColumn(headers)] = kindName(t.kind) + "/" + r[nameColumn(headers)]
				}
			}
			if err := printers.PrintTable(o.streams.Out, headers, rows); err != nil {
				return err
			}
		}
	}
	if g.output == "yaml" || g.output == "json" {
		single := len(targets) == 1 && len(targets[0].names) == 1
		if err := printObjects(o.streams.Out, g.output, all, single); err != nil {
			return err
		}
	}
	if failed {
		return errSilent
	}
	return nil
}

func nameColumn(headers []string) int {
	for i, h := range headers {
		if h == "NAME" {
			return i
		}
	}
	return 0
}

// fetch gets the named objects, or lists the kind.
func (o *options) fetch(c *client.Client, t target, ns, selector string) ([]api.Object, error) {
	ctx, cancel := o.context()
	defer cancel()
	if len(t.names) == 0 {
		objs, _, err := c.List(ctx, t.kind, ns, client.ListOptions{LabelSelector: selector})
		return objs, err
	}
	if ns == "" {
		ns = o.ns()
	}
	var out []api.Object
	var firstErr error
	for _, n := range t.names {
		obj, err := c.Get(ctx, t.kind, ns, n)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			} else {
				firstErr = fmt.Errorf("%w; %v", firstErr, err)
			}
			continue
		}
		out = append(out, obj)
	}
	return out, firstErr
}

// printObjects writes objects as YAML or JSON: one object alone, several as a List.
func printObjects(w io.Writer, format string, objs []api.Object, single bool) error {
	var v any
	if single && len(objs) == 1 {
		v = objs[0]
	} else {
		v = struct {
			metav1.TypeMeta `json:",inline"`
			Items           []api.Object      `json:"items"`
			Metadata        map[string]string `json:"metadata"`
		}{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}, Items: nonNil(objs), Metadata: map[string]string{"resourceVersion": ""}}
	}
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	if format == "yaml" {
		if b, err = yaml.JSONToYAML(b); err != nil {
			return err
		}
	} else {
		b = append(b, '\n')
	}
	_, err = w.Write(b)
	return err
}

func nonNil(objs []api.Object) []api.Object {
	if objs == nil {
		return []api.Object{}
	}
	return objs
}
