package controllers_test

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/controlplane/controllers"
)

// TestGarbageCollection: deleting a Deployment takes its ReplicaSets and
// pods with it; an object whose only owner never existed goes; one with a
// live owner left only loses the dangling reference.
func TestGarbageCollection(t *testing.T) {
	cl := startCluster(t, controllers.Config{})
	cl.startKubelet(t, "node-a")
	cl.create(t, deployment("web", 2, "nginx:1.25"))
	waitRolledOut(t, cl, "web", 2, 1)

	owner := cl.create(t, &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "owner", Namespace: "default"}})
	ref := func(kind, name string, uid string) metav1.OwnerReference {
		return metav1.OwnerReference{APIVersion: "v1", Kind: kind, Name: name, UID: typesUID(uid)}
	}
	cl.create(t, &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: "default",
			OwnerReferences: []metav1.OwnerReference{ref("ConfigMap", "never-was", "4f6a6b5e-0000-0000-0000-000000000000")}}})
	cl.create(t, &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "half", Namespace: "default",
			OwnerReferences: []metav1.OwnerReference{ref("ConfigMap", "never-was", "4f6a6b5e-0000-0000-0000-000000000000"),
				ref("ConfigMap", "owner", string(owner.GetUID()))}}})

	if _, err := cl.c.Delete(cl.ctx, api.LookupName("deploy"), "default", "web"); err != nil {
		t.Fatal(err)
	}
	cl.eventually(t, 20*time.Second, "dependents gone", func() (bool, string) {
		rss, _, _ := cl.c.List(cl.ctx, api.LookupName("rs"), "default", listAll())
		pods := cl.pods(t, "default", "app=web")
		return len(rss) == 0 && len(pods) == 0, fmt.Sprintf("%d replica sets, %d pods", len(rss), len(pods))
	})
	cl.eventually(t, 20*time.Second, "orphan deleted, half kept", func() (bool, string) {
		_, err := cl.c.Get(cl.ctx, api.LookupName("cm"), "default", "orphan")
		half, herr := cl.c.Get(cl.ctx, api.LookupName("cm"), "default", "half")
		if herr != nil {
			return false, herr.Error()
		}
		refs := half.GetOwnerReferences()
		return err != nil && len(refs) == 1 && refs[0].Name == "owner", fmt.Sprintf("orphan: %v, half owners %v", err, refs)
	})
	_ = appsv1.Deployment{}
}
