package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/agent"
	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/apiserver"
	"github.com/weft-mesh/weft/controlplane/controllers"
	"github.com/weft-mesh/weft/controlplane/inject"
	"github.com/weft-mesh/weft/controlplane/ipam"
	"github.com/weft-mesh/weft/controlplane/scheduler"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
	"github.com/weft-mesh/weft/controlplane/xds"
	"github.com/weft-mesh/weft/dns"
)

// Config is weftd's configuration, from its flags.
type Config struct {
	DataDir string // store, tokens, client config and addresses live here
	APIAddr string // host:port; port 0 picks a free one
	// UserConfig, when set, is written with the admin client config if the
	// file does not exist yet (~/.weft/config for a real weftd).
	UserConfig string

	DNS dns.Config // cluster DNS; DNS.Addr "" turns it off
	// XDSAddr is where proxies fetch their config (ADS over plaintext gRPC,
	// Istio's 15010); "" turns xDS off.
	XDSAddr string
	XDS     xds.Options // push debounce
	// ServiceCIDR is where ClusterIPs come from (default 10.96.0.0/12).
	ServiceCIDR string
	// Controllers tunes the controllers (node grace period, eviction, HPA);
	// Run fills in Client and Log.
	Controllers controllers.Config
	// Agent, when set, runs a local node agent in weftd (the all-in-one);
	// Run fills in its Client, Log and (if empty) DataDir.
	Agent *agent.Config

	Version string // Weft's version: the tag of the injected proxy image
	Log     *zap.Logger
}

// Files weftd writes in its data directory.
const (
	StoreFile        = "weft.db"
	ClientConfigFile = "weftctl.yaml"
	JoinTokenFile    = "join.token"
	AddrsFile        = "weftd.addrs"
)

// Run serves the control plane until ctx is done, then shuts down cleanly.
// ready, when not nil, is called once every part is serving, with the
// addresses weftd listens on (also written to DIR/weftd.addrs).
func Run(ctx context.Context, cfg Config, ready func(addrs map[string]string)) error {
	log := cfg.Log
	if log == nil {
		log = zap.NewNop()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	st, err := boltstore.Open(filepath.Join(cfg.DataDir, StoreFile), boltstore.Options{})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()

	ln, err := net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		return fmt.Errorf("listen for the API on %s: %w", cfg.APIAddr, err)
	}
	defer ln.Close()
	apiURL := "http://" + ln.Addr().String()
	addrs := map[string]string{"api": ln.Addr().String()}

	tokens := apiserver.Tokens{Store: st}
	if err := ensureCredentials(ctx, tokens, cfg.DataDir, apiURL, cfg.UserConfig); err != nil {
		return err
	}
	internalToken, err := apiserver.RandomToken()
	if err != nil {
		return err
	}
	auth := apiserver.Chain{apiserver.StaticTokens{internalToken: {Name: "system:weftd", Groups: []string{apiserver.GroupAdmins}}}, tokens}

	var xdsSrv *xds.Server
	var xdsLn net.Listener
	extra := map[string]http.Handler{}
	if cfg.XDSAddr != "" {
		xopts := cfg.XDS
		xopts.Logger = log.Named("xds")
		xdsSrv = xds.NewServer(xopts)
		if xdsLn, err = net.Listen("tcp", cfg.XDSAddr); err != nil {
			return fmt.Errorf("listen for xDS on %s: %w", cfg.XDSAddr, err)
		}
		defer xdsLn.Close()
		addrs["xds"] = xdsLn.Addr().String()
		extra[ProxyStatusPath] = proxyStatusHandler(xdsSrv)
	}

	var srv *apiserver.Server
	nsKind := api.LookupName("namespaces")
	injector := &inject.Plugin{Config: inject.Config{Tag: cfg.Version}, NamespaceLabels: func(ctx context.Context, name string) (map[string]string, error) {
		obj, err := srv.Object(ctx, nsKind, "", name)
		if err != nil {
			return nil, err
		}
		return obj.(*corev1.Namespace).Labels, nil
	}}
	alloc, err := ipam.New(ctx, ipam.Config{Store: st, ServiceCIDR: cfg.ServiceCIDR, Log: log.Named("ipam")})
	if err != nil {
		return fmt.Errorf("service IP allocation: %w", err)
	}
	srv = apiserver.New(apiserver.Config{Store: st, Auth: auth, Log: log.Named("apiserver"), Admission: []apiserver.AdmissionPlugin{injector, alloc}, Handlers: extra, AgentToken: internalToken})
	if err := srv.EnsureNamespaces(ctx); err != nil {
		return err
	}
	httpSrv := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ErrorLog: zap.NewStdLog(log.Named("http"))}

	c, err := client.New(apiURL, internalToken)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve API: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// Watches are long-lived: give requests a moment, then close the rest.
		if err := httpSrv.Shutdown(shutCtx); err != nil {
			_ = httpSrv.Close()
		}
		return nil
	})

	g.Go(func() error {
		if err := alloc.Run(gctx, c); err != nil && gctx.Err() == nil {
			return fmt.Errorf("service IP allocation: %w", err)
		}
		return nil
	})
	ccfg := cfg.Controllers
	ccfg.Client, ccfg.Log = c, log.Named("controllers")
	g.Go(func() error {
		if err := controllers.Run(gctx, ccfg); err != nil && gctx.Err() == nil {
			return fmt.Errorf("controllers: %w", err)
		}
		return nil
	})

	g.Go(func() error {
		if err := scheduler.Run(gctx, scheduler.Config{Client: c, Log: log.Named("scheduler")}); err != nil && gctx.Err() == nil {
			return fmt.Errorf("scheduler: %w", err)
		}
		return nil
	})

	view := newClusterView(c, log.Named("view"))
	g.Go(func() error { return view.run(gctx) })

	if xdsSrv != nil {
		g.Go(func() error {
			if err := xdsSrv.Serve(gctx, xdsLn); err != nil && gctx.Err() == nil {
				return fmt.Errorf("xds: %w", err)
			}
			return nil
		})
		view.onChange(func(v *snapshot) {
			xdsSrv.Push(&xds.Mesh{Services: v.services, Endpoints: v.endpoints, Pods: v.pods,
				VirtualServices: v.virtualServices, DestinationRules: v.destinationRules, DomainSuffix: cfg.DNS.Zone})
		})
	}

	if cfg.DNS.Addr != "" {
		dcfg := cfg.DNS
		dcfg.Log = log.Named("dns")
		dnsSrv, err := dns.NewServer(dcfg)
		if err != nil {
			return fmt.Errorf("dns: %w", err)
		}
		if err := dnsSrv.Start(); err != nil {
			return fmt.Errorf("dns: %w", err)
		}
		addrs["dns"] = dnsSrv.Addr()
		zone := dcfg.Zone
		if zone == "" {
			zone = "cluster.local"
		}
		view.onChange(func(v *snapshot) {
			ix := dns.BuildIndex(zone, v.services, v.endpoints, v.pods)
			for _, s := range ix.Skipped() {
				log.Debug("dns: skipped", zap.String("what", s))
			}
			if err := dnsSrv.SetIndex(ix); err != nil {
				log.Error("dns: set index", zap.Error(err))
			}
		})
		g.Go(func() error {
			<-gctx.Done()
			shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return dnsSrv.Shutdown(shutCtx)
		})
	}

	if cfg.Agent != nil {
		acfg := *cfg.Agent
		acfg.Client = c
		acfg.Log = log.Named("agent")
		if acfg.DataDir == "" {
			acfg.DataDir = filepath.Join(cfg.DataDir, "agent")
		}
		// Pods reach weftd's DNS and xDS through the agent (at their
		// bridge address in netns mode).
		acfg.DNSAddr, acfg.XDSAddr = addrs["dns"], addrs["xds"]
		if acfg.ClusterDomain == "" {
			acfg.ClusterDomain = cfg.DNS.Zone
		}
		g.Go(func() error {
			if err := agent.Run(gctx, acfg); err != nil && gctx.Err() == nil {
				return fmt.Errorf("local agent: %w", err)
			}
			return nil
		})
	}

	if err := writeAddrs(cfg.DataDir, addrs); err != nil {
		return err
	}
	log.Info("weftd ready", zap.Any("addrs", addrs), zap.String("config", filepath.Join(cfg.DataDir, ClientConfigFile)), zap.String("data", cfg.DataDir))
	if ready != nil {
		ready(addrs)
	}
	err = g.Wait()
	log.Info("weftd stopped")
	return err
}

// ensureCredentials makes the admin token and client config on first start,
// keeps them on later starts (pointing the config at the current address),
// and makes the join token agents use.
func ensureCredentials(ctx context.Context, tokens apiserver.Tokens, dir, apiURL, userConfig string) error {
	path := filepath.Join(dir, ClientConfigFile)
	cfg, err := client.LoadConfig(path, true)
	if err != nil {
		return err
	}
	if cfg.Token != "" {
		if _, err := tokens.Authenticate(ctx, cfg.Token); err != nil {
			cfg.Token = "" // the store was replaced: make a new token
		}
	}
	if cfg.Token == "" {
		cfg.Token, err = tokens.Create(ctx, apiserver.User{Name: "admin", Groups: []string{apiserver.GroupAdmins}})
		if err != nil {
			return fmt.Errorf("create admin token: %w", err)
		}
	}
	cfg.Server = apiURL
	if err := client.WriteConfig(path, cfg); err != nil {
		return err
	}
	if userConfig != "" {
		if _, err := os.Stat(userConfig); errors.Is(err, os.ErrNotExist) {
			if err := client.WriteConfig(userConfig, cfg); err != nil {
				return err
			}
		}
	}
	joinPath := filepath.Join(dir, JoinTokenFile)
	if b, err := os.ReadFile(joinPath); err == nil {
		if _, err := tokens.Authenticate(ctx, strings.TrimSpace(string(b))); err == nil {
			return nil
		}
	}
	join, err := tokens.Create(ctx, apiserver.User{Name: "node-bootstrap", Groups: []string{apiserver.GroupNodes}})
	if err != nil {
		return fmt.Errorf("create join token: %w", err)
	}
	if err := os.WriteFile(joinPath, []byte(join+"\n"), 0o600); err != nil {
		return fmt.Errorf("write join token: %w", err)
	}
	return nil
}

func writeAddrs(dir string, addrs map[string]string) error {
	var b strings.Builder
	for _, name := range []string{"api", "xds", "dns"} {
		if a, ok := addrs[name]; ok {
			fmt.Fprintf(&b, "%s=%s\n", name, a)
		}
	}
	tmp := filepath.Join(dir, AddrsFile+".tmp")
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write addresses: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, AddrsFile)); err != nil {
		return fmt.Errorf("write addresses: %w", err)
	}
	return nil
}
