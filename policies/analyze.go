package policies

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/weft-mesh/weft/api"
)

// Analysis: istioctl analyze's checks over a set of objects (the cluster's,
// files', or both), reported as messages with Istio's codes, so that users
// can look them up in Istio's documentation.

// Level is how serious an analysis message is.
type Level int

// The levels, least serious first.
const (
	LevelInfo Level = iota
	LevelWarning
	LevelError
)

// String is Istio's name of the level: "Info", "Warning" or "Error".
func (l Level) String() string {
	switch l {
	case LevelInfo:
		return "Info"
	case LevelWarning:
		return "Warning"
	case LevelError:
		return "Error"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// MarshalText writes the level's name, so JSON and YAML carry "Error".
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// ParseLevel reads a level name, case-insensitively ("error", "Warning").
func ParseLevel(s string) (Level, error) {
	for _, l := range []Level{LevelInfo, LevelWarning, LevelError} {
		if strings.EqualFold(s, l.String()) {
			return l, nil
		}
	}
	return 0, fmt.Errorf("unknown level %q: use Info, Warning or Error", s)
}

// MessageType is one kind of finding: Istio's code and name, its level, and
// what it means.
type MessageType struct {
	Code        string // "IST0101"
	Name        string // "ReferencedResourceNotFound"
	Level       Level
	Description string
}

// The message types Analyze reports, with Istio's codes and levels.
var (
	ReferencedResourceNotFound = MessageType{"IST0101", "ReferencedResourceNotFound", LevelError,
		"A resource being referenced does not exist."}
	NamespaceNotInjected = MessageType{"IST0102", "NamespaceNotInjected", LevelInfo,
		"A namespace is not enabled for sidecar injection."}
	PodMissingProxy = MessageType{"IST0103", "PodMissingProxy", LevelWarning,
		"A pod that should have the sidecar proxy does not."}
	SchemaValidationError = MessageType{"IST0106", "SchemaValidationError", LevelError,
		"The resource has a schema validation error."}
	ConflictingMeshGatewayVirtualServiceHosts = MessageType{"IST0109", "ConflictingMeshGatewayVirtualServiceHosts", LevelError,
		"Conflicting hosts on VirtualServices associated with the mesh gateway."}
	VirtualServiceDestinationPortSelectorRequired = MessageType{"IST0112", "VirtualServiceDestinationPortSelectorRequired", LevelError,
		"A VirtualService routes to a service with more than one port, but does not say which to use."}
	PortNameIsNotUnderNamingConvention = MessageType{"IST0118", "PortNameIsNotUnderNamingConvention", LevelInfo,
		"A Service port's name (or appProtocol) does not name its protocol."}
	VirtualServiceHostNotFoundInGateway = MessageType{"IST0132", "VirtualServiceHostNotFoundInGateway", LevelWarning,
		"A host of a VirtualService is not served by the Gateway it is bound to."}
	SchemaWarning = MessageType{"IST0133", "SchemaWarning", LevelWarning,
		"The resource has a schema validation warning."}
	InvalidApplicationUID = MessageType{"IST0144", "InvalidApplicationUID", LevelWarning,
		"Application pods should not run as user ID (UID) 1337."}
	ExternalNameServiceTypeInvalidPortName = MessageType{"IST0150", "ExternalNameServiceTypeInvalidPortName", LevelWarning,
		"A port of an ExternalName Service is named tcp or names no protocol."}
	DestinationRuleSubsetNotSelectPods = MessageType{"IST0173", "DestinationRuleSubsetNotSelectPods", LevelError,
		"A subset of a DestinationRule selects no pods."}
	UnknownDestinationRuleHost = MessageType{"IST0174", "UnknownDestinationRuleHost", LevelWarning,
		"The host of a DestinationRule matches no service of the mesh."}
)

// MessageTypes lists every message type Analyze reports, by code.
func MessageTypes() []MessageType {
	return []MessageType{
		ReferencedResourceNotFound, NamespaceNotInjected, PodMissingProxy, SchemaValidationError,
		ConflictingMeshGatewayVirtualServiceHosts, VirtualServiceDestinationPortSelectorRequired,
		PortNameIsNotUnderNamingConvention, VirtualServiceHostNotFoundInGateway, SchemaWarning,
		InvalidApplicationUID, ExternalNameServiceTypeInvalidPortName, DestinationRuleSubsetNotSelectPods,
		UnknownDestinationRuleHost,
	}
}

// DocURL is where Istio documents the message type.
func (t MessageType) DocURL() string {
	return "https://istio.io/latest/docs/reference/config/analysis/" + strings.ToLower(t.Code) + "/"
}

// Resource is one object to analyze and where it was read from.
type Resource struct {
	Object api.Object
	// Origin names the file and document the object was read from
	// ("bookinfo.yaml doc 3"); "" for an object of the cluster.
	Origin string
}

// Ref names the resource a message is about.
type Ref struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"` // "" for cluster-scoped kinds
	Name      string `json:"name"`
	Origin    string `json:"origin,omitempty"` // the file and document, when read from a file
}

// String is istioctl's form: "VirtualService default/reviews", "Namespace default".
func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// Message is one finding of Analyze.
type Message struct {
	Type     MessageType `json:"-"`
	Resource Ref         `json:"resource"`
	// Field is the path of the field the message is about
	// (spec.http[0].route[1].destination), when there is one.
	Field string `json:"field,omitempty"`
	// Text says what is wrong, in Istio's words where Istio has them.
	Text string `json:"message"`
	// Fix says what to do about it.
	Fix string `json:"fix,omitempty"`
}

// MarshalJSON writes the message as istioctl analyze -o json does (code,
// level, origin, message, documentationUrl), with the resource, the field
// and the fix besides.
func (m Message) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Code     string `json:"code"`
		Level    Level  `json:"level"`
		Type     string `json:"type"`
		Origin   string `json:"origin"`
		Resource Ref    `json:"resource"`
		Field    string `json:"field,omitempty"`
		Text     string `json:"message"`
		Fix      string `json:"fix,omitempty"`
		DocURL   string `json:"documentationUrl"`
	}{m.Type.Code, m.Type.Level, m.Type.Name, m.Resource.String(), m.Resource, m.Field, m.Text, m.Fix, m.Type.DocURL()})
}

// Code is the message type's code, e.g. "IST0101".
func (m Message) Code() string { return m.Type.Code }

// Level is the message type's level.
func (m Message) Level() Level { return m.Type.Level }

// String is istioctl analyze's line:
//
//	Error [IST0101] (VirtualService default/reviews) Referenced host+subset in destinationrule not found: "reviews+v4"
//
// with the file and document after the resource when it was read from a file.
func (m Message) String() string {
	origin := m.Resource.String()
	if m.Resource.Origin != "" {
		origin += " " + m.Resource.Origin
	}
	return fmt.Sprintf("%s [%s] (%s) %s", m.Type.Level, m.Type.Code, origin, m.Text)
}

// Analyze runs every check over a set of objects and returns what it finds,
// sorted by namespace, resource and then the order the checks run in.
//
// The set is what the mesh would be made of: the cluster's objects and the
// files' (a later resource replaces an earlier one of the same kind,
// namespace and name, so files given after the cluster's objects override
// them). Namespaced objects without a namespace are taken to be in
// "default". References are resolved across all namespaces; callers that
// analyze one namespace keep the messages about its resources.
//
// The checks follow istioctl analyze's analyzers:
//
//   - IST0101 a VirtualService routes or mirrors to a host no Service or
//     ServiceEntry defines, to a port the service lacks, to a subset no
//     DestinationRule for the host defines, or through a Gateway that does
//     not exist;
//   - IST0109 two VirtualServices bound to the mesh define the same host;
//   - IST0112 a destination without a port on a service with several;
//   - IST0132 a host of a VirtualService that its Gateway does not serve;
//   - IST0174 a DestinationRule for a host no service defines, and IST0173
//     a subset that selects no pods of the service (pods, and pod
//     templates of workloads not scaled to zero, so that files alone are
//     analyzed as the cluster they describe; node topology labels count, as
//     Istio adds them to endpoints);
//   - IST0102 a namespace without an injection label, IST0103 a pod that
//     should have the sidecar (its namespace or its own annotation says so)
//     and does not;
//   - IST0118 a Service port whose name or appProtocol names no protocol
//     (IST0150 for ExternalName services);
//   - IST0144 a pod or pod template that runs as UID 1337, the proxy's;
//   - IST0106 and IST0133 the errors and warnings of
//     ValidateVirtualService and ValidateDestinationRule.
//
// Unlike Istio, a subset's pods must also match the selector of the
// service and live in its namespace, and a wildcard DestinationRule host
// ("*.local") is known when it covers some service.
func Analyze(resources []Resource) []Message {
	a := &analysis{ix: newIndex(resources)}
	a.schemas()
	a.virtualServices()
	a.conflictingMeshHosts()
	a.destinationRules()
	a.injection()
	a.servicePorts()
	a.applicationUIDs()
	return a.result()
}

// analysis collects the messages of one Analyze call.
type analysis struct {
	ix   *index
	msgs []Message
	seen map[string]bool
}

// report records a message, once.
func (a *analysis) report(t MessageType, ref Ref, fieldPath, fix, format string, args ...any) {
	m := Message{Type: t, Resource: ref, Field: fieldPath, Text: fmt.Sprintf(format, args...), Fix: fix}
	key := strings.Join([]string{t.Code, ref.String(), fieldPath, m.Text}, "\x00")
	if a.seen == nil {
		a.seen = map[string]bool{}
	}
	if a.seen[key] {
		return
	}
	a.seen[key] = true
	a.msgs = append(a.msgs, m)
}

func (a *analysis) result() []Message {
	sort.SliceStable(a.msgs, func(i, j int) bool {
		ri, rj := a.msgs[i].Resource, a.msgs[j].Resource
		if ri.Namespace != rj.Namespace {
			return ri.Namespace < rj.Namespace
		}
		if ri.Kind != rj.Kind {
			return ri.Kind < rj.Kind
		}
		return ri.Name < rj.Name
	})
	return a.msgs
}
