package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

const corpus = "../../testdata/corpus"

func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	w := startWeftd(t, t.TempDir())
	resp, err := http.Get(w.url + "/api/v1/namespaces/default/pods")
	if err != nil {
		t.Fatal(err)
	}
	var st metav1.Status
	_ = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || st.Reason != metav1.StatusReasonUnauthorized {
		t.Fatalf("no token: %d %+v", resp.StatusCode, st)
	}
	_, errOut, code := w.weftctl(t, "", "get", "pods", "--token", "wrong")
	if code == 0 || !strings.Contains(errOut, "Unauthorized") {
		t.Fatalf("wrong token: exit %d, %s", code, errOut)
	}
	if resp, err := http.Get(w.url + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("/healthz: %v %v", resp, err)
	}
}

// TestKill9KeepsAcknowledgedWrites kills weftd with SIGKILL while clients
// apply objects, restarts it on the same data directory, and finds every
// object whose apply was acknowledged.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w := startWeftd(t, dir)
	c := w.client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	acked := map[string]string{}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("cm-%d-%d", g, i)
				cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
					ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Data: map[string]string{"v": name}}
				if _, _, err := c.Apply(ctx, cm); err != nil {
					return // weftd is gone
				}
				mu.Lock()
				acked[name] = name
				mu.Unlock()
			}
		}(g)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.kill9()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged before the kill")
	}
	w2 := startWeftd(t, dir)
	c2 := w2.client(t)
	items, _, err := c2.List(context.Background(), api.LookupName("cm"), "default", client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]string{}
	for _, it := range items {
		have[it.GetName()] = it.(*corev1.ConfigMap).Data["v"]
	}
	var missing []string
	for name, v := range acked {
		if have[name] != v {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged objects lost after kill -9: %v", len(missing), len(acked), missing)
	}
	t.Logf("%d acknowledged writes survived kill -9", len(acked))
}

func TestWeftctlVerbs(t *testing.T) {
	t.Parallel()
	w := startWeftd(t, t.TempDir())
	seed := filepath.Join(corpus, "seeds/10-flaskapp.yaml")
	out, errOut, code := w.weftctl(t, "", "apply", "-f", seed)
	if code != 0 || !strings.Contains(out, "service/flaskapp created") || !strings.Contains(out, "deployment.apps/flaskapp-v1 created") {
		t.Fatalf("apply: %d\n%s%s", code, out, errOut)
	}
	out, _, _ = w.weftctl(t, "", "get", "deploy")
	if !strings.Contains(out, "NAME") || !strings.Contains(out, "flaskapp-v1") || !strings.Contains(out, "flaskapp-v2") {
		t.Fatalf("get deploy:\n%s", out)
	}
	out, _, code = w.weftctl(t, "", "get", "deploy", "flaskapp-v1", "-o", "json")
	var d map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil || d["kind"] != "Deployment" {
		t.Fatalf("get -o json: %s", out)
	}
	out, _, _ = w.weftctl(t, "", "get", "svc,deploy", "-o", "name")
	for _, want := range []string{"service/flaskapp", "deployment.apps/flaskapp-v1"} {
		if !strings.Contains(out, want) {
			t.Fatalf("get -o name lacks %s:\n%s", want, out)
		}
	}
	out, _, _ = w.weftctl(t, "", "get", "svc,deploy", "-A", "-l", "app=flaskapp")
	if !strings.Contains(out, "service/flaskapp") || strings.Contains(out, "flaskapp-v1") {
		t.Fatalf("get -A -l:\n%s", out)
	}
	out, _, code = w.weftctl(t, "", "describe", "svc", "flaskapp")
	if code != 0 || !strings.Contains(out, "flaskapp") || !strings.Contains(out, "Selector") {
		t.Fatalf("describe:\n%s", out)
	}
	out, _, code = w.weftctl(t, "", "api-resources")
	if code != 0 || !strings.Contains(out, "virtualservices") || !strings.Contains(out, "vs") {
		t.Fatalf("api-resources:\n%s", out)
	}
	out, errOut, code = w.weftctl(t, "", "delete", "-f", seed)
	if code != 0 || !strings.Contains(out, "deployment.apps/flaskapp-v1 deleted") {
		t.Fatalf("delete: %s%s", out, errOut)
	}
	_, errOut, _ = w.weftctl(t, "", "get", "deploy")
	if !strings.Contains(errOut, "No resources found in default namespace.") {
		t.Fatalf("get after delete: %s", errOut)
	}
	_, errOut, code = w.weftctl(t, "", "get", "deploy", "nope")
	if code == 0 || !strings.Contains(errOut, `"nope" not found`) {
		t.Fatalf("get missing: %d %s", code, errOut)
	}
	// stdin and a bad document next to a good one.
	in := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {k: v}\nbinaryDatta: {}\n"
	out, errOut, code = w.weftctl(t, in, "apply", "-f", "-")
	if code == 0 || !strings.Contains(out, "configmap/good created") || !strings.Contains(errOut, "<stdin> doc 2 (ConfigMap/bad): binaryDatta: unknown field") {
		t.Fatalf("apply stdin: %d\n%s%s", code, out, errOut)
	}
}
