package api_test

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"

	"github.com/weft-mesh/weft/api"
)

const corpus = "../testdata/corpus"

// schemaRejects reads VALIDATION-RESULTS.tsv: the documents Istio's CRD
// schema rejects (unknown or mistyped fields), keyed "file#doc".
func schemaRejects(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(corpus, "VALIDATION-RESULTS.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 5 || strings.HasPrefix(cols[0], "#") {
			continue
		}
		if strings.HasPrefix(cols[3], "ERR") {
			out[cols[0]+cols[1]] = cols[3]
		}
	}
	return out
}

// TestDecodeCorpus decodes every manifest of the corpus: each must decode,
// except the documents Istio's schema rejects, which must fail naming the
// field Istio names.
func TestDecodeCorpus(t *testing.T) {
	rejects := schemaRejects(t)
	if len(rejects) == 0 {
		t.Fatal("no schema rejections read from VALIDATION-RESULTS.tsv")
	}
	seen := 0
	err := filepath.WalkDir(corpus, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		rel, _ := filepath.Rel(corpus, p)
		t.Run(rel, func(t *testing.T) {
			docs, err := api.DecodeFile(p)
			want := map[int]string{}
			for k, v := range rejects {
				if file, idx, ok := strings.Cut(k, "#"); ok && file == filepath.ToSlash(rel) {
					n, _ := strconv.Atoi(idx)
					want[n] = v
				}
			}
			seen += len(want)
			if len(want) == 0 {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if len(docs) == 0 && !strings.Contains(rel, "EXPECTED") {
					t.Fatalf("no documents decoded")
				}
				return
			}
			if err == nil {
				t.Fatalf("decoded, but Istio's schema rejects it: %v", want)
			}
			for _, verdict := range want {
				// e.g. "unknown fields [spec.http[0].websocketUpgrade]" or "spec.trafficPolicy...consecutive5xxErrors: Invalid value"
				path := verdict
				if i := strings.Index(path, "[spec."); i >= 0 {
					path = strings.TrimSuffix(path[i+1:], "]")
				} else if i := strings.Index(path, " spec."); i >= 0 {
					path = path[i+1:]
					path = path[:strings.Index(path, ":")]
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("error does not name %q:\n%v", path, err)
				}
				if !strings.Contains(err.Error(), filepath.Base(p)) {
					t.Errorf("error does not name the file:\n%v", err)
				}
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(rejects) {
		t.Errorf("checked %d schema rejections, the TSV has %d", seen, len(rejects))
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // substrings of the error
	}{
		{"unknown field with path", `
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: flaskapp-v1
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: a}}
    spec:
      containers:
      - name: a
        image: a
        imagePullPolice: Always
`, []string{"in.yaml doc 2 (Deployment/flaskapp-v1): spec.template.spec.containers[0].imagePullPolice: unknown field"}},
		{"unknown kind", "apiVersion: v1\nkind: Pdo\nmetadata: {name: a}\n", []string{"doc 1 (Pdo/a): kind:", "not a kind Weft serves"}},
		{"kind in the wrong group", "apiVersion: v1\nkind: Deployment\nmetadata: {name: a}\n", []string{"served as apiVersion apps/v1"}},
		{"missing apiVersion and kind", "metadata: {name: a}\n", []string{"apiVersion: Required value", "kind: Required value"}},
		{"wrong type", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: eighty}]}\n", []string{"doc 1 (Service/a): spec.ports.port: Invalid value", "a number"}},
		{"duplicate key", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: a, x: b}\n", []string{"in.yaml doc 1: parse YAML", "already set"}},
		{"istio unknown field", "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata: {name: r}\nspec:\n  hosts: [r]\n  http:\n  - route:\n    - destination: {host: r, subsett: v1}\n", []string{"doc 1 (VirtualService/r): spec.http[0].route[0].destination.subsett: unknown field"}},
		{"istio bad enum", "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  host: r\n  trafficPolicy: {loadBalancer: {simple: FASTEST}}\n", []string{"spec.trafficPolicy.loadBalancer.simple: Unsupported value", "ROUND_ROBIN"}},
		{"istio bad duration", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\nspec:\n  hosts: [r]\n  http:\n  - timeout: soon\n    route: [{destination: {host: r}}]\n", []string{"spec.http[0].timeout: Invalid value", "not a duration"}},
		{"istio oneof", "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  host: r\n  trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN, consistentHash: {useSourceIp: true}}}\n", []string{"spec.trafficPolicy.loadBalancer: Invalid value: only one of"}},
		{"istio no spec", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: r}\n", []string{"spec: Required value"}},
		{"bad yaml", "apiVersion: v1\nkind: [\n", []string{"in.yaml", "parse YAML"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := api.DecodeReader("in.yaml", strings.NewReader(tt.in))
			if err == nil {
				t.Fatal("decoded without error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			var de *api.DocError
			if !errors.As(err, &de) {
				t.Errorf("error is not a *DocError: %T", err)
			}
		})
	}
}

func TestDecodeKeepsGoodDocuments(t *testing.T) {
	in := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# only a comment\n---\napiVersion: v1\nkind: Nope\nmetadata: {name: b}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
	docs, err := api.DecodeReader("x.yaml", strings.NewReader(in))
	if err == nil || !strings.Contains(err.Error(), "x.yaml doc 2 (Nope/b)") {
		t.Fatalf("want an error naming doc 2, got %v", err)
	}
	if len(docs) != 2 || docs[0].Object.GetName() != "a" || docs[1].Object.GetName() != "c" || docs[1].Index != 3 {
		t.Fatalf("want documents a (1) and c (3), got %+v", docs)
	}
}

func TestDecodeJSONStreamAndList(t *testing.T) {
	in := `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}},{"apiVersion":"v1","kind":"Secret","metadata":{"name":"b"}}]}
{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n"}}`
	docs, err := api.DecodeReader("x.json", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range docs {
		names = append(names, d.Object.GetObjectKind().GroupVersionKind().Kind+"/"+d.Object.GetName())
	}
	if got := strings.Join(names, ","); got != "ConfigMap/a,Secret/b,Namespace/n" {
		t.Fatalf("got %s", got)
	}
}

func TestDurationsBothForms(t *testing.T) {
	for _, d := range []string{"3m", "180.000s", "500ms", "0.5s"} {
		in := "apiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata: {name: r}\nspec:\n  hosts: [r]\n  http:\n  - timeout: " + d + "\n    route: [{destination: {host: r}}]\n"
		docs, err := api.DecodeReader("d.yaml", strings.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		vs := docs[0].Object.(*api.VirtualService)
		if vs.Spec.Http[0].Timeout == nil || vs.Spec.Http[0].Timeout.AsDuration() <= 0 {
			t.Fatalf("%s: timeout not decoded", d)
		}
		if vs.APIVersion != "networking.istio.io/v1" {
			t.Fatalf("stored as %s, want networking.istio.io/v1", vs.APIVersion)
		}
	}
}

func TestHPAv1StoredAsV2(t *testing.T) {
	docs, err := api.DecodeFile(filepath.Join(corpus, "seeds/04-test-scale-hpa.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if hpa, ok := d.Object.(*autoscalingv2.HorizontalPodAutoscaler); ok {
			if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].Resource.Target.AverageUtilization == nil || *hpa.Spec.Metrics[0].Resource.Target.AverageUtilization != 30 {
				t.Fatalf("v1 target not converted: %+v", hpa.Spec.Metrics)
			}
			back, err := api.ToVersion(hpa, "v1")
			if err != nil {
				t.Fatal(err)
			}
			if back.GetObjectKind().GroupVersionKind().Version != "v1" {
				t.Fatalf("not converted back to v1: %v", back.GetObjectKind().GroupVersionKind())
			}
			return
		}
	}
	t.Fatal("no HPA in seed 04")
}

func TestLookupName(t *testing.T) {
	for name, want := range map[string]string{"po": "Pod", "svc": "Service", "deploy": "Deployment", "rs": "ReplicaSet", "rc": "ReplicationController",
		"cm": "ConfigMap", "secret": "Secret", "hpa": "HorizontalPodAutoscaler", "vs": "VirtualService", "dr": "DestinationRule", "no": "Node",
		"ns": "Namespace", "ep": "Endpoints", "pvc": "PersistentVolumeClaim", "ev": "Event", "Deployments": "Deployment",
		"virtualservices.networking.istio.io": "VirtualService", "pod": "Pod"} {
		k := api.LookupName(name)
		if k == nil || k.Kind != want {
			t.Errorf("LookupName(%q) = %v, want %s", name, k, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, p := range []string{"seeds/10-flaskapp.yaml", "seeds/22-httpbin-circuit-breaker.yaml", "istio/samples/bookinfo/networking/virtual-service-all-v1.yaml", "istio/tests/testdata/config/virtual-service-all.yaml"} {
		b, err := os.ReadFile(filepath.Join(corpus, p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		docs, _ := api.DecodeReader("fuzz.yaml", strings.NewReader(string(b)))
		for _, d := range docs {
			if d.Object == nil || api.KindOf(d.Object) == nil {
				t.Fatalf("document without a known kind: %+v", d)
			}
		}
	})
}
