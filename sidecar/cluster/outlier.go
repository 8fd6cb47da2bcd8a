package cluster

import (
	"errors"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/weft-mesh/weft/sidecar/xdsresource"
)

// Result classifies an upstream attempt for outlier detection.
type Result uint8

// Attempt results.
const (
	// ResultSuccess is any non-5xx response.
	ResultSuccess Result = iota
	// Result5xx is a 5xx other than 502/503/504.
	Result5xx
	// ResultGateway is 502/503/504, a connect failure, a reset or a timeout.
	ResultGateway
	// ResultIgnored does not count (downstream cancelled, overflow).
	ResultIgnored
)

var (
	err5xx     = errors.New("5xx")
	errGateway = errors.New("gateway error")
)

// outlier is one host's outlier-detection state. gobreaker is the state
// machine (closed → open on consecutive failures → half-open probing →
// closed); the ejection time grows with the ejection count and is enforced
// through Host.ejectedUntil, and the cluster enforces max_ejection_percent.
type outlier struct {
	cfg       *xdsresource.OutlierDetection
	host      *Host
	cb        atomic.Pointer[gobreaker.TwoStepCircuitBreaker[struct{}]]
	gwStreak  atomic.Uint32
	ejections atomic.Uint32
	// lastUneject is when the host last came back (monotonic ns).
	lastUneject atomic.Int64
}

func newOutlier(h *Host, cfg *xdsresource.OutlierDetection) *outlier {
	o := &outlier{cfg: cfg, host: h}
	o.cb.Store(o.newBreaker())
	return o
}

func (o *outlier) newBreaker() *gobreaker.TwoStepCircuitBreaker[struct{}] {
	return gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:          o.host.Addr,
		MaxRequests:   1,
		Timeout:       o.cfg.BaseEjectionTime,
		ReadyToTrip:   o.readyToTrip,
		OnStateChange: o.onStateChange,
	})
}

func (o *outlier) readyToTrip(c gobreaker.Counts) bool {
	cfg := o.cfg
	if cfg.Consecutive5xx > 0 && c.ConsecutiveFailures >= cfg.Consecutive5xx && roll(cfg.EnforcingConsecutive5xx) {
		return true
	}
	if cfg.ConsecutiveGatewayFailure > 0 && o.gwStreak.Load() >= cfg.ConsecutiveGatewayFailure && roll(cfg.EnforcingConsecutiveGateway) {
		return true
	}
	return false
}

func roll(percent uint32) bool {
	return percent >= 100 || (percent > 0 && rand.Uint32N(100) < percent)
}

// onStateChange runs under the breaker's lock; it must not call back into it.
func (o *outlier) onStateChange(_ string, from, to gobreaker.State) {
	if to != gobreaker.StateOpen {
		return
	}
	s := o.host.cluster
	if !s.mayEject(o.cfg.MaxEjectionPercent) {
		// Over max_ejection_percent: Envoy does not eject. Start over.
		o.gwStreak.Store(0)
		o.cb.Store(o.newBreaker())
		return
	}
	now := nanotime()
	k := o.ejections.Load()
	if last := o.lastUneject.Load(); last > 0 && k > 0 && o.cfg.Interval > 0 {
		// The multiplier decays by one per healthy interval.
		decay := uint32((now - last) / int64(o.cfg.Interval))
		if decay >= k {
			k = 0
		} else {
			k -= decay
		}
	}
	k++
	o.ejections.Store(k)
	d := time.Duration(k) * o.cfg.BaseEjectionTime
	if max := o.cfg.MaxEjectionTime; d > max {
		d = max
	}
	o.host.ejectedUntil.Store(now + int64(d))
	o.gwStreak.Store(0)
	s.EjectionsTotal.Add(1)
}

// record feeds one attempt's result to the state machine.
func (o *outlier) record(r Result) {
	if r == ResultIgnored {
		return
	}
	switch r {
	case ResultGateway:
		o.gwStreak.Add(1)
	default:
		o.gwStreak.Store(0)
	}
	done, err := o.cb.Load().Allow()
	if err != nil {
		return // open or half-open with its probe in flight
	}
	switch r {
	case ResultSuccess:
		done(nil)
	case Result5xx:
		done(err5xx)
	default:
		done(errGateway)
	}
}

// mayEject reports whether one more host may be ejected under max%.
// Envoy always allows the first ejection.
func (s *state) mayEject(maxPercent uint32) bool {
	hp := s.hosts.Load()
	if hp == nil {
		return true
	}
	hosts := *hp
	ejected := 0
	for _, h := range hosts {
		if h.Ejected() {
			ejected++
		}
	}
	if ejected == 0 {
		return true
	}
	return (ejected+1)*100 <= int(maxPercent)*len(hosts)
}

// Record reports an attempt's result against h for outlier detection and
// the host counters.
func (h *Host) Record(r Result) {
	switch r {
	case ResultSuccess:
		h.RqSuccess.Add(1)
	case Result5xx, ResultGateway:
		h.RqError.Add(1)
	}
	if o := h.outlier.Load(); o != nil {
		o.record(r)
	}
}

// ClassifyStatus maps an upstream status code to an outlier Result.
func ClassifyStatus(code int) Result {
	switch {
	case code == 502 || code == 503 || code == 504:
		return ResultGateway
	case code >= 500:
		return Result5xx
	}
	return ResultSuccess
}
