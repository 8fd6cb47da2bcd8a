package network

import (
	"context"
	"errors"
)

// Pod names the pod a network is set up for.
type Pod struct {
	UID, Namespace, Name string
	// IP is the address the pod had before (an agent restart re-adopting
	// it); Setup keeps it when it can.
	IP string
	// Sidecar says the pod has the weft-proxy sidecar: netns mode then
	// redirects the pod's TCP traffic to it (Istio's scheme).
	Sidecar bool
}

// Result is a pod's network identity.
type Result struct {
	IP string
	// Env is added to every container's environment.
	Env map[string]string
	// NetNS is the network namespace every container of the pod joins (a
	// path); "" means the host's.
	NetNS string
	// Gateway is the node's address as the pod reaches it (the bridge's),
	// where the agent serves DNS and xDS to pods; "" in host mode.
	Gateway string
}

// Network sets pods' networking up and down.
type Network interface {
	// Mode is "host" or "netns".
	Mode() string
	// Adopt is called once, before any Setup, with the pods the agent
	// has on disk (an agent restart): their addresses stay theirs, and
	// whatever this network made for a pod not in the list is removed.
	Adopt(ctx context.Context, pods []Pod) error
	// Setup gives a pod its network; it is idempotent, and keeps what an
	// earlier Setup made for the pod (its containers may run in it).
	Setup(ctx context.Context, pod Pod) (Result, error)
	// Teardown removes what Setup made; only pod.UID is needed.
	Teardown(ctx context.Context, pod Pod) error
}

// Modes of the agent's network (DESIGN.md, "Pod networking").
const (
	ModeAuto  = "auto"
	ModeHost  = "host"
	ModeNetns = "netns"
)

// ErrExhausted is returned when the pod CIDR has no free address.
var ErrExhausted = errors.New("no free address in the pod CIDR")
