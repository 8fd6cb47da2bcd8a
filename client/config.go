package client

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// Config is a client configuration file (weftctl.yaml):
//
//	server: http://127.0.0.1:7780
//	token: weft_...
type Config struct {
	Server string `json:"server"`
	Token  string `json:"token"`
}

// EnvConfig names the environment variable holding a config file path.
const EnvConfig = "WEFTCONFIG"

// ConfigPath picks the config file: the flag, then $WEFTCONFIG, then ~/.weft/config.
func ConfigPath(flag string) string {
	if flag != "" {
		return flag
	}
	if p := os.Getenv(EnvConfig); p != "" {
		return p
	}
	return DefaultConfigPath()
}

// DefaultConfigPath is ~/.weft/config.
func DefaultConfigPath() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".weft", "config")
}

// LoadConfig reads a config file. A missing file is not an error when
// optional (the caller may still have --server and --token).
func LoadConfig(path string, optional bool) (Config, error) {
	var cfg Config
	if path == "" {
		return cfg, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && optional {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("read client config: %w", err)
	}
	if err := yaml.UnmarshalStrict(b, &cfg); err != nil {
		return cfg, fmt.Errorf("client config %s: %w", path, err)
	}
	return cfg, nil
}

// WriteConfig writes a config file readable only by its owner.
func WriteConfig(path string, cfg Config) error {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write client config: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("write client config: %w", err)
	}
	return nil
}
