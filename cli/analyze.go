package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/cli/printers"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/policies"
)

// istioctl analyze's exit codes.
const (
	exitAnalyzerFoundIssues = 79 // messages at or above --failure-threshold
	exitFileParseError      = 65 // a document could not be read
)

// analysisKinds are the kinds `analyze` reads from the cluster.
var analysisKinds = []string{
	"namespaces", "nodes", "pods", "services", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs",
	"replicationcontrollers", "virtualservices", "destinationrules", "gateways", "serviceentries",
}

type analyzeOptions struct {
	files            []string
	recursive        bool
	allNamespaces    bool
	useCluster       bool
	output           string
	failureThreshold string
	outputThreshold  string
	suppress         []string
	list             bool
}

func newAnalyzeCommand(o *options) *cobra.Command {
	ao := &analyzeOptions{}
	cmd := &cobra.Command{
		Use:   "analyze [-f FILE|DIR|-]... [FILE...] [-R] [-A | -n NS] [--use-cluster=false]",
		Short: "Find problems in the mesh's configuration, as istioctl analyze does",
		Long: `Analyze the cluster's objects, and the files given as they would be once
applied (a file's object replaces the cluster's of the same kind, namespace and
name), and print what is wrong, one line per finding with Istio's code, then how
to fix it:

  Error [IST0101] (VirtualService default/reviews) Referenced host+subset in destinationrule not found: "reviews+v4"
    Fix: define subset "v4" in the DestinationRule for reviews.default.svc.cluster.local, ...

References are resolved across all namespaces; the findings shown are those about
the namespace analyzed (-n, default "default"; -A: all) and about the files.
The exit code is 79 when a finding is at or above --failure-threshold (Error),
65 when a document could not be read, as istioctl's. Codes are documented at
https://istio.io/latest/docs/reference/config/analysis/ (see -L).`,
		Example: `  # the live cluster, namespace default
  weftctl analyze
  # the cluster as it would be with these files applied, every namespace
  weftctl analyze -A -f reviews-v4.yaml
  # files alone
  weftctl analyze --use-cluster=false samples/bookinfo/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ao.files = append(ao.files, args...)
			return o.analyze(ao)
		},
	}
	f := cmd.Flags()
	f.StringSliceVarP(&ao.files, "filename", "f", nil, "file, folder or - (stdin) with objects to analyze with the cluster's")
	f.BoolVarP(&ao.recursive, "recursive", "R", false, "read folders named with -f recursively")
	f.BoolVarP(&ao.allNamespaces, "all-namespaces", "A", false, "analyze every namespace")
	f.BoolVarP(&ao.useCluster, "use-cluster", "k", true, "analyze the live cluster's objects; --use-cluster=false analyzes the files alone")
	f.BoolVar(&ao.useCluster, "use-kube", true, "istioctl's name for --use-cluster")
	_ = f.MarkHidden("use-kube")
	f.StringVarP(&ao.output, "output", "o", "log", "output format: log, json or yaml")
	f.StringVar(&ao.failureThreshold, "failure-threshold", "Error", "the level from which findings make the exit code 79: Info, Warning or Error")
	f.StringVar(&ao.outputThreshold, "output-threshold", "Info", "the level from which findings are shown: Info, Warning or Error")
	f.StringArrayVarP(&ao.suppress, "suppress", "S", nil, `suppress a code on a resource: "CODE=Kind name.namespace" (e.g. "IST0103=Pod mypod.testing"); "*" matches any part`)
	f.BoolVarP(&ao.list, "list-analyzers", "L", false, "list the codes analyze reports, and stop")
	return cmd
}

// suppression is one -S flag: a code and a resource pattern.
type suppression struct{ code, pattern string }

func (o *options) analyze(ao *analyzeOptions) error {
	if ao.list {
		headers := []string{"CODE", "NAME", "LEVEL", "DESCRIPTION"}
		var rows [][]string
		for _, t := range policies.MessageTypes() {
			rows = append(rows, []string{t.Code, t.Name, t.Level.String(), t.Description})
		}
		return printers.PrintTable(o.streams.Out, headers, rows)
	}
	switch ao.output {
	case "log", "json", "yaml":
	default:
		return fmt.Errorf("unknown output format %q: use log, json or yaml", ao.output)
	}
	failAt, err := policies.ParseLevel(ao.failureThreshold)
	if err != nil {
		return fmt.Errorf("--failure-threshold: %w", err)
	}
	showAt, err := policies.ParseLevel(ao.outputThreshold)
	if err != nil {
		return fmt.Errorf("--output-threshold: %w", err)
	}
	var suppressions []suppression
	for _, s := range ao.suppress {
		code, pattern, ok := strings.Cut(s, "=")
		if !ok || code == "" || pattern == "" {
			return fmt.Errorf("--suppress %q: want CODE=Kind name.namespace, e.g. \"IST0103=Pod mypod.testing\"", s)
		}
		suppressions = append(suppressions, suppression{code: code, pattern: pattern})
	}
	if !ao.useCluster && len(ao.files) == 0 {
		return errors.New("nothing to analyze: name files with -f, or analyze the cluster (--use-cluster=true)")
	}

	// The files: their objects, and how many could not be read.
	var docs []api.Document
	parseErrors := 0
	if len(ao.files) > 0 {
		var decodeErr error
		docs, decodeErr = api.DecodePaths(ao.files, ao.recursive, o.streams.In)
		if decodeErr != nil {
			fmt.Fprintln(o.streams.Err, decodeErr)
			parseErrors = len(unjoin(decodeErr))
		}
	}
	ns := o.ns()
	var resources []policies.Resource
	if ao.useCluster {
		c, err := o.client()
		if err != nil {
			return err
		}
		objs, err := o.clusterObjects(c)
		if err != nil {
			return err
		}
		nsFound := ao.allNamespaces
		for _, obj := range objs {
			if n, ok := obj.(*corev1.Namespace); ok && n.Name == ns {
				nsFound = true
			}
			resources = append(resources, policies.Resource{Object: obj})
		}
		if !nsFound {
			fmt.Fprintf(o.streams.Err, "Warning: namespace %q not found\n", ns)
		}
	}
	for _, d := range docs {
		if k := api.KindOf(d.Object); k != nil && k.Namespaced && d.Object.GetNamespace() == "" {
			d.Object.SetNamespace(ns)
		}
		resources = append(resources, policies.Resource{Object: d.Object, Origin: fmt.Sprintf("%s doc %d", d.Source, d.Index)})
	}

	// What concerns the namespace analyzed (or any, with -A) and the files.
	var found, shown []policies.Message
	for _, m := range policies.Analyze(resources) {
		if !ao.allNamespaces && m.Resource.Origin == "" && !inNamespace(m.Resource, ns) {
			continue
		}
		if suppressed(m, suppressions) {
			continue
		}
		found = append(found, m)
		if m.Level() >= showAt {
			shown = append(shown, m)
		}
	}

	target := "namespace: " + ns
	if ao.allNamespaces {
		target = "all namespaces"
	}
	switch ao.output {
	case "json", "yaml":
		if shown == nil {
			shown = []policies.Message{}
		}
		b, err := json.MarshalIndent(shown, "", "  ")
		if err != nil {
			return err
		}
		if ao.output == "yaml" {
			if b, err = yaml.JSONToYAML(b); err != nil {
				return err
			}
		} else {
			b = append(b, '\n')
		}
		if _, err := o.streams.Out.Write(b); err != nil {
			return err
		}
	default:
		for _, m := range shown {
			fmt.Fprintln(o.streams.Out, m)
			fmt.Fprintf(o.streams.Out, "    Fix: %s\n", m.Fix)
		}
		if len(shown) == 0 {
			if parseErrors == 0 {
				fmt.Fprintf(o.streams.Err, "\u2714 No validation issues found when analyzing %s.\n", target)
			} else {
				fmt.Fprintf(o.streams.Err, "No validation issues found when analyzing %s (but %d %s could not be parsed).\n", target, parseErrors, plural(parseErrors, "document", "documents"))
			}
		}
	}
	for _, m := range found {
		if m.Level() >= failAt {
			fmt.Fprintf(o.streams.Err, "Error: Analyzers found issues when analyzing %s.\nSee https://istio.io/latest/docs/reference/config/analysis for more information about causes and resolutions.\n", target)
			return exitCode(exitAnalyzerFoundIssues)
		}
	}
	if parseErrors > 0 {
		fmt.Fprintln(o.streams.Err, "Error: Some files couldn't be parsed.")
		return exitCode(exitFileParseError)
	}
	return nil
}

// clusterObjects lists every object of the kinds analyze reads, in every namespace.
func (o *options) clusterObjects(c *client.Client) ([]api.Object, error) {
	var out []api.Object
	for _, name := range analysisKinds {
		k := api.LookupName(name)
		if k == nil {
			return nil, fmt.Errorf("kind %s is not served", name)
		}
		ctx, cancel := o.context()
		objs, _, err := c.List(ctx, k, "", client.ListOptions{})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", k.Resource, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// inNamespace reports whether a message's resource belongs to namespace ns:
// a namespaced resource in it, or the Namespace itself.
func inNamespace(r policies.Ref, ns string) bool {
	if r.Namespace == "" {
		return r.Kind == "Namespace" && r.Name == ns
	}
	return r.Namespace == ns
}

// suppressed reports whether a -S flag hides the message. Resources are
// named as istioctl names them: "Pod mypod.testing", "Namespace default".
func suppressed(m policies.Message, suppressions []suppression) bool {
	name := m.Resource.Kind + " " + m.Resource.Name
	if m.Resource.Namespace != "" {
		name += "." + m.Resource.Namespace
	}
	for _, s := range suppressions {
		if s.code != m.Code() {
			continue
		}
		if ok, err := path.Match(s.pattern, name); err == nil && ok {
			return true
		}
	}
	return false
}

// unjoin returns the errors an errors.Join holds, or err alone.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
