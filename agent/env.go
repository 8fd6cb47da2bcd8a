package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/agent/catalog"
	"github.com/weft-mesh/weft/agent/fieldpath"
	"github.com/weft-mesh/weft/agent/volumes"
)

// envBuilder resolves a container's environment.
type envBuilder struct {
	lookup      volumes.Lookup
	allocatable corev1.ResourceList
}

// configError is an environment the agent cannot build (a missing config
// map or key): the container waits with CreateContainerConfigError.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// build returns the container's environment as an ordered list and a
// lookup for $(VAR) expansion. pod.Status.PodIP must be set. extra is the
// pod network's (POD_IP in host mode, WEFT_XDS_ADDR).
func (b envBuilder) build(ctx context.Context, pod *corev1.Pod, c *corev1.Container, extra map[string]string) ([]string, func(string) (string, bool), error) {
	vals := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	set("PATH", envOr("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"))
	set("HOME", "/root")
	set("HOSTNAME", podHostname(pod))
	_, tag := catalog.SplitImage(c.Image)
	set("WEFT_IMAGE", c.Image)
	set("WEFT_IMAGE_TAG", tag)
	var ports []string
	for _, p := range c.Ports {
		if p.Protocol == "" || p.Protocol == corev1.ProtocolTCP {
			ports = append(ports, strconv.Itoa(int(p.ContainerPort)))
		}
	}
	set("WEFT_CONTAINER_PORTS", strings.Join(dedup(ports), ","))
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		set(k, extra[k])
	}
	lookup := func(k string) (string, bool) { v, ok := vals[k]; return v, ok }

	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm, err := b.lookup.ConfigMap(ctx, pod.Namespace, from.ConfigMapRef.Name)
			if err != nil {
				if optional(from.ConfigMapRef.Optional) && errors.Is(err, volumes.ErrNotFound) {
					continue
				}
				return nil, nil, &configError{err}
			}
			for _, k := range sortedKeys(cm.Data) {
				set(from.Prefix+k, cm.Data[k])
			}
		case from.SecretRef != nil:
			s, err := b.lookup.Secret(ctx, pod.Namespace, from.SecretRef.Name)
			if err != nil {
				if optional(from.SecretRef.Optional) && errors.Is(err, volumes.ErrNotFound) {
					continue
				}
				return nil, nil, &configError{err}
			}
			for _, k := range sortedKeys(s.Data) {
				set(from.Prefix+k, string(s.Data[k]))
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, volumes.Expand(e.Value, lookup))
			continue
		}
		v, skip, err := b.valueFrom(ctx, pod, c, e)
		if err != nil {
			return nil, nil, &configError{fmt.Errorf("env %s: %w", e.Name, err)}
		}
		if !skip {
			set(e.Name, v)
		}
	}
	env := make([]string, 0, len(order))
	for _, k := range order {
		env = append(env, k+"="+vals[k])
	}
	return env, lookup, nil
}

func (b envBuilder) valueFrom(ctx context.Context, pod *corev1.Pod, c *corev1.Container, e corev1.EnvVar) (string, bool, error) {
	vf := e.ValueFrom
	switch {
	case vf.FieldRef != nil:
		v, err := fieldpath.Value(pod, vf.FieldRef.FieldPath)
		return v, false, err
	case vf.ResourceFieldRef != nil:
		v, err := fieldpath.Resource(pod, c, vf.ResourceFieldRef, b.allocatable)
		return v, false, err
	case vf.ConfigMapKeyRef != nil:
		ref := vf.ConfigMapKeyRef
		cm, err := b.lookup.ConfigMap(ctx, pod.Namespace, ref.Name)
		if err != nil {
			if optional(ref.Optional) && errors.Is(err, volumes.ErrNotFound) {
				return "", true, nil
			}
			return "", false, err
		}
		v, ok := cm.Data[ref.Key]
		if !ok {
			if optional(ref.Optional) {
				return "", true, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return v, false, nil
	case vf.SecretKeyRef != nil:
		ref := vf.SecretKeyRef
		s, err := b.lookup.Secret(ctx, pod.Namespace, ref.Name)
		if err != nil {
			if optional(ref.Optional) && errors.Is(err, volumes.ErrNotFound) {
				return "", true, nil
			}
			return "", false, err
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			if optional(ref.Optional) {
				return "", true, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return string(v), false, nil
	}
	return "", false, errors.New("valueFrom names no source")
}

func optional(b *bool) bool { return b != nil && *b }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func dedup(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
