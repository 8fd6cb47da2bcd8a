package cluster

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

// ErrOverflow is returned when a circuit breaker threshold is reached; the
// proxy answers 503 with flag UO.
var ErrOverflow = errors.New("upstream circuit breaker overflow")

// state is the per-cluster-name state that survives config swaps: circuit
// breaker counters, connection accounting, and the hosts of the current
// snapshot (for max ejection percent).
type state struct {
	name   string
	limits atomic.Pointer[xdsresource.Thresholds]

	requests atomic.Int64 // active requests (max_requests)
	retries  atomic.Int64 // active retries (max_retries / budget)

	// HTTP/1 connection slots: each in-flight HTTP/1 request holds one
	// connection; beyond max_connections requests queue as pending, beyond
	// max_pending_requests they overflow.
	mu      sync.Mutex
	busy    int
	waiters []chan struct{}
	open    atomic.Int64 // open upstream connections (busy + idle)

	// Overflow counters for /stats.
	OverflowRq      atomic.Uint64
	OverflowPending atomic.Uint64
	OverflowRetry   atomic.Uint64
	RqTotal         atomic.Uint64
	RetriesTotal    atomic.Uint64
	EjectionsTotal  atomic.Uint64

	hosts atomic.Pointer[[]*Host]

	h2mu sync.Mutex
	h2   atomic.Pointer[h2t]
}

func newState(name string) *state {
	s := &state{name: name}
	d := xdsresource.DefaultThresholds
	s.limits.Store(&d)
	return s
}

// acquireRequest takes a max_requests slot.
func (s *state) acquireRequest() bool {
	if s.requests.Add(1) > int64(s.limits.Load().MaxRequests) {
		s.requests.Add(-1)
		s.OverflowRq.Add(1)
		return false
	}
	s.RqTotal.Add(1)
	return true
}

func (s *state) releaseRequest() { s.requests.Add(-1) }

// acquireConn takes an HTTP/1 connection slot, queueing as pending when all
// max_connections are busy. It returns ErrOverflow when the pending queue is
// full and ctx.Err() when ctx ends while pending.
func (s *state) acquireConn(ctx context.Context) error {
	lim := s.limits.Load()
	s.mu.Lock()
	if s.busy < int(lim.MaxConnections) {
		s.busy++
		s.mu.Unlock()
		return nil
	}
	if len(s.waiters) >= int(lim.MaxPendingRequests) {
		s.mu.Unlock()
		s.OverflowPending.Add(1)
		return ErrOverflow
	}
	ch := make(chan struct{})
	s.waiters = append(s.waiters, ch)
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for i, w := range s.waiters {
			if w == ch {
				s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
				s.mu.Unlock()
				return ctx.Err()
			}
		}
		s.mu.Unlock()
		// The slot was handed to us as ctx ended: pass it on.
		s.releaseConn()
		return ctx.Err()
	}
}

// releaseConn frees an HTTP/1 connection slot, handing it to the oldest
// pending request if any.
func (s *state) releaseConn() {
	s.mu.Lock()
	if len(s.waiters) > 0 {
		ch := s.waiters[0]
		s.waiters = s.waiters[1:]
		s.mu.Unlock()
		close(ch)
		return
	}
	s.busy--
	s.mu.Unlock()
}

// Pending is the number of requests waiting for a connection.
func (s *state) pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiters)
}

// acquireRetry takes a retry slot from max_retries or the retry budget.
func (s *state) acquireRetry() bool {
	lim := s.limits.Load()
	max := int64(lim.MaxRetries)
	if lim.RetryBudgetPercent > 0 {
		max = int64(float64(s.requests.Load()) * lim.RetryBudgetPercent / 100)
		if m := int64(lim.MinRetryConcurrency); max < m {
			max = m
		}
	}
	if s.retries.Add(1) > max {
		s.retries.Add(-1)
		s.OverflowRetry.Add(1)
		return false
	}
	s.RetriesTotal.Add(1)
	return true
}

func (s *state) releaseRetry() { s.retries.Add(-1) }
