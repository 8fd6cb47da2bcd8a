package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/weft-mesh/weft/agent"
	"github.com/weft-mesh/weft/client"
)

// binDir holds the binaries TestMain builds, so `go test ./...` works alone.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "weft-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	args := []string{"build", "-o", dir + "/"}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "../../cmd/weftd", "../../cmd/weftctl", "../../cmd/weft-agent", "../../cmd/weft-proxy", "../../examples/weft-demo")
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build binaries:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// weftd is a running control plane process.
type weftd struct {
	t       *testing.T
	dataDir string
	cmd     *exec.Cmd
	url     string
	config  string
	addrs   map[string]string // weftd.addrs: api, dns, xds
	log     *lockedBuffer
	exited  chan struct{}
}

// startWeftd starts bin/weftd on a free port with dataDir; it is stopped
// (SIGTERM, then SIGKILL) when the test ends.
func startWeftd(t *testing.T, dataDir string, extra ...string) *weftd {
	t.Helper()
	w := &weftd{t: t, dataDir: dataDir, log: &lockedBuffer{}, exited: make(chan struct{})}
	w.cmd = exec.Command(filepath.Join(binDir, "weftd"), "--data-dir", dataDir, "--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--xds-addr", "127.0.0.1:0",
		"--agent-addr", "127.0.0.1:0", "--node-name", nodeName(dataDir))
	w.cmd.Args = append(w.cmd.Args, networkArgs(extra)...)
	w.cmd.Args = append(w.cmd.Args, extra...)
	w.cmd.Env = append(os.Environ(), "HOME="+dataDir) // never touch the real ~/.weft
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	w.cmd.Stderr = w.log
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "weftd ready: API on ") {
				ready <- strings.TrimSuffix(strings.Fields(strings.TrimPrefix(line, "weftd ready: API on "))[0], ";")
			}
		}
	}()
	go func() { _ = w.cmd.Wait(); close(w.exited) }()
	t.Cleanup(func() {
		crashed := false
		select {
		case <-w.exited:
			crashed = true
		default:
		}
		w.stop()
		if crashed || t.Failed() {
			// weftd's own account of what went wrong: the last 150 lines.
			lines := strings.Split(strings.TrimRight(w.log.String(), "\n"), "\n")
			t.Logf("weftd (exited before the end of the test: %v), last lines of its log:\n%s", crashed, strings.Join(lines[max(0, len(lines)-150):], "\n"))
		}
		// Containers outlive their agent by design (it re-adopts them):
		// a test removes them itself.
		if err := agent.Reset(filepath.Join(dataDir, "agent"), nodeName(dataDir)); err != nil {
			t.Errorf("reset the local agent: %v", err)
		}
	})
	select {
	case w.url = <-ready:
	case <-w.exited:
		t.Fatalf("weftd exited before it was ready:\n%s", w.log)
	case <-time.After(60 * time.Second):
		t.Fatalf("weftd not ready after 60s:\n%s", w.log)
	}
	w.config = filepath.Join(dataDir, "weftctl.yaml")
	w.addrs = readAddrs(t, filepath.Join(dataDir, "weftd.addrs"))
	return w
}

// readAddrs reads weftd.addrs: name=host:port lines.
func readAddrs(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}

func (w *weftd) stop() {
	select {
	case <-w.exited:
		return
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(15 * time.Second):
		w.t.Errorf("weftd did not stop on SIGTERM within 15s")
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
}

func (w *weftd) kill9() {
	_ = w.cmd.Process.Kill()
	<-w.exited
}

func (w *weftd) client(t *testing.T) *client.Client {
	t.Helper()
	cfg, err := client.LoadConfig(w.config, false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg.Server, cfg.Token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// weftctl runs bin/weftctl against w and returns stdout, stderr and the exit code.
func (w *weftd) weftctl(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "weftctl"), append([]string{"--config", w.config}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+w.dataDir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Stdin = strings.NewReader(stdin)
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("weftctl %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// nodeName is the local node's name for a data directory (stable across restarts).
// Node names are global on the host (cgroup paths carry them), so they
// come from the whole path.
func nodeName(dataDir string) string {
	sum := sha256.Sum256([]byte(dataDir))
	return "node-" + hex.EncodeToString(sum[:4])
}

var cidrs struct {
	sync.Mutex
	next int
}

func nextNet() int {
	cidrs.Lock()
	defer cidrs.Unlock()
	cidrs.next++
	return cidrs.next
}

// podCIDR gives every node of the run a loopback pod range of its own (host mode).
func podCIDR(t *testing.T) string {
	return fmt.Sprintf("127.%d.0.0/16", 100+nextNet())
}

// networkArgs are weftd's pod network flags: host mode on a loopback range
// of its own unless the test asks for "--network netns", which gets a
// private range and a bridge of its own (clusters run side by side).
func networkArgs(extra []string) []string {
	for i, a := range extra {
		if a == "--network" && i+1 < len(extra) && extra[i+1] == "netns" {
			n := nextNet()
			return []string{"--pod-cidr", fmt.Sprintf("10.%d.0.0/24", 200+n), "--bridge", fmt.Sprintf("wt%d%d", os.Getpid()%1000, n)}
		}
	}
	return []string{"--network", "host", "--pod-cidr", fmt.Sprintf("127.%d.0.0/16", 100+nextNet())}
}

// lockedBuffer collects a process's log; safe to read while it writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
