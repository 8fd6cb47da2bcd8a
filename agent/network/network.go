package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
)

// Pod names the pod a network is set up for.
type Pod struct {
	UID, Namespace, Name string
	// IP is the address the pod had before (an agent restart re-adopting
	// it); Setup keeps it when it can.
	IP string
}

// Result is a pod's network identity.
type Result struct {
	IP string
	// Env is added to every container's environment.
	Env map[string]string
}

// Network sets pods' networking up and down.
type Network interface {
	// Mode is "host" or "netns".
	Mode() string
	Setup(ctx context.Context, pod Pod) (Result, error)
	Teardown(ctx context.Context, pod Pod) error
}

// ErrExhausted is returned when the pod CIDR has no free address.
var ErrExhausted = errors.New("no free address in the pod CIDR")

// Host is host mode: an address per pod from a loopback CIDR.
type Host struct {
	prefix netip.Prefix
	mu     sync.Mutex
	byUID  map[string]netip.Addr
	used   map[netip.Addr]string
	next   netip.Addr
}

// NewHost allocates from cidr (e.g. 127.20.0.0/16), which must be loopback.
func NewHost(cidr string) (*Host, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("pod CIDR: %w", err)
	}
	p = p.Masked()
	if !p.Addr().Is4() || !p.Addr().IsLoopback() {
		return nil, fmt.Errorf("pod CIDR %s: host mode needs an IPv4 loopback range such as 127.20.0.0/16", cidr)
	}
	if p.Bits() > 30 {
		return nil, fmt.Errorf("pod CIDR %s is too small", cidr)
	}
	return &Host{prefix: p, byUID: map[string]netip.Addr{}, used: map[netip.Addr]string{}, next: p.Addr().Next()}, nil
}

// Mode implements Network.
func (h *Host) Mode() string { return "host" }

// Setup implements Network.
func (h *Host) Setup(_ context.Context, pod Pod) (Result, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a, ok := h.byUID[pod.UID]; ok {
		return Result{IP: a.String()}, nil
	}
	if a, err := netip.ParseAddr(pod.IP); err == nil && h.usable(a) {
		if _, taken := h.used[a]; !taken {
			h.take(pod.UID, a)
			return Result{IP: a.String()}, nil
		}
	}
	a := h.next
	for range 1 << (32 - h.prefix.Bits()) {
		if !h.usable(a) {
			a = h.prefix.Addr().Next()
		}
		if _, taken := h.used[a]; !taken {
			h.take(pod.UID, a)
			h.next = a.Next()
			return Result{IP: a.String()}, nil
		}
		a = a.Next()
	}
	return Result{}, fmt.Errorf("pod %s/%s: %w (%s)", pod.Namespace, pod.Name, ErrExhausted, h.prefix)
}

func (h *Host) take(uid string, a netip.Addr) {
	h.byUID[uid] = a
	h.used[a] = uid
}

// usable excludes the network and broadcast addresses.
func (h *Host) usable(a netip.Addr) bool {
	if !h.prefix.Contains(a) || a == h.prefix.Addr() {
		return false
	}
	b := a.As4()
	host := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	mask := uint32(1)<<(32-h.prefix.Bits()) - 1
	return host&mask != mask
}

// Teardown implements Network.
func (h *Host) Teardown(_ context.Context, pod Pod) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if a, ok := h.byUID[pod.UID]; ok {
		delete(h.used, a)
		delete(h.byUID, pod.UID)
	}
	return nil
}

var _ Network = (*Host)(nil)
