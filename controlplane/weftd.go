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

	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/apiserver"
	"github.com/weft-mesh/weft/controlplane/store"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

// Config is weftd's configuration, from its flags.
type Config struct {
	DataDir string // store, tokens, client config and addresses live here
	APIAddr string // host:port; port 0 picks a free one
	// UserConfig, when set, is written with the admin client config if the
	// file does not exist yet (~/.weft/config for a real weftd).
	UserConfig string
	Log        *zap.Logger
}

// Files weftd writes in its data directory.
const (
	StoreFile        = "weft.db"
	ClientConfigFile = "weftctl.yaml"
	JoinTokenFile    = "join.token"
	AddrsFile        = "weftd.addrs"
)

// Run serves the control plane until ctx is done, then shuts down cleanly.
// ready, when not nil, is called once the API is serving.
func Run(ctx context.Context, cfg Config, ready func(apiURL string)) error {
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
	apiURL := "http://" + ln.Addr().String()

	tokens := apiserver.Tokens{Store: st}
	clientCfgPath := filepath.Join(cfg.DataDir, ClientConfigFile)
	if err := ensureCredentials(ctx, tokens, cfg.DataDir, apiURL, cfg.UserConfig); err != nil {
		ln.Close()
		return err
	}
	if err := writeAddrs(cfg.DataDir, map[string]string{"api": ln.Addr().String()}); err != nil {
		ln.Close()
		return err
	}

	api := apiserver.New(apiserver.Config{Store: st, Auth: tokens, Log: log.Named("apiserver")})
	if err := api.EnsureNamespaces(ctx); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, ErrorLog: zap.NewStdLog(log.Named("http"))}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	log.Info("weftd ready", zap.String("api", apiURL), zap.String("config", clientCfgPath), zap.String("data", cfg.DataDir))
	if ready != nil {
		ready(apiURL)
	}
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve API: %w", err)
	case <-ctx.Done():
	}
	log.Info("weftd shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Watches are long-lived: give requests a moment, then close the rest.
	if err := srv.Shutdown(shutCtx); err != nil {
		_ = srv.Close()
	}
	return nil
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

var _ store.Store = (*boltstore.Store)(nil)
