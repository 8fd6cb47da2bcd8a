package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/agent/volumes"
	"github.com/weft-mesh/weft/api"
)

// The built-in local-path provisioner, in the manner of Rancher's: the
// default StorageClass "local-path" binds a claim when its first pod lands
// on a node (WaitForFirstConsumer), with a PersistentVolume whose data is a
// directory under that node's data directory and whose node affinity keeps
// later pods of the claim on that node.
const (
	// LocalPathClass is the name of the default StorageClass.
	LocalPathClass = "local-path"
	// LocalPathProvisioner is its provisioner.
	LocalPathProvisioner   = "weft.io/local-path"
	defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"
)

// ensureStorageClass creates the default StorageClass when missing.
func (a *Agent) ensureStorageClass(ctx context.Context) error {
	k := api.LookupName("storageclasses")
	if _, err := a.c.Get(ctx, k, "", LocalPathClass); err == nil {
		return nil
	} else if !apierrors.IsNotFound(err) {
		return err
	}
	mode := storagev1.VolumeBindingWaitForFirstConsumer
	reclaim := corev1.PersistentVolumeReclaimDelete
	sc := &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: LocalPathClass, Annotations: map[string]string{defaultClassAnnotation: "true"}},
		Provisioner:       LocalPathProvisioner,
		VolumeBindingMode: &mode,
		ReclaimPolicy:     &reclaim,
	}
	if _, _, err := a.c.Create(ctx, sc); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create the default storage class: %w", err)
	}
	return nil
}

// claimPath returns the data directory of a claim used by pod, binding
// the claim to a new local volume on this node first if it is unbound.
func (a *Agent) claimPath(ctx context.Context, pod *corev1.Pod, claim string) (string, error) {
	pvcKind, pvKind := api.LookupName("persistentvolumeclaims"), api.LookupName("persistentvolumes")
	obj, err := a.c.Get(ctx, pvcKind, pod.Namespace, claim)
	if apierrors.IsNotFound(err) {
		return "", fmt.Errorf("persistentvolumeclaim %q %w", claim, volumes.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("persistentvolumeclaim %q: %w", claim, err)
	}
	pvc := obj.(*corev1.PersistentVolumeClaim)
	volName := pvc.Spec.VolumeName
	if volName == "" {
		// Bound by this provisioner earlier: the volume is named after the claim.
		if _, err := a.c.Get(ctx, pvKind, "", "pvc-"+string(pvc.UID)); err == nil {
			volName = "pvc-" + string(pvc.UID)
		}
	}
	if volName != "" {
		pvObj, err := a.c.Get(ctx, pvKind, "", volName)
		if err != nil {
			return "", fmt.Errorf("persistentvolume %q of claim %q: %w", volName, claim, err)
		}
		pv := pvObj.(*corev1.PersistentVolume)
		switch {
		case pv.Spec.Local != nil:
			return pv.Spec.Local.Path, ensureDir(pv.Spec.Local.Path)
		case pv.Spec.HostPath != nil:
			return pv.Spec.HostPath.Path, ensureDir(pv.Spec.HostPath.Path)
		}
		return "", fmt.Errorf("persistentvolume %q is neither local nor hostPath; this agent cannot mount it", pv.Name)
	}
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	if class == "" {
		if err := a.ensureStorageClass(ctx); err != nil {
			return "", err
		}
		class = LocalPathClass
	}
	if class != LocalPathClass {
		scObj, err := a.c.Get(ctx, api.LookupName("storageclasses"), "", class)
		if err != nil {
			return "", fmt.Errorf("storageclass %q of claim %q: %w", class, claim, err)
		}
		if sc := scObj.(*storagev1.StorageClass); sc.Provisioner != LocalPathProvisioner {
			return "", fmt.Errorf("claim %q waits for a volume from provisioner %q, which weft does not run", claim, sc.Provisioner)
		}
	}
	name := "pvc-" + string(pvc.UID)
	path := filepath.Join(a.cfg.DataDir, "storage", name+"_"+pvc.Namespace+"_"+pvc.Name)
	if err := ensureDir(path); err != nil {
		return "", err
	}
	size := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	modes := pvc.Spec.AccessModes
	if len(modes) == 0 {
		modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": LocalPathProvisioner}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   modes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              class,
			ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID, APIVersion: "v1"},
			PersistentVolumeSource:        corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: path}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{a.cfg.NodeName}}},
			}}}},
		},
	}
	if _, _, err := a.c.Create(ctx, pv); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("provision a volume for claim %q: %w", claim, err)
	}
	if pvObj, err := a.c.Get(ctx, pvKind, "", name); err == nil {
		pvo := pvObj.(*corev1.PersistentVolume)
		pvo.Status.Phase = corev1.VolumeBound
		_, _ = a.c.UpdateStatus(ctx, pvo)
	}
	// The claim's spec stays as written (the API keeps it immutable); the
	// binding shows in the volume's claimRef, the claim's annotations and
	// its status.
	if pvc.Annotations == nil {
		pvc.Annotations = map[string]string{}
	}
	pvc.Annotations["pv.kubernetes.io/bind-completed"] = "yes"
	pvc.Annotations["pv.kubernetes.io/bound-by-controller"] = "yes"
	pvc.Annotations["volume.kubernetes.io/selected-node"] = a.cfg.NodeName
	pvc.Annotations["weft.io/volume-name"] = name
	updated, _, err := a.c.Update(ctx, pvc)
	if err != nil {
		return "", fmt.Errorf("bind claim %q: %w", claim, err)
	}
	pvc = updated.(*corev1.PersistentVolumeClaim)
	pvc.Status.Phase = corev1.ClaimBound
	pvc.Status.AccessModes = modes
	pvc.Status.Capacity = corev1.ResourceList{corev1.ResourceStorage: size}
	pvc.ResourceVersion = ""
	if _, err := a.c.UpdateStatus(ctx, pvc); err != nil {
		return "", fmt.Errorf("bind claim %q: %w", claim, err)
	}
	a.log.Sugar().Infof("bound claim %s/%s to %s at %s (%s)", pvc.Namespace, pvc.Name, name, path, time.Now().Format(time.RFC3339))
	return path, nil
}

func ensureDir(p string) error {
	if err := os.MkdirAll(p, 0o777); err != nil {
		return fmt.Errorf("volume directory: %w", err)
	}
	return nil
}
