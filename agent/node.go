package agent

import (
	"context"
	"fmt"
	goruntime "runtime"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/weft-mesh/weft/api"
)

// Version is the agent's version, reported in the Node's nodeInfo.
var Version = "v0.1.0-dev"

// registerNode creates the Node or, when it exists (a restart), updates
// its labels and status. It retries until the API answers or ctx ends.
func (a *Agent) registerNode(ctx context.Context) error {
	k := api.LookupName("nodes")
	delay := 200 * time.Millisecond
	for {
		err := a.upsertNode(ctx, k)
		if err == nil {
			return nil
		}
		a.log.Warn("register node", zap.Error(err))
		select {
		case <-ctx.Done():
			return fmt.Errorf("register node %s: %w", a.cfg.NodeName, err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

func (a *Agent) upsertNode(ctx context.Context, k *api.Kind) error {
	obj, err := a.c.Get(ctx, k, "", a.cfg.NodeName)
	switch {
	case apierrors.IsNotFound(err):
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: a.cfg.NodeName, Labels: a.nodeLabels(nil)}}
		n.Spec.PodCIDR = a.cfg.PodCIDR
		n.Spec.PodCIDRs = []string{a.cfg.PodCIDR}
		n.Spec.Taints = a.cfg.Taints
		created, _, err := a.c.Create(ctx, n)
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node: %w", err)
		}
		if err != nil {
			return err // raced with another registration: try again
		}
		n = created.(*corev1.Node)
		n.Status = a.nodeStatus(nil)
		_, err = a.c.UpdateStatus(ctx, n)
		return err
	case err != nil:
		return fmt.Errorf("get node: %w", err)
	}
	n := obj.(*corev1.Node)
	n.Labels = a.nodeLabels(n.Labels)
	n.Spec.PodCIDR = a.cfg.PodCIDR
	n.Spec.PodCIDRs = []string{a.cfg.PodCIDR}
	updated, _, err := a.c.Update(ctx, n)
	if err != nil {
		return fmt.Errorf("update node: %w", err)
	}
	n = updated.(*corev1.Node)
	n.Status = a.nodeStatus(&n.Status)
	n.ResourceVersion = ""
	_, err = a.c.UpdateStatus(ctx, n)
	return err
}

func (a *Agent) nodeLabels(have map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range have {
		out[k] = v
	}
	out[corev1.LabelHostname] = a.cfg.NodeName
	out[corev1.LabelOSStable] = goruntime.GOOS
	out[corev1.LabelArchStable] = goruntime.GOARCH
	for k, v := range a.cfg.Labels {
		out[k] = v
	}
	return out
}

// nodeStatus is the status the agent posts; old keeps condition
// transition times.
func (a *Agent) nodeStatus(old *corev1.NodeStatus) corev1.NodeStatus {
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	cond := func(t corev1.NodeConditionType, s corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		c := corev1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
		if old != nil {
			for _, o := range old.Conditions {
				if o.Type == t && o.Status == s && !o.LastTransitionTime.IsZero() {
					c.LastTransitionTime = o.LastTransitionTime
				}
			}
		}
		return c
	}
	capacity := a.cfg.Capacity.DeepCopy()
	st := corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity.DeepCopy(),
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "weft agent is posting ready status ("+a.net.Mode()+" network)"),
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: a.cfg.NodeIP},
			{Type: corev1.NodeHostName, Address: a.cfg.NodeName},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: int32(a.port)}},
		NodeInfo: corev1.NodeSystemInfo{
			OperatingSystem: goruntime.GOOS, Architecture: goruntime.GOARCH,
			KubeletVersion: Version, KubeProxyVersion: Version,
			ContainerRuntimeVersion: "weft-shim://" + Version,
		},
	}
	return st
}

// heartbeat posts the node's status (and with it, its conditions'
// heartbeat times).
func (a *Agent) heartbeat(ctx context.Context) error {
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	obj, err := a.c.Get(hctx, api.LookupName("nodes"), "", a.cfg.NodeName)
	if apierrors.IsNotFound(err) {
		return a.registerNode(hctx) // deleted: register again
	}
	if err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	n := obj.(*corev1.Node)
	n.Status = a.nodeStatus(&n.Status)
	n.ResourceVersion = ""
	if _, err := a.c.UpdateStatus(hctx, n); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	return nil
}
