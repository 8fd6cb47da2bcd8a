package network

import (
	"fmt"
	"net/netip"
	"strings"
)

// Istio's sidecar ports and proxy identity (istio-iptables' defaults).
const (
	// ProxyUID is the user (and group) the sidecar runs as; its own
	// traffic is never redirected.
	ProxyUID = 1337
	// OutboundPort receives the pod's outbound TCP (Envoy's virtualOutbound).
	OutboundPort = 15001
	// InboundPort receives the pod's inbound TCP (Envoy's virtualInbound).
	InboundPort = 15006
	// ProxyPorts are the proxy's own ports (admin 15000, xDS, status
	// 15021, metrics 15090...): inbound traffic to them is not redirected.
	ProxyPortsFirst, ProxyPortsLast = 15000, 15090
	// XDSPort is where pods reach xDS at their node's bridge address.
	XDSPort = 15010
	// DNSPort is where pods reach DNS at their node's bridge address.
	DNSPort = 53
)

// redirectRules is the iptables-restore input that sends a pod's TCP
// through its sidecar, as istio-iptables writes it: outbound TCP to
// OutboundPort, inbound TCP to InboundPort, except the proxy's own
// traffic (uid and gid ProxyUID), the pod's loopback traffic, inbound
// traffic to the proxy's ports and DNS over TCP to the node.
// Nothing is redirected for UDP.
func redirectRules(uid int, nodeDNS netip.Addr) string {
	u := fmt.Sprint(uid)
	lines := []string{
		"*nat",
		":PREROUTING ACCEPT [0:0]",
		":INPUT ACCEPT [0:0]",
		":OUTPUT ACCEPT [0:0]",
		":POSTROUTING ACCEPT [0:0]",
		":ISTIO_INBOUND - [0:0]",
		":ISTIO_IN_REDIRECT - [0:0]",
		":ISTIO_OUTPUT - [0:0]",
		":ISTIO_REDIRECT - [0:0]",
		"-A PREROUTING -p tcp -j ISTIO_INBOUND",
		"-A OUTPUT -p tcp -j ISTIO_OUTPUT",
		fmt.Sprintf("-A ISTIO_INBOUND -p tcp -m tcp --dport %d:%d -j RETURN", ProxyPortsFirst, ProxyPortsLast),
		"-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT",
		fmt.Sprintf("-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports %d", InboundPort),
		// The proxy's connections to the app, from 127.0.0.6.
		"-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN",
		// The proxy calling its own pod by address: inbound.
		"-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m owner --uid-owner " + u + " -j ISTIO_IN_REDIRECT",
		"-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner " + u + " -j RETURN",
		"-A ISTIO_OUTPUT -m owner --uid-owner " + u + " -j RETURN",
		"-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m owner --gid-owner " + u + " -j ISTIO_IN_REDIRECT",
		"-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner " + u + " -j RETURN",
		"-A ISTIO_OUTPUT -m owner --gid-owner " + u + " -j RETURN",
		"-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN",
	}
	if nodeDNS.IsValid() {
		lines = append(lines, fmt.Sprintf("-A ISTIO_OUTPUT -d %s/32 -p tcp -m tcp --dport %d -j RETURN", nodeDNS, DNSPort))
	}
	lines = append(lines,
		"-A ISTIO_OUTPUT -j ISTIO_REDIRECT",
		fmt.Sprintf("-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports %d", OutboundPort),
		"COMMIT",
	)
	return strings.Join(lines, "\n") + "\n"
}

// iptRule is one iptables rule in the host's namespace.
type iptRule struct {
	table, chain string
	args         []string
}

// hostRules are what a node's bridge needs in the host's namespace, in
// chains of its own (WEFT-<bridge> in the filter and nat tables), jumped
// to from the built-in chains:
//
//   - filter: accept what is forwarded from and to the bridge (hosts
//     whose FORWARD policy is DROP) and what pods send the node (DNS, xDS);
//   - nat: masquerade what pods send outside the cluster CIDR; nothing
//     between pod CIDRs is translated.
//
// chains lists the chains (table and name), rules their content and
// jumps the rules in built-in chains that lead to them.
func hostRules(bridge string, podCIDR, clusterCIDR netip.Prefix) (chains, rules, jumps []iptRule) {
	c := hostChain(bridge)
	comment := []string{"-m", "comment", "--comment", "weft bridge " + bridge}
	chains = []iptRule{{table: "filter", chain: c}, {table: "nat", chain: c}}
	rules = []iptRule{
		{"filter", c, []string{"-i", bridge, "-j", "ACCEPT"}},
		{"filter", c, []string{"-o", bridge, "-j", "ACCEPT"}},
		{"nat", c, []string{"-d", clusterCIDR.String(), "-j", "RETURN"}},
		{"nat", c, []string{"-j", "MASQUERADE"}},
	}
	jumps = []iptRule{
		{"filter", "FORWARD", append(append([]string{}, comment...), "-j", c)},
		{"filter", "INPUT", append(append([]string{"-i", bridge}, comment...), "-j", c)},
		{"nat", "POSTROUTING", append(append([]string{"-s", podCIDR.String()}, comment...), "-j", c)},
	}
	return chains, rules, jumps
}

// hostChain is the name of a bridge's chains.
func hostChain(bridge string) string { return "WEFT-" + bridge }
