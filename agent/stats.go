package agent

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/weft-mesh/weft/agent/cgroups"
)

// hostMemory is MemTotal from /proc/meminfo, in bytes.
func hostMemory() int64 {
	return meminfo()["MemTotal"]
}

func meminfo() map[string]int64 {
	out := map[string]int64{}
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, _ := strconv.ParseInt(fields[0], 10, 64)
		if len(fields) > 1 && fields[1] == "kB" {
			v *= 1024
		}
		out[k] = v
	}
	return out
}

// hostCPUNanos is the CPU time the host spent busy, from /proc/stat.
func hostCPUNanos() uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var busy uint64
	for i, s := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		v, _ := strconv.ParseUint(s, 10, 64)
		busy += v
	}
	// USER_HZ is 100 on every Linux we run on.
	return busy * uint64(time.Second/100)
}

// Usage is one sample of resource use, served at /stats.
type Usage struct {
	Timestamp time.Time `json:"timestamp"`
	Window    string    `json:"window"`
	// NanoCores is the CPU rate over the window; WorkingSetBytes memory.
	NanoCores       uint64 `json:"nanoCores"`
	WorkingSetBytes uint64 `json:"workingSetBytes"`
}

// usageTracker turns cumulative CPU counters into rates.
type usageTracker struct {
	mu   sync.Mutex
	last map[string]cpuSample
}

type cpuSample struct {
	at    time.Time
	nanos uint64
}

func (u *usageTracker) rate(key string, now time.Time, nanos uint64) (uint64, time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.last == nil {
		u.last = map[string]cpuSample{}
	}
	prev, ok := u.last[key]
	u.last[key] = cpuSample{at: now, nanos: nanos}
	if !ok || !now.After(prev.at) || nanos < prev.nanos {
		return 0, 0
	}
	win := now.Sub(prev.at)
	return uint64(float64(nanos-prev.nanos) / win.Seconds()), win
}

func (u *usageTracker) forget(keep map[string]bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k := range u.last {
		if !keep[k] {
			delete(u.last, k)
		}
	}
}

func sampleGroup(g *cgroups.Group) (cgroups.Usage, bool) {
	if g == nil {
		return cgroups.Usage{}, false
	}
	u, err := cgroups.Sample(*g)
	return u, err == nil
}

// statsCache holds the latest sample, served at /stats/metrics.
type statsCache struct {
	mu      sync.Mutex
	metrics AgentMetrics
}

// AgentMetrics is what /stats/metrics returns: the metrics API's objects
// for this node and its pods, aggregated by weftd's metrics API.
type AgentMetrics struct {
	Node metricsv1beta1.NodeMetrics  `json:"node"`
	Pods []metricsv1beta1.PodMetrics `json:"pods"`
}

// sampleStats samples the node's and each running container's usage.
func (a *Agent) sampleStats() {
	now := time.Now()
	ts := metav1.NewTime(now.UTC().Truncate(time.Second))
	keep := map[string]bool{"node": true}
	nodeCPU, win := a.usage.rate("node", now, hostCPUNanos())
	mi := meminfo()
	nodeMem := max(mi["MemTotal"]-mi["MemAvailable"], 0)
	out := AgentMetrics{Node: metricsv1beta1.NodeMetrics{
		ObjectMeta: metav1.ObjectMeta{Name: a.cfg.NodeName, Labels: a.nodeLabels(nil)},
		Timestamp:  ts, Window: metav1.Duration{Duration: win},
		Usage: corev1.ResourceList{
			corev1.ResourceCPU:    *resource.NewScaledQuantity(int64(nodeCPU), resource.Nano),
			corev1.ResourceMemory: *resource.NewQuantity(nodeMem, resource.BinarySI),
		},
	}}
	a.mu.Lock()
	workers := make([]*podWorker, 0, len(a.workers))
	for _, w := range a.workers {
		workers = append(workers, w)
	}
	a.mu.Unlock()
	for _, w := range workers {
		pod, deleted := w.desired()
		if pod == nil || deleted {
			continue
		}
		obs, err := a.rt.Observe(string(w.uid))
		if err != nil {
			continue
		}
		pm := metricsv1beta1.PodMetrics{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, Labels: pod.Labels}, Timestamp: ts}
		// The running containers: app containers and sidecars (a run-to-
		// completion init container is not running once the pod is up).
		for _, c := range allContainers(pod) {
			o, ok := obs[c.Name]
			if !ok || !o.Running() {
				continue
			}
			var cpuNanos, mem uint64
			if u, ok := sampleGroup(o.Spec.Cgroup); ok {
				cpuNanos, mem = u.CPUNanos, u.WorkingSetBytes
			} else if o.State != nil {
				cpuNanos, mem = procUsage(o.State.PID)
			}
			key := string(w.uid) + "/" + c.Name + "/" + strconv.Itoa(o.Attempt)
			keep[key] = true
			rate, cwin := a.usage.rate(key, now, cpuNanos)
			pm.Window = metav1.Duration{Duration: cwin}
			pm.Containers = append(pm.Containers, metricsv1beta1.ContainerMetrics{Name: c.Name, Usage: corev1.ResourceList{
				corev1.ResourceCPU:    *resource.NewScaledQuantity(int64(rate), resource.Nano),
				corev1.ResourceMemory: *resource.NewQuantity(int64(mem), resource.BinarySI),
			}})
		}
		if len(pm.Containers) > 0 {
			out.Pods = append(out.Pods, pm)
		}
	}
	a.usage.forget(keep)
	a.stats.mu.Lock()
	a.stats.metrics = out
	a.stats.mu.Unlock()
}

// procUsage reads one process's CPU time and resident memory (without
// cgroups, a container's children are not counted).
func procUsage(pid int) (cpuNanos, rss uint64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 22 {
		return 0, 0
	}
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	pages, _ := strconv.ParseUint(f[21], 10, 64)
	return (ut + st) * uint64(time.Second/100), pages * uint64(os.Getpagesize())
}

func (a *Agent) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	a.stats.mu.Lock()
	m := a.stats.metrics
	a.stats.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(m)
}
