// Package network gives pods their network identity (DESIGN.md, "Pod
// networking"). Network is the plugin interface the agent calls per pod:
// Adopt once at start with the pods on disk, Setup before the first
// container starts, Teardown after the last one stopped.
//
// Two implementations:
//
//   - Host (host mode): pods share the host's network and each gets a
//     loopback address of its own from the node's pod CIDR, which its
//     apps bind ($POD_IP).
//   - Netns (netns mode, Linux and root): each pod gets a network
//     namespace named <bridge>-<pod uid>, a veth pair to the node's bridge,
//     an address from the pod CIDR (the bridge has the first one) and a
//     default route via the bridge, like a CNI bridge plugin. Pods with
//     the weft-proxy sidecar get Istio's redirect rules in their namespace
//     (outbound TCP to 15001, inbound to 15006, the proxy's uid 1337 and
//     loopback excluded). Netns.Start makes the bridge, turns forwarding on
//     and adds the host's rules; Netns.Remove deletes all of it. Bridges of
//     one machine route to each other through the host's connected routes;
//     nothing between pod CIDRs is translated.
//
// Netns drives iproute2's ip and iptables; both must be installed.
package network
