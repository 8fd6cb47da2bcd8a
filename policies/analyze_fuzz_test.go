package policies

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/weft-mesh/weft/api"
)

// FuzzAnalyze analyzes whatever decodes from a YAML stream, alone and with
// the Bookinfo platform: Analyze never panics, every message is complete,
// and analyzing twice gives the same messages.
func FuzzAnalyze(f *testing.F) {
	for _, dir := range []string{"seeds", "istio/samples/bookinfo/networking", "istio/pkg/config/analysis/analyzers/testdata"} {
		files, _ := filepath.Glob(filepath.Join(corpusDir, dir, "*.yaml"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	platform, err := api.DecodeFile(filepath.Join(corpusDir, "istio/samples/bookinfo/platform/kube/bookinfo.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, _ := api.DecodeReader("fuzz", bytes.NewReader(data))
		var in []Resource
		for _, d := range platform {
			in = append(in, Resource{Object: d.Object.DeepCopyObject().(api.Object)})
		}
		for _, d := range docs {
			in = append(in, Resource{Object: d.Object, Origin: "fuzz"})
		}
		first := Analyze(in)
		checkComplete(t, "fuzz", first)
		second := Analyze(in)
		if len(first) != len(second) {
			t.Fatalf("%d messages, then %d", len(first), len(second))
		}
		for i := range first {
			if first[i].String() != second[i].String() || !strings.Contains(first[i].String(), first[i].Type.Code) {
				t.Fatalf("message %d: %s, then %s", i, first[i], second[i])
			}
		}
	})
}
