package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/controlplane/store"
)

// LastAppliedAnnotation holds the configuration a user last applied, as
// kubectl keeps it, so a later apply can tell a field the user removed from
// one somebody else added.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// apply creates the object, or makes the stored one what the user applied
// now while keeping what the server and controllers own (status, allocated
// IPs and ports, replicas an autoscaler set when the user leaves them out,
// labels and annotations others added). result is "created", "configured"
// or "unchanged".
func (s *Server) apply(ctx context.Context, k *api.Kind, desired api.Object) (out api.Object, result string, warnings []string, err error) {
	applied, err := lastApplied(desired)
	if err != nil {
		return nil, "", nil, err
	}
	setAnnotation(desired, LastAppliedAnnotation, applied)
	for attempt := 0; attempt < 5; attempt++ {
		old, err := s.get(ctx, k, desired.GetNamespace(), desired.GetName())
		if errors.Is(err, store.ErrNotFound) {
			out, warnings, err = s.createWithWarnings(ctx, k, desired.DeepCopyObject().(api.Object))
			if errors.Is(err, store.ErrExists) {
				continue
			}
			return out, "created", warnings, err
		}
		if err != nil {
			return nil, "", nil, err
		}
		merged := desired.DeepCopyObject().(api.Object)
		mergeMeta(merged, old)
		keepAllocated(merged, old)
		merged.SetResourceVersion(old.GetResourceVersion())
		out, warnings, err = s.update(ctx, k, merged, old)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return nil, "", warnings, err
		}
		if out.GetResourceVersion() == old.GetResourceVersion() {
			return out, "unchanged", warnings, nil
		}
		return out, "configured", warnings, nil
	}
	return nil, "", nil, fmt.Errorf("apply %s/%s: %w (too many concurrent writers)", desired.GetNamespace(), desired.GetName(), store.ErrConflict)
}

func lastApplied(obj api.Object) (string, error) {
	c := obj.DeepCopyObject().(api.Object)
	ann := c.GetAnnotations()
	delete(ann, LastAppliedAnnotation)
	if len(ann) == 0 {
		ann = nil
	}
	c.SetAnnotations(ann)
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode last-applied configuration: %w", err)
	}
	return string(b), nil
}

func setAnnotation(obj api.Object, key, value string) {
	ann := obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[key] = value
	obj.SetAnnotations(ann)
}

// mergeMeta keeps labels and annotations that others added to old: those
// the previous apply did not set.
func mergeMeta(merged, old api.Object) {
	var prev struct {
		Metadata struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal([]byte(old.GetAnnotations()[LastAppliedAnnotation]), &prev)
	merged.SetLabels(mergeMap(merged.GetLabels(), old.GetLabels(), prev.Metadata.Labels))
	ann := mergeMap(merged.GetAnnotations(), old.GetAnnotations(), prev.Metadata.Annotations)
	merged.SetAnnotations(ann)
	if len(merged.GetOwnerReferences()) == 0 {
		merged.SetOwnerReferences(old.GetOwnerReferences())
	}
	if len(merged.GetFinalizers()) == 0 {
		merged.SetFinalizers(old.GetFinalizers())
	}
}

func mergeMap(desired, old, prevApplied map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range old {
		if _, applied := prevApplied[k]; !applied && k != LastAppliedAnnotation {
			out[k] = v
		}
	}
	for k, v := range desired {
		out[k] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// keepAllocated carries over fields a controller filled in and the applied
// configuration leaves out (replicas an autoscaler or `weftctl scale` set).
// Allocated IPs and ports are kept on every update (patchAllocated).
func keepAllocated(merged, old api.Object) {
	switch n := merged.(type) {
	case *corev1.Pod:
		// The scheduler bound it; a manifest without nodeName keeps the binding.
		if n.Spec.NodeName == "" {
			n.Spec.NodeName = old.(*corev1.Pod).Spec.NodeName
		}
	case *appsv1.Deployment:
		if n.Spec.Replicas == nil {
			n.Spec.Replicas = old.(*appsv1.Deployment).Spec.Replicas
		}
	case *appsv1.ReplicaSet:
		if n.Spec.Replicas == nil {
			n.Spec.Replicas = old.(*appsv1.ReplicaSet).Spec.Replicas
		}
	case *corev1.ReplicationController:
		if n.Spec.Replicas == nil {
			n.Spec.Replicas = old.(*corev1.ReplicationController).Spec.Replicas
		}
	case *appsv1.StatefulSet:
		if n.Spec.Replicas == nil {
			n.Spec.Replicas = old.(*appsv1.StatefulSet).Spec.Replicas
		}
	}
}

func protoOrTCP(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// patchAllocated carries the ClusterIP and node ports the server allocated
// into an update that leaves them out, as Kubernetes does before validation.
func patchAllocated(obj, old api.Object) {
	n, ok := obj.(*corev1.Service)
	if !ok {
		return
	}
	o := old.(*corev1.Service)
	if n.Spec.ClusterIP == "" {
		n.Spec.ClusterIP, n.Spec.ClusterIPs = o.Spec.ClusterIP, o.Spec.ClusterIPs
	}
	if len(n.Spec.IPFamilies) == 0 {
		n.Spec.IPFamilies = o.Spec.IPFamilies
	}
	needsNodePorts := n.Spec.Type == corev1.ServiceTypeNodePort || n.Spec.Type == corev1.ServiceTypeLoadBalancer
	for i := range n.Spec.Ports {
		if !needsNodePorts {
			break
		}
		p := &n.Spec.Ports[i]
		for _, op := range o.Spec.Ports {
			if p.NodePort == 0 && op.Port == p.Port && protoOrTCP(op.Protocol) == protoOrTCP(p.Protocol) {
				p.NodePort = op.NodePort
			}
		}
	}
	if n.Spec.HealthCheckNodePort == 0 {
		n.Spec.HealthCheckNodePort = o.Spec.HealthCheckNodePort
	}
}
