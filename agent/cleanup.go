package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/weft-mesh/weft/agent/network"
	"github.com/weft-mesh/weft/agent/runtime"
)

// Reset kills every container an agent with this data directory and node
// name started, and its node gateway (gateway.go), and removes their files
// and cgroups and, in netns mode, the
// node's network: every pod's namespace and veth, the host's rules and the
// bridge (as recorded in the data directory). For tests' cleanup and for
// retiring a node. The agent must not be running.
func Reset(dataDir, nodeName string) error {
	err := errors.Join(runtime.KillAll(filepath.Join(dataDir, "pods")), resetGateway(dataDir))
	if nerr := resetNetwork(dataDir); nerr != nil {
		err = errors.Join(err, nerr)
	}
	// Remove the node's (now empty) cgroup directories, deepest first.
	var dirs []string
	for _, root := range []string{"/sys/fs/cgroup"} {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, werr error) error {
			if werr != nil || !d.IsDir() {
				return nil
			}
			if strings.HasSuffix(p, "/weft/"+nodeName) {
				dirs = append(dirs, p)
				return filepath.SkipDir
			}
			if strings.Count(strings.TrimPrefix(p, root), "/") > 4 {
				return filepath.SkipDir
			}
			return nil
		})
	}
	for _, d := range dirs {
		var sub []string
		_ = filepath.WalkDir(d, func(p string, e os.DirEntry, werr error) error {
			if werr == nil && e.IsDir() {
				sub = append(sub, p)
			}
			return nil
		})
		for i := len(sub) - 1; i >= 0; i-- {
			if rerr := os.Remove(sub[i]); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
				err = errors.Join(err, rerr)
			}
		}
		_ = os.Remove(filepath.Dir(d)) // weft/, when no other node uses it
	}
	return err
}

// resetNetwork removes the node network recorded in dataDir, if any.
func resetNetwork(dataDir string) error {
	path := filepath.Join(dataDir, networkStateFile)
	var st networkState
	if err := runtime.ReadJSON(path, &st); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("reset network: %w", err)
	}
	if st.Mode != network.ModeNetns {
		return os.Remove(path)
	}
	n, err := network.NewNetns(network.NetnsConfig{Bridge: st.Bridge, PodCIDR: st.PodCIDR, ClusterCIDR: st.ClusterCIDR})
	if err != nil {
		return fmt.Errorf("reset network: %w", err)
	}
	if err := n.Remove(context.Background()); err != nil {
		return fmt.Errorf("reset network: %w", err)
	}
	return os.Remove(path)
}
