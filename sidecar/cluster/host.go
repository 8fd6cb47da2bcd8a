package cluster

import (
	"sync"
	"sync/atomic"
	"time"
)

// Host is one upstream endpoint's state. It is keyed by cluster name and
// address and survives config swaps: counters, outlier state and warm
// connections carry over when the same endpoint appears in a new snapshot.
type Host struct {
	Addr    string
	cluster *state

	// Counters, read by the admin /clusters page.
	RqActive  atomic.Int64
	RqTotal   atomic.Uint64
	RqSuccess atomic.Uint64
	RqError   atomic.Uint64
	RqTimeout atomic.Uint64
	CxActive  atomic.Int64
	CxTotal   atomic.Uint64
	CxFailed  atomic.Uint64

	// ejectedUntil is the monotonic time (nanoseconds since start) until
	// which outlier detection ejects the host; 0 when not ejected.
	ejectedUntil atomic.Int64
	outlier      atomic.Pointer[outlier]

	// lastUsed is the monotonic time of the last pick (ORIGINAL_DST cleanup).
	lastUsed atomic.Int64

	mu      sync.Mutex
	idle    []*pconn
	retired bool
}

var start = time.Now()

// nanotime is a cheap monotonic clock.
func nanotime() int64 { return int64(time.Since(start)) }

// Ejected reports whether outlier detection currently ejects the host.
func (h *Host) Ejected() bool {
	u := h.ejectedUntil.Load()
	if u == 0 {
		return false
	}
	if nanotime() < u {
		return true
	}
	if h.ejectedUntil.CompareAndSwap(u, 0) {
		if o := h.outlier.Load(); o != nil {
			o.lastUneject.Store(nanotime())
		}
	}
	return false
}

// EjectionCount is how many times the host was ejected (the multiplier of
// the base ejection time).
func (h *Host) EjectionCount() uint32 {
	if o := h.outlier.Load(); o != nil {
		return o.ejections.Load()
	}
	return 0
}

// retire closes idle connections of a host no snapshot references any more.
func (h *Host) retire() {
	h.mu.Lock()
	h.retired = true
	idle := h.idle
	h.idle = nil
	h.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}
