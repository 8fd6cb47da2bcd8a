package lifecycle

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// podBuilder keeps fixtures short: pod("web").init("a").app("b").policy(Never).
type podBuilder struct{ p *corev1.Pod }

func pod() *podBuilder {
	return &podBuilder{p: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: "u1"}}}
}
func (b *podBuilder) app(names ...string) *podBuilder {
	for _, n := range names {
		b.p.Spec.Containers = append(b.p.Spec.Containers, corev1.Container{Name: n, Image: "busybox"})
	}
	return b
}
func (b *podBuilder) init(names ...string) *podBuilder {
	for _, n := range names {
		b.p.Spec.InitContainers = append(b.p.Spec.InitContainers, corev1.Container{Name: n, Image: "busybox"})
	}
	return b
}
func (b *podBuilder) sidecar(names ...string) *podBuilder {
	always := corev1.ContainerRestartPolicyAlways
	for _, n := range names {
		b.p.Spec.InitContainers = append(b.p.Spec.InitContainers, corev1.Container{Name: n, Image: "weft/proxy", RestartPolicy: &always})
	}
	return b
}
func (b *podBuilder) policy(p corev1.RestartPolicy) *podBuilder { b.p.Spec.RestartPolicy = p; return b }
func (b *podBuilder) phase(p corev1.PodPhase) *podBuilder       { b.p.Status.Phase = p; return b }
func (b *podBuilder) obj() *corev1.Pod                          { return b.p }
func (b *podBuilder) deleting() *podBuilder {
	b.p.DeletionTimestamp = &metav1.Time{Time: t0}
	return b
}

func running(attempt int, ready bool) Container {
	return Container{Runs: true, Attempt: attempt, Running: true, StartedAt: t0.Add(-time.Minute), Ready: ready, Started: true}
}

func exited(attempt, code int, finished time.Time) Container {
	return Container{Runs: true, Attempt: attempt, Exit: &Exit{Code: code, Reason: map[bool]string{true: "Completed", false: "Error"}[code == 0], StartedAt: finished.Add(-time.Second), FinishedAt: finished}}
}

func cond(st corev1.PodStatus, t corev1.PodConditionType) corev1.PodCondition {
	for _, c := range st.Conditions {
		if c.Type == t {
			return c
		}
	}
	return corev1.PodCondition{}
}

func stateOf(cs corev1.ContainerStatus) string {
	switch {
	case cs.State.Running != nil:
		return "Running"
	case cs.State.Waiting != nil:
		return "Waiting:" + cs.State.Waiting.Reason
	case cs.State.Terminated != nil:
		return "Terminated:" + cs.State.Terminated.Reason
	}
	return ""
}

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name       string
		pod        *corev1.Pod
		containers map[string]Container
		blocked    map[string]Blocked
		backoff    map[string]Backoff
		now        time.Time

		wantStart   []string
		wantKill    []string
		wantPhase   corev1.PodPhase
		wantReason  string
		wantStates  map[string]string
		wantReady   corev1.ConditionStatus
		wantInit    corev1.ConditionStatus
		wantBackoff map[string]time.Duration
		wantWake    time.Time
	}{
		{
			name: "new pod starts every app container", pod: pod().app("a", "b").obj(),
			wantStart: []string{"a", "b"}, wantPhase: corev1.PodPending,
			wantStates: map[string]string{"a": "Waiting:ContainerCreating", "b": "Waiting:ContainerCreating"},
			wantReady:  corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "init containers run first, one at a time", pod: pod().init("i1", "i2").app("a").obj(),
			wantStart: []string{"i1"}, wantPhase: corev1.PodPending,
			wantStates: map[string]string{"i1": "Waiting:PodInitializing", "a": "Waiting:PodInitializing"},
			wantReady:  corev1.ConditionFalse, wantInit: corev1.ConditionFalse,
		},
		{
			name: "a running init container is waited for", pod: pod().init("i1", "i2").app("a").obj(),
			containers: map[string]Container{"i1": running(0, false)},
			wantPhase:  corev1.PodPending, wantStates: map[string]string{"i1": "Running", "i2": "Waiting:PodInitializing"},
			wantInit: corev1.ConditionFalse, wantReady: corev1.ConditionFalse,
		},
		{
			name: "the next init container starts after the first completed", pod: pod().init("i1", "i2").app("a").obj(),
			containers: map[string]Container{"i1": exited(0, 0, t0)},
			wantStart:  []string{"i2"}, wantPhase: corev1.PodPending,
			wantStates: map[string]string{"i1": "Terminated:Completed"}, wantInit: corev1.ConditionFalse, wantReady: corev1.ConditionFalse,
		},
		{
			name: "app containers start once init is done", pod: pod().init("i1").app("a").obj(),
			containers: map[string]Container{"i1": exited(0, 0, t0)},
			wantStart:  []string{"a"}, wantPhase: corev1.PodPending, wantInit: corev1.ConditionTrue, wantReady: corev1.ConditionFalse,
		},
		{
			name: "a failed init container fails a Never pod", pod: pod().init("i1").app("a").policy(corev1.RestartPolicyNever).obj(),
			containers: map[string]Container{"i1": exited(0, 1, t0)},
			wantPhase:  corev1.PodFailed, wantStates: map[string]string{"i1": "Terminated:Error"}, wantInit: corev1.ConditionFalse, wantReady: corev1.ConditionFalse,
		},
		{
			name: "a failed init container restarts in an Always pod", pod: pod().init("i1").app("a").obj(),
			containers: map[string]Container{"i1": exited(0, 1, t0)}, now: t0.Add(time.Second),
			wantStart: []string{"i1"}, wantPhase: corev1.PodPending, wantBackoff: map[string]time.Duration{"i1": 10 * time.Second},
			wantInit: corev1.ConditionFalse, wantReady: corev1.ConditionFalse,
		},
		{
			name: "a terminating pod restarts nothing: its stopped app shows terminated while the sidecar drains", pod: pod().sidecar("proxy").app("a").deleting().obj(),
			containers: map[string]Container{"proxy": running(0, true), "a": exited(0, 143, t0)}, now: t0.Add(time.Second),
			wantPhase: corev1.PodRunning, wantStates: map[string]string{"proxy": "Running", "a": "Terminated:Error"},
			wantInit: corev1.ConditionTrue, wantReady: corev1.ConditionFalse,
		},
		{
			name: "a sidecar starts first, alone", pod: pod().sidecar("proxy").init("i1").app("a").obj(),
			wantStart: []string{"proxy"}, wantPhase: corev1.PodPending,
			wantStates: map[string]string{"proxy": "Waiting:PodInitializing", "i1": "Waiting:PodInitializing", "a": "Waiting:PodInitializing"},
			wantReady:  corev1.ConditionFalse, wantInit: corev1.ConditionFalse,
		},
		{
			name: "the init sequence waits for the sidecar's startup probe", pod: pod().sidecar("proxy").app("a").obj(),
			containers: map[string]Container{"proxy": {Runs: true, Running: true, StartedAt: t0}},
			wantPhase:  corev1.PodPending, wantStates: map[string]string{"proxy": "Running", "a": "Waiting:PodInitializing"},
			wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionFalse,
		},
		{
			name: "a started sidecar lets the next init container run", pod: pod().sidecar("proxy").init("i1").app("a").obj(),
			containers: map[string]Container{"proxy": running(0, false)},
			wantStart:  []string{"i1"}, wantPhase: corev1.PodPending, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionFalse,
		},
		{
			name: "app containers start once the sidecar started", pod: pod().sidecar("proxy").app("a").obj(),
			containers: map[string]Container{"proxy": running(0, false)},
			wantStart:  []string{"a"}, wantPhase: corev1.PodPending, wantStates: map[string]string{"proxy": "Running"},
			wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "an unready sidecar keeps the pod unready", pod: pod().sidecar("proxy").app("a").obj(),
			containers: map[string]Container{"proxy": running(0, false), "a": running(0, true)},
			wantPhase:  corev1.PodRunning, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "ready with its sidecar", pod: pod().sidecar("proxy").app("a").obj(),
			containers: map[string]Container{"proxy": running(0, true), "a": running(0, true)},
			wantPhase:  corev1.PodRunning, wantReady: corev1.ConditionTrue, wantInit: corev1.ConditionTrue,
		},
		{
			name: "a sidecar restarts even in a Never pod", pod: pod().sidecar("proxy").app("a").policy(corev1.RestartPolicyNever).obj(),
			containers: map[string]Container{"proxy": exited(0, 1, t0), "a": running(0, true)}, now: t0.Add(time.Second),
			wantStart: []string{"proxy"}, wantPhase: corev1.PodRunning, wantStates: map[string]string{"proxy": "Waiting:ContainerCreating"},
			wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue, wantBackoff: map[string]time.Duration{"proxy": 10 * time.Second},
		},
		{
			name: "the sidecar is stopped when the app containers completed", pod: pod().sidecar("proxy").app("a").policy(corev1.RestartPolicyNever).obj(),
			containers: map[string]Container{"proxy": running(0, true), "a": exited(0, 0, t0)},
			wantKill:   []string{"proxy"}, wantPhase: corev1.PodSucceeded, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "a completed pod does not restart its sidecar", pod: pod().sidecar("proxy").app("a").policy(corev1.RestartPolicyNever).phase(corev1.PodSucceeded).obj(),
			containers: map[string]Container{"proxy": exited(0, 143, t0), "a": exited(0, 0, t0)},
			wantPhase:  corev1.PodSucceeded, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "running and ready", pod: pod().app("a").obj(),
			containers: map[string]Container{"a": running(0, true)},
			wantPhase:  corev1.PodRunning, wantStates: map[string]string{"a": "Running"}, wantReady: corev1.ConditionTrue, wantInit: corev1.ConditionTrue,
		},
		{
			name: "running, not ready", pod: pod().app("a", "b").obj(),
			containers: map[string]Container{"a": running(0, true), "b": running(0, false)},
			wantPhase:  corev1.PodRunning, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "the first crash restarts at once", pod: pod().app("a").obj(),
			containers: map[string]Container{"a": exited(0, 1, t0)}, now: t0.Add(time.Second),
			wantStart: []string{"a"}, wantPhase: corev1.PodRunning, wantStates: map[string]string{"a": "Waiting:ContainerCreating"},
			wantBackoff: map[string]time.Duration{"a": 10 * time.Second}, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "the second crash waits in CrashLoopBackOff", pod: pod().app("a").obj(),
			containers: map[string]Container{"a": exited(1, 1, t0)}, now: t0.Add(3 * time.Second),
			backoff:   map[string]Backoff{"a": {Delay: 10 * time.Second, LastUpdate: t0.Add(-5 * time.Second)}},
			wantPhase: corev1.PodRunning, wantStates: map[string]string{"a": "Waiting:CrashLoopBackOff"},
			wantBackoff: map[string]time.Duration{"a": 10 * time.Second}, wantWake: t0.Add(10 * time.Second),
			wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "after the back-off it restarts and the delay doubles", pod: pod().app("a").obj(),
			containers: map[string]Container{"a": exited(1, 1, t0)}, now: t0.Add(11 * time.Second),
			backoff:   map[string]Backoff{"a": {Delay: 10 * time.Second, LastUpdate: t0.Add(-5 * time.Second)}},
			wantStart: []string{"a"}, wantPhase: corev1.PodRunning, wantBackoff: map[string]time.Duration{"a": 20 * time.Second},
			wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "the delay stops at five minutes", pod: pod().app("a").obj(),
			containers: map[string]Container{"a": exited(9, 1, t0)}, now: t0.Add(5 * time.Minute),
			backoff:   map[string]Backoff{"a": {Delay: 5 * time.Minute, LastUpdate: t0.Add(-time.Second)}},
			wantStart: []string{"a"}, wantPhase: corev1.PodRunning, wantBackoff: map[string]time.Duration{"a": 5 * time.Minute},
			wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "a back-off is forgotten after ten minutes without restarts", pod: pod().app("a").obj(),
			containers: map[string]Container{"a": exited(9, 1, t0)}, now: t0.Add(time.Second),
			backoff:   map[string]Backoff{"a": {Delay: 5 * time.Minute, LastUpdate: t0.Add(-11 * time.Minute)}},
			wantStart: []string{"a"}, wantPhase: corev1.PodRunning, wantBackoff: map[string]time.Duration{"a": 10 * time.Second},
			wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "OnFailure: success completes the pod", pod: pod().app("a").policy(corev1.RestartPolicyOnFailure).obj(),
			containers: map[string]Container{"a": exited(0, 0, t0)},
			wantPhase:  corev1.PodSucceeded, wantStates: map[string]string{"a": "Terminated:Completed"}, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "OnFailure: failure restarts", pod: pod().app("a").policy(corev1.RestartPolicyOnFailure).obj(),
			containers: map[string]Container{"a": exited(0, 2, t0)},
			wantStart:  []string{"a"}, wantPhase: corev1.PodRunning, wantBackoff: map[string]time.Duration{"a": 10 * time.Second},
			wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "Never: failure fails the pod", pod: pod().app("a").policy(corev1.RestartPolicyNever).obj(),
			containers: map[string]Container{"a": exited(0, 1, t0)},
			wantPhase:  corev1.PodFailed, wantStates: map[string]string{"a": "Terminated:Error"}, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "Never: a running container keeps the pod running", pod: pod().app("a", "b").policy(corev1.RestartPolicyNever).obj(),
			containers: map[string]Container{"a": exited(0, 1, t0), "b": running(0, true)},
			wantPhase:  corev1.PodRunning, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "Never: all done", pod: pod().app("a", "b").policy(corev1.RestartPolicyNever).obj(),
			containers: map[string]Container{"a": exited(0, 0, t0), "b": exited(0, 0, t0)},
			wantPhase:  corev1.PodSucceeded, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "an unhealthy container is killed", pod: pod().app("a").obj(),
			containers: map[string]Container{"a": {Runs: true, Running: true, Started: true, Unhealthy: "Liveness probe failed"}},
			wantKill:   []string{"a"}, wantPhase: corev1.PodRunning, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "an image not in the catalogue fails the pod", pod: pod().app("a", "b").obj(),
			containers: map[string]Container{"b": running(0, true)},
			blocked:    map[string]Blocked{"a": {Reason: ReasonImageNotFound, Message: "not in the catalogue", Fatal: true}},
			wantKill:   []string{"b"}, wantPhase: corev1.PodFailed, wantReason: ReasonImageNotFound,
			wantStates: map[string]string{"a": "Waiting:ImageNotFound"}, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "a missing config map keeps the container waiting", pod: pod().app("a", "b").obj(),
			blocked:   map[string]Blocked{"a": {Reason: "CreateContainerConfigError", Message: `configmap "x" not found`}},
			wantStart: []string{"b"}, wantPhase: corev1.PodPending,
			wantStates: map[string]string{"a": "Waiting:CreateContainerConfigError"}, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "a terminal pod starts nothing", pod: pod().app("a").phase(corev1.PodSucceeded).obj(),
			containers: map[string]Container{"a": exited(0, 0, t0)},
			wantPhase:  corev1.PodSucceeded, wantReady: corev1.ConditionFalse, wantInit: corev1.ConditionTrue,
		},
		{
			name: "init containers do not run again once app containers ran", pod: pod().init("i1").app("a").obj(),
			containers: map[string]Container{"a": running(1, true)},
			wantPhase:  corev1.PodRunning, wantReady: corev1.ConditionTrue, wantInit: corev1.ConditionTrue,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := tc.now
			if now.IsZero() {
				now = t0
			}
			p := Decide(Input{Pod: tc.pod, Containers: tc.containers, Blocked: tc.blocked, Backoff: tc.backoff, Policy: KubeletPolicy, Now: now})
			if !reflect.DeepEqual(p.Start, tc.wantStart) {
				t.Errorf("start = %q, want %q", p.Start, tc.wantStart)
			}
			var kills []string
			for _, k := range p.Kill {
				kills = append(kills, k.Name)
			}
			if !reflect.DeepEqual(kills, tc.wantKill) {
				t.Errorf("kill = %q, want %q", kills, tc.wantKill)
			}
			if p.Status.Phase != tc.wantPhase || p.Status.Reason != tc.wantReason {
				t.Errorf("phase = %s (%q), want %s (%q)", p.Status.Phase, p.Status.Reason, tc.wantPhase, tc.wantReason)
			}
			all := append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...)
			for name, want := range tc.wantStates {
				found := false
				for _, cs := range all {
					if cs.Name == name {
						found = true
						if got := stateOf(cs); got != want {
							t.Errorf("container %s: %s, want %s", name, got, want)
						}
					}
				}
				if !found {
					t.Errorf("no status for container %s", name)
				}
			}
			if got := cond(p.Status, corev1.PodReady).Status; got != tc.wantReady {
				t.Errorf("Ready = %s, want %s", got, tc.wantReady)
			}
			if got := cond(p.Status, corev1.PodInitialized).Status; got != tc.wantInit {
				t.Errorf("Initialized = %s, want %s", got, tc.wantInit)
			}
			if tc.wantBackoff != nil {
				for name, d := range tc.wantBackoff {
					if p.Backoff[name].Delay != d {
						t.Errorf("back-off of %s = %v, want %v", name, p.Backoff[name].Delay, d)
					}
				}
			}
			if !p.Wake.Equal(tc.wantWake) {
				t.Errorf("wake = %v, want %v", p.Wake, tc.wantWake)
			}
		})
	}
}

func TestRestartCountAndLastState(t *testing.T) {
	c := exited(3, 137, t0)
	c.Exit.Reason = "OOMKilled"
	p := Decide(Input{Pod: pod().app("a").obj(), Containers: map[string]Container{"a": c},
		Backoff: map[string]Backoff{"a": {Delay: 40 * time.Second, LastUpdate: t0}}, Now: t0.Add(time.Second)})
	cs := p.Status.ContainerStatuses[0]
	if cs.RestartCount != 3 || cs.State.Waiting == nil || cs.State.Waiting.Reason != ReasonCrashLoopBackOff ||
		cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.Reason != "OOMKilled" || cs.LastTerminationState.Terminated.ExitCode != 137 {
		t.Fatalf("status = %+v", cs)
	}
}

func TestTransitionTimeKeptWhileStatusHolds(t *testing.T) {
	pd := pod().app("a").obj()
	first := Decide(Input{Pod: pd, Containers: map[string]Container{"a": running(0, true)}, Now: t0})
	pd.Status = first.Status
	later := Decide(Input{Pod: pd, Containers: map[string]Container{"a": running(0, true)}, Now: t0.Add(time.Hour)})
	if got := cond(later.Status, corev1.PodReady).LastTransitionTime.Time; !got.Equal(t0) {
		t.Fatalf("Ready transition time = %v, want %v", got, t0)
	}
	notReady := Decide(Input{Pod: pd, Containers: map[string]Container{"a": running(0, false)}, Now: t0.Add(time.Hour)})
	if got := cond(notReady.Status, corev1.PodReady).LastTransitionTime.Time; !got.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Ready transition time = %v, want %v", got, t0.Add(time.Hour))
	}
}

func TestQOSClass(t *testing.T) {
	p := pod().app("a").obj()
	if got := Decide(Input{Pod: p, Now: t0}).Status.QOSClass; got != corev1.PodQOSBestEffort {
		t.Fatalf("qos = %s", got)
	}
}
