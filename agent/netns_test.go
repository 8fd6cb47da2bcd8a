package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/weft-mesh/weft/agent/network"
	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
	"github.com/weft-mesh/weft/controlplane/apiserver/apiservertest"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

// needNetns skips a test where pods cannot get network namespaces.
func needNetns(t *testing.T) {
	t.Helper()
	if err := network.Available(); err != nil {
		t.Skipf("netns mode unavailable: %v", err)
	}
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err != nil {
		t.Skipf("ip netns unavailable: %v: %s", err, out)
	}
}

var netnsClusters atomic.Int32

// netnsCluster is a test's own bridge-name prefix and cluster CIDR (a /16
// whose /24s are its nodes' pod CIDRs), unlike other tests' and, very
// likely, other test processes'.
type netnsCluster struct {
	name string // bridge prefix
	base string // "10.X"
}

func newNetnsCluster() netnsCluster {
	n := int(netnsClusters.Add(1))
	pid := os.Getpid()
	return netnsCluster{name: fmt.Sprintf("wta%d%d", pid%100000, n), base: fmt.Sprintf("10.%d", 230+(pid+n)%20)}
}

func (c netnsCluster) bridge(i int) string  { return fmt.Sprintf("%sn%d", c.name, i) }
func (c netnsCluster) podCIDR(i int) string { return fmt.Sprintf("%s.%d.0/24", c.base, i) }
func (c netnsCluster) gateway(i int) string { return fmt.Sprintf("%s.%d.1", c.base, i) }
func (c netnsCluster) inNode(i int, ip string) bool {
	return strings.HasPrefix(ip, fmt.Sprintf("%s.%d.", c.base, i))
}

// startNetnsAgent runs node i of the cluster in netns mode; when the test
// ends its pods, namespaces, veths, bridge and rules must all be gone.
func startNetnsAgent(t *testing.T, srv *apiservertest.Server, c netnsCluster, i int, dnsAddr, xdsAddr string) *fixture {
	t.Helper()
	br := c.bridge(i)
	t.Cleanup(func() { assertNoNetwork(t, br) }) // runs after the agent's cleanup
	return startAgent(t, srv, fmt.Sprintf("%s-node%d", strings.ToLower(t.Name()), i), func(cfg *Config) {
		cfg.NetworkMode, cfg.Bridge, cfg.PodCIDR, cfg.ClusterCIDR = "netns", br, c.podCIDR(i), c.base+".0.0/16"
		cfg.DNSAddr, cfg.XDSAddr = dnsAddr, xdsAddr
	})
}

// assertNoNetwork checks that nothing of a bridge's is left on the host.
func assertNoNetwork(t *testing.T, bridge string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("/sys/class/net", bridge)); err == nil {
		t.Errorf("bridge %s is left", bridge)
	}
	ents, _ := os.ReadDir(network.NetnsDir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), bridge+"-") {
			t.Errorf("network namespace %s is left", e.Name())
		}
	}
	if out, _ := exec.Command("ip", "-o", "link", "show", "master", bridge).CombinedOutput(); strings.TrimSpace(string(out)) != "" && !strings.Contains(string(out), "does not exist") {
		t.Errorf("links on %s are left: %s", bridge, out)
	}
	for _, table := range []string{"filter", "nat"} {
		out, _ := exec.Command("iptables", "-w", "5", "-t", table, "-S").CombinedOutput()
		if strings.Contains(string(out), "WEFT-"+bridge) {
			t.Errorf("%s rules of %s are left:\n%s", table, bridge, out)
		}
	}
}

// waitHeartbeat waits for a heartbeat of the node posted after now: the
// agent runs.
func (f *fixture) waitHeartbeat() {
	f.t.Helper()
	since := time.Now()
	waitFor(f.t, "a heartbeat", func() bool {
		obj, err := f.c.Get(context.Background(), api.LookupName("nodes"), "", f.node)
		if err != nil {
			return false
		}
		for _, c := range obj.(*corev1.Node).Status.Conditions {
			if c.Type == corev1.NodeReady && c.LastHeartbeatTime.After(since) {
				return true
			}
		}
		return false
	})
}

// exec runs argv in a container through the API; it returns stdout,
// stderr and the exit code.
func (f *fixture) exec(pod, container string, argv ...string) (string, string, int) {
	f.t.Helper()
	var out, errb bytes.Buffer
	code, err := f.c.Exec(context.Background(), "default", pod, client.ExecOptions{Container: container, Command: argv, Stdout: &out, Stderr: &errb})
	var ee *client.ExitError
	if err != nil && !errors.As(err, &ee) {
		f.t.Fatalf("exec %q in %s/%s: %v", argv, pod, container, err)
	}
	return out.String(), errb.String(), code
}

// toolsDir is where withTools mounts the test's weft-demo (the host's /tmp,
// where it is built, is not the container's).
const toolsDir = "/opt/weft-test-tools"

// withTools mounts the directory holding weft-demo into every container
// of p, for curl.
func withTools(p *corev1.Pod) *corev1.Pod {
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "tools", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: binDir}}})
	for i := range p.Spec.Containers {
		p.Spec.Containers[i].VolumeMounts = append(p.Spec.Containers[i].VolumeMounts, corev1.VolumeMount{Name: "tools", MountPath: toolsDir, ReadOnly: true})
	}
	return p
}

// curl is "weft-demo curl URL" in a container (see withTools), retried
// until it answers (routes and listeners settle) or 30s pass.
func (f *fixture) curl(pod, container, url string) string {
	f.t.Helper()
	var out, errs string
	var code int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, errs, code = f.exec(pod, container, "sh", "-c", toolsDir+"/weft-demo curl -m 5 "+url)
		if code == 0 {
			return out
		}
	}
	f.t.Fatalf("curl %s in %s/%s: exit %d: %s%s", url, pod, container, code, out, errs)
	return ""
}

// fakeDNS answers flaskapp.default.svc.cluster.local with *ip, and
// NXDOMAIN for every other name.
func fakeDNS(t *testing.T, ip *atomic.Value) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		switch {
		case q.Name != "flaskapp.default.svc.cluster.local.":
			m.Rcode = dns.RcodeNameError
		case q.Qtype == dns.TypeA:
			if s, _ := ip.Load().(string); s != "" {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.ParseIP(s)})
			}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func flaskappPod(name, version string) *corev1.Pod {
	return pod(name, corev1.Container{
		Name: "flaskapp", Image: "registry.ioros.com/docker.io/dustise/flaskapp",
		Env:            []corev1.EnvVar{{Name: "version", Value: version}},
		Ports:          []corev1.ContainerPort{{ContainerPort: 80}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/env/version", Port: intstr.FromInt32(80)}}, PeriodSeconds: 1},
	})
}

func sleepPod(name string) *corev1.Pod {
	return pod(name, corev1.Container{Name: "sleep", Image: "registry.ioros.com/dustise/sleep"})
}

// netnsGone waits until a pod's namespace and veth are gone.
func netnsGone(t *testing.T, bridge string, uid string) {
	t.Helper()
	waitFor(t, "pod "+uid+"'s network namespace to go", func() bool {
		_, err := os.Stat(filepath.Join(network.NetnsDir, bridge+"-"+uid))
		return errors.Is(err, os.ErrNotExist)
	})
}

// TestNetnsPodsReachEachOtherAcrossNodes: two agents in netns mode, each
// with its bridge and pod CIDR; the sleep pod on node 2 reaches flaskapp
// on node 1 by address and by name (DNS at its bridge, forwarded to a
// fake upstream), reaches xDS at its bridge, and sees its own
// resolv.conf, hosts file and host name.
func TestNetnsPodsReachEachOtherAcrossNodes(t *testing.T) {
	needNetns(t)
	t.Parallel()
	srv := apiservertest.Start(t, boltstore.Options{})
	var flaskIP atomic.Value
	dnsAddr := fakeDNS(t, &flaskIP)
	xds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "xds here") }))
	t.Cleanup(xds.Close)
	xdsAddr := strings.TrimPrefix(xds.URL, "http://")
	c := newNetnsCluster()
	n1 := startNetnsAgent(t, srv, c, 1, dnsAddr, xdsAddr)
	n2 := startNetnsAgent(t, srv, c, 2, dnsAddr, xdsAddr)

	n1.create(flaskappPod("flaskapp", "v1"))
	n2.create(withTools(sleepPod("sleep")))
	flask := n1.waitPod("flaskapp", "Ready", ready)
	sleep := n2.waitPod("sleep", "Ready", ready)
	if !c.inNode(1, flask.Status.PodIP) || !c.inNode(2, sleep.Status.PodIP) {
		t.Fatalf("pod IPs %s and %s are not from the nodes' pod CIDRs %s, %s", flask.Status.PodIP, sleep.Status.PodIP, c.podCIDR(1), c.podCIDR(2))
	}
	flaskIP.Store(flask.Status.PodIP)

	// The pod's own files and host name.
	wantResolv := "nameserver " + c.gateway(2) + "\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
	if out, _, code := n2.exec("sleep", "", "cat", "/etc/resolv.conf"); code != 0 || out != wantResolv {
		t.Errorf("/etc/resolv.conf = %q (exit %d), want %q", out, code, wantResolv)
	}
	if out, _, _ := n2.exec("sleep", "", "cat", "/etc/hosts"); !strings.Contains(out, sleep.Status.PodIP+"\tsleep\n") || !strings.Contains(out, "127.0.0.1\tlocalhost") {
		t.Errorf("/etc/hosts = %q", out)
	}
	if out, _, _ := n2.exec("sleep", "", "cat", "/proc/sys/kernel/hostname"); out != "sleep\n" {
		t.Errorf("host name %q", out)
	}
	if out, _, _ := n2.exec("sleep", "", "sh", "-c", "echo $WEFT_XDS_ADDR ${POD_IP-unset}"); out != c.gateway(2)+":15010 unset\n" {
		t.Errorf("WEFT_XDS_ADDR and POD_IP: %q", out)
	}

	// Across nodes, by address, without NAT: flaskapp sees the sleep pod's address.
	if got := n2.curl("sleep", "", "http://"+flask.Status.PodIP+"/env/version"); got != "v1" {
		t.Errorf("by address: %q", got)
	}
	// By name: the pod's resolver asks its bridge, which forwards upstream.
	if got := n2.curl("sleep", "", "http://flaskapp/env/version"); got != "v1" {
		t.Errorf("by name: %q", got)
	}
	// The node's DNS answers on its bridge, for the host too.
	m := new(dns.Msg)
	m.SetQuestion("flaskapp.default.svc.cluster.local.", dns.TypeA)
	if r, err := dns.Exchange(m, c.gateway(1)+":53"); err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != flask.Status.PodIP {
		t.Errorf("DNS at the bridge: %v, %v", r, err)
	}
	// xDS at the bridge address.
	if got := n2.curl("sleep", "", "http://$WEFT_XDS_ADDR/"); got != "xds here" {
		t.Errorf("xDS through the bridge: %q", got)
	}

	// Deleting the pods removes their namespaces.
	for _, p := range []struct {
		f   *fixture
		pod *corev1.Pod
		br  string
	}{{n1, flask, c.bridge(1)}, {n2, sleep, c.bridge(2)}} {
		if _, err := p.f.c.Delete(context.Background(), api.LookupName("pods"), "default", p.pod.Name); err != nil {
			t.Fatal(err)
		}
		netnsGone(t, p.br, string(p.pod.UID))
	}
}

// TestNetnsSidecarPodIsRedirected: a pod with a weft-proxy container
// gets Istio's redirect rules; its app's outbound TCP lands on the
// proxy's port 15001 while the proxy, running as 1337, goes out directly.
func TestNetnsSidecarPodIsRedirected(t *testing.T) {
	needNetns(t)
	t.Parallel()
	srv := apiservertest.Start(t, boltstore.Options{})
	c := newNetnsCluster()
	f := startNetnsAgent(t, srv, c, 1, "", "")
	f.create(flaskappPod("target", "v1"))
	// A stand-in proxy: flaskapp on the proxy's ports, answering "proxy".
	mesh := pod("mesh",
		corev1.Container{Name: "app", Image: "registry.ioros.com/dustise/sleep"},
		corev1.Container{Name: "weft-proxy", Image: "registry.ioros.com/docker.io/dustise/flaskapp",
			Args:            []string{"--listen", "0.0.0.0:15001", "--listen", "0.0.0.0:15006"},
			Env:             []corev1.EnvVar{{Name: "version", Value: "proxy"}},
			SecurityContext: &corev1.SecurityContext{RunAsUser: new(int64(1337)), RunAsGroup: new(int64(1337))}},
	)
	f.create(withTools(mesh))
	target := f.waitPod("target", "Ready", ready)
	got := f.waitPod("mesh", "Ready", ready)

	out, err := exec.Command("ip", "netns", "exec", c.bridge(1)+"-"+string(got.UID), "iptables", "-w", "5", "-t", "nat", "-S").CombinedOutput()
	if err != nil {
		t.Fatalf("iptables in the pod: %v: %s", err, out)
	}
	for _, want := range []string{"-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN", "-j REDIRECT --to-ports 15001", "-j REDIRECT --to-ports 15006"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the pod's rules lack %q:\n%s", want, out)
		}
	}
	if out, _, _ := f.exec("mesh", "weft-proxy", "id", "-u"); out != "1337\n" {
		t.Errorf("the proxy container runs as %q, want 1337", out)
	}
	obs, err := readObserved(f.dataDir, string(got.UID))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", obs["weft-proxy"].State.PID)); !strings.Contains(string(st), "\nUid:\t1337\t1337\t1337\t1337\n") {
		t.Errorf("the proxy's process status:\n%s", st)
	}
	url := "http://" + target.Status.PodIP + "/env/version"
	if got := f.curl("mesh", "app", url); got != "proxy" {
		t.Errorf("the app's outbound call answered %q, want the proxy's", got)
	}
	if got := f.curl("mesh", "weft-proxy", url); got != "v1" {
		t.Errorf("the proxy's own call answered %q, want the target's", got)
	}
	// Inbound to the pod lands on 15006.
	if _, body := httpGet(t, "http://"+got.Status.PodIP+"/env/version"); body != "proxy" {
		t.Errorf("inbound answered %q", body)
	}
	// A pod on the host's network gets no namespace, and the node's address.
	hn := sleepPod("hostnet")
	hn.Spec.HostNetwork = true
	f.create(hn)
	if p := f.waitPod("hostnet", "Ready", ready); p.Status.PodIP != f.cfg.NodeIP {
		t.Errorf("host-network pod IP %s, want the node's %s", p.Status.PodIP, f.cfg.NodeIP)
	} else if _, err := os.Stat(filepath.Join(network.NetnsDir, c.bridge(1)+"-"+string(p.UID))); err == nil {
		t.Error("a host-network pod got a network namespace")
	}
}

// TestNetnsAgentRestartCleansUp: a pod deleted while its agent was down,
// and a namespace no pod owns, are removed when the agent starts again;
// a running pod keeps its namespace and address.
func TestNetnsAgentRestartCleansUp(t *testing.T) {
	needNetns(t)
	t.Parallel()
	srv := apiservertest.Start(t, boltstore.Options{})
	c := newNetnsCluster()
	f := startNetnsAgent(t, srv, c, 1, "", "")
	f.create(flaskappPod("keep", "v1"))
	f.create(sleepPod("gone"))
	keep := f.waitPod("keep", "Ready", ready)
	gone := f.waitPod("gone", "Ready", ready)

	f.stop() // as after a crash: pods and network stay
	if _, body := httpGet(t, "http://"+keep.Status.PodIP+"/env/version"); body != "v1" {
		t.Fatalf("the pod stopped with the agent: %q", body)
	}
	if _, err := f.c.Delete(context.Background(), api.LookupName("pods"), "default", "gone"); err != nil {
		t.Fatal(err)
	}
	stray := c.bridge(1) + "-stray"
	if out, err := exec.Command("ip", "netns", "add", stray).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	f.run()
	netnsGone(t, c.bridge(1), string(gone.UID))
	netnsGone(t, c.bridge(1), "stray")
	again := f.waitPod("keep", "Ready after the restart", func(p *corev1.Pod) bool {
		return ready(p) && containerStatus(p, "flaskapp").RestartCount == 0
	})
	if again.Status.PodIP != keep.Status.PodIP {
		t.Fatalf("address changed from %s to %s", keep.Status.PodIP, again.Status.PodIP)
	}
	if _, body := httpGet(t, "http://"+keep.Status.PodIP+"/env/version"); body != "v1" {
		t.Fatalf("after the restart: %q", body)
	}
	// A new pod does not get the kept pod's address.
	f.create(sleepPod("new"))
	if p := f.waitPod("new", "Ready", ready); p.Status.PodIP == keep.Status.PodIP {
		t.Fatalf("the new pod got the kept pod's address %s", p.Status.PodIP)
	}
	// Asked to, the agent removes everything when it stops.
	f.stop()
	f.cfg.ResetOnExit = true
	f.run()
	f.waitHeartbeat()
	obs, err := readObserved(f.dataDir, string(keep.UID))
	if err != nil || !obs["flaskapp"].Running() {
		t.Fatalf("observed %+v, %v", obs, err)
	}
	f.stop()
	assertNoNetwork(t, c.bridge(1))
	if processAlive(obs["flaskapp"].State.PID) {
		t.Fatal("the pod still runs after the agent reset on exit")
	}
}
