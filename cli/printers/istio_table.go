package printers

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/weft-mesh/weft/api"
)

// crdColumn is an additionalPrinterColumn of a CRD whose JSON path lies
// under .spec: path is the dotted rest of it ("mtls.mode" for
// .spec.mtls.mode).
//
// zero is shown when the field is absent, for enums whose zero value means
// something: Weft stores Istio specs as protobuf messages, whose JSON leaves
// out an enum at its zero value, so `location: MESH_EXTERNAL` would
// otherwise show as a blank cell.
type crdColumn struct {
	name string
	path string
	zero string
}

// crdPrinter prints NAME, the columns, then AGE, as the API server's table
// convertor does for a custom resource.
func crdPrinter(columns ...crdColumn) tablePrinter {
	names := []string{"NAME"}
	for _, c := range columns {
		names = append(names, c.name)
	}
	names = append(names, "AGE")
	return tablePrinter{cols(names...), func(obj api.Object, o TableOptions) []string {
		spec := specJSON(obj)
		cells := []string{obj.GetName()}
		for _, c := range columns {
			cell := jsonPathCell(spec, strings.Split(c.path, "."))
			if cell == "" {
				cell = c.zero
			}
			cells = append(cells, cell)
		}
		return append(cells, since(o.Now, obj.GetCreationTimestamp()))
	}}
}

// specJSON is the object's spec as the API serves it, decoded into generic
// JSON values (nil if it has none).
func specJSON(obj api.Object) map[string]any {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName("Spec")
	if !f.IsValid() || (f.Kind() == reflect.Pointer && f.IsNil()) {
		return nil
	}
	b, err := json.Marshal(f.Interface())
	if err != nil {
		return nil
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		return nil
	}
	return spec
}

// jsonPathCell is what kubectl shows for a string-typed printer column: the
// value of a string as is, anything else as compact JSON (a list of hosts
// is `["reviews"]`), nothing for a missing value.
func jsonPathCell(v map[string]any, path []string) string {
	var cur any = v
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		if cur, ok = m[p]; !ok {
			return ""
		}
	}
	switch x := cur.(type) {
	case nil:
		return ""
	case string:
		return x
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return ""
		}
		return string(b)
	}
}
