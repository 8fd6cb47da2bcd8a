package printers

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/weft-mesh/weft/api"
)

// Node role labels, as kubectl reads them.
const (
	labelNodeRolePrefix = "node-role.kubernetes.io/"
	nodeLabelRole       = "kubernetes.io/role"
)

func nodeRow(n *corev1.Node, o TableOptions) []string {
	info := n.Status.NodeInfo
	return []string{
		n.Name, nodeStatus(n), orNone(strings.Join(nodeRoles(n), ",")),
		since(o.Now, n.CreationTimestamp), info.KubeletVersion,
		nodeAddress(n, corev1.NodeInternalIP), nodeAddress(n, corev1.NodeExternalIP),
		orUnknown(info.OSImage), orUnknown(info.KernelVersion), orUnknown(info.ContainerRuntimeVersion),
	}
}

// nodeStatus is Ready, NotReady or Unknown, with ",SchedulingDisabled"
// for a cordoned node.
func nodeStatus(n *corev1.Node) string {
	var status []string
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		if c.Status == corev1.ConditionTrue {
			status = append(status, string(c.Type))
		} else {
			status = append(status, "Not"+string(c.Type))
		}
		break
	}
	if len(status) == 0 {
		status = append(status, "Unknown")
	}
	if n.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}
	return strings.Join(status, ",")
}

// nodeRoles are the roles of node-role.kubernetes.io/<role> and
// kubernetes.io/role=<role> labels, sorted.
func nodeRoles(n *corev1.Node) []string {
	roles := sets.New[string]()
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, labelNodeRolePrefix):
			if role := strings.TrimPrefix(k, labelNodeRolePrefix); role != "" {
				roles.Insert(role)
			}
		case k == nodeLabelRole && v != "":
			roles.Insert(v)
		}
	}
	return sets.List(roles)
}

// nodeAddress is the node's first address of a type, or "<none>".
func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

func namespaceRow(ns *corev1.Namespace, o TableOptions) []string {
	return []string{ns.Name, string(ns.Status.Phase), since(o.Now, ns.CreationTimestamp)}
}

func configMapRow(cm *corev1.ConfigMap, o TableOptions) []string {
	return []string{cm.Name, itoa(len(cm.Data) + len(cm.BinaryData)), since(o.Now, cm.CreationTimestamp)}
}

func secretRow(s *corev1.Secret, o TableOptions) []string {
	return []string{s.Name, string(s.Type), itoa(len(s.Data)), since(o.Now, s.CreationTimestamp)}
}

func serviceAccountRow(sa *corev1.ServiceAccount, o TableOptions) []string {
	return []string{sa.Name, itoa(len(sa.Secrets)), since(o.Now, sa.CreationTimestamp)}
}

// eventRow is kubectl's printEvent: LAST SEEN falls back to the first
// time (or the event time of new-style events), a series has its own count.
func eventRow(e *corev1.Event, o TableOptions) []string {
	first := since(o.Now, e.FirstTimestamp)
	if e.FirstTimestamp.IsZero() {
		first = sinceMicro(o.Now, e.EventTime)
	}
	last := since(o.Now, e.LastTimestamp)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	if e.Series != nil {
		last = sinceMicro(o.Now, e.Series.LastObservedTime)
		count = e.Series.Count
	} else if count == 0 {
		count = 1 // singleton events have no count in the events.k8s.io API
	}
	target := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		target += "/" + e.InvolvedObject.Name
	}
	return []string{
		last, e.Type, e.Reason, target,
		e.InvolvedObject.FieldPath, eventSource(e),
		strings.TrimSpace(e.Message),
		first, itoa(count), e.Name,
	}
}

// eventSource is "component, host", taking the reporting controller and
// instance of new-style events when the source is empty.
func eventSource(e *corev1.Event) string {
	component := firstNonEmpty(e.Source.Component, e.ReportingController)
	instance := firstNonEmpty(e.Source.Host, e.ReportingInstance)
	if instance == "" {
		return component
	}
	return component + ", " + instance
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// The legacy storage class annotation, still honoured before the field.
const betaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class"

func pvcRow(pvc *corev1.PersistentVolumeClaim, o TableOptions) []string {
	phase := string(pvc.Status.Phase)
	if pvc.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	capacity, accessModes := "", ""
	if pvc.Spec.VolumeName != "" {
		accessModes = accessModesString(pvc.Status.AccessModes)
		q := pvc.Status.Capacity[corev1.ResourceStorage]
		capacity = q.String()
	}
	return []string{
		pvc.Name, phase, pvc.Spec.VolumeName, capacity, accessModes,
		pvcClass(pvc), unsetIfNil(pvc.Spec.VolumeAttributesClassName),
		since(o.Now, pvc.CreationTimestamp), volumeModeString(pvc.Spec.VolumeMode),
	}
}

func pvRow(pv *corev1.PersistentVolume, o TableOptions) []string {
	claim := ""
	if pv.Spec.ClaimRef != nil {
		claim = pv.Spec.ClaimRef.Namespace + "/" + pv.Spec.ClaimRef.Name
	}
	phase := string(pv.Status.Phase)
	if pv.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	size := pv.Spec.Capacity[corev1.ResourceStorage]
	class := pv.Spec.StorageClassName
	if c, ok := pv.Annotations[betaStorageClassAnnotation]; ok {
		class = c
	}
	return []string{
		pv.Name, size.String(), accessModesString(pv.Spec.AccessModes), string(pv.Spec.PersistentVolumeReclaimPolicy),
		phase, claim, class, unsetIfNil(pv.Spec.VolumeAttributesClassName), pv.Status.Reason,
		since(o.Now, pv.CreationTimestamp), volumeModeString(pv.Spec.VolumeMode),
	}
}

func pvcClass(pvc *corev1.PersistentVolumeClaim) string {
	if c, ok := pvc.Annotations[betaStorageClassAnnotation]; ok {
		return c
	}
	if pvc.Spec.StorageClassName != nil {
		return *pvc.Spec.StorageClassName
	}
	return ""
}

func unsetIfNil(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}

func volumeModeString(m *corev1.PersistentVolumeMode) string {
	if m == nil {
		return "<unset>"
	}
	return string(*m)
}

// accessModesString is "RWO,ROX,RWX,RWOP" for the modes present, in that
// order, as kubectl abbreviates them.
func accessModesString(modes []corev1.PersistentVolumeAccessMode) string {
	var out []string
	for _, m := range []struct {
		mode  corev1.PersistentVolumeAccessMode
		short string
	}{
		{corev1.ReadWriteOnce, "RWO"},
		{corev1.ReadOnlyMany, "ROX"},
		{corev1.ReadWriteMany, "RWX"},
		{corev1.ReadWriteOncePod, "RWOP"},
	} {
		for _, have := range modes {
			if have == m.mode {
				out = append(out, m.short)
				break
			}
		}
	}
	return strings.Join(out, ",")
}

// Annotations that make a StorageClass the default one.
const (
	defaultStorageClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaDefaultStorageClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

func storageClassRow(sc *storagev1.StorageClass, o TableOptions) []string {
	name := sc.Name
	if sc.Annotations[defaultStorageClassAnnotation] == "true" || sc.Annotations[betaDefaultStorageClassAnnotation] == "true" {
		name += " (default)"
	}
	reclaim := string(corev1.PersistentVolumeReclaimDelete)
	if sc.ReclaimPolicy != nil {
		reclaim = string(*sc.ReclaimPolicy)
	}
	binding := string(storagev1.VolumeBindingImmediate)
	if sc.VolumeBindingMode != nil {
		binding = string(*sc.VolumeBindingMode)
	}
	expansion := sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
	return []string{name, sc.Provisioner, reclaim, binding, fmt.Sprint(expansion), since(o.Now, sc.CreationTimestamp)}
}

// createdAtRow is the API server's default table: NAME and CREATED AT.
func createdAtRow(obj api.Object, _ TableOptions) []string {
	return []string{obj.GetName(), obj.GetCreationTimestamp().UTC().Format(time.RFC3339)}
}

func roleBindingRow(obj api.Object, o TableOptions) []string {
	var ref rbacv1.RoleRef
	var subjects []rbacv1.Subject
	switch b := obj.(type) {
	case *rbacv1.RoleBinding:
		ref, subjects = b.RoleRef, b.Subjects
	case *rbacv1.ClusterRoleBinding:
		ref, subjects = b.RoleRef, b.Subjects
	default:
		return nil
	}
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			sas = append(sas, s.Namespace+"/"+s.Name)
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		}
	}
	return []string{
		obj.GetName(), ref.Kind + "/" + ref.Name, since(o.Now, obj.GetCreationTimestamp()),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", "),
	}
}
