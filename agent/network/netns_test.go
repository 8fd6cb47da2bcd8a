package network

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// needNetns skips the test where network namespaces cannot be made.
func needNetns(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("netns mode unavailable: %v", err)
	}
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err != nil {
		t.Skipf("ip netns unavailable: %v: %s", err, out)
	}
}

var bridges atomic.Int32

// testNet gives a test a bridge name and a /16 of its own: different per
// test and, very likely, per test process.
func testNet(t *testing.T) (prefix string, cluster string) {
	n := bridges.Add(1)
	pid := os.Getpid()
	prefix = fmt.Sprintf("wtn%d%d", pid%100000, n)
	cluster = fmt.Sprintf("10.%d.0.0/16", 210+(pid+int(n))%20)
	return prefix, cluster
}

func startNetns(t *testing.T, bridge, podCIDR, cluster string) *Netns {
	t.Helper()
	n, err := NewNetns(NetnsConfig{Bridge: bridge, PodCIDR: podCIDR, ClusterCIDR: cluster})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Remove(context.Background()); err != nil {
			t.Errorf("remove: %v", err)
		}
		assertGone(t, n)
	})
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return n
}

// assertGone checks that nothing of n's is left on the host.
func assertGone(t *testing.T, n *Netns) {
	t.Helper()
	br := n.cfg.Bridge
	if linkExists(br) {
		t.Errorf("bridge %s is left", br)
	}
	if uids := n.namespaces(); len(uids) > 0 {
		t.Errorf("network namespaces left: %v", uids)
	}
	out, _ := exec.Command("ip", "-o", "link", "show").CombinedOutput()
	if strings.Contains(string(out), "master "+br+" ") {
		t.Errorf("links on %s left:\n%s", br, out)
	}
	for _, table := range []string{"filter", "nat"} {
		out, _ := exec.Command("iptables", "-w", "5", "-t", table, "-S").CombinedOutput()
		if strings.Contains(string(out), hostChain(br)) {
			t.Errorf("%s rules of %s left:\n%s", table, br, out)
		}
	}
}

// inNetns runs f on a thread in the network namespace at path; the thread
// is discarded afterwards.
func inNetns(t *testing.T, path string, f func() error) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

// serveHello listens on addr in a pod's namespace and answers each
// connection with "hello from <addr>".
func serveHello(t *testing.T, netns, addr string) {
	t.Helper()
	var ln net.Listener
	if err := inNetns(t, netns, func() (err error) { ln, err = net.Listen("tcp", addr); return err }); err != nil {
		t.Fatalf("listen in %s: %v", netns, err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintf(c, "hello from %s", addr)
			c.Close()
		}
	}()
}

func get(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	return string(b), err
}

func TestNetnsPodsReachEachOtherAcrossNodes(t *testing.T) {
	needNetns(t)
	t.Parallel()
	ctx := context.Background()
	name, cluster := testNet(t)
	base := strings.TrimSuffix(cluster, ".0.0/16")
	n1 := startNetns(t, name+"a", base+".1.0/24", cluster)
	n2 := startNetns(t, name+"b", base+".2.0/24", cluster)
	if _, err := os.Stat(filepath.Join("/sys/class/net", name+"a", "bridge")); err != nil {
		t.Fatalf("no bridge: %v", err)
	}

	a, err := n1.Setup(ctx, Pod{UID: "pod-a", Namespace: "default", Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := n2.Setup(ctx, Pod{UID: "pod-b", Namespace: "default", Name: "b"})
	if err != nil {
		t.Fatal(err)
	}
	if a.IP != base+".1.2" || b.IP != base+".2.2" || a.Gateway != base+".1.1" || a.NetNS != filepath.Join(NetnsDir, name+"a-pod-a") {
		t.Fatalf("a = %+v, b = %+v", a, b)
	}
	serveHello(t, b.NetNS, b.IP+":8080")
	// From the host.
	if got, err := get(b.IP + ":8080"); err != nil || got != "hello from "+b.IP+":8080" {
		t.Fatalf("host → b: %q, %v", got, err)
	}
	// From a pod on the other node's bridge, unmasqueraded.
	var got string
	if err := inNetns(t, a.NetNS, func() (err error) { got, err = get(b.IP + ":8080"); return err }); err != nil || got != "hello from "+b.IP+":8080" {
		t.Fatalf("a → b: %q, %v", got, err)
	}
	// Loopback is the pod's own.
	serveHello(t, a.NetNS, "127.0.0.1:8081")
	if err := inNetns(t, a.NetNS, func() (err error) { got, err = get("127.0.0.1:8081"); return err }); err != nil || got != "hello from 127.0.0.1:8081" {
		t.Fatalf("a → its loopback: %q, %v", got, err)
	}
	if _, err := get("127.0.0.1:8081"); err == nil {
		t.Fatal("the pod's loopback listener is reachable on the host's loopback")
	}

	// Setup again keeps everything.
	if again, err := n1.Setup(ctx, Pod{UID: "pod-a", IP: "10.0.0.9"}); err != nil || again.IP != a.IP {
		t.Fatalf("setup again: %+v, %v", again, err)
	}
	// A restarted agent adopts pod a and removes a pod it does not know.
	if _, err := n1.Setup(ctx, Pod{UID: "pod-gone"}); err != nil {
		t.Fatal(err)
	}
	restarted, err := NewNetns(NetnsConfig{Bridge: name + "a", PodCIDR: base + ".1.0/24", ClusterCIDR: cluster})
	if err != nil {
		t.Fatal(err)
	}
	if err := restarted.Adopt(ctx, []Pod{{UID: "pod-a"}}); err != nil {
		t.Fatal(err)
	}
	if uids := restarted.namespaces(); len(uids) != 1 || uids[0] != "pod-a" {
		t.Fatalf("namespaces after adopt: %v", uids)
	}
	if linkExists(restarted.vethName("pod-gone")) {
		t.Fatal("the unknown pod's veth is left")
	}
	c, err := restarted.Setup(ctx, Pod{UID: "pod-c"})
	if err != nil || c.IP == a.IP {
		t.Fatalf("a new pod after adopt: %+v, %v (a has %s)", c, err, a.IP)
	}
	if again, err := restarted.Setup(ctx, Pod{UID: "pod-a"}); err != nil || again.IP != a.IP {
		t.Fatalf("setup after adopt: %+v, %v", again, err)
	}

	// Teardown removes the pod's namespace and veth.
	if err := n2.Teardown(ctx, Pod{UID: "pod-b"}); err != nil {
		t.Fatal(err)
	}
	if exists(b.NetNS) || linkExists(n2.vethName("pod-b")) {
		t.Fatal("teardown left the namespace or the veth")
	}
	if err := n2.Teardown(ctx, Pod{UID: "pod-b"}); err != nil {
		t.Fatalf("teardown twice: %v", err)
	}
}

func TestNetnsRedirectsASidecarPodsTraffic(t *testing.T) {
	needNetns(t)
	t.Parallel()
	ctx := context.Background()
	name, cluster := testNet(t)
	base := strings.TrimSuffix(cluster, ".0.0/16")
	n := startNetns(t, name, base+".3.0/24", cluster)
	plain, err := n.Setup(ctx, Pod{UID: "plain"})
	if err != nil {
		t.Fatal(err)
	}
	mesh, err := n.Setup(ctx, Pod{UID: "mesh", Sidecar: true})
	if err != nil {
		t.Fatal(err)
	}
	rules := func(r Result) string {
		out, err := exec.Command("ip", "netns", "exec", filepath.Base(r.NetNS), "iptables", "-w", "5", "-t", "nat", "-S").CombinedOutput()
		if err != nil {
			t.Fatalf("iptables: %v: %s", err, out)
		}
		return string(out)
	}
	if s := rules(plain); strings.Contains(s, "ISTIO") {
		t.Fatalf("a pod without sidecar has redirect rules:\n%s", s)
	}
	s := rules(mesh)
	for _, want := range []string{"-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN", "--to-ports 15001", "--to-ports 15006", "--dport 15000:15090 -j RETURN"} {
		if !strings.Contains(s, want) {
			t.Errorf("rules lack %q:\n%s", want, s)
		}
	}
	// Outbound TCP from root (not the proxy) lands on 15001.
	serveHello(t, mesh.NetNS, "0.0.0.0:15001")
	serveHello(t, plain.NetNS, plain.IP+":80")
	var got string
	if err := inNetns(t, mesh.NetNS, func() (err error) { got, err = get(plain.IP + ":80"); return err }); err != nil || got != "hello from 0.0.0.0:15001" {
		t.Fatalf("outbound from the sidecar pod: %q, %v; want the proxy's answer", got, err)
	}
	// Inbound TCP lands on 15006, but the proxy's own ports are left alone.
	serveHello(t, mesh.NetNS, "0.0.0.0:15006")
	serveHello(t, mesh.NetNS, "0.0.0.0:15021")
	if got, err := get(mesh.IP + ":80"); err != nil || got != "hello from 0.0.0.0:15006" {
		t.Fatalf("inbound to the sidecar pod: %q, %v", got, err)
	}
	if got, err := get(mesh.IP + ":15021"); err != nil || got != "hello from 0.0.0.0:15021" {
		t.Fatalf("inbound to the proxy's port: %q, %v", got, err)
	}
}
