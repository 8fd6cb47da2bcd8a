package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/agent/fieldpath"
	"github.com/weft-mesh/weft/agent/runtime"
)

// Lookup reads what volumes are made from.
type Lookup interface {
	ConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error)
	Secret(ctx context.Context, ns, name string) (*corev1.Secret, error)
	// ClaimPath binds the claim if needed and returns its data directory.
	ClaimPath(ctx context.Context, pod *corev1.Pod, claim string) (string, error)
}

// ErrNotFound is what Lookup wraps for an object that does not exist.
var ErrNotFound = errors.New("not found")

// Volume is one prepared volume.
type Volume struct {
	Path string
	// ReadOnly for configMap, secret, downwardAPI and projected volumes.
	ReadOnly bool
}

// Error is a volume that could not be made, in the kubelet's words.
type Error struct {
	Volume string
	Err    error
}

func (e *Error) Error() string {
	return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", e.Volume, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Prepare makes every volume of pod below podDir/volumes.
func Prepare(ctx context.Context, pod *corev1.Pod, podDir string, lookup Lookup) (map[string]Volume, error) {
	out := make(map[string]Volume, len(pod.Spec.Volumes))
	for _, v := range pod.Spec.Volumes {
		vol, err := prepare(ctx, pod, podDir, v, lookup)
		if err != nil {
			return out, &Error{Volume: v.Name, Err: err}
		}
		out[v.Name] = vol
	}
	return out, nil
}

func prepare(ctx context.Context, pod *corev1.Pod, podDir string, v corev1.Volume, lookup Lookup) (Volume, error) {
	dir := filepath.Join(podDir, "volumes", v.Name)
	ns := pod.Namespace
	switch {
	case v.EmptyDir != nil:
		return Volume{Path: dir}, os.MkdirAll(dir, 0o777)
	case v.HostPath != nil:
		return Volume{Path: v.HostPath.Path}, hostPath(v.HostPath)
	case v.ConfigMap != nil:
		cm, err := lookup.ConfigMap(ctx, ns, v.ConfigMap.Name)
		if err != nil {
			if errors.Is(err, ErrNotFound) && v.ConfigMap.Optional != nil && *v.ConfigMap.Optional {
				return Volume{Path: dir, ReadOnly: true}, os.MkdirAll(dir, 0o755)
			}
			return Volume{}, err
		}
		files := map[string][]byte{}
		for k, s := range cm.Data {
			files[k] = []byte(s)
		}
		for k, b := range cm.BinaryData {
			files[k] = b
		}
		return Volume{Path: dir, ReadOnly: true}, writeFiles(dir, project(files, v.ConfigMap.Items), mode(v.ConfigMap.DefaultMode))
	case v.Secret != nil:
		s, err := lookup.Secret(ctx, ns, v.Secret.SecretName)
		if err != nil {
			if errors.Is(err, ErrNotFound) && v.Secret.Optional != nil && *v.Secret.Optional {
				return Volume{Path: dir, ReadOnly: true}, os.MkdirAll(dir, 0o755)
			}
			return Volume{}, err
		}
		files := map[string][]byte{}
		for k, b := range s.Data {
			files[k] = b
		}
		for k, str := range s.StringData {
			files[k] = []byte(str)
		}
		return Volume{Path: dir, ReadOnly: true}, writeFiles(dir, project(files, v.Secret.Items), mode(v.Secret.DefaultMode))
	case v.DownwardAPI != nil:
		files, err := downward(pod, v.DownwardAPI.Items)
		if err != nil {
			return Volume{}, err
		}
		return Volume{Path: dir, ReadOnly: true}, writeFiles(dir, files, mode(v.DownwardAPI.DefaultMode))
	case v.Projected != nil:
		files := map[string][]byte{}
		for _, src := range v.Projected.Sources {
			switch {
			case src.ConfigMap != nil:
				cm, err := lookup.ConfigMap(ctx, ns, src.ConfigMap.Name)
				if err != nil {
					if errors.Is(err, ErrNotFound) && src.ConfigMap.Optional != nil && *src.ConfigMap.Optional {
						continue
					}
					return Volume{}, err
				}
				m := map[string][]byte{}
				for k, s := range cm.Data {
					m[k] = []byte(s)
				}
				for k, b := range project(m, src.ConfigMap.Items) {
					files[k] = b
				}
			case src.Secret != nil:
				s, err := lookup.Secret(ctx, ns, src.Secret.Name)
				if err != nil {
					if errors.Is(err, ErrNotFound) && src.Secret.Optional != nil && *src.Secret.Optional {
						continue
					}
					return Volume{}, err
				}
				for k, b := range project(s.Data, src.Secret.Items) {
					files[k] = b
				}
			case src.DownwardAPI != nil:
				m, err := downward(pod, src.DownwardAPI.Items)
				if err != nil {
					return Volume{}, err
				}
				for k, b := range m {
					files[k] = b
				}
			case src.ServiceAccountToken != nil, src.ClusterTrustBundle != nil:
				// No service account tokens yet: leave the file out.
			}
		}
		return Volume{Path: dir, ReadOnly: true}, writeFiles(dir, files, mode(v.Projected.DefaultMode))
	case v.PersistentVolumeClaim != nil:
		p, err := lookup.ClaimPath(ctx, pod, v.PersistentVolumeClaim.ClaimName)
		if err != nil {
			return Volume{}, err
		}
		return Volume{Path: p, ReadOnly: v.PersistentVolumeClaim.ReadOnly}, nil
	}
	return Volume{}, errors.New("this volume type is not supported by weft's agent (emptyDir, hostPath, configMap, secret, downwardAPI, projected, persistentVolumeClaim are)")
}

func mode(m *int32) os.FileMode {
	if m == nil {
		return 0o644
	}
	return os.FileMode(*m)
}

// project applies items (key → path) when given.
func project(data map[string][]byte, items []corev1.KeyToPath) map[string][]byte {
	if len(items) == 0 {
		return data
	}
	out := map[string][]byte{}
	for _, it := range items {
		if b, ok := data[it.Key]; ok {
			out[it.Path] = b
		}
	}
	return out
}

func downward(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, it := range items {
		switch {
		case it.FieldRef != nil:
			v, err := fieldpath.Value(pod, it.FieldRef.FieldPath)
			if err != nil {
				return nil, err
			}
			out[it.Path] = []byte(v)
		case it.ResourceFieldRef != nil:
			var c *corev1.Container
			for i := range pod.Spec.Containers {
				if pod.Spec.Containers[i].Name == it.ResourceFieldRef.ContainerName {
					c = &pod.Spec.Containers[i]
				}
			}
			if c == nil {
				return nil, fmt.Errorf("resourceFieldRef: no container %q", it.ResourceFieldRef.ContainerName)
			}
			v, err := fieldpath.Resource(pod, c, it.ResourceFieldRef, nil)
			if err != nil {
				return nil, err
			}
			out[it.Path] = []byte(v)
		}
	}
	return out, nil
}

// writeFiles writes the volume's files, replacing what was there.
func writeFiles(dir string, files map[string][]byte, perm os.FileMode) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !safeRel(k) {
			return fmt.Errorf("file path %q must be relative and stay in the volume", k)
		}
		p := filepath.Join(dir, k)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		tmp := p + ".weft-tmp"
		if err := os.WriteFile(tmp, files[k], perm); err != nil {
			return err
		}
		if err := os.Chmod(tmp, perm); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			return err
		}
	}
	return nil
}

func safeRel(p string) bool {
	c := filepath.Clean(p)
	return p != "" && !filepath.IsAbs(p) && c != ".." && !strings.HasPrefix(c, "../")
}

func hostPath(hp *corev1.HostPathVolumeSource) error {
	t := corev1.HostPathUnset
	if hp.Type != nil {
		t = *hp.Type
	}
	st, err := os.Stat(hp.Path)
	switch t {
	case corev1.HostPathDirectoryOrCreate:
		if err != nil {
			return os.MkdirAll(hp.Path, 0o755)
		}
		if !st.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is not a directory", hp.Path)
		}
	case corev1.HostPathFileOrCreate:
		if err != nil {
			if err := os.MkdirAll(filepath.Dir(hp.Path), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(hp.Path, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			return f.Close()
		}
	case corev1.HostPathDirectory:
		if err != nil || !st.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is not a directory", hp.Path)
		}
	case corev1.HostPathFile:
		if err != nil || st.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is not a file", hp.Path)
		}
	case corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev:
		if err != nil {
			return fmt.Errorf("hostPath type check failed: %s does not exist", hp.Path)
		}
	}
	return nil
}

// Mounts returns container c's mounts from the prepared volumes; env
// expands subPathExpr.
func Mounts(c *corev1.Container, vols map[string]Volume, env func(string) (string, bool)) ([]runtime.Mount, error) {
	var out []runtime.Mount
	for _, vm := range c.VolumeMounts {
		v, ok := vols[vm.Name]
		if !ok {
			return nil, fmt.Errorf("volumeMounts: no volume %q", vm.Name)
		}
		src := v.Path
		sub := vm.SubPath
		if vm.SubPathExpr != "" {
			sub = Expand(vm.SubPathExpr, env)
		}
		if sub != "" {
			if !safeRel(sub) {
				return nil, fmt.Errorf("subPath %q must be relative and stay in the volume", sub)
			}
			src = filepath.Join(src, sub)
			if _, err := os.Lstat(src); errors.Is(err, os.ErrNotExist) {
				// Kubernetes creates a missing subPath as a directory.
				if err := os.MkdirAll(src, 0o777); err != nil {
					return nil, fmt.Errorf("subPath %q: %w", sub, err)
				}
			}
		}
		out = append(out, runtime.Mount{Source: src, Target: vm.MountPath, ReadOnly: vm.ReadOnly || v.ReadOnly})
	}
	return out, nil
}

// Expand replaces $(VAR) by its value when defined, leaves it otherwise,
// and turns $$ into $, as Kubernetes expands command, args and env.
func Expand(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
