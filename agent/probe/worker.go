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
	// Clock sleeps; nil means real time (tests pass a faster one).
	After func(time.Duration) <-chan time.Time
}

// Run probes until ctx ends. A liveness or startup worker stops after it
// reported a failure (the container is about to be killed); a startup
// worker stops after its first success.
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
	select {
	case <-ctx.Done():
		return
	case <-after(time.Duration(p.InitialDelaySeconds) * time.Second):
	}
	var verdict *bool
	successes, failures := 0, 0
	for {
		if w.Gate == nil || w.Gate() {
			ok, msg := Check(ctx, p.ProbeHandler, w.Target, timeout)
			if ctx.Err() != nil {
				return
			}
			if ok {
				successes, failures = successes+1, 0
			} else {
				failures, successes = failures+1, 0
			}
			switch {
			case ok && successes >= successThreshold && (verdict == nil || !*verdict):
				v := true
				verdict = &v
				w.Report(true, "")
				if w.Kind == Startup {
					return
				}
			case !ok && failures >= failureThreshold && (verdict == nil || *verdict):
				v := false
				verdict = &v
				w.Report(false, string(w.Kind)+" probe failed: "+msg)
				if w.Kind != Readiness {
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-after(period):
		}
	}
}

func secs(v int32, def int) time.Duration {
	if v <= 0 {
		return time.Duration(def) * time.Second
	}
	return time.Duration(v) * time.Second
}
