package network

import (
	"net/netip"
	"sync"
)

// pool hands out the addresses of a prefix, one per pod UID, skipping the
// network and broadcast addresses and any reserved ones.
type pool struct {
	prefix   netip.Prefix
	reserved map[netip.Addr]bool

	mu    sync.Mutex
	byUID map[string]netip.Addr
	used  map[netip.Addr]string
	next  netip.Addr
}

func newPool(p netip.Prefix, reserved ...netip.Addr) *pool {
	r := map[netip.Addr]bool{}
	for _, a := range reserved {
		r[a] = true
	}
	return &pool{prefix: p, reserved: r, byUID: map[string]netip.Addr{}, used: map[netip.Addr]string{}, next: p.Addr().Next()}
}

// get returns uid's address: the one it has, else want when free, else
// the next free one; ok is false when none is free.
func (p *pool) get(uid string, want netip.Addr) (netip.Addr, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.byUID[uid]; ok {
		return a, true
	}
	if p.usable(want) {
		if _, taken := p.used[want]; !taken {
			p.take(uid, want)
			return want, true
		}
	}
	a := p.next
	for range 1 << (32 - p.prefix.Bits()) {
		if !p.usable(a) {
			a = p.prefix.Addr().Next()
		}
		if _, taken := p.used[a]; !taken && p.usable(a) {
			p.take(uid, a)
			p.next = a.Next()
			return a, true
		}
		a = a.Next()
	}
	return netip.Addr{}, false
}

// reserve gives uid address a when it is usable and free; else nothing.
func (p *pool) reserve(uid string, a netip.Addr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.usable(a) {
		return false
	}
	if owner, taken := p.used[a]; taken {
		return owner == uid
	}
	if _, has := p.byUID[uid]; has {
		return false
	}
	p.take(uid, a)
	return true
}

// lookup returns uid's address, if it has one.
func (p *pool) lookup(uid string) (netip.Addr, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.byUID[uid]
	return a, ok
}

func (p *pool) take(uid string, a netip.Addr) {
	p.byUID[uid] = a
	p.used[a] = uid
}

func (p *pool) release(uid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := p.byUID[uid]; ok {
		delete(p.used, a)
		delete(p.byUID, uid)
	}
}

// usable excludes addresses outside the prefix, the network and
// broadcast addresses, and reserved ones.
func (p *pool) usable(a netip.Addr) bool {
	if !a.IsValid() || !p.prefix.Contains(a) || a == p.prefix.Addr() || p.reserved[a] {
		return false
	}
	b := a.As4()
	host := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	mask := uint32(1)<<(32-p.prefix.Bits()) - 1
	return host&mask != mask
}
