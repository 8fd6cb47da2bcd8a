package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// removedFields explains fields that older Istio releases had and current
// ones reject, keyed by message full name and JSON field name.
var removedFields = map[string]string{
	"istio.networking.v1alpha3.HTTPFaultInjection.Abort.percent": "removed from Istio's API: use percentage: {value: N}",
	"istio.networking.v1alpha3.HTTPRoute.websocketUpgrade":       "removed from Istio's API: WebSocket upgrades are always allowed; delete the field",
}

// decodeIstio decodes an Istio resource strictly: the envelope as a
// Kubernetes object, the spec checked field by field against its protobuf
// descriptor (so every unknown field or wrong type is named with its path)
// before jsonpb decodes it. Durations take both protobuf ("180.000s") and
// Go ("3m") forms, as Istio's jsonpb does.
func decodeIstio(js []byte, obj Object) []metav1.StatusCause {
	var env struct {
		metav1.TypeMeta   `json:",inline"`
		metav1.ObjectMeta `json:"metadata,omitempty"`
		Spec              json.RawMessage `json:"spec"`
		Status            json.RawMessage `json:"status,omitempty"`
	}
	if causes := decodeStrict(js, &env); len(causes) > 0 {
		return causes
	}
	rv := reflect.ValueOf(obj).Elem()
	rv.FieldByName("ObjectMeta").Set(reflect.ValueOf(env.ObjectMeta))
	spec := rv.FieldByName("Spec").Interface().(IstioSpec)
	if len(env.Spec) == 0 || string(env.Spec) == "null" {
		return []metav1.StatusCause{{Type: metav1.CauseTypeFieldValueRequired, Field: "spec", Message: "Required value"}}
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(env.Spec))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return []metav1.StatusCause{{Field: "spec", Message: err.Error()}}
	}
	if causes := checkMessage(spec.ProtoReflect().Descriptor(), tree, field.NewPath("spec")); len(causes) > 0 {
		return causes
	}
	if err := spec.UnmarshalJSON(env.Spec); err != nil {
		return []metav1.StatusCause{{Type: metav1.CauseTypeFieldValueInvalid, Field: "spec", Message: "Invalid value: " + err.Error()}}
	}
	if len(env.Status) > 0 && string(env.Status) != "null" {
		st := reflect.New(rv.FieldByName("Status").Type().Elem())
		if err := st.Interface().(json.Unmarshaler).UnmarshalJSON(env.Status); err != nil {
			return []metav1.StatusCause{{Type: metav1.CauseTypeFieldValueInvalid, Field: "status", Message: "Invalid value: " + err.Error()}}
		}
		rv.FieldByName("Status").Set(st)
	}
	return nil
}

func checkMessage(md protoreflect.MessageDescriptor, v any, path *field.Path) []metav1.StatusCause {
	if v == nil {
		return nil
	}
	if causes, ok := checkWellKnown(md, v, path); ok {
		return causes
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return []metav1.StatusCause{typeCause(path, v, "an object")}
	}
	var causes []metav1.StatusCause
	oneofs := map[protoreflect.FullName][]string{}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		val := obj[key]
		fd := md.Fields().ByJSONName(key)
		if fd == nil {
			fd = md.Fields().ByName(protoreflect.Name(key))
		}
		if fd == nil {
			causes = append(causes, unknownField(path.Child(key).String(), removedFields[string(md.FullName())+"."+key]))
			continue
		}
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() && val != nil {
			oneofs[o.FullName()] = append(oneofs[o.FullName()], key)
		}
		causes = append(causes, checkField(fd, val, path.Child(key))...)
	}
	for _, set := range oneofs {
		if len(set) > 1 {
			causes = append(causes, metav1.StatusCause{Type: metav1.CauseTypeFieldValueInvalid, Field: path.String(),
				Message: fmt.Sprintf("Invalid value: only one of %v may be set", set)})
		}
	}
	return causes
}

func checkField(fd protoreflect.FieldDescriptor, v any, path *field.Path) []metav1.StatusCause {
	if v == nil {
		return nil
	}
	switch {
	case fd.IsMap():
		obj, ok := v.(map[string]any)
		if !ok {
			return []metav1.StatusCause{typeCause(path, v, "an object")}
		}
		var causes []metav1.StatusCause
		for k, val := range obj {
			causes = append(causes, checkSingular(fd.MapValue(), val, path.Key(k))...)
		}
		return causes
	case fd.IsList():
		arr, ok := v.([]any)
		if !ok {
			return []metav1.StatusCause{typeCause(path, v, "a list")}
		}
		var causes []metav1.StatusCause
		for i, val := range arr {
			causes = append(causes, checkSingular(fd, val, path.Index(i))...)
		}
		return causes
	}
	return checkSingular(fd, v, path)
}

func checkSingular(fd protoreflect.FieldDescriptor, v any, path *field.Path) []metav1.StatusCause {
	if v == nil {
		return nil
	}
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return checkMessage(fd.Message(), v, path)
	case protoreflect.EnumKind:
		return checkEnum(fd.Enum(), v, path)
	case protoreflect.StringKind, protoreflect.BytesKind:
		if _, ok := v.(string); !ok {
			return []metav1.StatusCause{typeCause(path, v, "a string")}
		}
	case protoreflect.BoolKind:
		if _, ok := v.(bool); !ok {
			return []metav1.StatusCause{typeCause(path, v, "true or false")}
		}
	default:
		return checkNumber(fd.Kind(), v, path)
	}
	return nil
}

func checkEnum(ed protoreflect.EnumDescriptor, v any, path *field.Path) []metav1.StatusCause {
	switch x := v.(type) {
	case string:
		if ed.Values().ByName(protoreflect.Name(x)) != nil {
			return nil
		}
	case json.Number:
		if n, err := x.Int64(); err == nil && ed.Values().ByNumber(protoreflect.EnumNumber(n)) != nil {
			return nil
		}
	}
	var names []string
	for i := 0; i < ed.Values().Len(); i++ {
		names = append(names, string(ed.Values().Get(i).Name()))
	}
	return []metav1.StatusCause{{Type: metav1.CauseTypeFieldValueNotSupported, Field: path.String(),
		Message: fmt.Sprintf("Unsupported value: %s: supported values: %q", render(v), names)}}
}

func checkNumber(kind protoreflect.Kind, v any, path *field.Path) []metav1.StatusCause {
	var num json.Number
	switch x := v.(type) {
	case json.Number:
		num = x
	case string: // proto3 JSON allows quoted numbers
		num = json.Number(x)
	default:
		return []metav1.StatusCause{typeCause(path, v, "a number")}
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil {
		return []metav1.StatusCause{typeCause(path, v, "a number")}
	}
	var lo, hi float64
	integer := true
	switch kind {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		lo, hi = math.MinInt32, math.MaxInt32
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		lo, hi = 0, math.MaxUint32
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		lo, hi = math.MinInt64, math.MaxInt64
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		lo, hi = 0, math.MaxUint64
	default:
		integer = false
		lo, hi = -math.MaxFloat64, math.MaxFloat64
	}
	if integer && f != math.Trunc(f) {
		return []metav1.StatusCause{{Type: metav1.CauseTypeFieldValueInvalid, Field: path.String(), Message: fmt.Sprintf("Invalid value: %s: must be a whole number", num)}}
	}
	if f < lo {
		return []metav1.StatusCause{{Type: metav1.CauseTypeFieldValueInvalid, Field: path.String(), Message: fmt.Sprintf("Invalid value: %s: should be greater than or equal to %v", num, lo)}}
	}
	if f > hi {
		return []metav1.StatusCause{{Type: metav1.CauseTypeFieldValueInvalid, Field: path.String(), Message: fmt.Sprintf("Invalid value: %s: should be less than or equal to %v", num, uint64(hi))}}
	}
	return nil
}

// checkWellKnown handles the google.protobuf types whose JSON form is not an object.
func checkWellKnown(md protoreflect.MessageDescriptor, v any, path *field.Path) ([]metav1.StatusCause, bool) {
	switch md.FullName() {
	case "google.protobuf.Duration":
		s, ok := v.(string)
		if !ok {
			return []metav1.StatusCause{typeCause(path, v, `a duration string such as "1.5s" or "3m"`)}, true
		}
		if _, err := time.ParseDuration(s); err != nil {
			return []metav1.StatusCause{{Type: metav1.CauseTypeFieldValueInvalid, Field: path.String(),
				Message: fmt.Sprintf("Invalid value: %q: not a duration (use a form such as \"1.5s\", \"500ms\" or \"3m\")", s)}}, true
		}
		return nil, true
	case "google.protobuf.Timestamp", "google.protobuf.FieldMask":
		if _, ok := v.(string); !ok {
			return []metav1.StatusCause{typeCause(path, v, "a string")}, true
		}
		return nil, true
	case "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue", "google.protobuf.Any", "google.protobuf.Empty":
		return nil, true
	case "google.protobuf.BoolValue", "google.protobuf.StringValue", "google.protobuf.BytesValue",
		"google.protobuf.Int32Value", "google.protobuf.UInt32Value", "google.protobuf.Int64Value",
		"google.protobuf.UInt64Value", "google.protobuf.FloatValue", "google.protobuf.DoubleValue":
		return checkSingular(md.Fields().ByName("value"), v, path), true
	}
	return nil, false
}

func typeCause(path *field.Path, v any, want string) metav1.StatusCause {
	return metav1.StatusCause{Type: metav1.CauseTypeFieldValueInvalid, Field: path.String(),
		Message: fmt.Sprintf("Invalid value: %s: must be %s", render(v), want)}
}

func render(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
