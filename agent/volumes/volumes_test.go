package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type fakeLookup struct{ cms map[string]*corev1.ConfigMap }

func (f fakeLookup) ConfigMap(_ context.Context, ns, name string) (*corev1.ConfigMap, error) {
	if cm, ok := f.cms[ns+"/"+name]; ok {
		return cm, nil
	}
	return nil, fmt.Errorf("configmap %q: %w", name, ErrNotFound)
}
func (f fakeLookup) Secret(_ context.Context, _, name string) (*corev1.Secret, error) {
	return &corev1.Secret{Data: map[string][]byte{"password": []byte("s3cret")}}, nil
}
func (f fakeLookup) ClaimPath(_ context.Context, _ *corev1.Pod, claim string) (string, error) {
	return "/claims/" + claim, nil
}

func TestPrepareAndMount(t *testing.T) {
	podDir := t.TempDir()
	hostDir := filepath.Join(t.TempDir(), "made")
	dirOrCreate := corev1.HostPathDirectoryOrCreate
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", Labels: map[string]string{"app": "x"}},
		Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app"}}}},
				{Name: "www", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				{Name: "log", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir, Type: &dirOrCreate}}},
				{Name: "secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
				{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
					{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}}}}}},
				{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "html"}}},
			},
			Containers: []corev1.Container{{Name: "c", VolumeMounts: []corev1.VolumeMount{
				{Name: "config", MountPath: "/root/application.properties", SubPath: "application.properties"},
				{Name: "www", MountPath: "/usr/share/nginx/html"},
				{Name: "www", MountPath: "/logs", SubPathExpr: "$(POD_NAME)"},
			}}},
		},
	}
	lookup := fakeLookup{cms: map[string]*corev1.ConfigMap{"default/app": {Data: map[string]string{"application.properties": "server.port=1111\n"}}}}
	vols, err := Prepare(context.Background(), pod, podDir, lookup)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(vols["config"].Path, "application.properties")); string(b) != "server.port=1111\n" {
		t.Fatalf("config map file = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(vols["secret"].Path, "password")); string(b) != "s3cret" {
		t.Fatalf("secret file = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(vols["info"].Path, "labels")); string(b) != `app="x"` {
		t.Fatalf("downward file = %q", b)
	}
	if st, err := os.Stat(hostDir); err != nil || !st.IsDir() {
		t.Fatalf("hostPath DirectoryOrCreate not made: %v", err)
	}
	if vols["data"].Path != "/claims/html" {
		t.Fatalf("claim path = %s", vols["data"].Path)
	}
	mounts, err := Mounts(&pod.Spec.Containers[0], vols, func(k string) (string, bool) { return map[string]string{"POD_NAME": "p"}[k], k == "POD_NAME" })
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 3 || mounts[0].Source != filepath.Join(vols["config"].Path, "application.properties") || !mounts[0].ReadOnly ||
		mounts[1].Source != vols["www"].Path || mounts[1].ReadOnly || mounts[2].Source != filepath.Join(vols["www"].Path, "p") {
		t.Fatalf("mounts = %+v", mounts)
	}
}

func TestMissingConfigMap(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default"}, Spec: corev1.PodSpec{Volumes: []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}}}}}}}
	_, err := Prepare(context.Background(), pod, t.TempDir(), fakeLookup{})
	var ve *Error
	if !errors.As(err, &ve) || ve.Volume != "config" || !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "1", "B": "two"}
	look := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for in, want := range map[string]string{
		"$(A)-$(B)": "1-two", "$(C)": "$(C)", "$$(A)": "$(A)", "x$": "x$", "$(A": "$(A", "a$b": "a$b",
	} {
		if got := Expand(in, look); got != want {
			t.Errorf("Expand(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSubPathEscapeRejected(t *testing.T) {
	c := &corev1.Container{VolumeMounts: []corev1.VolumeMount{{Name: "v", MountPath: "/x", SubPath: "../etc"}}}
	if _, err := Mounts(c, map[string]Volume{"v": {Path: t.TempDir()}}, nil); err == nil {
		t.Fatal("want an error for a subPath leaving the volume")
	}
}
