package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	utilrand "k8s.io/apimachinery/pkg/util/rand"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/controlplane/store"
)

func (s *Server) get(ctx context.Context, k *api.Kind, ns, name string) (api.Object, error) {
	kv, err := s.cfg.Store.Get(ctx, storageKey(k, ns, name))
	if err != nil {
		return nil, err
	}
	return decode(k, kv)
}

// create admits and stores a new object, setting the metadata the server owns.
func (s *Server) create(ctx context.Context, k *api.Kind, _ string, obj api.Object) (api.Object, error) {
	out, _, err := s.createWithWarnings(ctx, k, obj)
	return out, err
}

func (s *Server) createWithWarnings(ctx context.Context, k *api.Kind, obj api.Object) (api.Object, []string, error) {
	if obj.GetName() == "" && obj.GetGenerateName() != "" {
		obj.SetName(obj.GetGenerateName() + utilrand.String(5))
	}
	if k.Namespaced {
		if err := s.namespaceOpen(ctx, obj.GetNamespace()); err != nil {
			return nil, nil, err
		}
	}
	warnings, err := s.admit(ctx, k, obj, nil)
	if err != nil {
		return nil, warnings, err
	}
	obj.SetUID(types.UID(uuid.NewString()))
	obj.SetCreationTimestamp(metav1.NewTime(s.cfg.Now().UTC().Truncate(1e9)))
	obj.SetGeneration(1)
	obj.SetResourceVersion("")
	obj.SetDeletionTimestamp(nil)
	prepareForCreate(obj)
	b, err := encode(obj)
	if err != nil {
		return nil, warnings, err
	}
	kv, err := s.cfg.Store.Create(ctx, storageKey(k, obj.GetNamespace(), obj.GetName()), b)
	if err != nil {
		return nil, warnings, err
	}
	obj.SetResourceVersion(strconv.FormatInt(kv.ModRevision, 10))
	return obj, warnings, nil
}

// namespaceOpen checks that objects may be created in ns.
func (s *Server) namespaceOpen(ctx context.Context, ns string) error {
	nsKind := api.LookupName("namespaces")
	obj, err := s.get(ctx, nsKind, "", ns)
	if errors.Is(err, store.ErrNotFound) {
		return apierrors.NewNotFound(schemaGR(nsKind), ns)
	}
	if err != nil {
		return err
	}
	if obj.(*corev1.Namespace).Status.Phase == corev1.NamespaceTerminating {
		return apierrors.NewForbidden(schemaGR(nsKind), ns, fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns))
	}
	return nil
}

// update admits and stores a new version of an existing object. A no-op
// update writes nothing and returns the stored object unchanged.
func (s *Server) update(ctx context.Context, k *api.Kind, obj api.Object, _ api.Object) (api.Object, []string, error) {
	key := storageKey(k, obj.GetNamespace(), obj.GetName())
	kv, err := s.cfg.Store.Get(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	old, err := decode(k, kv)
	if err != nil {
		return nil, nil, err
	}
	if rv := obj.GetResourceVersion(); rv != "" && rv != old.GetResourceVersion() {
		return nil, nil, fmt.Errorf("update %s: %w", key, store.ErrConflict)
	}
	obj.SetUID(old.GetUID())
	obj.SetCreationTimestamp(old.GetCreationTimestamp())
	obj.SetDeletionTimestamp(old.GetDeletionTimestamp())
	obj.SetGeneration(old.GetGeneration())
	patchAllocated(obj, old)
	warnings, err := s.admit(ctx, k, obj, old)
	if err != nil {
		return nil, warnings, err
	}
	keepStatus(obj, old)
	b, err := encode(obj)
	if err != nil {
		return nil, warnings, err
	}
	if !sameSpec(b, kv.Value) {
		// The spec changed: a new generation, in the stored bytes too.
		obj.SetGeneration(old.GetGeneration() + 1)
		if b, err = encode(obj); err != nil {
			return nil, warnings, err
		}
	}
	if bytes.Equal(b, kv.Value) {
		return old, warnings, nil
	}
	kv, err = s.cfg.Store.Update(ctx, key, b, kv.ModRevision)
	if err != nil {
		return nil, warnings, err
	}
	obj.SetResourceVersion(strconv.FormatInt(kv.ModRevision, 10))
	return obj, warnings, nil
}

// updateStatus replaces only the status of an existing object.
func (s *Server) updateStatus(ctx context.Context, k *api.Kind, obj api.Object) (api.Object, error) {
	key := storageKey(k, obj.GetNamespace(), obj.GetName())
	kv, err := s.cfg.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	old, err := decode(k, kv)
	if err != nil {
		return nil, err
	}
	if rv := obj.GetResourceVersion(); rv != "" && rv != old.GetResourceVersion() {
		return nil, fmt.Errorf("update status %s: %w", key, store.ErrConflict)
	}
	st := reflect.ValueOf(obj).Elem().FieldByName("Status")
	if !st.IsValid() {
		return nil, apierrors.NewNotFound(schemaGR(k), obj.GetName()+"/status")
	}
	out := old.DeepCopyObject().(api.Object)
	reflect.ValueOf(out).Elem().FieldByName("Status").Set(st)
	b, err := encode(out)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(b, kv.Value) {
		return old, nil
	}
	kv, err = s.cfg.Store.Update(ctx, key, b, kv.ModRevision)
	if err != nil {
		return nil, err
	}
	out.SetResourceVersion(strconv.FormatInt(kv.ModRevision, 10))
	return out, nil
}

func (s *Server) delete(ctx context.Context, k *api.Kind, ns, name string, grace *int64) (api.Object, error) {
	switch k.Kind {
	case "Namespace":
		return s.deleteNamespace(ctx, name)
	case "Pod":
		if pod, done, err := s.deletePodGracefully(ctx, k, ns, name, grace); done || err != nil {
			return pod, err
		}
	}
	kv, err := s.cfg.Store.Delete(ctx, storageKey(k, ns, name), 0)
	if err != nil {
		return nil, err
	}
	return decode(k, kv)
}

// deleteNamespace marks the namespace Terminating, deletes everything in
// it, then the namespace itself.
func (s *Server) deleteNamespace(ctx context.Context, name string) (api.Object, error) {
	nsKind := api.LookupName("namespaces")
	switch name {
	case metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic:
		return nil, apierrors.NewForbidden(schemaGR(nsKind), name, errors.New("this namespace may not be deleted"))
	}
	obj, err := s.get(ctx, nsKind, "", name)
	if err != nil {
		return nil, err
	}
	ns := obj.(*corev1.Namespace)
	if ns.Status.Phase != corev1.NamespaceTerminating {
		ns.Status.Phase = corev1.NamespaceTerminating
		if _, err := s.updateStatus(ctx, nsKind, ns); err != nil {
			return nil, err
		}
	}
	for _, k := range api.Kinds() {
		if !k.Namespaced {
			continue
		}
		kvs, _, err := s.cfg.Store.List(ctx, storagePrefix(k, name), store.ListOptions{})
		if err != nil {
			return nil, err
		}
		for _, kv := range kvs {
			if _, err := s.cfg.Store.Delete(ctx, kv.Key, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, fmt.Errorf("delete %s: %w", kv.Key, err)
			}
		}
	}
	kv, err := s.cfg.Store.Delete(ctx, storageKey(nsKind, "", name), 0)
	if err != nil {
		return nil, err
	}
	return decode(nsKind, kv)
}

// prepareForCreate resets the status the server owns on a new object.
func prepareForCreate(obj api.Object) {
	switch o := obj.(type) {
	case *corev1.Pod:
		o.Status = corev1.PodStatus{Phase: corev1.PodPending}
	case *corev1.Namespace:
		o.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	}
}

// keepStatus keeps the stored status: a spec update never changes it
// (it changes only through /status).
func keepStatus(obj, old api.Object) {
	if st := reflect.ValueOf(obj).Elem().FieldByName("Status"); st.IsValid() {
		st.Set(reflect.ValueOf(old).Elem().FieldByName("Status"))
	}
}

// sameSpec compares two stored encodings on everything but metadata and
// status (what a generation counts).
func sameSpec(a, b []byte) bool {
	var ma, mb map[string]json.RawMessage
	if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
		return false
	}
	for _, k := range []string{"metadata", "status", "apiVersion", "kind"} {
		delete(ma, k)
		delete(mb, k)
	}
	if len(ma) != len(mb) {
		return false
	}
	for k, v := range ma {
		if !bytes.Equal(v, mb[k]) {
			return false
		}
	}
	return true
}

// Object reads a stored object directly, for in-process admission plugins
// (reading through the API from inside admission would loop).
func (s *Server) Object(ctx context.Context, k *api.Kind, ns, name string) (api.Object, error) {
	return s.get(ctx, k, ns, name)
}

// deletePodGracefully marks a running pod for deletion, as Kubernetes does:
// deletionTimestamp and deletionGracePeriodSeconds are set, endpoints drop
// it, its agent stops its containers (SIGTERM, the grace period, SIGKILL)
// and then deletes it for good with a grace period of 0. done is false
// when the pod is to be removed at once: not on a node, finished, or
// grace 0.
func (s *Server) deletePodGracefully(ctx context.Context, k *api.Kind, ns, name string, grace *int64) (api.Object, bool, error) {
	key := storageKey(k, ns, name)
	kv, err := s.cfg.Store.Get(ctx, key)
	if err != nil {
		return nil, true, err
	}
	obj, err := decode(k, kv)
	if err != nil {
		return nil, true, err
	}
	pod := obj.(*corev1.Pod)
	g := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		g = *pod.Spec.TerminationGracePeriodSeconds
	}
	if grace != nil {
		g = *grace
	}
	finished := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
	if g == 0 || pod.Spec.NodeName == "" || finished {
		return nil, false, nil
	}
	if pod.DeletionTimestamp != nil {
		if pod.DeletionGracePeriodSeconds == nil || g >= *pod.DeletionGracePeriodSeconds {
			return pod, true, nil // already terminating, at least as fast
		}
	}
	now := metav1.NewTime(s.cfg.Now().UTC().Add(time.Duration(g) * time.Second).Truncate(time.Second))
	pod.DeletionTimestamp = &now
	pod.DeletionGracePeriodSeconds = &g
	b, err := encode(pod)
	if err != nil {
		return nil, true, err
	}
	kv, err = s.cfg.Store.Update(ctx, key, b, kv.ModRevision)
	if err != nil {
		return nil, true, err
	}
	pod.ResourceVersion = strconv.FormatInt(kv.ModRevision, 10)
	return pod, true, nil
}
