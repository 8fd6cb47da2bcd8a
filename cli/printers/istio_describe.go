package printers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/durationpb"
	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/weft-mesh/weft/api"
)

// istioHeader writes the metadata lines every Istio describer starts with.
func istioHeader(w *prefixWriter, obj api.Object) {
	w.write(level0, "Name:\t%s\n", obj.GetName())
	w.write(level0, "Namespace:\t%s\n", obj.GetNamespace())
	printLabels(w, "Labels", obj.GetLabels())
	printAnnotations(w, "Annotations", obj.GetAnnotations())
	if k := api.KindOf(obj); k != nil {
		w.write(level0, "API Version:\t%s\n", k.APIVersion())
		w.write(level0, "Kind:\t%s\n", k.Kind)
	}
	w.write(level0, "CreationTimestamp:\t%s\n", formatTime(obj.GetCreationTimestamp()))
}

// virtualService summarizes a VirtualService: its hosts and gateways, then
// each route with its matches (any one of which selects the route),
// destinations and policies, in the order Envoy evaluates them.
func (d *describer) virtualService(vs *api.VirtualService) string {
	spec := vs.Spec
	if spec == nil {
		spec = &networking.VirtualService{}
	}
	return tabbed(func(w *prefixWriter) {
		istioHeader(w, vs)
		w.write(level0, "Hosts:\t%s\n", orNone(strings.Join(spec.Hosts, ", ")))
		gateways := "mesh (sidecars)"
		if len(spec.Gateways) > 0 {
			gateways = strings.Join(spec.Gateways, ", ")
		}
		w.write(level0, "Gateways:\t%s\n", gateways)
		if len(spec.ExportTo) > 0 {
			w.write(level0, "Export To:\t%s\n", strings.Join(spec.ExportTo, ", "))
		}
		if len(spec.Http) > 0 {
			w.flush()
			w.write(level0, "HTTP Routes:\n")
			for _, r := range spec.Http {
				describeHTTPRoute(w, r)
			}
		}
		if len(spec.Tls) > 0 {
			w.flush()
			w.write(level0, "TLS Routes:\n")
			for _, r := range spec.Tls {
				var matches []string
				for _, m := range r.Match {
					matches = append(matches, tlsMatchString(m))
				}
				describeL4Route(w, matches, r.Route)
			}
		}
		if len(spec.Tcp) > 0 {
			w.flush()
			w.write(level0, "TCP Routes:\n")
			for _, r := range spec.Tcp {
				var matches []string
				for _, m := range r.Match {
					matches = append(matches, l4MatchString(m))
				}
				describeL4Route(w, matches, r.Route)
			}
		}
		if len(spec.Http)+len(spec.Tls)+len(spec.Tcp) == 0 {
			w.write(level0, "Routes:\t<none>\n")
		}
		w.flush()
		d.describeEvents(w)
	})
}

// routeItem writes the first line of a list item ("- Title:\tvalue") or a
// following line of it.
type routeItem struct {
	w     *prefixWriter
	first bool
}

func (it *routeItem) field(title, value string) {
	marker := "  "
	if it.first {
		marker, it.first = "- ", false
	}
	it.w.write(level1, "%s%s:\t%s\n", marker, title, value)
}

// lines writes a field whose value takes several lines.
func (it *routeItem) lines(title string, values []string) {
	if len(values) == 0 {
		return
	}
	it.field(title, values[0])
	for _, v := range values[1:] {
		it.w.write(level1, "  \t%s\n", v)
	}
}

func describeHTTPRoute(w *prefixWriter, r *networking.HTTPRoute) {
	it := &routeItem{w: w, first: true}
	if r.Name != "" {
		it.field("Name", r.Name)
	}
	var matches []string
	for _, m := range r.Match {
		matches = append(matches, httpMatchString(m))
	}
	if len(matches) == 0 {
		matches = []string{"<any request>"}
	}
	it.lines("Match", matches)
	var dests []string
	for _, rd := range r.Route {
		s := destinationString(rd.Destination)
		if len(r.Route) > 1 || rd.Weight != 0 {
			s += fmt.Sprintf("  weight %d", rd.Weight)
		}
		dests = append(dests, s)
	}
	it.lines("Route", dests)
	if r.Redirect != nil {
		it.field("Redirect", redirectString(r.Redirect))
	}
	if r.DirectResponse != nil {
		it.field("Direct Response", directResponseString(r.DirectResponse))
	}
	if r.Delegate != nil {
		it.field("Delegate", r.Delegate.Name+"."+r.Delegate.Namespace)
	}
	if rw := r.Rewrite; rw != nil {
		var parts []string
		if rw.Uri != "" {
			parts = append(parts, fmt.Sprintf("uri %q", rw.Uri))
		}
		if rw.UriRegexRewrite != nil {
			parts = append(parts, fmt.Sprintf("uri regex %q to %q", rw.UriRegexRewrite.Match, rw.UriRegexRewrite.Rewrite))
		}
		if rw.Authority != "" {
			parts = append(parts, fmt.Sprintf("authority %q", rw.Authority))
		}
		it.field("Rewrite", strings.Join(parts, ", "))
	}
	if r.Timeout != nil {
		it.field("Timeout", durationString(r.Timeout))
	}
	if r.Retries != nil {
		it.field("Retries", retriesString(r.Retries))
	}
	if r.Fault != nil {
		it.field("Fault", faultString(r.Fault))
	}
	if r.Mirror != nil {
		s := destinationString(r.Mirror)
		if r.MirrorPercentage != nil {
			s += " (" + percentString(r.MirrorPercentage.GetValue()) + ")"
		}
		it.field("Mirror", s)
	}
	var mirrors []string
	for _, m := range r.Mirrors {
		s := destinationString(m.Destination)
		if m.Percentage != nil {
			s += " (" + percentString(m.Percentage.GetValue()) + ")"
		}
		mirrors = append(mirrors, s)
	}
	it.lines("Mirrors", mirrors)
	if r.CorsPolicy != nil {
		it.field("CORS Policy", compactJSON(r.CorsPolicy))
	}
	if r.Headers != nil {
		it.field("Headers", compactJSON(r.Headers))
	}
}

func describeL4Route(w *prefixWriter, matches []string, route []*networking.RouteDestination) {
	it := &routeItem{w: w, first: true}
	if len(matches) == 0 {
		matches = []string{"<any connection>"}
	}
	it.lines("Match", matches)
	var dests []string
	for _, rd := range route {
		s := destinationString(rd.Destination)
		if len(route) > 1 || rd.Weight != 0 {
			s += fmt.Sprintf("  weight %d", rd.Weight)
		}
		dests = append(dests, s)
	}
	it.lines("Route", dests)
}

// httpMatchString is one match request: all its conditions must hold.
func httpMatchString(m *networking.HTTPMatchRequest) string {
	var parts []string
	add := func(format string, a ...any) { parts = append(parts, fmt.Sprintf(format, a...)) }
	if m.Name != "" {
		add("[%s]", m.Name)
	}
	for _, f := range []struct {
		name string
		sm   *networking.StringMatch
	}{{"uri", m.Uri}, {"scheme", m.Scheme}, {"method", m.Method}, {"authority", m.Authority}} {
		if s := stringMatchString(f.sm); s != "" {
			add("%s %s", f.name, s)
		}
	}
	if m.IgnoreUriCase {
		add("ignoring uri case")
	}
	for _, f := range []struct {
		name string
		m    map[string]*networking.StringMatch
	}{{"headers", m.Headers}, {"withoutHeaders", m.WithoutHeaders}, {"queryParams", m.QueryParams}} {
		for _, k := range sortedKeys(f.m) {
			if s := stringMatchString(f.m[k]); s != "" {
				add("%s[%s] %s", f.name, k, s)
			} else {
				add("%s[%s] present", f.name, k)
			}
		}
	}
	if m.Port != 0 {
		add("port %d", m.Port)
	}
	if len(m.SourceLabels) > 0 {
		add("sourceLabels %s", labels.FormatLabels(m.SourceLabels))
	}
	if m.SourceNamespace != "" {
		add("sourceNamespace %s", m.SourceNamespace)
	}
	if len(m.Gateways) > 0 {
		add("gateways %s", strings.Join(m.Gateways, ","))
	}
	if len(parts) == 0 {
		return "<any request>"
	}
	return strings.Join(parts, ", ")
}

func l4MatchString(m *networking.L4MatchAttributes) string {
	var parts []string
	if len(m.DestinationSubnets) > 0 {
		parts = append(parts, "destinationSubnets "+strings.Join(m.DestinationSubnets, ","))
	}
	if m.Port != 0 {
		parts = append(parts, fmt.Sprintf("port %d", m.Port))
	}
	if m.SourceSubnet != "" {
		parts = append(parts, "sourceSubnet "+m.SourceSubnet)
	}
	if len(m.SourceLabels) > 0 {
		parts = append(parts, "sourceLabels "+labels.FormatLabels(m.SourceLabels))
	}
	if m.SourceNamespace != "" {
		parts = append(parts, "sourceNamespace "+m.SourceNamespace)
	}
	if len(m.Gateways) > 0 {
		parts = append(parts, "gateways "+strings.Join(m.Gateways, ","))
	}
	if len(parts) == 0 {
		return "<any connection>"
	}
	return strings.Join(parts, ", ")
}

func tlsMatchString(m *networking.TLSMatchAttributes) string {
	var parts []string
	if len(m.SniHosts) > 0 {
		parts = append(parts, "sniHosts "+strings.Join(m.SniHosts, ","))
	}
	if len(m.DestinationSubnets) > 0 {
		parts = append(parts, "destinationSubnets "+strings.Join(m.DestinationSubnets, ","))
	}
	if m.Port != 0 {
		parts = append(parts, fmt.Sprintf("port %d", m.Port))
	}
	if len(m.SourceLabels) > 0 {
		parts = append(parts, "sourceLabels "+labels.FormatLabels(m.SourceLabels))
	}
	if m.SourceNamespace != "" {
		parts = append(parts, "sourceNamespace "+m.SourceNamespace)
	}
	if len(m.Gateways) > 0 {
		parts = append(parts, "gateways "+strings.Join(m.Gateways, ","))
	}
	if len(parts) == 0 {
		return "<any connection>"
	}
	return strings.Join(parts, ", ")
}

// stringMatchString is `exact "v"`, `prefix "v"` or `regex "v"`; "" for
// an empty match (which only tests presence).
func stringMatchString(sm *networking.StringMatch) string {
	switch m := sm.GetMatchType().(type) {
	case *networking.StringMatch_Exact:
		return fmt.Sprintf("exact %q", m.Exact)
	case *networking.StringMatch_Prefix:
		return fmt.Sprintf("prefix %q", m.Prefix)
	case *networking.StringMatch_Regex:
		return fmt.Sprintf("regex %q", m.Regex)
	}
	return ""
}

// destinationString is "host", with " subset s" and " port n" as set.
func destinationString(d *networking.Destination) string {
	if d == nil {
		return "<none>"
	}
	s := d.Host
	if d.Subset != "" {
		s += " subset " + d.Subset
	}
	if d.Port != nil && d.Port.Number != 0 {
		s += " port " + strconv.FormatUint(uint64(d.Port.Number), 10)
	}
	return s
}

func durationString(d *durationpb.Duration) string { return d.AsDuration().String() }

func percentString(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }

func retriesString(r *networking.HTTPRetry) string {
	if r.Attempts == 0 {
		return "disabled"
	}
	parts := []string{fmt.Sprintf("%d attempts", r.Attempts)}
	if r.PerTryTimeout != nil {
		parts = append(parts, "per try timeout "+durationString(r.PerTryTimeout))
	}
	if r.RetryOn != "" {
		parts = append(parts, "on "+r.RetryOn)
	}
	if r.Backoff != nil {
		parts = append(parts, "backoff "+durationString(r.Backoff))
	}
	return strings.Join(parts, ", ")
}

func faultString(f *networking.HTTPFaultInjection) string {
	var parts []string
	if dl := f.Delay; dl != nil {
		s := "delay"
		switch t := dl.HttpDelayType.(type) {
		case *networking.HTTPFaultInjection_Delay_FixedDelay:
			s += " " + durationString(t.FixedDelay)
		case *networking.HTTPFaultInjection_Delay_ExponentialDelay:
			s += " exponential " + durationString(t.ExponentialDelay)
		}
		parts = append(parts, s+faultPercent(dl.Percentage, dl.Percent))
	}
	if ab := f.Abort; ab != nil {
		s := "abort"
		switch t := ab.ErrorType.(type) {
		case *networking.HTTPFaultInjection_Abort_HttpStatus:
			s += fmt.Sprintf(" with HTTP status %d", t.HttpStatus)
		case *networking.HTTPFaultInjection_Abort_GrpcStatus:
			s += " with gRPC status " + t.GrpcStatus
		case *networking.HTTPFaultInjection_Abort_Http2Error:
			s += " with HTTP/2 error " + t.Http2Error
		}
		parts = append(parts, s+faultPercent(ab.Percentage, 0))
	}
	return strings.Join(parts, "; ")
}

// faultPercent is how many requests a fault applies to: all when unset.
func faultPercent(p *networking.Percent, legacy int32) string {
	switch {
	case p != nil:
		return " for " + percentString(p.Value) + " of requests"
	case legacy != 0:
		return fmt.Sprintf(" for %d%% of requests", legacy)
	}
	return " for all requests"
}

func redirectString(r *networking.HTTPRedirect) string {
	var parts []string
	if r.Scheme != "" {
		parts = append(parts, "scheme "+r.Scheme)
	}
	if r.Authority != "" {
		parts = append(parts, "authority "+r.Authority)
	}
	switch p := r.RedirectPort.(type) {
	case *networking.HTTPRedirect_Port:
		parts = append(parts, fmt.Sprintf("port %d", p.Port))
	case *networking.HTTPRedirect_DerivePort:
		parts = append(parts, "port "+p.DerivePort.String())
	}
	if r.Uri != "" {
		parts = append(parts, fmt.Sprintf("uri %q", r.Uri))
	}
	if r.PrefixRewrite != "" {
		parts = append(parts, fmt.Sprintf("prefix rewrite %q", r.PrefixRewrite))
	}
	code := r.RedirectCode
	if code == 0 {
		code = 301
	}
	parts = append(parts, fmt.Sprintf("code %d", code))
	return strings.Join(parts, ", ")
}

func directResponseString(r *networking.HTTPDirectResponse) string {
	s := fmt.Sprintf("status %d", r.Status)
	switch b := r.GetBody().GetSpecifier().(type) {
	case *networking.HTTPBody_String_:
		s += fmt.Sprintf(", body %q", b.String_)
	case *networking.HTTPBody_Bytes:
		s += fmt.Sprintf(", body %d bytes", len(b.Bytes))
	}
	return s
}

// compactJSON is a message as one line of JSON, as Istio's YAML would
// spell its fields.
func compactJSON(v json.Marshaler) string {
	b, err := v.MarshalJSON()
	if err != nil {
		return fmt.Sprintf("<error: %v>", err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return string(b)
	}
	out, err := json.Marshal(x)
	if err != nil {
		return string(b)
	}
	return string(out)
}

// destinationRule summarizes a DestinationRule: the host, the traffic
// policy as the settings it changes, and each subset's labels and own
// policy.
func (d *describer) destinationRule(dr *api.DestinationRule) string {
	spec := dr.Spec
	if spec == nil {
		spec = &networking.DestinationRule{}
	}
	return tabbed(func(w *prefixWriter) {
		istioHeader(w, dr)
		w.write(level0, "Host:\t%s\n", spec.Host)
		if len(spec.ExportTo) > 0 {
			w.write(level0, "Export To:\t%s\n", strings.Join(spec.ExportTo, ", "))
		}
		if ws := spec.WorkloadSelector; ws != nil {
			w.write(level0, "Workload Selector:\t%s\n", labels.FormatLabels(ws.MatchLabels))
		}
		writePolicy(w, level0, "Traffic Policy", spec.TrafficPolicy)
		if len(spec.Subsets) == 0 {
			w.write(level0, "Subsets:\t<none>\n")
		} else {
			w.flush()
			w.write(level0, "Subsets:\n")
			for _, s := range spec.Subsets {
				w.write(level1, "%s:\n", s.Name)
				w.write(level2, "Labels:\t%s\n", labels.FormatLabels(s.Labels))
				writePolicy(w, level2, "Traffic Policy", s.TrafficPolicy)
			}
		}
		w.flush()
		d.describeEvents(w)
	})
}

// writePolicy writes a traffic policy as the settings it sets, one
// "path: value" per line ("connectionPool.tcp.maxConnections: 100").
func writePolicy(w *prefixWriter, level int, title string, tp *networking.TrafficPolicy) {
	if tp == nil {
		w.write(level, "%s:\t<none>\n", title)
		return
	}
	b, err := tp.MarshalJSON()
	if err != nil {
		w.write(level, "%s:\t<error: %v>\n", title, err)
		return
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		w.write(level, "%s:\t<error: %v>\n", title, err)
		return
	}
	var settings [][2]string
	flattenJSON("", v, &settings)
	if len(settings) == 0 {
		w.write(level, "%s:\t<none>\n", title)
		return
	}
	w.write(level, "%s:\n", title)
	for _, s := range settings {
		w.write(level+1, "%s:\t%s\n", s[0], s[1])
	}
}

// flattenJSON lists the leaves of a JSON value with their dotted paths,
// sorted by path.
func flattenJSON(path string, v any, out *[][2]string) {
	switch x := v.(type) {
	case map[string]any:
		keys := sortedKeys(x)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			flattenJSON(p, x[k], out)
		}
	case []any:
		for i, e := range x {
			flattenJSON(fmt.Sprintf("%s[%d]", path, i), e, out)
		}
	case string:
		*out = append(*out, [2]string{path, x})
	default:
		b, _ := json.Marshal(x)
		*out = append(*out, [2]string{path, string(b)})
	}
}
