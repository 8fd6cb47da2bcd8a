package client_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/apiserver/apiservertest"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

func TestInformerSeesChanges(t *testing.T) {
	s := apiservertest.Start(t, boltstore.Options{})
	c := s.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cm := func(name, v string) *corev1.ConfigMap {
		return &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Data: map[string]string{"v": v}}
	}
	if _, _, err := c.Create(ctx, cm("before", "1")); err != nil {
		t.Fatal(err)
	}
	inf := client.NewInformer(c, api.LookupName("cm"), "default", client.ListOptions{})
	events := make(chan string, 16)
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { events <- "add " + o.(*corev1.ConfigMap).Name },
		UpdateFunc: func(_, o any) { events <- "update " + o.(*corev1.ConfigMap).Data["v"] },
		DeleteFunc: func(o any) { events <- "delete" },
	})
	go inf.Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("no sync")
	}
	want := []string{"add before"}
	if _, _, err := c.Create(ctx, cm("after", "1")); err != nil {
		t.Fatal(err)
	}
	want = append(want, "add after")
	obj, _ := c.Get(ctx, api.LookupName("cm"), "default", "after")
	obj.(*corev1.ConfigMap).Data["v"] = "2"
	if _, _, err := c.Update(ctx, obj); err != nil {
		t.Fatal(err)
	}
	want = append(want, "update 2")
	if _, err := c.Delete(ctx, api.LookupName("cm"), "default", "after"); err != nil {
		t.Fatal(err)
	}
	want = append(want, "delete")
	for _, w := range want {
		select {
		case got := <-events:
			if got != w {
				t.Fatalf("event %q, want %q", got, w)
			}
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %q", w)
		}
	}
	if objs := inf.GetIndexer().List(); len(objs) != 1 {
		t.Fatalf("cache has %d objects, want 1", len(objs))
	}
}
