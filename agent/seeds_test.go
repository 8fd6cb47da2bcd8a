package agent

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/cli"
	"github.com/weft-mesh/weft/client"
)

// seedPods reads the pods of a seed manifest from the repository's copy
// of the corpus.
func seedPods(t *testing.T, file string) map[string]*corev1.Pod {
	t.Helper()
	docs, err := api.DecodeFile(filepath.Join("..", "testdata", "corpus", "seeds", file))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*corev1.Pod{}
	for _, d := range docs {
		if p, ok := d.Object.(*corev1.Pod); ok {
			out[p.Name] = p
		}
	}
	return out
}

// TestSeedLivenessRestarts runs 05-liveness.yaml with its timings
// shortened: the exec probe fails once /tmp/healthy is gone (the
// container's own /tmp), the HTTP probe's host does not answer; both
// containers are restarted.
func TestSeedLivenessRestarts(t *testing.T) {
	t.Parallel()
	f := start(t)
	for _, p := range seedPods(t, "05-liveness.yaml") {
		c := &p.Spec.Containers[0]
		c.Args[2] = strings.ReplaceAll(c.Args[2], "sleep 30", "sleep 2")
		c.LivenessProbe.InitialDelaySeconds, c.LivenessProbe.PeriodSeconds, c.LivenessProbe.TimeoutSeconds = 1, 1, 1
		f.create(p)
	}
	for _, name := range []string{"liveness-exec", "liveness-http"} {
		got := f.waitPod(name, "a restart by the liveness probe", func(p *corev1.Pod) bool {
			return containerStatus(p, "liveness").RestartCount >= 1
		})
		if lt := containerStatus(got, "liveness").LastTerminationState.Terminated; lt == nil || lt.ExitCode != 143 && lt.ExitCode != 137 {
			t.Errorf("%s: last state %+v", name, containerStatus(got, "liveness").LastTerminationState)
		}
	}
	evs, _, err := f.c.List(context.Background(), api.LookupName("events"), "default", client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unhealthy := false
	for _, e := range evs {
		ev := e.(*corev1.Event)
		unhealthy = unhealthy || (ev.Reason == "Unhealthy" && ev.InvolvedObject.Name == "liveness-exec" && strings.Contains(ev.Message, "Liveness probe failed"))
	}
	if !unhealthy {
		t.Error("no Unhealthy event for liveness-exec")
	}
}

// TestSeedPods runs 30-pods.yaml: a single nginx, nginx beside alpine,
// the init container filling an emptyDir that nginx serves (its wget
// replaced: tests have no internet), and the restartPolicy Never pod.
func TestSeedPods(t *testing.T) {
	t.Parallel()
	f := start(t)
	pods := seedPods(t, "30-pods.yaml")
	init := pods["init-demo"]
	init.Spec.InitContainers[0].Command = []string{"sh", "-c", "echo hello from init > /opt/index.html"}
	never := pods["oldboyedu-linux"]
	never.Spec.Containers[0].Args = []string{"1"}
	for _, p := range pods {
		for i := range p.Spec.Containers {
			p.Spec.Containers[i].Ports = nil // the node gateway serves hostPorts; none runs here
			p.Spec.Containers[i].Ports = append(p.Spec.Containers[i].Ports, corev1.ContainerPort{ContainerPort: 80})
		}
		if p.Name == "oldboyedu-linux" {
			p.Spec.Containers[0].Ports = nil
		}
		f.create(p)
	}
	got := f.waitPod("init-demo", "Ready", ready)
	if cs := containerStatus(got, "download"); cs.State.Terminated == nil || cs.State.Terminated.Reason != "Completed" {
		t.Fatalf("init container: %s", statusString(got))
	}
	resp, body := httpGet(t, "http://"+got.Status.PodIP+"/index.html")
	if body != "hello from init\n" || resp.Header.Get("Server") != "nginx/1.17" {
		t.Fatalf("GET /index.html = %q (Server %q)", body, resp.Header.Get("Server"))
	}
	both := f.waitPod("oldboyedu-nginx-alpine", "Ready", ready)
	if _, body := httpGet(t, "http://"+both.Status.PodIP+"/"); !strings.Contains(body, "nginx:1.14") {
		t.Fatalf("GET / = %q", body)
	}
	f.waitPod("oldboyedu-nginx", "Ready", ready)
	f.waitPod("oldboyedu-linux", "Succeeded", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
}

// TestVolumes covers 01-jmnbservice.yaml's volumes: a config map file by
// subPath, a claim from the local-path provisioner, a hostPath.
func TestVolumes(t *testing.T) {
	t.Parallel()
	f := start(t)
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "jmnbservice", Namespace: "default"}, Data: map[string]string{"application.properties": "server.port=1111\n"}}
	if _, _, err := f.c.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "nginxhtml", Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	if _, _, err := f.c.Create(ctx, pvc); err != nil {
		t.Fatal(err)
	}
	host := t.TempDir()
	dirOrCreate := corev1.HostPathDirectoryOrCreate
	p := pod("vols", busybox("app", "cat /root/application.properties > /usr/local/nginx/html/clientexe/copy; echo hi > /weft-host/x; sleep infinity"))
	p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{
		{Name: "config", MountPath: "/root/application.properties", SubPath: "application.properties"},
		{Name: "html", MountPath: "/usr/local/nginx/html/clientexe"},
		{Name: "log", MountPath: "/weft-host"},
	}
	p.Spec.Volumes = []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "jmnbservice"}}}},
		{Name: "html", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "nginxhtml"}}},
		{Name: "log", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: host, Type: &dirOrCreate}}},
	}
	f.create(p)
	f.waitPod("vols", "Ready", ready)
	var out bytes.Buffer
	waitFor(t, "the copy in the claim", func() bool {
		out.Reset()
		code, _ := f.c.Exec(ctx, "default", "vols", client.ExecOptions{Command: []string{"cat", "/usr/local/nginx/html/clientexe/copy", "/weft-host/x"}, Stdout: &out})
		return code == 0 && out.String() == "server.port=1111\nhi\n"
	})
	obj, err := f.c.Get(ctx, api.LookupName("pvc"), "default", "nginxhtml")
	if err != nil {
		t.Fatal(err)
	}
	if got := obj.(*corev1.PersistentVolumeClaim); got.Status.Phase != corev1.ClaimBound || got.Annotations["weft.io/volume-name"] == "" {
		t.Fatalf("claim: %+v", got.Status)
	}
	if _, err := f.c.Get(ctx, api.LookupName("storageclasses"), "", LocalPathClass); err != nil {
		t.Fatalf("default storage class: %v", err)
	}
}

// TestWeftctl drives logs, exec and top through weftctl's commands.
func TestWeftctl(t *testing.T) {
	t.Parallel()
	f := start(t)
	f.create(pod("web", corev1.Container{Name: "web", Image: "nginx:1.14", Ports: []corev1.ContainerPort{{ContainerPort: 80}}}))
	f.waitPod("web", "Ready", ready)
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := cli.Main(append([]string{"--server", f.c.Server(), "--token", f.token()}, args...), cli.Streams{In: strings.NewReader("typed\n"), Out: &out, Err: &errb})
		return out.String(), errb.String(), code
	}
	if out, errs, code := run("exec", "web", "--", "sh", "-c", "echo $POD_IP; exit 4"); code != 4 || !strings.HasPrefix(out, "127.") || !strings.Contains(errs, "exit code 4") {
		t.Fatalf("exec: %q %q exit %d", out, errs, code)
	}
	if out, _, code := run("exec", "-i", "web", "--", "cat"); code != 0 || out != "typed\n" {
		t.Fatalf("exec -i: %q exit %d", out, code)
	}
	if out, _, code := run("logs", "web", "--tail", "5"); code != 0 || !strings.Contains(out, "listening on 127.") {
		t.Fatalf("logs: %q exit %d", out, code)
	}
	if _, errs, code := run("logs", "web", "-c", "nope"); code == 0 || !strings.Contains(errs, "not valid") {
		t.Fatalf("logs of a wrong container: %q exit %d", errs, code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, errs, code := run("top", "pod")
		if code == 0 && strings.Contains(out, "web") && strings.Contains(out, "Mi") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("top pod: %q %q exit %d", out, errs, code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out, errs, code := run("top", "node"); code != 0 || !strings.Contains(out, f.node) || !strings.Contains(out, "CPU(%)") {
		t.Fatalf("top node: %q %q exit %d", out, errs, code)
	}
}
