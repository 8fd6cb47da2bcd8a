package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
)

// bindHandler serves POST .../pods/{name}/binding: the scheduler's way to
// assign a pod to a node, as in Kubernetes.
func (s *Server) bindHandler(w http.ResponseWriter, r *http.Request, info requestInfo) {
	var b corev1.Binding
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
	if err == nil {
		err = json.Unmarshal(body, &b)
	}
	if err != nil {
		s.respond(w, r, info, 0, nil, apierrors.NewBadRequest("binding: "+err.Error()))
		return
	}
	if b.Target.Name == "" || (b.Target.Kind != "" && b.Target.Kind != "Node") {
		s.respond(w, r, info, 0, nil, apierrors.NewBadRequest("binding: target must name a Node"))
		return
	}
	pod, err := s.bind(r.Context(), info.Kind, info.Namespace, info.Name, b.Target.Name)
	if err != nil {
		s.respond(w, r, info, 0, nil, err)
		return
	}
	writeJSON(w, http.StatusCreated, metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess, Code: http.StatusCreated,
		Details: &metav1.StatusDetails{Name: pod.GetName(), Kind: "pods"}})
}

// bind sets spec.nodeName of an unbound pod and its PodScheduled condition.
func (s *Server) bind(ctx context.Context, k *api.Kind, ns, name, node string) (api.Object, error) {
	key := storageKey(k, ns, name)
	kv, err := s.cfg.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	obj, err := decode(k, kv)
	if err != nil {
		return nil, err
	}
	pod := obj.(*corev1.Pod)
	if pod.Spec.NodeName != "" {
		return nil, apierrors.NewConflict(schemaGR(k), name, fmt.Errorf("pod %s is already assigned to node %q", name, pod.Spec.NodeName))
	}
	if pod.DeletionTimestamp != nil {
		return nil, apierrors.NewConflict(schemaGR(k), name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", name))
	}
	pod.Spec.NodeName = node
	now := metav1.NewTime(s.cfg.Now().UTC().Truncate(1e9))
	setPodCondition(&pod.Status, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now})
	b, err := encode(pod)
	if err != nil {
		return nil, err
	}
	kv, err = s.cfg.Store.Update(ctx, key, b, kv.ModRevision)
	if err != nil {
		return nil, err
	}
	pod.ResourceVersion = strconv.FormatInt(kv.ModRevision, 10)
	return pod, nil
}

func setPodCondition(st *corev1.PodStatus, c corev1.PodCondition) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == c.Type {
			st.Conditions[i] = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}
