// Command weftd is Weft's control plane: the API server and store (and,
// as they land, controllers, scheduler, xDS, DNS and a local agent).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"go.uber.org/zap"

	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane"
)

func main() {
	cfg := controlplane.Config{}
	flag.StringVar(&cfg.DataDir, "data-dir", ".weft", "directory for the store, tokens and the client config")
	flag.StringVar(&cfg.APIAddr, "api-addr", "127.0.0.1:7780", "address of the API (HTTP); port 0 picks a free one")
	debug := flag.Bool("debug", false, "log at debug level")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "weftd: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
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
	err = controlplane.Run(ctx, cfg, func(apiURL string) {
		abs, _ := filepath.Abs(filepath.Join(cfg.DataDir, controlplane.ClientConfigFile))
		fmt.Printf("weftd ready: API on %s; client config %s (weftctl --config %s, or export WEFTCONFIG=%s)\n", apiURL, abs, abs, abs)
	})
	if err != nil {
		log.Error("weftd failed", zap.Error(err))
		_ = log.Sync()
		os.Exit(1)
	}
}
