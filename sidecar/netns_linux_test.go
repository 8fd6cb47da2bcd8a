//go:build linux

package sidecar_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/weft-mesh/weft/sidecar"
	"github.com/weft-mesh/weft/sidecar/internal/xdstest"
	"golang.org/x/sys/unix"
)

// proxyUID is the uid the proxy runs as; Istio's ISTIO_OUTPUT chain (and
// ours below) exempts its traffic from the redirect.
const proxyUID = 1337

const netnsChildEnv = "WEFT_TEST_NETNS_PROXY"

// TestNetNSOriginalDst runs weft-proxy in netns mode inside a fresh
// network namespace with Istio-style iptables REDIRECT of outbound TCP to
// 15001, and checks that a request to a ClusterIP-like address is routed
// by its original destination (SO_ORIGINAL_DST): port 80 goes through the
// HTTP listener 0.0.0.0_80 to the service's endpoint, an unknown port
// through the passthrough chain to where it was going.
//
// The proxy is this test binary re-executed (TestNetNSProxyChild) as uid
// 1337, forked from a thread inside the pod namespace (no Pdeathsig: that
// thread ends at once, and Pdeathsig follows the thread, not the process). The backend and the
// control plane listen in a second namespace at the veth's other end.
func TestNetNSOriginalDst(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces, veths and iptables rules")
	}
	for _, tool := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
	id := fmt.Sprintf("%05d", rand.IntN(100000))
	pod, peer := "weft-t-pod-"+id, "weft-t-be-"+id
	vethPod, vethPeer := "wtp"+id, "wtb"+id
	const podIP, peerIP, clusterIP = "10.251.0.2", "10.251.0.1", "10.96.77.10"
	t.Cleanup(func() {
		// Deleting the namespaces removes the veth and the rules with them.
		_ = exec.Command("ip", "netns", "del", pod).Run()
		_ = exec.Command("ip", "netns", "del", peer).Run()
	})
	sh := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	sh("ip", "netns", "add", pod)
	sh("ip", "netns", "add", peer)
	sh("ip", "link", "add", vethPod, "netns", pod, "type", "veth", "peer", "name", vethPeer, "netns", peer)
	for _, c := range [][]string{
		{pod, "ip", "link", "set", "lo", "up"},
		{pod, "ip", "addr", "add", podIP + "/24", "dev", vethPod},
		{pod, "ip", "link", "set", vethPod, "up"},
		{pod, "ip", "route", "add", "default", "via", peerIP},
		{peer, "ip", "link", "set", "lo", "up"},
		{peer, "ip", "addr", "add", peerIP + "/24", "dev", vethPeer},
		{peer, "ip", "link", "set", vethPeer, "up"},
		// Istio's outbound capture, reduced: the proxy's own traffic and
		// loopback pass, every other outbound TCP connection goes to 15001.
		{pod, "iptables", "-t", "nat", "-N", "WEFT_OUTPUT"},
		{pod, "iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-j", "WEFT_OUTPUT"},
		{pod, "iptables", "-t", "nat", "-A", "WEFT_OUTPUT", "-m", "owner", "--uid-owner", fmt.Sprint(proxyUID), "-j", "RETURN"},
		{pod, "iptables", "-t", "nat", "-A", "WEFT_OUTPUT", "-d", "127.0.0.1/32", "-j", "RETURN"},
		{pod, "iptables", "-t", "nat", "-A", "WEFT_OUTPUT", "-p", "tcp", "-j", "REDIRECT", "--to-ports", "15001"},
	} {
		sh(append([]string{"ip", "netns", "exec", c[0]}, c[1:]...)...)
	}

	// Backends and the control plane in the peer namespace.
	var xds *xdstest.Server
	var svc, other net.Listener
	inNetNS(t, peer, func() {
		xds = xdstest.NewServer(t, peerIP+":0")
		svc = listen(t, peerIP+":8080")
		other = listen(t, peerIP+":8081")
	})
	serveName(t, svc, "service")
	serveName(t, other, "passthrough")

	const cl = "outbound|80||flaskapp.default.svc.cluster.local"
	vh := vhost(xdstest.PrefixRoute("d", "/", xdstest.ToCluster(cl)))
	vh.Domains = append(vh.Domains, clusterIP, clusterIP+":80")
	res := xdstest.Resources{Listeners: []types.Resource{xdstest.VirtualOutbound(), xdstest.HTTPListener(80)},
		Clusters: []types.Resource{xdstest.Passthrough()}}
	res.Routes = append(res.Routes, xdstest.RouteConfig("80", vh))
	res.Add(xdstest.Service(cl, peerIP+":8080"))
	node := "sidecar~" + podIP + "~sleep-1.default~default.svc.cluster.local"
	xds.Set(t, node, res)

	// The proxy: this binary, as uid 1337, in the pod namespace.
	cfg := sidecar.Config{XDSAddr: xds.Addr, NodeID: node, PodIP: podIP, Network: "netns",
		AdminAddr: "127.0.0.1:15000", ReadyAddr: "127.0.0.1:15021", AccessLog: "stderr", LogLevel: "warn",
		XDSBackoffBase: 20 * time.Millisecond, XDSBackoffMax: 200 * time.Millisecond, DrainTime: 100 * time.Millisecond}
	js, _ := json.Marshal(cfg)
	bin := copyExecutable(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-test.run=^TestNetNSProxyChild$")
	cmd.Env = append(os.Environ(), netnsChildEnv+"="+string(js))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: proxyUID, Gid: proxyUID}}
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	var startErr error
	inNetNS(t, pod, func() { startErr = cmd.Start() })
	if startErr != nil {
		t.Fatal(startErr)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("proxy output:\n%s", logs.String())
		}
	})

	// The app: root in the pod namespace, so its connections are redirected.
	// (Raw connections: http.Transport dials on goroutines of its own,
	// outside the namespace.)
	get := func(addr, path string) (string, error) {
		var body string
		var err error
		inNetNS(t, pod, func() {
			var c net.Conn
			if c, err = net.DialTimeout("tcp", addr, 2*time.Second); err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			host, _, _ := net.SplitHostPort(addr)
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host)
			var resp *http.Response
			if resp, err = http.ReadResponse(bufio.NewReader(c), nil); err != nil {
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body = fmt.Sprintf("%d %s", resp.StatusCode, b)
		})
		return body, err
	}
	var got string
	waitFor(t, "the proxy to route "+clusterIP+":80", func() bool {
		var err error
		got, err = get(clusterIP+":80", "/who")
		if err != nil {
			t.Logf("get: %v", err)
		}
		return got == "200 service"
	})
	// A port with no listener: the passthrough chain dials the original
	// destination itself.
	if got, err := get(peerIP+":8081", "/who"); err != nil || got != "200 passthrough" {
		t.Fatalf("passthrough: %q %v", got, err)
	}
	// And the proxy saw it: its admin page counts the routed request.
	stats, err := get("127.0.0.1:15000", "/clusters")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stats, cl+"::"+peerIP+":8080::rq_total::") {
		t.Fatalf("/clusters does not show the routed request:\n%s", stats)
	}
}

// TestNetNSProxyChild is the proxy process of TestNetNSOriginalDst.
func TestNetNSProxyChild(t *testing.T) {
	js := os.Getenv(netnsChildEnv)
	if js == "" {
		t.Skip("run by TestNetNSOriginalDst")
	}
	var cfg sidecar.Config
	if err := json.Unmarshal([]byte(js), &cfg); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signalContext()
	defer stop()
	if err := sidecar.Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
}

func signalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		select {
		case <-ch:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// inNetNS runs fn on a thread inside network namespace name. Sockets fn
// creates (and processes it forks) stay there. The thread is never
// unlocked, so it exits with its goroutine rather than returning to the
// pool in the wrong namespace.
func inNetNS(t *testing.T, name string, fn func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join("/var/run/netns", name))
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", name, err)
			return
		}
		fn()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

func listen(t *testing.T, addr string) net.Listener {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func serveName(t *testing.T, ln net.Listener, name string) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, name) })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// copyExecutable copies the test binary where uid 1337 can run it.
func copyExecutable(t *testing.T) string {
	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "weft-netns-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(dir, "weft-proxy.test")
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}
