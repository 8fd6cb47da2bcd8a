package probe

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Kind is which probe a worker runs.
type Kind string

// Probe kinds.
const (
	Liveness  Kind = "Liveness"
	Readiness Kind = "Readiness"
	Startup   Kind = "Startup"
)

// Worker runs one probe for one run of a container.
type Worker struct {
	Kind   Kind
	Probe  *corev1.Probe
	Target Target
	// Gate, when set, holds probing until it returns true (liveness and
	// readiness wait for the startup probe).
	Gate func() bool
	// Report is called with each new verdict and, on failure, why.
	Report func(ok bool, msg string)
	// Failed, when set, is called after every counted failure, before the
	// verdict changes (the kubelet records an Unhealthy event for each).
	Failed func(msg string)
	// Clock sleeps; nil means real time (tests pass a faster one).
	After func(time.Duration) <-chan time.Time
}

// Run probes until ctx ends. A liveness or startup worker stops after it
// reported a failure (the container is about to be killed); a startup
// worker stops after its first success.
//
// Until its first success, a readiness or startup probe is also tried
// sooner than its period — 25 ms after a scheduled attempt, then 50 ms,
// 100 ms, and every 200 ms while that stays within the period — so that a container is
// Ready (and the next one of an init sequence starts) as soon as it
// answers, not a whole period later. Only the scheduled attempts' failures
// count toward failureThreshold: the early ones add successes, never
// failures. While the Gate is closed (the startup probe has not passed),
// the worker looks again every 50 ms.
func (w *Worker) Run(ctx context.Context) {
	after := w.After
	if after == nil {
		after = time.After
	}
	p := w.Probe
	period := secs(p.PeriodSeconds, 10)
	timeout := secs(p.TimeoutSeconds, 1)
	successThreshold := int(p.SuccessThreshold)
	if successThreshold <= 0 {
		successThreshold = 1
	}
	failureThreshold := int(p.FailureThreshold)
	if failureThreshold <= 0 {
		failureThreshold = 3
	}
	sleep := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-after(d):
			return true
		}
	}
	if !sleep(time.Duration(p.InitialDelaySeconds) * time.Second) {
		return
	}
	const gatePoll, firstEarly, maxEarly = 50 * time.Millisecond, 25 * time.Millisecond, 200 * time.Millisecond
	var verdict *bool
	successes, failures := 0, 0
	everOK := false
	// attempt runs the probe once; it returns false when the worker is done.
	attempt := func(counted bool) (more bool) {
		ok, msg := Check(ctx, p.ProbeHandler, w.Target, timeout)
		if ctx.Err() != nil {
			return false
		}
		switch {
		case ok:
			everOK = true
			successes, failures = successes+1, 0
		case counted:
			failures, successes = failures+1, 0
			if w.Failed != nil {
				w.Failed(string(w.Kind) + " probe failed: " + msg)
			}
		default:
			return true // an early attempt's failure does not count
		}
		switch {
		case ok && successes >= successThreshold && (verdict == nil || !*verdict):
			v := true
			verdict = &v
			w.Report(true, "")
			if w.Kind == Startup {
				return false
			}
		case !ok && failures >= failureThreshold && (verdict == nil || *verdict):
			v := false
			verdict = &v
			w.Report(false, string(w.Kind)+" probe failed: "+msg)
			if w.Kind != Readiness {
				return false
			}
		}
		return true
	}
	for {
		if w.Gate != nil && !w.Gate() {
			if !sleep(gatePoll) {
				return
			}
			continue
		}
		if !attempt(true) {
			return
		}
		waited := time.Duration(0)
		if w.Kind != Liveness {
			for step := firstEarly; !everOK && waited+step < period; step = min(2*step, maxEarly) {
				if !sleep(step) {
					return
				}
				waited += step
				if !attempt(false) {
					return
				}
			}
		}
		if !sleep(period - waited) {
			return
		}
	}
}

func secs(v int32, def int) time.Duration {
	if v <= 0 {
		return time.Duration(def) * time.Second
	}
	return time.Duration(v) * time.Second
}
