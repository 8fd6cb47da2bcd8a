package inject

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func pod(ann, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", Annotations: ann, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
}

func TestWanted(t *testing.T) {
	on := map[string]string{LabelNamespaceIstio: "enabled"}
	weftOn := map[string]string{LabelNamespaceWeft: "enabled"}
	tests := []struct {
		name string
		pod  *corev1.Pod
		ns   map[string]string
		want bool
	}{
		{"nothing", pod(nil, nil), nil, false},
		{"annotation true", pod(map[string]string{AnnotationInject: "true"}, nil), nil, true},
		{"label true", pod(nil, map[string]string{LabelInject: "true"}), nil, true},
		{"namespace istio", pod(nil, nil), on, true},
		{"namespace weft", pod(nil, nil), weftOn, true},
		{"annotation false opts out", pod(map[string]string{AnnotationInject: "false"}, nil), on, false},
		{"namespace disabled", pod(nil, nil), map[string]string{LabelNamespaceIstio: "disabled"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Wanted(tt.pod, tt.ns); got != tt.want {
				t.Fatalf("Wanted = %v, want %v", got, tt.want)
			}
		})
	}
	hn := pod(map[string]string{AnnotationInject: "true"}, nil)
	hn.Spec.HostNetwork = true
	if Wanted(hn, nil) {
		t.Fatal("host-network pod injected")
	}
}

func TestAdmitInjectsOnceOnCreate(t *testing.T) {
	p := &Plugin{Config: Config{Tag: "v1"}, NamespaceLabels: func(context.Context, string) (map[string]string, error) {
		return map[string]string{LabelNamespaceWeft: "enabled"}, nil
	}}
	po := pod(nil, nil)
	if _, err := p.Admit(context.Background(), po, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Admit(context.Background(), po, nil); err != nil {
		t.Fatal(err)
	}
	if len(po.Spec.Containers) != 1 || len(po.Spec.InitContainers) != 1 || po.Spec.InitContainers[0].Name != ContainerName || po.Spec.InitContainers[0].Image != "weft/proxy:v1" {
		t.Fatalf("init containers %+v, containers %+v", po.Spec.InitContainers, po.Spec.Containers)
	}
	proxy := po.Spec.InitContainers[0]
	if proxy.RestartPolicy == nil || *proxy.RestartPolicy != corev1.ContainerRestartPolicyAlways || proxy.StartupProbe == nil {
		t.Fatalf("the proxy is not a native sidecar with a startup probe: %+v", proxy)
	}
	if sc := proxy.SecurityContext; sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 1337 || sc.RunAsGroup == nil || *sc.RunAsGroup != 1337 {
		t.Fatalf("the proxy does not run as 1337: %+v", sc)
	}
	if po.Annotations[AnnotationStatus] == "" {
		t.Fatal("no status annotation")
	}
	upd := pod(nil, nil)
	if _, err := p.Admit(context.Background(), upd, po); err != nil || len(upd.Spec.InitContainers) != 0 {
		t.Fatalf("an update was injected: %v %d", err, len(upd.Spec.InitContainers))
	}
}

// TestDrainTimeFromProxyConfig: terminationDrainDuration in the pod's
// proxy.istio.io/config becomes weft-proxy's --drain-time; without it the
// proxy keeps its default (Istio's 5s).
func TestDrainTimeFromProxyConfig(t *testing.T) {
	drainArg := func(annotations map[string]string) string {
		c := Container(Config{}, &metav1.ObjectMeta{Annotations: annotations})
		for _, a := range c.Args {
			if strings.HasPrefix(a, "--drain-time=") {
				return a
			}
		}
		return ""
	}
	if got := drainArg(map[string]string{"proxy.istio.io/config": "terminationDrainDuration: 20s\n"}); got != "--drain-time=20s" {
		t.Errorf("with terminationDrainDuration 20s: %q", got)
	}
	if got := drainArg(map[string]string{"proxy.istio.io/config": "concurrency: 2\n"}); got != "" {
		t.Errorf("without terminationDrainDuration: %q", got)
	}
	if got := drainArg(nil); got != "" {
		t.Errorf("without the annotation: %q", got)
	}
}
