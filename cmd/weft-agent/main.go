// Command weft-agent is Weft's node agent for extra nodes: it joins a
// weftd with --server and a join token and runs the pods bound to its node.
//
//	weft-agent --server http://10.0.0.1:7780 --token-file join.token \
//	  --node-name n2 --node-ip 127.0.0.3 --pod-cidr 127.21.0.0/16 --data-dir /var/lib/weft-agent
//
// As root on Linux it runs pods in network namespaces (--network=auto):
//
//	weft-agent --server http://127.0.0.1:7780 --token-file join.token --node-name n2 \
//	  --node-ip 127.0.0.3 --bridge weft2 --pod-cidr 10.244.2.0/24 --data-dir /var/lib/weft-agent2
//
// "weft-agent --reset --data-dir D --node-name N" stops every pod of the
// node and removes its files, cgroups and network, then exits.
//
// It also serves the hidden "shim" subcommand that owns each container's
// process (agent.ShimMain).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/weft-mesh/weft/agent"
	"github.com/weft-mesh/weft/client"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "shim" {
		os.Exit(agent.ShimMain(os.Args[2:]))
	}
	os.Exit(run())
}

func run() int {
	var cfg agent.Config
	server := flag.String("server", "", "URL of weftd's API (required)")
	tokenFile := flag.String("token-file", "", "file holding the join token (weftd's DATA/join.token)")
	flag.StringVar(&cfg.NodeName, "node-name", "", "the Node's name (default: the host name)")
	flag.StringVar(&cfg.NodeIP, "node-ip", "127.0.0.1", "the node's address (a loopback address of its own when several nodes share a host)")
	flag.StringVar(&cfg.PodCIDR, "pod-cidr", "", "the range pod addresses come from: netns mode a private range of this node's (default "+agent.DefaultNetnsPodCIDR+"), host mode a loopback range (default "+agent.DefaultHostPodCIDR+")")
	flag.StringVar(&cfg.NetworkMode, "network", "auto", "pod networking: netns, host, or auto (netns when root on Linux and the pod CIDR is not loopback)")
	flag.StringVar(&cfg.Bridge, "bridge", "weft0", "netns mode: the node's bridge; nodes sharing a machine need their own")
	flag.StringVar(&cfg.ClusterCIDR, "cluster-cidr", "", "netns mode: the range holding every node's pod CIDR; traffic leaving it is masqueraded (default: the pod CIDR's /16)")
	flag.StringVar(&cfg.DNSAddr, "dns-addr", "", "weftd's cluster DNS, served to pods at the bridge address (default: the server's host, port 10053)")
	flag.StringVar(&cfg.XDSAddr, "xds-addr", "", "weftd's xDS, served to pods at the bridge address port 15010 (default: the server's host, port 15010)")
	flag.StringVar(&cfg.ClusterDomain, "cluster-domain", "cluster.local", "the DNS zone of services")
	reset := flag.Bool("reset", false, "stop every pod of this node, remove its files, cgroups and network, and exit")
	flag.StringVar(&cfg.DataDir, "data-dir", "/var/lib/weft-agent", "pods' files, logs and volumes")
	flag.StringVar(&cfg.Images, "images", "", "an extra image catalogue file")
	flag.StringVar(&cfg.ListenAddr, "listen", "", "address of the agent's server for logs, exec and stats (default NODE-IP:10250)")
	cpu := flag.String("cpu", "", "CPU capacity to report (default: the host's)")
	mem := flag.String("memory", "", "memory capacity to report (default: the host's)")
	labels := flag.String("node-labels", "", "extra node labels, k=v,k=v")
	flag.DurationVar(&cfg.StatsPeriod, "stats-period", 10*time.Second, "how often pods' CPU and memory are sampled (the HPA's metrics)")
	heartbeat := flag.Duration("heartbeat", 10*time.Second, "how often the node's status is posted")
	debug := flag.Bool("debug", false, "log at debug level")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "weft-agent: unexpected arguments %q\n", flag.Args())
		return 2
	}
	if *reset {
		if cfg.NodeName == "" {
			cfg.NodeName, _ = os.Hostname()
		}
		if err := agent.Reset(cfg.DataDir, cfg.NodeName); err != nil {
			fmt.Fprintln(os.Stderr, "weft-agent: reset:", err)
			return 1
		}
		return 0
	}
	if *server == "" {
		fmt.Fprintln(os.Stderr, "weft-agent: --server is required")
		return 2
	}
	if u, err := url.Parse(*server); err == nil && u.Hostname() != "" {
		if cfg.DNSAddr == "" {
			cfg.DNSAddr = net.JoinHostPort(u.Hostname(), "10053")
		}
		if cfg.XDSAddr == "" {
			cfg.XDSAddr = net.JoinHostPort(u.Hostname(), "15010")
		}
	}
	token := ""
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "weft-agent:", err)
			return 1
		}
		token = strings.TrimSpace(string(b))
	}
	c, err := client.New(*server, token)
	if err != nil {
		fmt.Fprintln(os.Stderr, "weft-agent:", err)
		return 2
	}
	cfg.Client = c
	cfg.HeartbeatPeriod = *heartbeat
	cfg.Capacity = corev1.ResourceList{}
	for name, v := range map[corev1.ResourceName]string{corev1.ResourceCPU: *cpu, corev1.ResourceMemory: *mem} {
		if v == "" {
			continue
		}
		q, err := resource.ParseQuantity(v)
		if err != nil {
			fmt.Fprintf(os.Stderr, "weft-agent: --%s: %v\n", strings.ToLower(string(name)), err)
			return 2
		}
		cfg.Capacity[name] = q
	}
	if *labels != "" {
		cfg.Labels = map[string]string{}
		for _, kv := range strings.Split(*labels, ",") {
			k, v, _ := strings.Cut(kv, "=")
			cfg.Labels[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	zcfg := zap.NewProductionConfig()
	if *debug {
		zcfg.Level = zap.NewAtomicLevelAt(zap.DebugLevel)
	}
	log, err := zcfg.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "weft-agent:", err)
		return 1
	}
	defer func() { _ = log.Sync() }()
	cfg.Log = log
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := agent.Run(ctx, cfg); err != nil {
		log.Error("weft-agent failed", zap.Error(err))
		return 1
	}
	return 0
}
