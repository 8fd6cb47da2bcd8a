package agent

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/weft-mesh/weft/agent/lifecycle"
	"github.com/weft-mesh/weft/agent/network"
	"github.com/weft-mesh/weft/client"
)

// Config configures an agent.
type Config struct {
	// Client talks to the API server (with the node's or the admin token).
	Client *client.Client
	// NodeName is the Node's name (and its kubernetes.io/hostname label).
	NodeName string
	// NodeIP is the node's address: published in the Node's status, the
	// default address of the agent's server, hostIP of its pods. Tests
	// give each node a loopback address of its own (127.0.0.2, ...).
	NodeIP string
	// PodCIDR is the range pods get addresses from: in host mode a
	// loopback range (default 127.20.0.0/16), in netns mode a private one
	// of this node's own (default 10.244.0.0/24; the bridge gets .1).
	PodCIDR string
	// NetworkMode is how pods are networked (DESIGN.md, "Pod
	// networking"): "netns", "host", or "auto" (also ""): netns when the
	// agent runs as root on Linux with ip and iptables installed and
	// PodCIDR is not a loopback range, else host. Ignored when Network is
	// set.
	NetworkMode string
	// Bridge is netns mode's node bridge (default weft0): 1-15 lowercase
	// letters and digits; nodes sharing a machine each need their own.
	Bridge string
	// ClusterCIDR (netns mode) holds every node's pod CIDR: what pods
	// send outside it is masqueraded. Default: PodCIDR's /16.
	ClusterCIDR string
	// DNSAddr is weftd's cluster DNS (host:port). In netns mode the agent
	// serves DNS at its bridge address, port 53 (UDP and TCP), forwarding
	// here, and pods' /etc/resolv.conf names the bridge address. Empty:
	// no DNS for pods.
	DNSAddr string
	// XDSAddr is weftd's xDS (host:port). Every container gets
	// WEFT_XDS_ADDR: in netns mode <bridge address>:15010, where the agent
	// forwards to XDSAddr; in host mode XDSAddr itself.
	XDSAddr string
	// ClusterDomain is the DNS zone of services (default cluster.local).
	ClusterDomain string
	// ResetOnExit makes Run, when it returns, stop every pod and remove
	// the node's network (bridge, host rules) as Reset does — for tests
	// and for retiring a node. By default pods outlive the agent.
	ResetOnExit bool
	// DataDir holds pods' files, logs and claims' data.
	DataDir string
	// Images is an extra image catalogue file ("" for the built-in one).
	Images string
	// BinDirs are searched for catalogue programs (weft-demo, weft-proxy)
	// before $PATH; default: the directory of the agent's binary.
	BinDirs []string
	// ShimBinary is the binary started as "<ShimBinary> shim ..."; its
	// main must dispatch to ShimMain. Default: this process's binary.
	ShimBinary string
	// ListenAddr is the agent's HTTP server (logs, exec, stats); default
	// NodeIP:10250. Port 0 picks a free port.
	ListenAddr string
	// Capacity overrides the host's CPU and memory (and pods, default 110).
	Capacity corev1.ResourceList
	// Labels are added to the Node's; Taints are set when it is created.
	Labels map[string]string
	Taints []corev1.Taint
	// HeartbeatPeriod is how often the Node's status is posted (10s).
	HeartbeatPeriod time.Duration
	// SyncPeriod is how often each pod is looked at without a reason (1s).
	SyncPeriod time.Duration
	// StatsPeriod is how often resource usage is sampled (10s).
	StatsPeriod time.Duration
	// MeshTerminationDelay holds the SIGTERM of a deleted mesh pod's app
	// containers (those of a pod with the weft-proxy sidecar) while its
	// removal from the endpoints reaches the other proxies, as a preStop
	// sleep would (1s; negative: none, the kubelet's exact behaviour). It
	// counts against the grace period.
	MeshTerminationDelay time.Duration
	// Backoff is the restart back-off (the kubelet's by default).
	Backoff lifecycle.Policy
	// Network sets pods' networking up; default host mode over PodCIDR.
	Network network.Network
	// MountNamespaces: nil means "when running as root". Without them
	// volumes are not at their mountPaths (see DESIGN.md).
	MountNamespaces *bool
	// Cgroups: nil means "when the host allows"; false turns limits off.
	Cgroups *bool
	Log     *zap.Logger
}

func (cfg *Config) defaults() error {
	if cfg.Client == nil {
		return errors.New("agent: no API client")
	}
	if cfg.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("agent: node name: %w", err)
		}
		cfg.NodeName = h
	}
	if cfg.NodeIP == "" {
		cfg.NodeIP = "127.0.0.1"
	}
	if err := cfg.resolveNetworkMode(); err != nil {
		return err
	}
	if cfg.Bridge == "" {
		cfg.Bridge = "weft0"
	}
	if cfg.ClusterDomain == "" {
		cfg.ClusterDomain = "cluster.local"
	}
	if cfg.DataDir == "" {
		return errors.New("agent: no data directory")
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("agent: data dir: %w", err)
	}
	cfg.DataDir = abs
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = cfg.NodeIP + ":10250"
	}
	if len(cfg.BinDirs) == 0 {
		if exe, err := os.Executable(); err == nil {
			cfg.BinDirs = []string{filepath.Dir(exe)}
		}
	}
	if cfg.HeartbeatPeriod <= 0 {
		cfg.HeartbeatPeriod = 10 * time.Second
	}
	if cfg.SyncPeriod <= 0 {
		cfg.SyncPeriod = time.Second
	}
	if cfg.StatsPeriod <= 0 {
		cfg.StatsPeriod = 10 * time.Second
	}
	if cfg.MeshTerminationDelay == 0 {
		cfg.MeshTerminationDelay = time.Second
	}
	if cfg.Backoff.Initial <= 0 {
		cfg.Backoff = lifecycle.KubeletPolicy
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.MountNamespaces == nil || cfg.NetworkMode == network.ModeNetns {
		// netns mode gives each container its own /etc/resolv.conf.
		v := os.Geteuid() == 0
		cfg.MountNamespaces = &v
	}
	if cfg.Capacity == nil {
		cfg.Capacity = corev1.ResourceList{}
	}
	if _, ok := cfg.Capacity[corev1.ResourceCPU]; !ok {
		cfg.Capacity[corev1.ResourceCPU] = *resource.NewQuantity(int64(runtime.NumCPU()), resource.DecimalSI)
	}
	if _, ok := cfg.Capacity[corev1.ResourceMemory]; !ok {
		cfg.Capacity[corev1.ResourceMemory] = *resource.NewQuantity(hostMemory(), resource.BinarySI)
	}
	if _, ok := cfg.Capacity[corev1.ResourcePods]; !ok {
		cfg.Capacity[corev1.ResourcePods] = *resource.NewQuantity(110, resource.DecimalSI)
	}
	return nil
}

// Default pod CIDRs of each mode.
const (
	DefaultHostPodCIDR  = "127.20.0.0/16"
	DefaultNetnsPodCIDR = "10.244.0.0/24"
)

// resolveNetworkMode turns "auto" into netns or host and defaults the pod
// CIDR for the mode.
func (cfg *Config) resolveNetworkMode() error {
	if cfg.Network != nil {
		cfg.NetworkMode = cfg.Network.Mode()
		return nil
	}
	switch cfg.NetworkMode {
	case "", network.ModeAuto:
		cfg.NetworkMode = network.ModeHost
		if network.Available() == nil && !loopbackCIDR(cfg.PodCIDR) {
			cfg.NetworkMode = network.ModeNetns
		}
	case network.ModeHost:
	case network.ModeNetns:
		if err := network.Available(); err != nil {
			return fmt.Errorf("agent: --network=netns: %w", err)
		}
	default:
		return fmt.Errorf("agent: network mode %q: want auto, netns or host", cfg.NetworkMode)
	}
	if cfg.PodCIDR == "" {
		cfg.PodCIDR = DefaultHostPodCIDR
		if cfg.NetworkMode == network.ModeNetns {
			cfg.PodCIDR = DefaultNetnsPodCIDR
		}
	}
	return nil
}

func loopbackCIDR(cidr string) bool {
	p, err := netip.ParsePrefix(cidr)
	return err == nil && p.Addr().IsLoopback()
}
