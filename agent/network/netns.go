package network

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"time"
)

// NetnsDir is where "ip netns" keeps named network namespaces.
const NetnsDir = "/run/netns"

// NetnsConfig configures netns mode on one node.
type NetnsConfig struct {
	// Bridge is the node's bridge (1-15 lowercase letters and digits,
	// e.g. weft0): nodes sharing a machine each have their own.
	Bridge string
	// PodCIDR is the node's pod range, a private non-loopback IPv4
	// prefix such as 10.244.1.0/24; the bridge gets its first address.
	PodCIDR string
	// ClusterCIDR holds every node's pod range; what pods send outside it
	// is masqueraded. Default: the pod CIDR's /16 (10.244.0.0/16).
	ClusterCIDR string
	// ProxyUID is the sidecar's uid and gid (default ProxyUID, 1337).
	ProxyUID int
}

// Netns is netns mode: each pod gets a network namespace of its own,
// named <bridge>-<pod uid>, joined to the node's bridge by a veth pair,
// with an address from the pod CIDR and a default route via the bridge,
// as a CNI bridge plugin does. Pods with the sidecar get Istio's
// redirect rules in their namespace.
//
// Everything it makes is named after the bridge, so Remove (and Adopt)
// can find it again from the configuration alone, after a crash too.
type Netns struct {
	cfg     NetnsConfig
	prefix  netip.Prefix
	cluster netip.Prefix
	gateway netip.Addr
	pool    *pool
}

// NewNetns checks cfg; Start then makes the bridge.
func NewNetns(cfg NetnsConfig) (*Netns, error) {
	if !validBridge(cfg.Bridge) {
		return nil, fmt.Errorf("bridge name %q: want 1-15 lowercase letters and digits, such as weft0", cfg.Bridge)
	}
	p, err := netip.ParsePrefix(cfg.PodCIDR)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR: %w", err)
	}
	p = p.Masked()
	if !p.Addr().Is4() || p.Addr().IsLoopback() || p.Addr().IsUnspecified() || p.Addr().IsMulticast() || p.Addr().IsLinkLocalUnicast() {
		return nil, fmt.Errorf("pod CIDR %s: netns mode needs an IPv4 range that is not loopback, such as 10.244.1.0/24", cfg.PodCIDR)
	}
	if p.Bits() > 29 || p.Bits() < 8 {
		return nil, fmt.Errorf("pod CIDR %s: want a prefix between /8 and /29", cfg.PodCIDR)
	}
	if cfg.ClusterCIDR == "" {
		bits := min(p.Bits(), 16)
		cfg.ClusterCIDR = netip.PrefixFrom(p.Addr(), bits).Masked().String()
	}
	cl, err := netip.ParsePrefix(cfg.ClusterCIDR)
	if err != nil {
		return nil, fmt.Errorf("cluster CIDR: %w", err)
	}
	cl = cl.Masked()
	if !cl.Contains(p.Addr()) || cl.Bits() > p.Bits() {
		return nil, fmt.Errorf("cluster CIDR %s does not hold the pod CIDR %s", cl, p)
	}
	if cfg.ProxyUID == 0 {
		cfg.ProxyUID = ProxyUID
	}
	gw := p.Addr().Next()
	return &Netns{cfg: cfg, prefix: p, cluster: cl, gateway: gw, pool: newPool(p, gw)}, nil
}

func validBridge(s string) bool {
	if s == "" || len(s) > 15 {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// Available says why netns mode cannot run here, or nil: it needs Linux,
// root, and iproute2's ip and iptables.
func Available() error {
	if goruntime.GOOS != "linux" {
		return fmt.Errorf("netns mode needs Linux (this is %s)", goruntime.GOOS)
	}
	if os.Geteuid() != 0 {
		return errors.New("netns mode needs root")
	}
	for _, tool := range []string{"ip", "iptables", "iptables-restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("netns mode needs %s (Debian: apt-get install iproute2 iptables): %w", tool, err)
		}
	}
	return nil
}

// Mode implements Network.
func (n *Netns) Mode() string { return ModeNetns }

// Gateway is the bridge's address: the node as its pods reach it.
func (n *Netns) Gateway() netip.Addr { return n.gateway }

// Config is the configuration with its defaults filled in.
func (n *Netns) Config() NetnsConfig { return n.cfg }

// Start makes the node's side, idempotently: the bridge with the pod
// CIDR's first address, IPv4 forwarding, and the host's rules (see
// hostRules). Routes between the bridges of one machine are the kernel's
// own (each bridge's connected route).
func (n *Netns) Start(ctx context.Context) error {
	if err := Available(); err != nil {
		return err
	}
	br := n.cfg.Bridge
	if linkExists(br) {
		if _, err := os.Stat(filepath.Join("/sys/class/net", br, "bridge")); err != nil {
			return fmt.Errorf("network device %s exists and is not a bridge", br)
		}
	} else if _, err := ip(ctx, "", "link", "add", br, "type", "bridge"); err != nil && !linkExists(br) {
		return fmt.Errorf("make bridge %s: %w", br, err)
	}
	addr := netip.PrefixFrom(n.gateway, n.prefix.Bits()).String()
	out, err := ip(ctx, "", "-4", "-o", "addr", "show", "dev", br)
	if err != nil {
		return fmt.Errorf("bridge %s: %w", br, err)
	}
	if !strings.Contains(out, " "+addr+" ") {
		if _, err := ip(ctx, "", "addr", "add", addr, "dev", br); err != nil {
			return fmt.Errorf("address bridge %s: %w", br, err)
		}
	}
	if _, err := ip(ctx, "", "link", "set", br, "up"); err != nil {
		return fmt.Errorf("bridge %s up: %w", br, err)
	}
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644); err != nil {
		return fmt.Errorf("turn IPv4 forwarding on: %w", err)
	}
	chains, rules, jumps := hostRules(br, n.prefix, n.cluster)
	for _, c := range chains {
		if !iptChainExists(ctx, c.table, c.chain) {
			if _, err := iptables(ctx, "-t", c.table, "-N", c.chain); err != nil && !iptChainExists(ctx, c.table, c.chain) {
				return fmt.Errorf("host rules: %w", err)
			}
		}
		if _, err := iptables(ctx, "-t", c.table, "-F", c.chain); err != nil {
			return fmt.Errorf("host rules: %w", err)
		}
	}
	for _, r := range rules {
		if _, err := iptables(ctx, append([]string{"-t", r.table, "-A", r.chain}, r.args...)...); err != nil {
			return fmt.Errorf("host rules: %w", err)
		}
	}
	for _, j := range jumps {
		if _, err := iptables(ctx, append([]string{"-t", j.table, "-C", j.chain}, j.args...)...); err == nil {
			continue
		}
		if _, err := iptables(ctx, append([]string{"-t", j.table, "-I", j.chain, "1"}, j.args...)...); err != nil {
			return fmt.Errorf("host rules: %w", err)
		}
	}
	return nil
}

// Remove deletes everything of this node's network: every pod's
// namespace and veth, the host's rules and the bridge. The node's pods
// must be stopped (or about to be).
func (n *Netns) Remove(ctx context.Context) error {
	var errs []error
	for _, uid := range n.namespaces() {
		if err := n.remove(ctx, uid); err != nil {
			errs = append(errs, err)
		}
		n.pool.release(uid)
	}
	chains, _, jumps := hostRules(n.cfg.Bridge, n.prefix, n.cluster)
	for _, j := range jumps {
		for range 10 { // duplicates, if any
			if _, err := iptables(ctx, append([]string{"-t", j.table, "-D", j.chain}, j.args...)...); err != nil {
				break
			}
		}
	}
	for _, c := range chains {
		if !iptChainExists(ctx, c.table, c.chain) {
			continue
		}
		if _, err := iptables(ctx, "-t", c.table, "-F", c.chain); err != nil {
			errs = append(errs, err)
		}
		if _, err := iptables(ctx, "-t", c.table, "-X", c.chain); err != nil {
			errs = append(errs, err)
		}
	}
	if linkExists(n.cfg.Bridge) {
		if _, err := ip(ctx, "", "link", "del", n.cfg.Bridge); err != nil && linkExists(n.cfg.Bridge) {
			errs = append(errs, fmt.Errorf("remove bridge %s: %w", n.cfg.Bridge, err))
		}
	}
	return errors.Join(errs...)
}

// Adopt implements Network: pods with a namespace keep its address;
// namespaces of this bridge that no listed pod owns are removed.
func (n *Netns) Adopt(ctx context.Context, pods []Pod) error {
	keep := map[string]bool{}
	for _, p := range pods {
		keep[p.UID] = true
		if a, ok := n.podAddr(ctx, n.nsName(p.UID)); ok {
			n.pool.reserve(p.UID, a)
		} else if a, err := netip.ParseAddr(p.IP); err == nil {
			n.pool.reserve(p.UID, a)
		}
	}
	var errs []error
	for _, uid := range n.namespaces() {
		if !keep[uid] {
			errs = append(errs, n.remove(ctx, uid))
		}
	}
	return errors.Join(errs...)
}

// Setup implements Network.
func (n *Netns) Setup(ctx context.Context, pod Pod) (Result, error) {
	ns := n.nsName(pod.UID)
	if exists(filepath.Join(NetnsDir, ns)) {
		if a, ok := n.podAddr(ctx, ns); ok {
			if got, ok := n.pool.get(pod.UID, a); !ok || got != a {
				return Result{}, fmt.Errorf("pod %s/%s: its network namespace has %s, which is not free", pod.Namespace, pod.Name, a)
			}
			if err := n.adopt(ctx, pod); err != nil {
				return Result{}, err
			}
			return n.result(ns, a), nil
		}
		// Half made (the agent stopped while making it): start over.
		if err := n.remove(ctx, pod.UID); err != nil {
			return Result{}, err
		}
	}
	want, _ := netip.ParseAddr(pod.IP)
	a, ok := n.pool.get(pod.UID, want)
	if !ok {
		return Result{}, fmt.Errorf("pod %s/%s: %w (%s)", pod.Namespace, pod.Name, ErrExhausted, n.prefix)
	}
	if err := n.create(ctx, pod, a); err != nil {
		_ = n.remove(context.WithoutCancel(ctx), pod.UID)
		n.pool.release(pod.UID)
		return Result{}, fmt.Errorf("pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return n.result(ns, a), nil
}

func (n *Netns) result(ns string, a netip.Addr) Result {
	return Result{IP: a.String(), NetNS: filepath.Join(NetnsDir, ns), Gateway: n.gateway.String()}
}

// create makes the pod's namespace, veth pair, address, routes and, with
// a sidecar, its redirect rules.
func (n *Netns) create(ctx context.Context, pod Pod, a netip.Addr) error {
	ns, veth := n.nsName(pod.UID), n.vethName(pod.UID)
	if _, err := ip(ctx, "", "netns", "add", ns); err != nil {
		return fmt.Errorf("make network namespace: %w", err)
	}
	if _, err := ipBatch(ctx, "",
		"link add "+veth+" type veth peer name eth0 netns "+ns,
		"link set "+veth+" master "+n.cfg.Bridge+" up",
	); err != nil {
		return fmt.Errorf("make veth pair: %w", err)
	}
	if _, err := ipBatch(ctx, ns,
		"link set lo up",
		"addr add "+netip.PrefixFrom(a, n.prefix.Bits()).String()+" dev eth0",
		"link set eth0 up",
		"route add default via "+n.gateway.String()+" dev eth0",
	); err != nil {
		return fmt.Errorf("address the pod: %w", err)
	}
	if pod.Sidecar {
		if err := n.redirect(ctx, ns); err != nil {
			return err
		}
	}
	return nil
}

// adopt completes an existing namespace: the veth on the bridge (which
// may have been made again) and, with a sidecar, the redirect rules.
func (n *Netns) adopt(ctx context.Context, pod Pod) error {
	ns, veth := n.nsName(pod.UID), n.vethName(pod.UID)
	if _, err := ip(ctx, "", "link", "set", veth, "master", n.cfg.Bridge, "up"); err != nil {
		return fmt.Errorf("pod %s/%s: attach its veth: %w", pod.Namespace, pod.Name, err)
	}
	if pod.Sidecar {
		if _, err := run(ctx, "", "ip", "netns", "exec", ns, "iptables", "-w", "5", "-t", "nat", "-S", "ISTIO_OUTPUT"); err != nil {
			return n.redirect(ctx, ns)
		}
	}
	return nil
}

func (n *Netns) redirect(ctx context.Context, ns string) error {
	if _, err := run(ctx, redirectRules(n.cfg.ProxyUID, n.gateway), "ip", "netns", "exec", ns, "iptables-restore", "-w", "5"); err != nil {
		return fmt.Errorf("redirect rules: %w", err)
	}
	return nil
}

// Teardown implements Network.
func (n *Netns) Teardown(ctx context.Context, pod Pod) error {
	defer n.pool.release(pod.UID)
	return n.remove(ctx, pod.UID)
}

// remove deletes a pod's veth pair (its rules and routes go with its
// namespace) and namespace; what is already gone is fine.
func (n *Netns) remove(ctx context.Context, uid string) error {
	var errs []error
	veth := n.vethName(uid)
	if linkExists(veth) {
		if _, err := ip(ctx, "", "link", "del", veth); err != nil && linkExists(veth) {
			errs = append(errs, fmt.Errorf("remove veth %s: %w", veth, err))
		}
	}
	ns := n.nsName(uid)
	if exists(filepath.Join(NetnsDir, ns)) {
		if _, err := ip(ctx, "", "netns", "del", ns); err != nil && exists(filepath.Join(NetnsDir, ns)) {
			errs = append(errs, fmt.Errorf("remove network namespace %s: %w", ns, err))
		}
	}
	return errors.Join(errs...)
}

// podAddr is the IPv4 address of eth0 in namespace ns.
func (n *Netns) podAddr(ctx context.Context, ns string) (netip.Addr, bool) {
	if !exists(filepath.Join(NetnsDir, ns)) {
		return netip.Addr{}, false
	}
	out, err := ip(ctx, ns, "-4", "-o", "addr", "show", "dev", "eth0")
	if err != nil {
		return netip.Addr{}, false
	}
	f := strings.Fields(out)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "inet" {
			if p, err := netip.ParsePrefix(f[i+1]); err == nil && n.prefix.Contains(p.Addr()) {
				return p.Addr(), true
			}
		}
	}
	return netip.Addr{}, false
}

// namespaces lists the pod UIDs with a namespace of this bridge.
func (n *Netns) namespaces() []string {
	ents, err := os.ReadDir(NetnsDir)
	if err != nil {
		return nil
	}
	var uids []string
	for _, e := range ents {
		if uid, ok := strings.CutPrefix(e.Name(), n.cfg.Bridge+"-"); ok && uid != "" {
			uids = append(uids, uid)
		}
	}
	return uids
}

// nsName is the name of a pod's network namespace. Bridge names have no
// "-", so the prefix tells bridges apart.
func (n *Netns) nsName(uid string) string { return n.cfg.Bridge + "-" + uid }

// vethName is the host side of a pod's veth pair (15 bytes at most).
func (n *Netns) vethName(uid string) string {
	h := sha256.Sum256([]byte(n.cfg.Bridge + "/" + uid))
	return "wv" + hex.EncodeToString(h[:])[:12]
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func linkExists(name string) bool { return exists(filepath.Join("/sys/class/net", name)) }

// ip runs iproute2's ip, in namespace ns when ns is set.
func ip(ctx context.Context, ns string, args ...string) (string, error) {
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	return run(ctx, "", "ip", args...)
}

// ipBatch runs several ip commands in one process.
func ipBatch(ctx context.Context, ns string, cmds ...string) (string, error) {
	args := []string{"-batch", "-"}
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	return run(ctx, strings.Join(cmds, "\n")+"\n", "ip", args...)
}

// iptMu serialises this process's changes to the host's rules.
var iptMu sync.Mutex

// iptables runs iptables on the host's rules, waiting for the xtables
// lock and retrying briefly when a concurrent change got in the way.
func iptables(ctx context.Context, args ...string) (string, error) {
	iptMu.Lock()
	defer iptMu.Unlock()
	args = append([]string{"-w", "5"}, args...)
	var err error
	for attempt := range 5 {
		var out string
		out, err = run(ctx, "", "iptables", args...)
		if err == nil {
			return out, nil
		}
		// 4 is iptables' "resource problem" (a concurrent change).
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 4 {
			return "", err
		}
		select {
		case <-ctx.Done():
			return "", err
		case <-time.After(time.Duration(attempt+1) * 50 * time.Millisecond):
		}
	}
	return "", err
}

func iptChainExists(ctx context.Context, table, chain string) bool {
	_, err := iptables(ctx, "-t", table, "-S", chain)
	return err == nil
}

// run runs a command with stdin and returns its output; its error
// carries the command and what it said.
func run(ctx context.Context, stdin string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), &CommandError{Cmd: name + " " + strings.Join(args, " "), Output: strings.TrimSpace(errb.String() + out.String()), Err: err}
	}
	return out.String(), nil
}

// CommandError is a failed ip or iptables command.
type CommandError struct {
	Cmd    string
	Output string
	Err    error
}

func (e *CommandError) Error() string {
	if e.Output == "" {
		return fmt.Sprintf("%s: %v", e.Cmd, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", e.Cmd, e.Err, e.Output)
}

func (e *CommandError) Unwrap() error { return e.Err }

var _ Network = (*Netns)(nil)
