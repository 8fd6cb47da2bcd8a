package controllers

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// Config wires the controllers. Zero durations take kube-controller-manager's
// defaults; tests shorten them.
type Config struct {
	// Client is the API client every controller reads and writes through.
	Client *client.Client
	// Log, nil for none.
	Log *zap.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Controllers names the controllers to run (see Names); empty runs all.
	Controllers []string
	// Workers per controller (default 4).
	Workers int

	// NodeMonitorPeriod is how often node heartbeats are checked (5s).
	NodeMonitorPeriod time.Duration
	// NodeMonitorGracePeriod is how old a node's heartbeat may get before
	// the node becomes Ready=Unknown (40s).
	NodeMonitorGracePeriod time.Duration
	// PodEvictionTimeout is how long pods stay on an unreachable or
	// not-ready node before they are deleted (5m; a pod's own toleration
	// of the node.kubernetes.io/unreachable or not-ready taint with
	// tolerationSeconds wins).
	PodEvictionTimeout time.Duration

	// HPASyncPeriod is how often each HorizontalPodAutoscaler is evaluated (15s).
	HPASyncPeriod time.Duration
	// HPADownscaleStabilization is the scale-down stabilization window of
	// HPAs whose behavior does not set one (5m).
	HPADownscaleStabilization time.Duration
	// HPATolerance is the ratio around 1.0 within which the HPA does not
	// scale (0.1).
	HPATolerance float64
	// HPACPUInitializationPeriod: CPU samples of pods younger than this
	// are used only once the pod has been ready for a full sample window (5m).
	HPACPUInitializationPeriod time.Duration
	// HPAInitialReadinessDelay: a pod that turned unready within this long
	// after it started is counted as not yet ready (30s).
	HPAInitialReadinessDelay time.Duration
	// Metrics is where the HPA reads pod usage; nil uses the metrics API
	// through Client (see ClientMetrics).
	Metrics MetricsSource

	// EndpointsBatchPeriod collects changes of a Service's pods for this long
	// before its Endpoints are recomputed (100ms).
	EndpointsBatchPeriod time.Duration
	// GCResyncPeriod is how often the garbage collector re-checks every
	// object with owners, besides reacting to deletions (1m).
	GCResyncPeriod time.Duration
	// PodGCPeriod is how often pods bound to missing nodes are looked for
	// (20s); PodGCQuarantine how long a node must stay missing before its
	// pods are deleted (40s).
	PodGCPeriod, PodGCQuarantine time.Duration
}

// Controller names, for Config.Controllers.
const (
	ReplicaSetName            = "replicaset"
	ReplicationControllerName = "replicationcontroller"
	DeploymentName            = "deployment"
	HPAName                   = "horizontalpodautoscaling"
	NodeLifecycleName         = "nodelifecycle"
	GarbageCollectorName      = "garbagecollector"
	EndpointsName             = "endpoints"
	PodGCName                 = "podgc"
)

// Names lists every controller Run can start.
func Names() []string {
	return []string{ReplicaSetName, ReplicationControllerName, DeploymentName, HPAName, NodeLifecycleName, GarbageCollectorName, EndpointsName, PodGCName}
}

// ParseControllers reads kube-controller-manager's --controllers list:
// "*" is every controller, a name enables one, "-name" disables one
// ("*,-podgc" is all but PodGC). It returns the names to run, for
// Config.Controllers.
func ParseControllers(spec string) ([]string, error) {
	on := map[string]bool{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		name, off := strings.CutPrefix(item, "-")
		switch {
		case item == "":
			continue
		case item == "*":
			for _, n := range Names() {
				if _, set := on[n]; !set {
					on[n] = true
				}
			}
			continue
		case !slices.Contains(Names(), name):
			return nil, fmt.Errorf("unknown controller %q (known: *, %s)", name, strings.Join(Names(), ", "))
		}
		on[name] = !off
	}
	var out []string
	for _, n := range Names() {
		if on[n] {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--controllers %q enables no controller", spec)
	}
	return out, nil
}

func (c Config) withDefaults() Config {
	if c.Log == nil {
		c.Log = zap.NewNop()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.NodeMonitorPeriod, 5*time.Second)
	def(&c.NodeMonitorGracePeriod, 40*time.Second)
	def(&c.PodEvictionTimeout, 5*time.Minute)
	def(&c.HPASyncPeriod, 15*time.Second)
	def(&c.HPADownscaleStabilization, time.Duration(api.HPADownscaleStabilizationSeconds)*time.Second)
	def(&c.HPACPUInitializationPeriod, 5*time.Minute)
	def(&c.HPAInitialReadinessDelay, 30*time.Second)
	def(&c.EndpointsBatchPeriod, 100*time.Millisecond)
	def(&c.GCResyncPeriod, time.Minute)
	def(&c.PodGCPeriod, 20*time.Second)
	def(&c.PodGCQuarantine, 40*time.Second)
	if c.HPATolerance <= 0 {
		c.HPATolerance = 0.1
	}
	return c
}

func (c Config) enabled(name string) bool {
	if len(c.Controllers) == 0 {
		return true
	}
	for _, n := range c.Controllers {
		if n == name {
			return true
		}
	}
	return false
}
