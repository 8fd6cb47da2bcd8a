// Package network gives pods their network identity. Network is the
// plugin interface the agent calls per pod (Setup before the first
// container starts, Teardown after the last one stopped); Host is host mode
// (DESIGN.md, "Pod networking"): pods share the host's network and each
// gets a loopback address of its own from the node's pod CIDR, which its
// apps bind. netns mode (a network namespace per pod on a bridge) will be a
// second implementation of the same interface.
package network
