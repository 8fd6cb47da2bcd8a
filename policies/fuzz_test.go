package policies

import (
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	networking "istio.io/api/networking/v1alpha3"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// addCorpusSeeds adds the JSON spec of every document of the given kind in
// the shared corpus to the fuzzer's seed corpus.
func addCorpusSeeds(f *testing.F, kind string) {
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		docs, err := splitYAML(data)
		if err != nil {
			return nil
		}
		for _, doc := range docs {
			if doc.kind == kind {
				f.Add([]byte(doc.spec))
			}
		}
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
}

// checkFuzzFindings checks what must hold for any spec: errors carry a
// path under spec, and validating twice gives the same answer.
func checkFuzzFindings(t *testing.T, errs, again field.ErrorList, warnings, warningsAgain []string) {
	for _, e := range errs {
		if e == nil || !strings.HasPrefix(e.Field, "spec") {
			t.Fatalf("error without a path under spec: %v", e)
		}
	}
	if !reflect.DeepEqual(errs, again) || !reflect.DeepEqual(warnings, warningsAgain) {
		t.Fatalf("validation is not deterministic:\n%v\n%v", errs, again)
	}
}

func FuzzValidateVirtualService(f *testing.F) {
	addCorpusSeeds(f, "VirtualService")
	f.Add([]byte(`{"hosts":["a"],"http":[null,{"match":[null,{"headers":{"x":null}}]}],"tcp":[null],"tls":[{"match":[null]}]}`))
	f.Add([]byte(`{"http":[{"delegate":{}}],"gateways":["a.b.c","/"],"exportTo":["*","*","~"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		vs := &networking.VirtualService{}
		if err := vs.UnmarshalJSON(data); err != nil {
			return
		}
		errs, warnings := ValidateVirtualService(vs, specPath)
		again, warningsAgain := ValidateVirtualService(vs, specPath)
		checkFuzzFindings(t, errs, again, warnings, warningsAgain)
		UnsupportedVirtualService(vs, specPath)
	})
}

func FuzzValidateDestinationRule(f *testing.F) {
	addCorpusSeeds(f, "DestinationRule")
	f.Add([]byte(`{"host":"a","subsets":[null,{}],"trafficPolicy":{"portLevelSettings":[null,{}],"loadBalancer":{"consistentHash":{"maglev":{"tableSize":"18446744073709551615"}}}}}`))
	f.Add([]byte(`{"host":"a","trafficPolicy":{"loadBalancer":{"localityLbSetting":{"distribute":[{"from":"*","to":{"a/b/*":4294967295,"*":1}},{"from":"a//b"}]}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dr := &networking.DestinationRule{}
		if err := dr.UnmarshalJSON(data); err != nil {
			return
		}
		errs, warnings := ValidateDestinationRule(dr, specPath)
		again, warningsAgain := ValidateDestinationRule(dr, specPath)
		checkFuzzFindings(t, errs, again, warnings, warningsAgain)
		UnsupportedDestinationRule(dr, specPath)
	})
}
