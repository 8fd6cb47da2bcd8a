// Command weftd is Weft's control plane: the API server and store, cluster
// DNS, a local node agent, and (as they land) controllers, scheduler and xDS.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/weft-mesh/weft/agent"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane"
	"github.com/weft-mesh/weft/controlplane/controllers"
)

// version is set by the linker.
var version = "v0.1.0-dev"

func main() {
	// weftd's local agent starts each container's shim as "weftd shim ...".
	if len(os.Args) > 1 && os.Args[1] == "shim" {
		os.Exit(agent.ShimMain(os.Args[2:]))
	}
	cfg := controlplane.Config{Version: version}
	var acfg agent.Config
	runAgent := flag.Bool("agent", true, "run a local node agent (the all-in-one); false for a control plane only")
	flag.StringVar(&acfg.NodeName, "node-name", "", "the local node's name (default: the host name)")
	flag.StringVar(&acfg.NodeIP, "node-ip", "127.0.0.1", "the local node's address")
	flag.StringVar(&acfg.NetworkMode, "network", "auto", "pod networking: netns (a network namespace per pod; needs root), host (shared host network, a loopback IP per pod), or auto (netns when root)")
	flag.StringVar(&acfg.PodCIDR, "pod-cidr", "", "the range the local node's pod addresses come from (default 10.244.0.0/24 in netns mode, 127.20.0.0/16 in host mode)")
	flag.StringVar(&acfg.Bridge, "bridge", "weft0", "netns mode: the node's bridge (one per node on a machine)")
	flag.StringVar(&acfg.ClusterCIDR, "cluster-cidr", "", "netns mode: the range holding every node's pod CIDR; traffic leaving it is masqueraded (default: the pod CIDR's /16)")
	flag.StringVar(&acfg.Images, "images", "", "an extra image catalogue file for the local agent")
	flag.DurationVar(&acfg.StatsPeriod, "stats-period", 10*time.Second, "how often the local agent samples pods' CPU and memory (the HPA's metrics)")
	flag.StringVar(&acfg.ListenAddr, "agent-addr", "", "address of the local agent's server for logs, exec and stats (default NODE-IP:10250; port 0 picks one)")
	flag.StringVar(&cfg.DataDir, "data-dir", ".weft", "directory for the store, tokens and the client config")
	flag.StringVar(&cfg.APIAddr, "api-addr", "127.0.0.1:7780", "address of the API (HTTP); port 0 picks a free one")
	flag.StringVar(&cfg.DNS.Addr, "dns-addr", "127.0.0.1:10053", `address of the cluster DNS (UDP and TCP); port 0 picks a free one; "" turns it off`)
	upstreams := flag.String("dns-upstream", "", "comma-separated resolvers for names outside the cluster (default: /etc/resolv.conf)")
	flag.StringVar(&cfg.DNS.Zone, "cluster-domain", "cluster.local", "the cluster's DNS zone")
	ttl := flag.Uint("dns-ttl", 5, "TTL in seconds of cluster DNS answers")
	flag.StringVar(&cfg.XDSAddr, "xds-addr", "127.0.0.1:15010", `address of the xDS server (ADS, plaintext gRPC); port 0 picks a free one; "" turns it off`)
	flag.DurationVar(&cfg.XDS.Debounce, "push-debounce", 100*time.Millisecond, "how long xDS waits for more changes before pushing (at most 1s in all)")
	flag.StringVar(&cfg.ServiceCIDR, "service-cidr", "10.96.0.0/12", "the range ClusterIPs come from")
	flag.DurationVar(&cfg.Controllers.NodeMonitorGracePeriod, "node-monitor-grace-period", 40*time.Second, "how long a node may miss heartbeats before it is NotReady")
	flag.DurationVar(&cfg.Controllers.PodEvictionTimeout, "pod-eviction-timeout", 5*time.Minute, "how long pods stay on a NotReady node before they are evicted")
	flag.DurationVar(&cfg.Controllers.HPADownscaleStabilization, "hpa-downscale-stabilization", 5*time.Minute, "how long the HPA waits before scaling in")
	flag.DurationVar(&cfg.Controllers.HPASyncPeriod, "hpa-sync-period", 15*time.Second, "how often each HorizontalPodAutoscaler is evaluated")
	ctrls := flag.String("controllers", "*", `the controllers to run, as kube-controller-manager's flag: "*" is all, "-name" turns one off (e.g. "*,-podgc"); names: `+strings.Join(controllers.Names(), ", "))
	debug := flag.Bool("debug", false, "log at debug level")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "weftd: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	names, err := controllers.ParseControllers(*ctrls)
	if err != nil {
		fmt.Fprintln(os.Stderr, "weftd: --controllers:", err)
		os.Exit(2)
	}
	cfg.Controllers.Controllers = names
	if *upstreams != "" {
		cfg.DNS.Upstreams = strings.Split(*upstreams, ",")
	}
	cfg.DNS.TTL = uint32(*ttl)
	if *runAgent {
		cfg.Agent = &acfg
	}
	zcfg := zap.NewProductionConfig()
	if *debug {
		zcfg.Level = zap.NewAtomicLevelAt(zap.DebugLevel)
	}
	log, err := zcfg.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "weftd:", err)
		os.Exit(1)
	}
	cfg.Log = log
	cfg.UserConfig = client.DefaultConfigPath()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = controlplane.Run(ctx, cfg, func(addrs map[string]string) {
		abs, _ := filepath.Abs(filepath.Join(cfg.DataDir, controlplane.ClientConfigFile))
		fmt.Printf("weftd ready: API on http://%s; client config %s (weftctl --config %s, or export WEFTCONFIG=%s)\n", addrs["api"], abs, abs, abs)
		if a, ok := addrs["xds"]; ok {
			fmt.Printf("xDS on %s\n", a)
		}
		if a, ok := addrs["dns"]; ok {
			fmt.Printf("cluster DNS on %s (zone %s)\n", a, cfg.DNS.Zone)
		}
	})
	if err != nil {
		log.Error("weftd failed", zap.Error(err))
		_ = log.Sync()
		os.Exit(1)
	}
}
