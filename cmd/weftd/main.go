// Command weftd is Weft's control plane: the API server and store, cluster
// DNS, and (as they land) controllers, scheduler, xDS and a local agent.
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

	"go.uber.org/zap"

	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane"
)

// version is set by the linker.
var version = "v0.1.0-dev"

func main() {
	cfg := controlplane.Config{Version: version}
	flag.StringVar(&cfg.DataDir, "data-dir", ".weft", "directory for the store, tokens and the client config")
	flag.StringVar(&cfg.APIAddr, "api-addr", "127.0.0.1:7780", "address of the API (HTTP); port 0 picks a free one")
	flag.StringVar(&cfg.DNS.Addr, "dns-addr", "127.0.0.1:10053", `address of the cluster DNS (UDP and TCP); port 0 picks a free one; "" turns it off`)
	upstreams := flag.String("dns-upstream", "", "comma-separated resolvers for names outside the cluster (default: /etc/resolv.conf)")
	flag.StringVar(&cfg.DNS.Zone, "cluster-domain", "cluster.local", "the cluster's DNS zone")
	ttl := flag.Uint("dns-ttl", 5, "TTL in seconds of cluster DNS answers")
	debug := flag.Bool("debug", false, "log at debug level")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "weftd: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	if *upstreams != "" {
		cfg.DNS.Upstreams = strings.Split(*upstreams, ",")
	}
	cfg.DNS.TTL = uint32(*ttl)
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
