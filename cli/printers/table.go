package printers

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	networking "istio.io/api/networking/v1alpha3"
	security "istio.io/api/security/v1beta1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/weft-mesh/weft/api"
)

// TableOptions says how Table lays out rows, as kubectl's flags do.
type TableOptions struct {
	// AllNamespaces adds a leading NAMESPACE column (-A); as kubectl, only
	// for namespaced kinds.
	AllNamespaces bool
	// Wide adds the -o wide columns.
	Wide bool
	// ShowLabels adds a trailing LABELS column (--show-labels).
	ShowLabels bool
	// Now is the time ages are measured from.
	Now time.Time
}

// column is one column of a kind's table, as kubectl defines it.
type column struct {
	name string // upper case, as printed
	wide bool   // priority 1: only shown with -o wide
}

// rowFunc returns the cells of one object for every column of its printer,
// wide ones included.
type rowFunc func(obj api.Object, o TableOptions) []string

type tablePrinter struct {
	columns []column
	row     rowFunc
}

// cols builds columns from names; a name ending in "+" is a wide column.
func cols(names ...string) []column {
	out := make([]column, len(names))
	for i, n := range names {
		if w, ok := strings.CutSuffix(n, "+"); ok {
			out[i] = column{name: w, wide: true}
		} else {
			out[i] = column{name: n}
		}
	}
	return out
}

// typed adapts a row function for one Go type. An object of another type
// (which api.KindOf rules out) gets an empty row, padded by Table.
func typed[T api.Object](f func(T, TableOptions) []string) rowFunc {
	return func(obj api.Object, o TableOptions) []string {
		t, ok := obj.(T)
		if !ok {
			return nil
		}
		return f(t, o)
	}
}

func gk(group, kind string) schema.GroupKind { return schema.GroupKind{Group: group, Kind: kind} }

// tablePrinters holds kubectl's columns per kind. Kinds not listed print
// NAME AGE.
var tablePrinters = map[schema.GroupKind]tablePrinter{
	gk("", "Pod"):                   {cols("NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP+", "NODE+", "NOMINATED NODE+", "READINESS GATES+"), typed(podRow)},
	gk("", "Service"):               {cols("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR+"), typed(serviceRow)},
	gk("", "Endpoints"):             {cols("NAME", "ENDPOINTS", "AGE"), typed(endpointsRow)},
	gk("", "Node"):                  {cols("NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP+", "EXTERNAL-IP+", "OS-IMAGE+", "KERNEL-VERSION+", "CONTAINER-RUNTIME+"), typed(nodeRow)},
	gk("", "Namespace"):             {cols("NAME", "STATUS", "AGE"), typed(namespaceRow)},
	gk("", "ConfigMap"):             {cols("NAME", "DATA", "AGE"), typed(configMapRow)},
	gk("", "Secret"):                {cols("NAME", "TYPE", "DATA", "AGE"), typed(secretRow)},
	gk("", "ServiceAccount"):        {cols("NAME", "SECRETS", "AGE"), typed(serviceAccountRow)},
	gk("", "Event"):                 {cols("LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT+", "SOURCE+", "MESSAGE", "FIRST SEEN+", "COUNT+", "NAME+"), typed(eventRow)},
	gk("", "ReplicationController"): {cols("NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS+", "IMAGES+", "SELECTOR+"), typed(replicationControllerRow)},
	gk("", "PersistentVolumeClaim"): {cols("NAME", "STATUS", "VOLUME", "CAPACITY", "ACCESS MODES", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "AGE", "VOLUMEMODE+"), typed(pvcRow)},
	gk("", "PersistentVolume"):      {cols("NAME", "CAPACITY", "ACCESS MODES", "RECLAIM POLICY", "STATUS", "CLAIM", "STORAGECLASS", "VOLUMEATTRIBUTESCLASS", "REASON", "AGE", "VOLUMEMODE+"), typed(pvRow)},

	gk("apps", "Deployment"):  {cols("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS+", "IMAGES+", "SELECTOR+"), typed(deploymentRow)},
	gk("apps", "ReplicaSet"):  {cols("NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS+", "IMAGES+", "SELECTOR+"), typed(replicaSetRow)},
	gk("apps", "StatefulSet"): {cols("NAME", "READY", "AGE", "CONTAINERS+", "IMAGES+"), typed(statefulSetRow)},
	gk("apps", "DaemonSet"):   {cols("NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE", "CONTAINERS+", "IMAGES+", "SELECTOR+"), typed(daemonSetRow)},

	gk("autoscaling", "HorizontalPodAutoscaler"): {cols("NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"), hpaRow},

	gk("batch", "Job"):     {cols("NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", "CONTAINERS+", "IMAGES+", "SELECTOR+"), typed(jobRow)},
	gk("batch", "CronJob"): {cols("NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE", "CONTAINERS+", "IMAGES+", "SELECTOR+"), typed(cronJobRow)},

	gk("storage.k8s.io", "StorageClass"):     {cols("NAME", "PROVISIONER", "RECLAIMPOLICY", "VOLUMEBINDINGMODE", "ALLOWVOLUMEEXPANSION", "AGE"), typed(storageClassRow)},
	gk("discovery.k8s.io", "EndpointSlice"):  {cols("NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"), typed(endpointSliceRow)},
	gk("networking.k8s.io", "NetworkPolicy"): {cols("NAME", "POD-SELECTOR", "AGE"), typed(networkPolicyRow)},
	gk("networking.k8s.io", "Ingress"):       {cols("NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"), typed(ingressRow)},
	gk("policy", "PodDisruptionBudget"):      {cols("NAME", "MIN AVAILABLE", "MAX UNAVAILABLE", "ALLOWED DISRUPTIONS", "AGE"), typed(pdbRow)},

	// kubectl has no printer for roles: the API server's default table
	// (NAME, CREATED AT) is what `kubectl get roles` shows.
	gk("rbac.authorization.k8s.io", "Role"):               {cols("NAME", "CREATED AT"), createdAtRow},
	gk("rbac.authorization.k8s.io", "ClusterRole"):        {cols("NAME", "CREATED AT"), createdAtRow},
	gk("rbac.authorization.k8s.io", "RoleBinding"):        {cols("NAME", "ROLE", "AGE", "USERS+", "GROUPS+", "SERVICEACCOUNTS+"), roleBindingRow},
	gk("rbac.authorization.k8s.io", "ClusterRoleBinding"): {cols("NAME", "ROLE", "AGE", "USERS+", "GROUPS+", "SERVICEACCOUNTS+"), roleBindingRow},

	// Istio kinds: the additionalPrinterColumns of Istio's CRDs.
	gk("networking.istio.io", "VirtualService"):  crdPrinter(crdColumn{name: "GATEWAYS", path: "gateways"}, crdColumn{name: "HOSTS", path: "hosts"}),
	gk("networking.istio.io", "DestinationRule"): crdPrinter(crdColumn{name: "HOST", path: "host"}),
	gk("networking.istio.io", "ServiceEntry"): crdPrinter(
		crdColumn{name: "HOSTS", path: "hosts"},
		crdColumn{name: "LOCATION", path: "location", zero: networking.ServiceEntry_MESH_EXTERNAL.String()},
		crdColumn{name: "RESOLUTION", path: "resolution", zero: networking.ServiceEntry_NONE.String()},
	),
	gk("security.istio.io", "PeerAuthentication"):  crdPrinter(crdColumn{name: "MODE", path: "mtls.mode"}),
	gk("security.istio.io", "AuthorizationPolicy"): crdPrinter(crdColumn{name: "ACTION", path: "action", zero: security.AuthorizationPolicy_ALLOW.String()}),
}

// defaultPrinter is NAME AGE, what kubectl shows for a kind without a
// printer of its own (and for a custom resource without printer columns).
var defaultPrinter = tablePrinter{cols("NAME", "AGE"), func(obj api.Object, o TableOptions) []string {
	return []string{obj.GetName(), since(o.Now, obj.GetCreationTimestamp())}
}}

func printerFor(k *api.Kind) tablePrinter {
	if k == nil {
		return defaultPrinter
	}
	if p, ok := tablePrinters[gk(k.Group, k.Kind)]; ok {
		return p
	}
	return defaultPrinter
}

// Table renders objects of one kind as kubectl does for `kubectl get`: the
// same columns and cell formats. With AllNamespaces a namespaced kind gets a
// leading NAMESPACE column; Wide adds kubectl's -o wide columns; ShowLabels a
// trailing LABELS column. Rows keep the order of objs. If k is nil, the kind
// of the first object is used.
func Table(k *api.Kind, objs []api.Object, opts TableOptions) (headers []string, rows [][]string) {
	if k == nil && len(objs) > 0 {
		k = api.KindOf(objs[0])
	}
	p := printerFor(k)
	withNamespace := opts.AllNamespaces && (k == nil || k.Namespaced)

	if withNamespace {
		headers = append(headers, "NAMESPACE")
	}
	for _, c := range p.columns {
		if c.wide && !opts.Wide {
			continue
		}
		headers = append(headers, c.name)
	}
	if opts.ShowLabels {
		headers = append(headers, "LABELS")
	}

	rows = make([][]string, 0, len(objs))
	for _, obj := range objs {
		cells := p.row(obj, opts)
		row := make([]string, 0, len(headers))
		if withNamespace {
			row = append(row, obj.GetNamespace())
		}
		for i, c := range p.columns {
			if c.wide && !opts.Wide {
				continue
			}
			switch {
			case i < len(cells):
				row = append(row, cells[i])
			case i == 0 && c.name == "NAME":
				row = append(row, obj.GetName())
			default:
				row = append(row, "")
			}
		}
		if opts.ShowLabels {
			row = append(row, labels.FormatLabels(obj.GetLabels()))
		}
		rows = append(rows, row)
	}
	return headers, rows
}

// The tabwriter settings of kubectl's table printer
// (k8s.io/cli-runtime/pkg/printers.GetNewTabWriter).
const (
	tabwriterMinWidth = 6
	tabwriterWidth    = 4
	tabwriterPadding  = 3
	tabwriterPadChar  = ' '
	tabwriterFlags    = 0
)

// PrintTable writes headers and rows aligned as kubectl does (text/tabwriter,
// three spaces between columns, upper-case headers). As kubectl, a cell is
// cut at its first line break, with "..." to say so, and terminal escape
// characters are made visible.
func PrintTable(w io.Writer, headers []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, tabwriterMinWidth, tabwriterWidth, tabwriterPadding, tabwriterPadChar, tabwriterFlags)
	if len(headers) > 0 {
		upper := make([]string, len(headers))
		for i, h := range headers {
			upper[i] = strings.ToUpper(tableCell(h))
		}
		if _, err := fmt.Fprintln(tw, strings.Join(upper, "\t")); err != nil {
			return fmt.Errorf("print table: %w", err)
		}
	}
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = tableCell(c)
		}
		if _, err := fmt.Fprintln(tw, strings.Join(cells, "\t")); err != nil {
			return fmt.Errorf("print table: %w", err)
		}
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("print table: %w", err)
	}
	return nil
}

// tableCell is a cell as kubectl's table printer writes it: cut at the
// first newline, carriage return or form feed (which tabwriter would treat
// as a line break) with "..." appended, tabs made spaces so they do not
// split the cell, and escape characters made visible.
func tableCell(s string) string {
	if i := strings.IndexAny(s, "\f\n\r"); i >= 0 {
		s = s[:i] + "..."
	}
	s = strings.ReplaceAll(s, "\t", " ")
	return escapeTerminal(s)
}

// escapeTerminal is kubectl's EscapeTerminal: it shows ESC and CR instead
// of letting them act on the terminal.
var terminalEscaper = strings.NewReplacer("\x1b", "^[", "\r", "\\r")

func escapeTerminal(s string) string { return terminalEscaper.Replace(s) }
