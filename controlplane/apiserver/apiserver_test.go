package apiserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/apiserver"
	"github.com/weft-mesh/weft/controlplane/apiserver/apiservertest"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

type fixture struct {
	url        string
	token      string
	agentToken string
	c          *client.Client
}

func start(t *testing.T, opts boltstore.Options) *fixture {
	t.Helper()
	s := apiservertest.Start(t, opts)
	return &fixture{url: s.URL, token: s.Token, agentToken: s.AgentToken, c: s.Client(t)}
}

func decodeOne(t *testing.T, y string) api.Object {
	t.Helper()
	obj, err := api.Decode([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return obj
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default, labels: {app: web}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.10"}]}
`

func TestAuth(t *testing.T) {
	f := start(t, boltstore.Options{})
	for _, tc := range []struct {
		token string
		want  int
	}{{"", 401}, {"nope", 401}, {f.token, 200}} {
		req, _ := http.NewRequest("GET", f.url+"/api/v1/namespaces/default/pods", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("token %q: status %d, want %d", tc.token, resp.StatusCode, tc.want)
		}
	}
	resp, err := http.Get(f.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/healthz without a token: %d", resp.StatusCode)
	}
}

func TestApplyCreatedUnchangedConfigured(t *testing.T) {
	f := start(t, boltstore.Options{})
	c := ctx(t)
	obj, resp, err := f.c.Apply(c, decodeOne(t, deployment))
	if err != nil || resp.ApplyResult != "created" {
		t.Fatalf("first apply: %v %q", err, resp.ApplyResult)
	}
	d := obj.(*appsv1.Deployment)
	if d.UID == "" || d.CreationTimestamp.IsZero() || d.Generation != 1 || d.ResourceVersion == "" {
		t.Fatalf("server metadata not set: %+v", d.ObjectMeta)
	}
	if *d.Spec.Replicas != 1 || d.Spec.RevisionHistoryLimit == nil || *d.Spec.RevisionHistoryLimit != 10 {
		t.Fatalf("not defaulted: %+v", d.Spec)
	}
	_, resp, err = f.c.Apply(c, decodeOne(t, deployment))
	if err != nil || resp.ApplyResult != "unchanged" {
		t.Fatalf("re-apply: %v %q", err, resp.ApplyResult)
	}
	// Somebody else scales and labels it; an apply that leaves replicas
	// and that label out keeps them.
	cur, _ := f.c.Get(c, api.LookupName("deploy"), "default", "web")
	cd := cur.(*appsv1.Deployment)
	three := int32(3)
	cd.Spec.Replicas = &three
	cd.Labels["team"] = "a"
	if _, _, err := f.c.Update(c, cd); err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(deployment, "nginx:1.10", "nginx:1.11", 1)
	obj, resp, err = f.c.Apply(c, decodeOne(t, changed))
	if err != nil || resp.ApplyResult != "configured" {
		t.Fatalf("changed apply: %v %q", err, resp.ApplyResult)
	}
	d = obj.(*appsv1.Deployment)
	if d.Spec.Template.Spec.Containers[0].Image != "nginx:1.11" || *d.Spec.Replicas != 3 || d.Labels["team"] != "a" || d.Generation != 3 {
		t.Fatalf("apply lost something: image %s replicas %d labels %v generation %d", d.Spec.Template.Spec.Containers[0].Image, *d.Spec.Replicas, d.Labels, d.Generation)
	}
}

func TestInvalidObjectNamesField(t *testing.T) {
	f := start(t, boltstore.Options{})
	docs, err := api.DecodeFile("../../testdata/corpus/seeds/03-test-web-lb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var svc api.Object
	for _, d := range docs {
		if _, ok := d.Object.(*corev1.Service); ok {
			svc = d.Object
			svc.SetNamespace("default")
		}
	}
	_, _, err = f.c.Apply(ctx(t), svc)
	if !apierrors.IsInvalid(err) {
		t.Fatalf("want 422 Invalid, got %v", err)
	}
	se := err.(*apierrors.StatusError)
	found := false
	for _, cause := range se.ErrStatus.Details.Causes {
		if cause.Field == "spec.ports[0].port" && strings.Contains(cause.Message, "Required") {
			found = true
		}
	}
	if !found {
		t.Fatalf("causes do not name spec.ports[0].port: %+v", se.ErrStatus.Details.Causes)
	}
	if _, err := f.c.Get(ctx(t), api.LookupName("svc"), "default", "nginx"); !apierrors.IsNotFound(err) {
		t.Fatalf("an invalid object was stored: %v", err)
	}
}

func TestConflictAndNotFound(t *testing.T) {
	f := start(t, boltstore.Options{})
	c := ctx(t)
	cm := decodeOne(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\ndata: {k: v}\n")
	created, _, err := f.c.Create(c, cm)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.c.Create(c, cm); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: %v", err)
	}
	stale := created.DeepCopyObject().(*corev1.ConfigMap)
	created.(*corev1.ConfigMap).Data["k"] = "w"
	if _, _, err := f.c.Update(c, created); err != nil {
		t.Fatal(err)
	}
	stale.Data["k"] = "x"
	if _, _, err := f.c.Update(c, stale); !apierrors.IsConflict(err) {
		t.Fatalf("stale update: want conflict, got %v", err)
	}
	other := decodeOne(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: nowhere}\n")
	if _, _, err := f.c.Create(c, other); !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("create in a missing namespace: %v", err)
	}
}

func TestListSelectorsAndWatch(t *testing.T) {
	f := start(t, boltstore.Options{})
	c := ctx(t)
	pods := api.LookupName("pods")
	mk := func(name, app string) {
		y := "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: default, labels: {app: " + app + "}}\nspec: {containers: [{name: c, image: busybox}]}\n"
		if _, _, err := f.c.Create(c, decodeOne(t, y)); err != nil {
			t.Fatal(err)
		}
	}
	mk("a", "web")
	mk("b", "db")
	items, rv, err := f.c.List(c, pods, "default", client.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(items) != 1 || items[0].GetName() != "a" {
		t.Fatalf("list app=web: %v %v", items, err)
	}
	if p := items[0].(*corev1.Pod); p.Status.Phase != corev1.PodPending {
		t.Fatalf("new pod phase %q, want Pending", p.Status.Phase)
	}
	ch, err := f.c.Watch(c, pods, "default", client.ListOptions{ResourceVersion: rv, LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	mk("c", "db")
	mk("d", "web")
	if _, err := f.c.Delete(c, pods, "default", "a"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 2 {
		select {
		case ev, ok := <-ch:
			if !ok || ev.Err != nil {
				t.Fatalf("watch ended: %v", ev.Err)
			}
			got = append(got, ev.Type+" "+ev.Object.GetName())
		case <-c.Done():
			t.Fatalf("timed out; got %v", got)
		}
	}
	if strings.Join(got, ",") != "ADDED d,DELETED a" {
		t.Fatalf("events %v", got)
	}
	// Initial state comes as ADDED when no resourceVersion is given.
	ch2, err := f.c.Watch(c, pods, "", client.ListOptions{FieldSelector: "metadata.name=b"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-ch2; ev.Err != nil || ev.Type != "ADDED" || ev.Object.GetName() != "b" {
		t.Fatalf("initial event %+v", ev)
	}
	if _, _, err := f.c.List(c, pods, "", client.ListOptions{FieldSelector: "spec.bogus=1"}); !apierrors.IsBadRequest(err) {
		t.Fatalf("unsupported field selector: %v", err)
	}
}

func TestWatchTooOld(t *testing.T) {
	f := start(t, boltstore.Options{HistoryLimit: 5})
	c := ctx(t)
	for i := 0; i < 30; i++ {
		y := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ", namespace: default}\n"
		if _, _, err := f.c.Create(c, decodeOne(t, y)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.c.Watch(c, api.LookupName("cm"), "default", client.ListOptions{ResourceVersion: "1"})
	if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Fatalf("want 410 Expired, got %v", err)
	}
}

func TestNamespaceDeleteCascades(t *testing.T) {
	f := start(t, boltstore.Options{})
	c := ctx(t)
	if _, _, err := f.c.Create(c, decodeOne(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.c.Create(c, decodeOne(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: team}\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Delete(c, api.LookupName("ns"), "", "team"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Get(c, api.LookupName("cm"), "team", "a"); !apierrors.IsNotFound(err) {
		t.Fatalf("config map survived its namespace: %v", err)
	}
	if _, err := f.c.Delete(c, api.LookupName("ns"), "", "default"); !apierrors.IsForbidden(err) {
		t.Fatalf("deleting default: %v", err)
	}
}

func TestIstioVersionsAndWarnings(t *testing.T) {
	f := start(t, boltstore.Options{})
	c := ctx(t)
	vs := decodeOne(t, `
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: {name: r, namespace: default}
spec:
  hosts: [r]
  http:
  - corsPolicy: {allowOrigins: [{exact: "a.com"}]}
    route: [{destination: {host: r}}]
`)
	obj, resp, err := f.c.Apply(c, vs)
	if err != nil {
		t.Fatal(err)
	}
	if obj.GetObjectKind().GroupVersionKind().Version != "v1" {
		t.Fatalf("served as %v", obj.GetObjectKind().GroupVersionKind())
	}
	if !strings.Contains(strings.Join(resp.Warnings, "\n"), "corsPolicy") {
		t.Fatalf("no warning for corsPolicy: %q", resp.Warnings)
	}
	gw := decodeOne(t, "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {name: g, namespace: default}\nspec: {selector: {istio: ingressgateway}}\n")
	_, resp, err = f.c.Apply(c, gw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(resp.Warnings, "\n"), "not acted on") {
		t.Fatalf("no warning for a stored-only kind: %q", resp.Warnings)
	}
	bad := decodeOne(t, "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: b, namespace: default}\nspec:\n  hosts: [b]\n  http: [{route: [{destination: {host: b}, weight: -20}]}]\n")
	_, _, err = f.c.Apply(c, bad)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "weight") {
		t.Fatalf("negative weight: %v", err)
	}
}

func TestBinding(t *testing.T) {
	f := start(t, boltstore.Options{})
	c := ctx(t)
	pod := decodeOne(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec: {containers: [{name: c, image: busybox}]}\n")
	if _, _, err := f.c.Create(c, pod); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Bind(c, "default", "p", "node-1"); err != nil {
		t.Fatal(err)
	}
	got, _ := f.c.Get(c, api.LookupName("pods"), "default", "p")
	p := got.(*corev1.Pod)
	if p.Spec.NodeName != "node-1" || len(p.Status.Conditions) != 1 || p.Status.Conditions[0].Type != corev1.PodScheduled {
		t.Fatalf("not bound: node %q conditions %+v", p.Spec.NodeName, p.Status.Conditions)
	}
	if err := f.c.Bind(c, "default", "p", "node-2"); !apierrors.IsConflict(err) {
		t.Fatalf("second bind: want conflict, got %v", err)
	}
	// A user may not move a pod by editing spec.nodeName.
	p.Spec.NodeName = "node-3"
	if _, _, err := f.c.Update(c, p); !apierrors.IsInvalid(err) {
		t.Fatalf("moving a pod by update: want invalid, got %v", err)
	}
}

func TestEnsureNamespacesTwice(t *testing.T) {
	s := apiservertest.Start(t, boltstore.Options{})
	srv := apiserver.New(apiserver.Config{Store: s.Store})
	if err := srv.EnsureNamespaces(context.Background()); err != nil {
		t.Fatalf("second EnsureNamespaces (a restart): %v", err)
	}
}

func TestPodGracefulDeletion(t *testing.T) {
	f := start(t, boltstore.Options{})
	c := ctx(t)
	pods := api.LookupName("pods")
	for _, name := range []string{"bound", "unbound"} {
		pod := decodeOne(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: "+name+", namespace: default}\nspec: {terminationGracePeriodSeconds: 7, containers: [{name: c, image: busybox}]}\n")
		if _, _, err := f.c.Create(c, pod); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.c.Bind(c, "default", "bound", "node-1"); err != nil {
		t.Fatal(err)
	}
	// A pod on a node is marked, not removed: its agent finishes the job.
	obj, err := f.c.Delete(c, pods, "default", "bound")
	if err != nil {
		t.Fatal(err)
	}
	p := obj.(*corev1.Pod)
	if p.DeletionTimestamp == nil || p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 7 {
		t.Fatalf("not marked for graceful deletion: %+v", p.ObjectMeta)
	}
	if _, err := f.c.Get(c, pods, "default", "bound"); err != nil {
		t.Fatalf("a terminating pod is gone before its agent stopped it: %v", err)
	}
	zero := int64(0)
	if _, err := f.c.DeleteWith(c, pods, "default", "bound", client.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Get(c, pods, "default", "bound"); !apierrors.IsNotFound(err) {
		t.Fatalf("grace 0 did not remove it: %v", err)
	}
	// A pod no node runs goes at once.
	if _, err := f.c.Delete(c, pods, "default", "unbound"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Get(c, pods, "default", "unbound"); !apierrors.IsNotFound(err) {
		t.Fatalf("unbound pod not removed: %v", err)
	}
}

func TestReapplyBoundPodIsUnchanged(t *testing.T) {
	f := start(t, boltstore.Options{})
	c := ctx(t)
	y := "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec: {containers: [{name: c, image: busybox}]}\n"
	if _, _, err := f.c.Apply(c, decodeOne(t, y)); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Bind(c, "default", "p", "node-1"); err != nil {
		t.Fatal(err)
	}
	_, resp, err := f.c.Apply(c, decodeOne(t, y))
	if err != nil || resp.ApplyResult != "unchanged" {
		t.Fatalf("re-apply of a bound pod: %v %q", err, resp.ApplyResult)
	}
}
