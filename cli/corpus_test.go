package cli_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/cli"
	"github.com/weft-mesh/weft/controlplane/apiserver/apiservertest"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

const corpus = "../testdata/corpus"

// run is weftctl in-process against a test API server.
type run struct {
	t          *testing.T
	url, token string
}

func newRun(t *testing.T) *run {
	s := apiservertest.Start(t, boltstore.Options{})
	return &run{t: t, url: s.URL, token: s.Token}
}

func (r *run) weftctl(stdin string, args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	args = append([]string{"--server", r.url, "--token", r.token}, args...)
	code := cli.Main(args, cli.Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return out.String(), errb.String(), code
}

// TestCorpusApply applies every manifest of the corpus with weftctl: what
// Kubernetes and Istio accept is accepted and re-applies as unchanged; what
// they reject is rejected naming the file, the document and the field (or
// Istio's own words for its webhook's checks).
func TestCorpusApply(t *testing.T) {
	r := newRun(t)
	rejects := verdicts(t)
	// Kubernetes rejects the LoadBalancer Service without a port (seed 03, 0-based doc 1).
	rejects["seeds/03-test-web-lb.yaml"] = map[int]string{1: "spec.ports[0].port: Required value"}

	var files []string
	namespaces := map[string]bool{}
	_ = filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".yaml") {
			files = append(files, p)
			docs, _ := api.DecodeFile(p)
			for _, doc := range docs {
				if ns := doc.Object.GetNamespace(); ns != "" {
					namespaces[ns] = true
				}
			}
		}
		return nil
	})
	var nsYAML strings.Builder
	for ns := range namespaces {
		fmt.Fprintf(&nsYAML, "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n", ns)
	}
	if out, errOut, code := r.weftctl(nsYAML.String(), "apply", "-f", "-"); code != 0 {
		t.Fatalf("create namespaces: %s %s", out, errOut)
	}
	accepted, rejected := 0, 0
	for _, p := range files {
		rel, _ := filepath.Rel(corpus, p)
		rel = filepath.ToSlash(rel)
		t.Run(rel, func(t *testing.T) {
			out, errOut, code := r.weftctl("", "apply", "-f", p)
			// Each file stands alone: samples reuse names with other specs.
			defer r.weftctl("", "delete", "--ignore-not-found", "-f", p)
			want := rejects[rel]
			if len(want) == 0 {
				if code != 0 {
					t.Fatalf("rejected, but Kubernetes/Istio accept it:\n%s%s", out, errOut)
				}
				out2, errOut2, code2 := r.weftctl("", "apply", "-f", p)
				if code2 != 0 || strings.Contains(out2, " created") || strings.Contains(out2, " configured") {
					t.Fatalf("re-apply is not unchanged:\n%s%s", out2, errOut2)
				}
				accepted++
				return
			}
			if code == 0 {
				t.Fatalf("accepted, but Istio/Kubernetes reject it: %v", want)
			}
			for idx, verdict := range want {
				if where := fmt.Sprintf("%s doc %d", filepath.Base(p), idx+1); !strings.Contains(errOut, where) {
					t.Errorf("error does not name %q:\n%s", where, errOut)
				}
				if key := keyPhrase(verdict); !strings.Contains(errOut, key) {
					t.Errorf("error does not say %q (Istio: %s):\n%s", key, verdict, errOut)
				}
			}
			rejected++
		})
	}
	t.Logf("%d files accepted and re-applied unchanged, %d rejected as Istio/Kubernetes reject them", accepted, rejected)
	if accepted+rejected < 120 {
		t.Errorf("checked only %d files", accepted+rejected)
	}
}

// verdicts reads Istio's verdicts (VALIDATION-RESULTS.tsv): for each file,
// the 0-based documents Istio rejects (schema or webhook) and its message.
func verdicts(t *testing.T) map[string]map[int]string {
	f, err := os.Open(filepath.Join(corpus, "VALIDATION-RESULTS.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[int]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 5 || strings.HasPrefix(cols[0], "#") {
			continue
		}
		idx, _ := strconv.Atoi(strings.TrimPrefix(cols[1], "#"))
		verdict := ""
		switch {
		case strings.HasPrefix(cols[3], "ERR"):
			verdict = cols[3]
		case strings.HasPrefix(cols[4], "ERR"):
			verdict = cols[4]
		default:
			continue
		}
		if out[cols[0]] == nil {
			out[cols[0]] = map[int]string{}
		}
		out[cols[0]][idx] = verdict
	}
	return out
}

// keyPhrase is the part of a verdict our message must carry: the field path
// for schema errors, Istio's own words for webhook errors.
func keyPhrase(verdict string) string {
	v := strings.TrimPrefix(verdict, "ERR: ")
	if i := strings.Index(v, "unknown fields ["); i >= 0 {
		return strings.TrimSuffix(v[i+len("unknown fields ["):], "]")
	}
	if i := strings.Index(v, ": spec."); i >= 0 { // CRD schema: "DestinationRule/x/: spec.a.b: Invalid value..."
		rest := v[i+2:]
		return rest[:strings.Index(rest, ":")]
	}
	if i := strings.Index(v, "; Istio uses"); i >= 0 {
		v = v[:i]
	}
	return v
}
