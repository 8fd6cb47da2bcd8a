// Command weft-proxy is weft's sidecar and gateway proxy: an L4/L7 data
// plane fed by xDS (ADS over gRPC). It reads no YAML; everything beyond the
// flags below comes from the control plane.
//
//	weft-proxy --xds-addr HOST:PORT --node-id ID --pod-ip IP --mode sidecar|gateway
//	           [--token-file F] [--admin-addr 127.0.0.1:15000] [flags]
//
// Flags (environment fallbacks in brackets):
//
//	--xds-addr       control plane ADS address, plaintext gRPC [XDS_ADDR]
//	--node-id        Istio node id sidecar~<podIP>~<pod>.<ns>~<ns>.svc.cluster.local;
//	                 built from --pod-ip, --pod-name, --pod-namespace when empty
//	--pod-ip         the pod's IP [POD_IP]
//	--pod-name       pod name, for the default node id [POD_NAME]
//	--pod-namespace  pod namespace, for the default node id [POD_NAMESPACE]
//	--mode           sidecar | gateway (default sidecar)
//	--network        netns | host (default host) [WEFT_NETWORK]: netns uses iptables +
//	                 SO_ORIGINAL_DST, host serves outbound HTTP as an HTTP proxy on the
//	                 pod IP, and puts admin, stats and readiness on the pod IP too
//	--xds-delta      use incremental (delta) ADS instead of state of the world
//	                 (default false) [XDS_DELTA]
//	--token-file     bearer token sent to the control plane, re-read at each connect
//	--admin-addr     admin API (default 127.0.0.1:15000); "" disables
//	--stats-addr     Prometheus /stats/prometheus (default :15090); "" disables
//	--ready-addr     readiness /healthz/ready (default :15021); "" disables
//	--outbound-addr  bind virtualOutbound here instead of its xDS address
//	                 (default <pod-ip>:15001 in host network mode)
//	--inbound-addr   bind virtualInbound here instead of its xDS address
//	--bind-ip        IP that replaces 0.0.0.0 in listener addresses
//	                 (default: --pod-ip in host network mode and gateway mode)
//	--labels         workload labels k=v,k=v, sent as node metadata LABELS [POD_LABELS];
//	                 without it, the JSON object in ISTIO_METAJSON_LABELS (set by the injector)
//	--workload       workload name for metrics (default: pod name minus its hashes)
//	--drain-time     graceful drain on SIGTERM (default 5s)
//	--access-log     stdout | stderr | off | FILE (default stdout)
//	--log-level      debug | info | warn | error (default info)
//
// Downstream HTTP/1.1 is served by a lean server of weft's own
// (sidecar/internal/h1server), which hands anything unusual to net/http;
// WEFT_PROXY_H1_FASTPATH=off in the environment serves every connection
// with net/http alone.
//
// Memory: the Go runtime keeps the pages a burst of requests freed for
// minutes after the burst (its scavenger is paced to the heap goal, which
// only the next collection lowers). weft-proxy returns them once it has
// been quiet for a while (under 4 MiB allocated in 5 s): one collection
// and debug.FreeOSMemory, then nothing until the next busy period. GOGC
// stays Go's default, 100: a lower one costs about 10% more CPU per
// request for a megabyte or two less under load, a higher one the reverse
// (set GOGC or GOMEMLIMIT in the environment to choose otherwise). Most of
// an idle proxy's RSS is its binary's pages, shared by every proxy on the
// node, and its configuration.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"syscall"
	"time"

	"github.com/weft-mesh/weft/sidecar"
)

func main() {
	cfg, err := parse(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "weft-proxy:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go releaseWhenQuiet(ctx, 5*time.Second, 4<<20)
	if err := sidecar.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "weft-proxy:", err)
		os.Exit(1)
	}
}

func parse(args []string) (sidecar.Config, error) {
	var cfg sidecar.Config
	var podName, podNS, labels string
	fs := flag.NewFlagSet("weft-proxy", flag.ContinueOnError)
	fs.StringVar(&cfg.XDSAddr, "xds-addr", os.Getenv("XDS_ADDR"), "control plane ADS address (host:port, plaintext gRPC)")
	fs.StringVar(&cfg.NodeID, "node-id", "", "node id sidecar~<podIP>~<pod>.<ns>~<ns>.svc.cluster.local")
	fs.StringVar(&cfg.PodIP, "pod-ip", os.Getenv("POD_IP"), "the pod's IP")
	fs.StringVar(&podName, "pod-name", os.Getenv("POD_NAME"), "pod name (default node id)")
	fs.StringVar(&podNS, "pod-namespace", os.Getenv("POD_NAMESPACE"), "pod namespace (default node id)")
	fs.StringVar(&cfg.Mode, "mode", "sidecar", "sidecar | gateway")
	fs.StringVar(&cfg.Network, "network", envOr("WEFT_NETWORK", "host"), "netns | host [WEFT_NETWORK]")
	fs.BoolVar(&cfg.XDSDelta, "xds-delta", os.Getenv("XDS_DELTA") == "true", "incremental (delta) ADS instead of state of the world [XDS_DELTA]")
	fs.StringVar(&cfg.TokenFile, "token-file", "", "file holding the bearer token for the control plane")
	fs.StringVar(&cfg.AdminAddr, "admin-addr", "127.0.0.1:15000", "admin API address")
	fs.StringVar(&cfg.StatsAddr, "stats-addr", ":15090", "Prometheus metrics address")
	fs.StringVar(&cfg.ReadyAddr, "ready-addr", ":15021", "readiness address (/healthz/ready)")
	fs.StringVar(&cfg.OutboundAddr, "outbound-addr", "", "bind virtualOutbound here (default <pod-ip>:15001 in host network mode)")
	fs.StringVar(&cfg.InboundAddr, "inbound-addr", "", "bind virtualInbound here")
	fs.StringVar(&cfg.BindIP, "bind-ip", "", "IP replacing 0.0.0.0 in listener addresses")
	fs.StringVar(&labels, "labels", os.Getenv("POD_LABELS"), "workload labels k=v,k=v")
	fs.StringVar(&cfg.Workload, "workload", "", "workload name for metrics")
	fs.DurationVar(&cfg.DrainTime, "drain-time", 5e9, "graceful drain time on SIGTERM")
	fs.StringVar(&cfg.AccessLog, "access-log", "stdout", "stdout | stderr | off | FILE")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "debug | info | warn | error")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.NodeID == "" && cfg.PodIP != "" && podName != "" && podNS != "" {
		kind := "sidecar"
		if cfg.Mode == "gateway" {
			kind = "router"
		}
		cfg.NodeID = fmt.Sprintf("%s~%s~%s.%s~%s.svc.cluster.local", kind, cfg.PodIP, podName, podNS, podNS)
	}
	if js := os.Getenv("ISTIO_METAJSON_LABELS"); labels == "" && js != "" {
		// What the injector wrote: the pod's labels as a JSON object.
		if err := json.Unmarshal([]byte(js), &cfg.Labels); err != nil {
			return cfg, fmt.Errorf("ISTIO_METAJSON_LABELS: not a JSON object of strings: %w", err)
		}
	}
	if labels != "" {
		cfg.Labels = map[string]string{}
		for _, kv := range strings.Split(labels, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || k == "" {
				return cfg, fmt.Errorf("--labels: %q is not k=v", kv)
			}
			cfg.Labels[k] = v
		}
	}
	// In host mode every pod shares the host's network: the proxy's own
	// ports go on the pod's IP, or the pods of a node would collide.
	if cfg.Network == "host" && cfg.PodIP != "" {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, addr := range map[string]*string{"admin-addr": &cfg.AdminAddr, "stats-addr": &cfg.StatsAddr, "ready-addr": &cfg.ReadyAddr} {
			if !set[name] && *addr != "" {
				_, port, _ := net.SplitHostPort(*addr)
				*addr = net.JoinHostPort(cfg.PodIP, port)
			}
		}
	}
	if cfg.OutboundAddr == "" && cfg.Network == "host" && cfg.Mode == "sidecar" && cfg.PodIP != "" {
		cfg.OutboundAddr = net.JoinHostPort(cfg.PodIP, "15001")
	}
	return cfg, cfg.Validate()
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// releaseWhenQuiet returns freed heap pages to the OS once per quiet
// period: when less than quiet bytes were allocated in the last interval,
// after a busier one.
func releaseWhenQuiet(ctx context.Context, interval time.Duration, quiet uint64) {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocated := func() uint64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return sample[0].Value.Uint64()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	last, released := allocated(), false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := allocated()
		busy := now-last >= quiet
		if !busy && !released {
			debug.FreeOSMemory()
		}
		released = !busy
		last = now
	}
}
