// Command weft-agent is Weft's node agent for extra nodes: it joins a
// weftd with --server and a join token and runs the pods bound to its node.
//
//	weft-agent --server http://10.0.0.1:7780 --token-file join.token \
//	  --node-name n2 --node-ip 127.0.0.3 --pod-cidr 127.21.0.0/16 --data-dir /var/lib/weft-agent
//
// It also serves the hidden "shim" subcommand that owns each container's
// process (agent.ShimMain).
package main

import (
	"context"
	"flag"
	"fmt"
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
	flag.StringVar(&cfg.PodCIDR, "pod-cidr", "127.20.0.0/16", "the range pod addresses come from (host mode: a loopback range)")
	flag.StringVar(&cfg.DataDir, "data-dir", "/var/lib/weft-agent", "pods' files, logs and volumes")
	flag.StringVar(&cfg.Images, "images", "", "an extra image catalogue file")
	flag.StringVar(&cfg.ListenAddr, "listen", "", "address of the agent's server for logs, exec and stats (default NODE-IP:10250)")
	cpu := flag.String("cpu", "", "CPU capacity to report (default: the host's)")
	mem := flag.String("memory", "", "memory capacity to report (default: the host's)")
	labels := flag.String("node-labels", "", "extra node labels, k=v,k=v")
	heartbeat := flag.Duration("heartbeat", 10*time.Second, "how often the node's status is posted")
	debug := flag.Bool("debug", false, "log at debug level")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "weft-agent: unexpected arguments %q\n", flag.Args())
		return 2
	}
	if *server == "" {
		fmt.Fprintln(os.Stderr, "weft-agent: --server is required")
		return 2
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
