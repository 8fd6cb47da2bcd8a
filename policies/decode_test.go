package policies

import (
	"encoding/json"
	"fmt"
	"regexp"
	"testing"

	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// Test helpers that turn YAML into the istio.io/api types the way the API
// server does: YAML → JSON, then the type's own (jsonpb-based) UnmarshalJSON.

// docSeparator matches a YAML document separator line.
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(?:#.*)?$`)

// yamlDoc is one non-empty document of a multi-document YAML file.
type yamlDoc struct {
	index int // among the file's non-empty documents
	kind  string
	name  string
	spec  json.RawMessage
}

// splitYAML splits a multi-document file and decodes each non-empty document
// (documents holding only comments or whitespace are skipped, and not counted).
func splitYAML(data []byte) ([]yamlDoc, error) {
	var docs []yamlDoc
	for _, part := range docSeparator.Split(string(data), -1) {
		j, err := yaml.YAMLToJSON([]byte(part))
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(docs), err)
		}
		if string(j) == "null" {
			continue
		}
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec json.RawMessage `json:"spec"`
		}
		if err := json.Unmarshal(j, &head); err != nil {
			return nil, fmt.Errorf("document %d: %w", len(docs), err)
		}
		docs = append(docs, yamlDoc{index: len(docs), kind: head.Kind, name: head.Metadata.Name, spec: head.Spec})
	}
	return docs, nil
}

func decodeVirtualService(t testing.TB, specYAML string) *networking.VirtualService {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(specYAML))
	if err != nil {
		t.Fatalf("yaml: %v", err)
	}
	vs := &networking.VirtualService{}
	if err := vs.UnmarshalJSON(j); err != nil {
		t.Fatalf("decode VirtualService spec: %v", err)
	}
	return vs
}

func decodeDestinationRule(t testing.TB, specYAML string) *networking.DestinationRule {
	t.Helper()
	j, err := yaml.YAMLToJSON([]byte(specYAML))
	if err != nil {
		t.Fatalf("yaml: %v", err)
	}
	dr := &networking.DestinationRule{}
	if err := dr.UnmarshalJSON(j); err != nil {
		t.Fatalf("decode DestinationRule spec: %v", err)
	}
	return dr
}

var specPath = field.NewPath("spec")
