package cli_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/api"
)

func init() {
	// -update rewrites golden files; another test file may define it first.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
}

func updateGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if updateGoldens() {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run with -update to accept):\n%s", p, got)
	}
}

// kube-inject over the seeds that run with sidecars: golden output, which
// decodes, injects every pod template once, keeps the Services as written,
// and injects nothing more when run again.
func TestKubeInjectSeeds(t *testing.T) {
	r := newRun(t)
	for _, seed := range []string{"10-flaskapp.yaml", "11-sleep.yaml"} {
		t.Run(seed, func(t *testing.T) {
			src := filepath.Join(corpus, "seeds", seed)
			out, errOut, code := r.weftctl("", "kube-inject", "-f", src)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, filepath.Join("kube-inject", seed), []byte(out))

			docs, err := api.DecodeReader("out", strings.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			injected := 0
			for _, d := range docs {
				switch o := d.Object.(type) {
				case *appsv1.Deployment:
					if !hasContainer(o.Spec.Template.Spec.InitContainers, api.SidecarContainerName) || o.Spec.Template.Annotations[api.AnnotationSidecarStatus] == "" {
						t.Errorf("%s not injected", o.Name)
					}
					injected++
				case *corev1.Service:
				default:
					t.Errorf("unexpected %T", o)
				}
			}
			if injected == 0 {
				t.Fatal("nothing injected")
			}
			// The Service passes through as written, comment and all.
			raw, _ := os.ReadFile(src)
			first, _, _ := strings.Cut(string(raw), "---")
			if !strings.HasPrefix(out, first) {
				t.Errorf("the first document changed:\n%s", out)
			}
			// Injecting again changes nothing.
			again, _, code := r.weftctl(out, "kube-inject", "-f", "-")
			if code != 0 || again != out {
				t.Errorf("second injection differs:\n%s", again)
			}
			// And the API server accepts it.
			if o, e, code := r.weftctl(out, "apply", "-f", "-"); code != 0 {
				t.Errorf("apply: %s%s", o, e)
			}
		})
	}
}

func hasContainer(cs []corev1.Container, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

// The opt-out and other kinds pass through; every workload kind with a
// pod template is injected; invalid input fails without output.
func TestKubeInjectKinds(t *testing.T) {
	r := newRun(t)
	in := `# a comment before the first document
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {a: b}
---
# only a comment
---
apiVersion: v1
kind: Pod
metadata:
  name: out
  annotations: {sidecar.istio.io/inject: "false"}
spec:
  containers: [{name: app, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: host}
spec:
  hostNetwork: true
  containers: [{name: app, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: in}
spec:
  containers: [{name: app, image: busybox}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: sts}
spec:
  selector: {matchLabels: {app: sts}}
  serviceName: sts
  template:
    metadata: {labels: {app: sts}}
    spec: {containers: [{name: app, image: busybox}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  selector: {matchLabels: {app: ds}}
  template:
    metadata: {labels: {app: ds}}
    spec: {containers: [{name: app, image: busybox}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: job}
spec:
  template:
    spec: {restartPolicy: Never, containers: [{name: app, image: busybox}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: cj}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec: {restartPolicy: Never, containers: [{name: app, image: busybox}]}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec:
  selector: {app: rc}
  template:
    metadata: {labels: {app: rc}}
    spec: {containers: [{name: app, image: busybox}]}
`
	out, errOut, code := r.weftctl(in, "kube-inject", "-f", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	docs := strings.Split(out, "---\n")
	if len(docs) != 9 {
		t.Fatalf("%d documents:\n%s", len(docs), out)
	}
	if !strings.HasPrefix(docs[0], "# a comment before the first document\napiVersion: v1\nkind: ConfigMap") {
		t.Errorf("ConfigMap changed:\n%s", docs[0])
	}
	for i, d := range docs {
		injected := strings.Contains(d, "name: "+api.SidecarContainerName)
		if want := i >= 3; injected != want {
			t.Errorf("document %d injected=%v, want %v:\n%s", i, injected, want, d)
		}
	}

	// To a file.
	p := filepath.Join(t.TempDir(), "out.yaml")
	if _, errOut, code := r.weftctl(in, "kube-inject", "-f", "-", "-o", p); code != 0 {
		t.Fatalf("-o: %s", errOut)
	}
	if b, _ := os.ReadFile(p); string(b) != out {
		t.Errorf("-o wrote:\n%s", b)
	}

	// A bad document fails the whole, naming it, and prints nothing.
	out, errOut, code = r.weftctl("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containerz: []}\n", "kube-inject", "-f", "-")
	if code == 0 || out != "" || !strings.Contains(errOut, "<stdin> doc 1 (Pod/a): spec.containerz: unknown field") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if _, errOut, code := r.weftctl("", "kube-inject"); code == 0 || !strings.Contains(errOut, "-f") {
		t.Errorf("no -f: exit %d: %s", code, errOut)
	}
}
