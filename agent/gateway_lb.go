package agent

import (
	"context"
	"slices"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// loadBalancerIngress is the service's status.loadBalancer.ingress with
// this node's IP in it (a LoadBalancer) or out of it (any other type);
// changed is false when it is already so.
func loadBalancerIngress(svc *corev1.Service, nodeIP string) (out []corev1.LoadBalancerIngress, changed bool) {
	in := svc.Status.LoadBalancer.Ingress
	i := slices.IndexFunc(in, func(e corev1.LoadBalancerIngress) bool { return e.IP == nodeIP })
	switch lb := svc.Spec.Type == corev1.ServiceTypeLoadBalancer; {
	case lb && i < 0:
		mode := corev1.LoadBalancerIPModeVIP
		out = append(slices.Clone(in), corev1.LoadBalancerIngress{IP: nodeIP, IPMode: &mode})
		slices.SortFunc(out, func(a, b corev1.LoadBalancerIngress) int {
			switch {
			case a.IP < b.IP:
				return -1
			case a.IP > b.IP:
				return 1
			}
			return 0
		})
		return out, true
	case !lb && i >= 0:
		return slices.Delete(slices.Clone(in), i, i+1), true
	}
	return in, false
}

// runLoadBalancerStatus keeps this node's IP in every LoadBalancer
// service's status.loadBalancer.ingress until ctx ends. Level-triggered:
// any service event, and a periodic resync, re-checks every service. A
// conflict (another node wrote first) is retried at the next round.
func (a *Agent) runLoadBalancerStatus(ctx context.Context) {
	log := a.log.Named("gateway")
	inf := client.NewInformer(a.c, api.LookupName("services"), "", client.ListOptions{})
	poke := make(chan struct{}, 1)
	notify := func(any) {
		select {
		case poke <- struct{}{}:
		default:
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    notify,
		UpdateFunc: func(_, n any) { notify(n) },
	})
	done := make(chan struct{})
	go func() { defer close(done); inf.RunWithContext(ctx) }()
	defer func() { <-done }()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return
	}
	resync := time.NewTicker(30 * time.Second)
	defer resync.Stop()
	for {
		for _, obj := range inf.GetStore().List() {
			svc, ok := obj.(*corev1.Service)
			if !ok {
				continue
			}
			ingress, changed := loadBalancerIngress(svc, a.cfg.NodeIP)
			if !changed {
				continue
			}
			out := svc.DeepCopy()
			out.Status.LoadBalancer.Ingress = ingress
			uctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := a.c.UpdateStatus(uctx, out)
			cancel()
			if err != nil && ctx.Err() == nil {
				log.Debug("load balancer status", zap.String("service", svc.Namespace+"/"+svc.Name), zap.Error(err))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-poke:
		case <-resync.C:
		}
	}
}
