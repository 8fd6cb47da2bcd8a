package apiserver

import (
	"encoding/json"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/weft-mesh/weft/api"
)

// TestMatchesStored: a selector decides alike on a stored object's JSON
// (what a selected list reads first) and on the decoded object.
func TestMatchesStored(t *testing.T) {
	objs := []api.Object{
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "default", Labels: map[string]string{"app": "web", "tier": "fe"}},
			Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "team"}, Status: corev1.PodStatus{Phase: corev1.PodPending}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Labels: map[string]string{"app": "web"}}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "default"}},
	}
	sels := []struct{ labels, fields string }{
		{"app=web", ""}, {"app!=web", ""}, {"tier", ""}, {"!tier", ""}, {"app in (web,api)", ""},
		{"", "spec.nodeName=n1"}, {"", "status.phase=Pending"}, {"", "metadata.name=web"}, {"", "metadata.namespace!=default"},
		{"app=web", "status.phase=Running"},
	}
	for _, o := range objs {
		js, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		kind := api.LookupName("pods")
		switch o.(type) {
		case *corev1.Service:
			kind = api.LookupName("services")
		case *corev1.ConfigMap:
			kind = api.LookupName("configmaps")
		}
		for _, sc := range sels {
			ls, _ := labels.Parse(sc.labels)
			fs, _ := fields.ParseSelector(sc.fields)
			sel := selector{labels: ls, fields: fs}
			got, err := sel.matchesStored(kind, js)
			if err != nil {
				t.Fatal(err)
			}
			if want := sel.matches(o); got != want {
				t.Errorf("%s %s, selector %q %q: stored %v, decoded %v", kind.Kind, o.GetName(), sc.labels, sc.fields, got, want)
			}
		}
	}
}
