package agent

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"

	"github.com/weft-mesh/weft/agent/network"
	"github.com/weft-mesh/weft/agent/relay"
	"github.com/weft-mesh/weft/agent/runtime"
	"github.com/weft-mesh/weft/dns"
)

// sidecarName is the injected proxy's container name (controlplane/inject):
// a pod with it gets netns mode's redirect rules.
const sidecarName = "weft-proxy"

// networkStateFile, in the data directory, records netns mode's node
// network so that Reset can remove it without the agent's configuration.
const networkStateFile = "network.json"

// networkState is what networkStateFile holds.
type networkState struct {
	Mode        string `json:"mode"`
	Bridge      string `json:"bridge"`
	PodCIDR     string `json:"podCIDR"`
	ClusterCIDR string `json:"clusterCIDR"`
}

// startNetwork makes the node's network and, in netns mode, serves DNS
// and xDS to pods at the bridge address. stop ends the relays; the
// bridge and rules stay for the pods that outlive the agent.
func (a *Agent) startNetwork(ctx context.Context) (stop func(), err error) {
	stop = func() {}
	if a.cfg.Network != nil {
		a.net = a.cfg.Network
		return stop, nil
	}
	if a.cfg.NetworkMode != network.ModeNetns {
		if a.net, err = network.NewHost(a.cfg.PodCIDR); err != nil {
			return stop, fmt.Errorf("agent: %w", err)
		}
		return stop, nil
	}
	n, err := network.NewNetns(network.NetnsConfig{Bridge: a.cfg.Bridge, PodCIDR: a.cfg.PodCIDR, ClusterCIDR: a.cfg.ClusterCIDR})
	if err != nil {
		return stop, fmt.Errorf("agent: %w", err)
	}
	nc := n.Config()
	// Recorded first: whatever Start makes, Reset can find.
	st := networkState{Mode: network.ModeNetns, Bridge: nc.Bridge, PodCIDR: nc.PodCIDR, ClusterCIDR: nc.ClusterCIDR}
	if err := runtime.WriteJSON(filepath.Join(a.cfg.DataDir, networkStateFile), st); err != nil {
		return stop, fmt.Errorf("agent: %w", err)
	}
	if err := n.Start(ctx); err != nil {
		return stop, fmt.Errorf("agent: netns network: %w", err)
	}
	a.net = n
	gw := n.Gateway().String()
	var closers []func() error
	var wg sync.WaitGroup
	stop = func() {
		for _, c := range closers {
			_ = c()
		}
		wg.Wait()
	}
	serve := func(what string, s interface{ Serve() error }) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Serve(); err != nil {
				a.log.Error("relay stopped", zap.String("relay", what), zap.Error(err))
			}
		}()
	}
	if a.cfg.DNSAddr != "" {
		addr := net.JoinHostPort(gw, strconv.Itoa(network.DNSPort))
		u, err := relay.ListenUDP(addr, a.cfg.DNSAddr)
		if err != nil {
			stop()
			return func() {}, fmt.Errorf("agent: DNS for pods: %w", err)
		}
		closers = append(closers, u.Close)
		serve("dns/udp", u)
		t, err := relay.ListenTCP(addr, a.cfg.DNSAddr)
		if err != nil {
			stop()
			return func() {}, fmt.Errorf("agent: DNS for pods: %w", err)
		}
		closers = append(closers, t.Close)
		serve("dns/tcp", t)
	} else {
		a.log.Warn("no DNS address given: pods' names do not resolve")
	}
	if a.cfg.XDSAddr != "" {
		t, err := relay.ListenTCP(net.JoinHostPort(gw, strconv.Itoa(network.XDSPort)), a.cfg.XDSAddr)
		if err != nil {
			stop()
			return func() {}, fmt.Errorf("agent: xDS for pods: %w", err)
		}
		closers = append(closers, t.Close)
		serve("xds", t)
	}
	a.log.Info("netns network ready", zap.String("bridge", nc.Bridge), zap.String("podCIDR", nc.PodCIDR), zap.String("gateway", gw))
	return stop, nil
}

// adoptPods hands the network the pods on disk (an agent restart): their
// addresses stay theirs; leftovers of pods not on disk are removed.
func (a *Agent) adoptPods(ctx context.Context) error {
	uids, err := a.rt.Pods()
	if err != nil {
		return err
	}
	pods := make([]network.Pod, 0, len(uids))
	for _, uid := range uids {
		var rec podRecord
		_ = runtime.ReadJSON(filepath.Join(a.rt.PodDir(uid), podRecordFile), &rec)
		pods = append(pods, network.Pod{UID: uid, Namespace: rec.Namespace, Name: rec.Name, IP: rec.PodIP})
	}
	return a.net.Adopt(ctx, pods)
}

// xdsForPods is WEFT_XDS_ADDR for a pod with network res.
func (a *Agent) xdsForPods(res network.Result) string {
	if res.Gateway != "" {
		return net.JoinHostPort(res.Gateway, strconv.Itoa(network.XDSPort))
	}
	return a.cfg.XDSAddr
}

// hasSidecar reports whether the pod runs weft-proxy: as a native sidecar
// (an init container, as weftd injects it) or as an app container (pods
// injected before, or by hand).
func hasSidecar(pod *corev1.Pod) bool {
	return containerOf(pod, sidecarName) != nil
}

// Files in a pod's directory that netns mode mounts into its containers.
const (
	podResolvConf = "resolv.conf"
	podHosts      = "hosts"
)

// writePodFiles writes the pod's /etc/resolv.conf and /etc/hosts into its
// directory and returns the mounts that put them in place ("" source:
// left as the host's).
func writePodFiles(dir string, pod *corev1.Pod, podIP, nameserver, zone string) ([]runtime.Mount, error) {
	var mounts []runtime.Mount
	if rc, ok := resolvConf(pod, nameserver, zone); ok {
		p := filepath.Join(dir, podResolvConf)
		if err := os.WriteFile(p, []byte(rc), 0o644); err != nil {
			return nil, fmt.Errorf("pod resolv.conf: %w", err)
		}
		mounts = append(mounts, runtime.Mount{Source: p, Target: "/etc/resolv.conf", ReadOnly: true})
	}
	p := filepath.Join(dir, podHosts)
	if err := os.WriteFile(p, []byte(hostsFile(pod, podIP, zone)), 0o644); err != nil {
		return nil, fmt.Errorf("pod hosts file: %w", err)
	}
	mounts = append(mounts, runtime.Mount{Source: p, Target: "/etc/hosts", ReadOnly: true})
	return mounts, nil
}

// resolvConf is the pod's resolv.conf by its dnsPolicy and dnsConfig, as
// the kubelet makes it; ok is false for dnsPolicy Default (the node's).
func resolvConf(pod *corev1.Pod, nameserver, zone string) (string, bool) {
	var servers, search, options []string
	switch pod.Spec.DNSPolicy {
	case corev1.DNSDefault:
		return "", false
	case corev1.DNSNone:
	default: // ClusterFirst, ClusterFirstWithHostNet
		for _, line := range strings.Split(dns.ResolvConf(nameserver, pod.Namespace, zone), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			switch f[0] {
			case "nameserver":
				servers = append(servers, f[1])
			case "search":
				search = append(search, f[1:]...)
			case "options":
				options = append(options, f[1:]...)
			}
		}
	}
	if dc := pod.Spec.DNSConfig; dc != nil {
		servers = append(servers, dc.Nameservers...)
		search = append(search, dc.Searches...)
		for _, o := range dc.Options {
			opt := o.Name
			if o.Value != nil {
				opt += ":" + *o.Value
			}
			// A pod's option replaces the default of the same name.
			options = removeOption(options, o.Name)
			options = append(options, opt)
		}
	}
	var b strings.Builder
	for _, s := range dedup(servers) {
		b.WriteString("nameserver " + s + "\n")
	}
	if s := dedup(search); len(s) > 0 {
		b.WriteString("search " + strings.Join(s, " ") + "\n")
	}
	if len(options) > 0 {
		b.WriteString("options " + strings.Join(options, " ") + "\n")
	}
	return b.String(), true
}

func removeOption(opts []string, name string) []string {
	out := opts[:0:0]
	for _, o := range opts {
		if n, _, _ := strings.Cut(o, ":"); n != name {
			out = append(out, o)
		}
	}
	return out
}

// podHostname is the pod's host name: spec.hostname, else its name (63
// characters at most, as the kubelet truncates it).
func podHostname(pod *corev1.Pod) string {
	h := pod.Spec.Hostname
	if h == "" {
		h = pod.Name
	}
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return h
}

// hostsFile is the kubelet's managed /etc/hosts of a pod.
func hostsFile(pod *corev1.Pod, podIP, zone string) string {
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file.\n")
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
	h := podHostname(pod)
	if sub := pod.Spec.Subdomain; sub != "" {
		fmt.Fprintf(&b, "%s\t%s.%s.%s.svc.%s\t%s\n", podIP, h, sub, pod.Namespace, strings.Trim(zone, "."), h)
	} else {
		fmt.Fprintf(&b, "%s\t%s\n", podIP, h)
	}
	if len(pod.Spec.HostAliases) > 0 {
		b.WriteString("\n# Entries added by HostAliases.\n")
		for _, ha := range pod.Spec.HostAliases {
			fmt.Fprintf(&b, "%s\t%s\n", ha.IP, strings.Join(ha.Hostnames, "\t"))
		}
	}
	return b.String()
}

// runAs is who a container runs as: its securityContext's runAsUser and
// runAsGroup; nil when neither is set (the agent's own user). A group
// without a user keeps uid 0; a user without a group gets gid 0, as a
// container runtime does for an image without /etc/passwd. The pod-level
// securityContext is not applied (the API warns that it is not enforced).
func runAs(c *corev1.Container) *runtime.User {
	sc := c.SecurityContext
	if sc == nil || (sc.RunAsUser == nil && sc.RunAsGroup == nil) {
		return nil
	}
	u := &runtime.User{}
	if sc.RunAsUser != nil {
		u.UID = int(*sc.RunAsUser)
	}
	if sc.RunAsGroup != nil {
		u.GID = int(*sc.RunAsGroup)
	}
	return u
}

// hostModeProxyEnv sends a sidecar pod's outbound HTTP through its proxy in
// host mode, where no iptables rule can (DESIGN.md, "Pod networking"): the
// proxy serves an HTTP proxy on the pod's IP at 15001. Loopback and the
// pod's own address stay direct. In netns mode the redirect rules do it.
func hostModeProxyEnv(mode string, pod *corev1.Pod, podIP string) map[string]string {
	if mode != network.ModeHost || !hasSidecar(pod) || podIP == "" {
		return nil
	}
	proxy := "http://" + net.JoinHostPort(podIP, "15001")
	noProxy := "localhost,127.0.0.1," + podIP
	return map[string]string{"HTTP_PROXY": proxy, "http_proxy": proxy, "NO_PROXY": noProxy, "no_proxy": noProxy}
}
