package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	networking "istio.io/api/networking/v1alpha3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/policies"
)

// newExperimentalCommand is `weftctl x`, istioctl's experimental verbs.
func newExperimentalCommand(o *options) *cobra.Command {
	x := &cobra.Command{
		Use:     "x",
		Aliases: []string{"experimental", "exp"},
		Short:   "Experimental mesh commands, as istioctl x",
	}
	describe := &cobra.Command{
		Use:   "describe",
		Short: "Describe how the mesh treats a resource",
	}
	describe.AddCommand(&cobra.Command{
		Use:   "pod POD",
		Short: "Show the services, VirtualServices, DestinationRules and subsets that apply to a pod, and the weights it is reached with",
		Long: `Show how the mesh treats a pod, as istioctl x describe pod does: the Services
that select it and their ports, the DestinationRules of those services (which
subsets select the pod, which do not, and their traffic policies), and the
VirtualServices that route to them: for each route, the share of its requests
that reaches the pod's subsets, and where the rest goes.

POD is a pod name in the -n namespace, or NAME.NAMESPACE.`,
		Example: `  weftctl x describe pod reviews-v1-5f7b9c-x2x9z`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.describeMeshPod(args[0])
		},
	})
	x.AddCommand(describe)
	return x
}

func (o *options) describeMeshPod(name string) error {
	c, err := o.client()
	if err != nil {
		return err
	}
	ctx, cancel := o.context()
	defer cancel()
	ns := o.ns()
	obj, err := c.Get(ctx, api.LookupName("pods"), ns, name)
	if apierrors.IsNotFound(err) && o.namespace == "" {
		if i := strings.LastIndexByte(name, '.'); i > 0 {
			if obj2, err2 := c.Get(ctx, api.LookupName("pods"), name[i+1:], name[:i]); err2 == nil {
				obj, err, ns = obj2, nil, name[i+1:]
			}
		}
	}
	if err != nil {
		return err
	}
	pod := obj.(*corev1.Pod)
	list := func(kind, ns string) ([]api.Object, error) {
		objs, _, err := c.List(ctx, api.LookupName(kind), ns, client.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", kind, err)
		}
		return objs, nil
	}
	svcObjs, err := list("services", ns)
	if err != nil {
		return err
	}
	vsObjs, err := list("virtualservices", "")
	if err != nil {
		return err
	}
	drObjs, err := list("destinationrules", "")
	if err != nil {
		return err
	}
	var m meshView
	for _, s := range svcObjs {
		m.services = append(m.services, s.(*corev1.Service))
	}
	for _, v := range vsObjs {
		if vs := v.(*api.VirtualService); vs.Spec != nil {
			m.virtualServices = append(m.virtualServices, vs)
		}
	}
	for _, d := range drObjs {
		if dr := d.(*api.DestinationRule); dr.Spec != nil {
			m.destinationRules = append(m.destinationRules, dr)
		}
	}
	fmt.Fprint(o.streams.Out, m.describePod(pod))
	return nil
}

// meshView is what describing a pod looks at: the services of its
// namespace, and the routing rules of every namespace.
type meshView struct {
	services         []*corev1.Service
	virtualServices  []*api.VirtualService
	destinationRules []*api.DestinationRule
}

// describePod renders `x describe pod` for one pod.
func (m *meshView) describePod(pod *corev1.Pod) string {
	var b strings.Builder
	w := func(indent int, format string, args ...any) {
		b.WriteString(strings.Repeat("   ", indent))
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	w(0, "Pod: %s", pod.Name)
	w(1, "Namespace: %s", pod.Namespace)
	var ports []string
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			ports = append(ports, fmt.Sprintf("%d (%s)", p.ContainerPort, c.Name))
		}
	}
	if len(ports) > 0 {
		w(1, "Pod Ports: %s", strings.Join(ports, ", "))
	}
	if !api.HasSidecar(&pod.Spec) {
		w(0, "WARNING: %s is not part of the mesh: it has no %s sidecar", pod.Name, api.SidecarContainerName)
	}
	podLabels := labels.Set(pod.Labels)
	var selecting []*corev1.Service
	for _, s := range m.services {
		if len(s.Spec.Selector) > 0 && labels.SelectorFromSet(s.Spec.Selector).Matches(podLabels) {
			selecting = append(selecting, s)
		}
	}
	sort.Slice(selecting, func(i, j int) bool { return selecting[i].Name < selecting[j].Name })
	if len(selecting) == 0 {
		w(0, "--------------------")
		w(0, "No Service selects this pod: the mesh routes no requests to it by name")
		return b.String()
	}
	for _, s := range selecting {
		w(0, "--------------------")
		m.describeService(w, pod, s)
	}
	return b.String()
}

type writeFunc func(indent int, format string, args ...any)

func (m *meshView) describeService(w writeFunc, pod *corev1.Pod, s *corev1.Service) {
	fqdn := policies.HostFQDN(s.Namespace, s.Name)
	w(0, "Service: %s", s.Name)
	for _, p := range s.Spec.Ports {
		proto := policies.PortProtocol(p)
		if proto == "" {
			proto = "TCP, its name names no protocol"
		}
		w(1, "Port: %s %d/%s targets pod port %s", p.Name, p.Port, proto, targetPort(pod, p))
	}

	// DestinationRules: which of their subsets take this pod.
	podLabels := labels.Set(pod.Labels)
	matching := map[string]bool{} // subsets selecting the pod
	known := map[string]bool{}    // every subset defined for the service
	for _, dr := range m.destinationRules {
		drNs := dr.Namespace
		host := dr.Spec.GetHost()
		if !hostCovers(policies.HostFQDN(drNs, host), fqdn) {
			continue
		}
		w(0, "DestinationRule: %s for %q", nsName(drNs, dr.Name, pod.Namespace), host)
		var match, other []string
		for _, sub := range dr.Spec.GetSubsets() {
			known[sub.GetName()] = true
			if labels.SelectorFromSet(sub.GetLabels()).Matches(podLabels) {
				match = append(match, sub.GetName())
				matching[sub.GetName()] = true
			} else {
				other = append(other, sub.GetName())
			}
		}
		if len(dr.Spec.GetSubsets()) > 0 {
			if len(match) == 0 {
				w(1, "WARNING: no subset selects this pod (its labels: %s)", labels.FormatLabels(pod.Labels))
			} else {
				w(1, "Matching subsets: %s", strings.Join(match, ","))
			}
			if len(other) > 0 {
				w(2, "(Non-matching subsets %s)", strings.Join(other, ","))
			}
		}
		if tp := dr.Spec.GetTrafficPolicy(); tp != nil {
			w(1, "Traffic Policy: %s", compactJSON(tp))
		} else {
			w(1, "No Traffic Policy")
		}
		for _, sub := range dr.Spec.GetSubsets() {
			if matching[sub.GetName()] && sub.GetTrafficPolicy() != nil {
				w(1, "Subset %s Traffic Policy: %s", sub.GetName(), compactJSON(sub.GetTrafficPolicy()))
			}
		}
	}

	// VirtualServices that route to the service.
	reaches := func(d *networking.Destination) bool {
		return d.GetSubset() == "" || matching[d.GetSubset()]
	}
	routed := false
	for _, vs := range m.virtualServices {
		if !boundToMesh(vs.Spec) {
			continue
		}
		toService := func(d *networking.Destination) bool {
			return d != nil && policies.HostFQDN(vs.Namespace, d.GetHost()) == fqdn
		}
		forHost := false
		for _, h := range vs.Spec.GetHosts() {
			if hostCovers(policies.HostFQDN(vs.Namespace, h), fqdn) {
				forHost = true
			}
		}
		var lines []string
		reached := 0
		for i, r := range vs.Spec.GetHttp() {
			weights := make([]int32, len(r.GetRoute()))
			targets := make([]*networking.Destination, len(r.GetRoute()))
			for j, d := range r.GetRoute() {
				weights[j], targets[j] = d.GetWeight(), d.GetDestination()
			}
			when := httpMatchSummary(r.GetMatch())
			line, hit := routeLine("HTTP", i, when, weights, targets, toService, reaches)
			if line != "" {
				lines = append(lines, line)
			}
			if hit {
				reached++
			}
			for _, md := range mirrorsOf(r) {
				if toService(md.dest) && reaches(md.dest) {
					lines = append(lines, fmt.Sprintf("HTTP route %d for (%s): Mirror %s of its requests to this pod (%s)", i, when, md.percent, destinationName(md.dest)))
				}
			}
		}
		for i, r := range vs.Spec.GetTcp() {
			weights := make([]int32, len(r.GetRoute()))
			targets := make([]*networking.Destination, len(r.GetRoute()))
			for j, d := range r.GetRoute() {
				weights[j], targets[j] = d.GetWeight(), d.GetDestination()
			}
			line, hit := routeLine("TCP", i, tcpMatchSummary(r.GetMatch()), weights, targets, toService, reaches)
			if line != "" {
				lines = append(lines, line)
			}
			if hit {
				reached++
			}
		}
		if !forHost && len(lines) == 0 {
			continue
		}
		routed = routed || forHost
		title := nsName(vs.Namespace, vs.Name, pod.Namespace)
		if !forHost {
			title += fmt.Sprintf(" (for %s)", strings.Join(vs.Spec.GetHosts(), ", "))
		}
		w(0, "VirtualService: %s", title)
		w(1, "%d HTTP route(s)%s", len(vs.Spec.GetHttp()), tcpCount(len(vs.Spec.GetTcp())))
		if reached == 0 && len(lines) > 0 {
			w(1, "WARNING: No destinations match pod subsets (checked %d HTTP and %d TCP routes)", len(vs.Spec.GetHttp()), len(vs.Spec.GetTcp()))
		}
		for _, l := range lines {
			w(1, "%s", l)
		}
		for _, sub := range subsetsRoutedButUndefined(vs.Spec, toService, known) {
			w(1, "WARNING: subset %q is not defined by any DestinationRule for %s (weftctl analyze: IST0101)", sub, s.Name)
		}
	}
	if !routed {
		w(0, "VirtualService: none for %s", s.Name)
		w(1, "Requests for %s reach all its pods, this one among them", s.Name)
	}
}

// routeLine describes one route rule as seen from the pod: the share of
// its requests that reaches the pod's subsets, and where the rest goes
// ("HTTP route 0 for (everything): Weight 80% to this pod (subset v1); 20%
// to non-matching subset v2"). It returns "" for a rule that does not route
// to the service, and whether the rule reaches the pod.
func routeLine(kind string, i int, when string, weights []int32, targets []*networking.Destination,
	toService, reaches func(*networking.Destination) bool) (string, bool) {
	type part struct {
		name   string
		weight int64
	}
	var total, hit int64
	var here []string
	var rest []part
	involved := false
	for j, d := range targets {
		w := int64(weights[j])
		if len(targets) == 1 {
			w = 100 // a single destination takes every request, whatever its weight
		}
		total += w
		switch {
		case toService(d) && reaches(d):
			involved = true
			hit += w
			here = append(here, destinationName(d))
		case toService(d):
			involved = true
			rest = append(rest, part{"non-matching subset " + d.GetSubset(), w})
		default:
			rest = append(rest, part{fmt.Sprintf("host %q", d.GetHost()), w})
		}
	}
	if !involved {
		return "", false
	}
	head := fmt.Sprintf("%s route %d for (%s): ", kind, i, when)
	var others []string
	for _, p := range rest {
		if len(targets) == 1 {
			others = append(others, p.name)
		} else {
			others = append(others, percent(p.weight, total)+" to "+p.name)
		}
	}
	if hit == 0 {
		if len(targets) == 1 {
			return head + "Route to " + others[0] + ", not to this pod", false
		}
		return head + "none to this pod; " + strings.Join(others, "; "), false
	}
	line := head + "Weight " + percent(hit, total) + " to this pod (" + strings.Join(here, ", ") + ")"
	if len(others) > 0 {
		line += "; " + strings.Join(others, "; ")
	}
	return line, true
}

// percent is part/total as a percentage: "80%", "33.3%".
func percent(part, total int64) string {
	if total <= 0 {
		return "?%"
	}
	v := float64(part) * 100 / float64(total)
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", v), "0"), ".") + "%"
}

func destinationName(d *networking.Destination) string {
	if d.GetSubset() == "" {
		return "any subset"
	}
	return "subset " + d.GetSubset()
}

func tcpCount(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d TCP route(s)", n)
}

// mirror is one mirror of an HTTP route and the share it copies.
type mirror struct {
	dest    *networking.Destination
	percent string
}

func mirrorsOf(r *networking.HTTPRoute) []mirror {
	var out []mirror
	if r.GetMirror() != nil {
		p := "100%"
		if mp := r.GetMirrorPercentage(); mp != nil {
			p = fmt.Sprintf("%g%%", mp.GetValue())
		} else if r.GetMirrorPercent() != nil {
			p = fmt.Sprintf("%d%%", r.GetMirrorPercent().GetValue())
		}
		out = append(out, mirror{dest: r.GetMirror(), percent: p})
	}
	for _, m := range r.GetMirrors() {
		p := "100%"
		if m.GetPercentage() != nil {
			p = fmt.Sprintf("%g%%", m.GetPercentage().GetValue())
		}
		out = append(out, mirror{dest: m.GetDestination(), percent: p})
	}
	return out
}

// subsetsRoutedButUndefined lists the subsets of the service a
// VirtualService routes to that no DestinationRule defines.
func subsetsRoutedButUndefined(vs *networking.VirtualService, toService func(*networking.Destination) bool, known map[string]bool) []string {
	seen := map[string]bool{}
	var out []string
	check := func(d *networking.Destination) {
		if d == nil || !toService(d) || d.GetSubset() == "" || known[d.GetSubset()] || seen[d.GetSubset()] {
			return
		}
		seen[d.GetSubset()] = true
		out = append(out, d.GetSubset())
	}
	for _, r := range vs.GetHttp() {
		for _, d := range r.GetRoute() {
			check(d.GetDestination())
		}
		for _, m := range mirrorsOf(r) {
			check(m.dest)
		}
	}
	for _, r := range vs.GetTcp() {
		for _, d := range r.GetRoute() {
			check(d.GetDestination())
		}
	}
	return out
}

// boundToMesh reports whether a VirtualService applies to sidecars.
func boundToMesh(vs *networking.VirtualService) bool {
	if len(vs.GetGateways()) == 0 {
		return true
	}
	for _, g := range vs.GetGateways() {
		if g == "mesh" {
			return true
		}
	}
	return false
}

// hostCovers reports whether a (possibly wildcard) host covers an FQDN.
func hostCovers(host, fqdn string) bool {
	if host == fqdn || host == "*" {
		return true
	}
	return strings.HasPrefix(host, "*") && strings.HasSuffix(fqdn, host[1:])
}

// nsName is "name", or "namespace/name" when the namespace is not the pod's.
func nsName(ns, name, podNs string) string {
	if ns == podNs {
		return name
	}
	return ns + "/" + name
}

// targetPort resolves a service port's target on the pod: a number, or the
// number of the named container port.
func targetPort(pod *corev1.Pod, p corev1.ServicePort) string {
	tp := p.TargetPort
	if tp.IntValue() == 0 && tp.StrVal == "" {
		return fmt.Sprint(p.Port)
	}
	if tp.StrVal == "" {
		return tp.String()
	}
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == tp.StrVal {
				return fmt.Sprintf("%d (%s)", cp.ContainerPort, tp.StrVal)
			}
		}
	}
	return tp.StrVal + " (no such container port on this pod)"
}

// compactJSON writes an Istio spec as one line of JSON.
func compactJSON(v json.Marshaler) string {
	b, err := v.MarshalJSON()
	if err != nil {
		return err.Error()
	}
	var c bytes.Buffer
	if err := json.Compact(&c, b); err != nil {
		return string(b)
	}
	return c.String()
}

// httpMatchSummary says when an HTTP route applies, as istioctl does:
// "everything", or its matches ("when headers are end-user=jason").
func httpMatchSummary(matches []*networking.HTTPMatchRequest) string {
	if len(matches) == 0 {
		return "everything"
	}
	var alts []string
	for _, m := range matches {
		var parts []string
		sm := func(what string, s *networking.StringMatch) {
			switch {
			case s == nil:
			case s.GetExact() != "":
				parts = append(parts, fmt.Sprintf("%s is %s", what, s.GetExact()))
			case s.GetPrefix() != "":
				parts = append(parts, fmt.Sprintf("%s starts with %s", what, s.GetPrefix()))
			case s.GetRegex() != "":
				parts = append(parts, fmt.Sprintf("%s matches %s", what, s.GetRegex()))
			}
		}
		sm("uri", m.GetUri())
		sm("method", m.GetMethod())
		sm("authority", m.GetAuthority())
		sm("scheme", m.GetScheme())
		headers := func(kind string, hs map[string]*networking.StringMatch, negate bool) {
			keys := make([]string, 0, len(hs))
			for k := range hs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var kv []string
			for _, k := range keys {
				s := hs[k]
				switch {
				case s.GetExact() != "":
					kv = append(kv, k+"="+s.GetExact())
				case s.GetPrefix() != "":
					kv = append(kv, k+"="+s.GetPrefix()+"*")
				case s.GetRegex() != "":
					kv = append(kv, k+"~"+s.GetRegex())
				default:
					kv = append(kv, k)
				}
			}
			if len(kv) > 0 {
				verb := "are"
				if negate {
					verb = "are not"
				}
				parts = append(parts, fmt.Sprintf("%s %s %s", kind, verb, strings.Join(kv, ",")))
			}
		}
		headers("headers", m.GetHeaders(), false)
		headers("headers", m.GetWithoutHeaders(), true)
		headers("query params", m.GetQueryParams(), false)
		if m.GetPort() != 0 {
			parts = append(parts, fmt.Sprintf("port is %d", m.GetPort()))
		}
		if len(m.GetSourceLabels()) > 0 {
			parts = append(parts, "source labels are "+labels.FormatLabels(m.GetSourceLabels()))
		}
		if len(parts) == 0 {
			return "everything"
		}
		alts = append(alts, strings.Join(parts, " and "))
	}
	return "when " + strings.Join(alts, " or ")
}

// tcpMatchSummary says when a TCP route applies.
func tcpMatchSummary(matches []*networking.L4MatchAttributes) string {
	if len(matches) == 0 {
		return "everything"
	}
	var alts []string
	for _, m := range matches {
		var parts []string
		if m.GetPort() != 0 {
			parts = append(parts, fmt.Sprintf("port is %d", m.GetPort()))
		}
		if len(m.GetDestinationSubnets()) > 0 {
			parts = append(parts, "destination in "+strings.Join(m.GetDestinationSubnets(), ","))
		}
		if len(m.GetSourceLabels()) > 0 {
			parts = append(parts, "source labels are "+labels.FormatLabels(m.GetSourceLabels()))
		}
		if len(parts) == 0 {
			return "everything"
		}
		alts = append(alts, strings.Join(parts, " and "))
	}
	return "when " + strings.Join(alts, " or ")
}
