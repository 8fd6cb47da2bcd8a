package policies

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// What Weft's data plane acts on. This is the one place to update as the
// data plane grows: add the field's path here (and to the list in doc.go;
// TestSupportTablesDocumented keeps the two in step).
//
// A path is a chain of field names as written in YAML, without list indices
// or map keys. A row covers the field and everything under it. Any other
// field that is set in a spec is reported by UnsupportedVirtualService or
// UnsupportedDestinationRule, including fields that a newer istio.io/api adds.

// virtualServiceSupport lists the VirtualService fields Weft acts on.
var virtualServiceSupport = []supported{
	{path: "hosts"},
	{path: "gateways", onlyValues: []string{meshGateway}},

	{path: "http.name"},
	{path: "http.match.name"},
	{path: "http.match.uri"},
	{path: "http.match.scheme"},
	{path: "http.match.method"},
	{path: "http.match.authority"},
	{path: "http.match.headers"},
	{path: "http.match.withoutHeaders"},
	{path: "http.match.queryParams"},
	{path: "http.match.sourceLabels"},
	{path: "http.match.port"},
	{path: "http.match.ignoreUriCase"},
	{path: "http.route.destination"},
	{path: "http.route.weight"},
	{path: "http.route.headers"},
	{path: "http.redirect"},
	{path: "http.directResponse"},
	{path: "http.rewrite"},
	{path: "http.headers"},
	{path: "http.timeout"},
	{path: "http.retries"},
	{path: "http.fault"},
	{path: "http.mirror"},
	{path: "http.mirrors"},
	{path: "http.mirrorPercentage"},

	{path: "tcp.match.port"},
	{path: "tcp.match.sourceLabels"},
	{path: "tcp.match.destinationSubnets"},
	{path: "tcp.route.destination"},
	{path: "tcp.route.weight"},
}

// trafficPolicySupport lists the traffic policy fields Weft acts on, relative
// to a trafficPolicy or a portLevelSettings entry.
var trafficPolicySupport = []string{
	"loadBalancer.simple",
	"loadBalancer.consistentHash.httpHeaderName",
	"loadBalancer.consistentHash.httpCookie",
	"loadBalancer.consistentHash.useSourceIp",
	"loadBalancer.consistentHash.httpQueryParameterName",
	"loadBalancer.consistentHash.ringHash",
	"loadBalancer.consistentHash.maglev",
	"connectionPool.tcp.maxConnections",
	"connectionPool.tcp.connectTimeout",
	"connectionPool.http.http1MaxPendingRequests",
	"connectionPool.http.http2MaxRequests",
	"connectionPool.http.maxRequestsPerConnection",
	"connectionPool.http.maxRetries",
	"connectionPool.http.idleTimeout",
	"outlierDetection.consecutive5xxErrors",
	"outlierDetection.consecutiveGatewayErrors",
	"outlierDetection.consecutiveErrors",
	"outlierDetection.interval",
	"outlierDetection.baseEjectionTime",
	"outlierDetection.maxEjectionPercent",
	"outlierDetection.minHealthPercent",
}

// destinationRuleSupport lists the DestinationRule fields Weft acts on: the
// traffic policy rows apply at the top, per subset, and per port at both.
var destinationRuleSupport = slices.Concat(
	[]supported{
		{path: "host"},
		{path: "subsets.name"},
		{path: "subsets.labels"},
		{path: "trafficPolicy.portLevelSettings.port"},
		{path: "subsets.trafficPolicy.portLevelSettings.port"},
	},
	under("trafficPolicy", trafficPolicySupport),
	under("trafficPolicy.portLevelSettings", trafficPolicySupport),
	under("subsets.trafficPolicy", trafficPolicySupport),
	under("subsets.trafficPolicy.portLevelSettings", trafficPolicySupport),
)

// supported is one row of a support table.
type supported struct {
	path string
	// onlyValues, when set, limits support to these values of a string field
	// or of the entries of a string list; other values are reported.
	onlyValues []string
}

func under(prefix string, paths []string) []supported {
	rows := make([]supported, len(paths))
	for i, p := range paths {
		rows[i] = supported{path: prefix + "." + p}
	}
	return rows
}

// notActedOn is the text of every Unsupported warning.
const notActedOn = "accepted but not acted on by Weft yet"

// UnsupportedVirtualService lists the fields of a VirtualService spec that
// are accepted (valid) but that Weft does not act on yet, as warnings such as
// "spec.http[0].corsPolicy: accepted but not acted on by Weft yet". A
// gateway other than "mesh" is reported by its entry in gateways.
func UnsupportedVirtualService(vs *networking.VirtualService, fldPath *field.Path) []string {
	return vsSupport.unsupported(vs, fldPath)
}

// UnsupportedDestinationRule lists the fields of a DestinationRule spec that
// are accepted (valid) but that Weft does not act on yet, as warnings such as
// "spec.trafficPolicy.tls: accepted but not acted on by Weft yet".
func UnsupportedDestinationRule(dr *networking.DestinationRule, fldPath *field.Path) []string {
	return drSupport.unsupported(dr, fldPath)
}

var (
	vsSupport = newSupportTable(virtualServiceSupport)
	drSupport = newSupportTable(destinationRuleSupport)
)

// supportTable answers, for a field path, whether Weft acts on the field,
// on part of what is under it, or on nothing of it.
type supportTable struct {
	rows map[string]supported
	// inner holds the strict prefixes of row paths: fields to look into.
	inner map[string]bool
}

func newSupportTable(rows []supported) supportTable {
	t := supportTable{rows: map[string]supported{}, inner: map[string]bool{}}
	for _, r := range rows {
		t.rows[r.path] = r
		for p := r.path; strings.Contains(p, "."); {
			p = p[:strings.LastIndex(p, ".")]
			t.inner[p] = true
		}
	}
	return t
}

func (t supportTable) unsupported(m proto.Message, fldPath *field.Path) []string {
	var out []string
	if m == nil {
		return nil
	}
	t.walk(m.ProtoReflect(), "", fldPath, &out)
	return out
}

// walk reports the fields set in msg that no row covers. key is msg's path
// in the table's terms, fldPath its path in the document.
func (t supportTable) walk(msg protoreflect.Message, key string, fldPath *field.Path, out *[]string) {
	if !msg.IsValid() {
		return
	}
	fields := msg.Descriptor().Fields()
	for i := 0; i < fields.Len(); i++ {
		fd := fields.Get(i)
		if !msg.Has(fd) {
			continue
		}
		name := fd.JSONName()
		k := name
		if key != "" {
			k = key + "." + name
		}
		p := fldPath.Child(name)
		val := msg.Get(fd)
		if row, ok := t.rows[k]; ok {
			t.checkValues(row, fd, val, p, out)
			continue
		}
		if !t.inner[k] || !holdsMessages(fd) {
			*out = append(*out, p.String()+": "+notActedOn)
			continue
		}
		switch {
		case fd.IsList():
			l := val.List()
			for j := 0; j < l.Len(); j++ {
				t.walk(l.Get(j).Message(), k, p.Index(j), out)
			}
		case fd.IsMap():
			mv := val.Map()
			var keys []string
			mv.Range(func(mk protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, mk.String())
				return true
			})
			slices.Sort(keys)
			for _, mk := range keys {
				t.walk(mv.Get(protoreflect.ValueOfString(mk).MapKey()).Message(), k, p.Key(mk), out)
			}
		default:
			t.walk(val.Message(), k, p, out)
		}
	}
}

// holdsMessages reports whether a field holds messages to look into.
func holdsMessages(fd protoreflect.FieldDescriptor) bool {
	if fd.IsMap() {
		return fd.MapKey().Kind() == protoreflect.StringKind && fd.MapValue().Kind() == protoreflect.MessageKind
	}
	return fd.Kind() == protoreflect.MessageKind
}

// checkValues reports the values of a string field, or entries of a string
// list, that a row with onlyValues does not cover.
func (t supportTable) checkValues(row supported, fd protoreflect.FieldDescriptor, val protoreflect.Value, p *field.Path, out *[]string) {
	if row.onlyValues == nil || fd.Kind() != protoreflect.StringKind || fd.IsMap() {
		return
	}
	report := func(s string, p *field.Path) {
		if !slices.Contains(row.onlyValues, s) {
			*out = append(*out, fmt.Sprintf("%s: %s (%q; only %s is)", p, notActedOn, s, quoteAll(row.onlyValues)))
		}
	}
	if !fd.IsList() {
		report(val.String(), p)
		return
	}
	l := val.List()
	for j := 0; j < l.Len(); j++ {
		report(l.Get(j).String(), p.Index(j))
	}
}

func quoteAll(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}
