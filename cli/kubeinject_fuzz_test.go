package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/weft-mesh/weft/controlplane/inject"
)

// FuzzKubeInject feeds kube-inject any YAML: it never panics, and its
// output, injected again, is unchanged (injection is idempotent and
// everything it writes reads back).
func FuzzKubeInject(f *testing.F) {
	files, _ := filepath.Glob("../testdata/corpus/seeds/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: a, image: b}]}\n"))
	cfg := inject.Config{Tag: "fuzz"}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := kubeInject("fuzz", bytes.NewReader(data), cfg)
		if err != nil {
			return
		}
		again, err := kubeInject("again", bytes.NewReader(out), cfg)
		if err != nil {
			t.Fatalf("output does not read back: %v\n%s", err, out)
		}
		if !bytes.Equal(out, again) {
			t.Fatalf("second injection changed the output:\n%s\n---- then ----\n%s", out, again)
		}
	})
}
