package network

import (
	"context"
	"fmt"
	"net/netip"
)

// Host is host mode: pods share the host's network, each with an address
// of its own from a loopback CIDR, which its apps bind ($POD_IP).
type Host struct {
	pool *pool
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
	return &Host{pool: newPool(p)}, nil
}

// Mode implements Network.
func (h *Host) Mode() string { return ModeHost }

// Adopt implements Network: the pods keep their addresses.
func (h *Host) Adopt(_ context.Context, pods []Pod) error {
	for _, p := range pods {
		if a, err := netip.ParseAddr(p.IP); err == nil {
			h.pool.reserve(p.UID, a)
		}
	}
	return nil
}

// Setup implements Network.
func (h *Host) Setup(_ context.Context, pod Pod) (Result, error) {
	want, _ := netip.ParseAddr(pod.IP)
	a, ok := h.pool.get(pod.UID, want)
	if !ok {
		return Result{}, fmt.Errorf("pod %s/%s: %w (%s)", pod.Namespace, pod.Name, ErrExhausted, h.pool.prefix)
	}
	return Result{IP: a.String(), Env: map[string]string{"POD_IP": a.String()}}, nil
}

// Teardown implements Network.
func (h *Host) Teardown(_ context.Context, pod Pod) error {
	h.pool.release(pod.UID)
	return nil
}

var _ Network = (*Host)(nil)
