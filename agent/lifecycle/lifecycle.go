package lifecycle

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Exit is how one run of a container ended.
type Exit struct {
	Code       int
	Signal     int
	Reason     string // Completed, Error, OOMKilled, StartError, ...
	Message    string
	StartedAt  time.Time
	FinishedAt time.Time
}

// Container is what was observed of one container.
type Container struct {
	// Runs is false until the container was started once.
	Runs bool
	// Attempt is the number of the latest run: its restart count.
	Attempt   int
	Running   bool
	StartedAt time.Time
	// Exit is set when the latest run ended; Previous is how the run
	// before it ended.
	Exit     *Exit
	Previous *Exit
	// Ready is the readiness probe's verdict (true without a probe);
	// Started the startup probe's (true without one).
	Ready   bool
	Started bool
	// Unhealthy, when set, says why the running container must be killed
	// (a liveness or startup probe, a failed postStart hook).
	Unhealthy string
}

// Blocked says why a container cannot be started.
type Blocked struct {
	Reason  string // ImageNotFound, CreateContainerConfigError, ContainerCreating
	Message string
	// Fatal fails the pod (an image the catalogue cannot resolve);
	// otherwise the agent retries.
	Fatal bool
}

// Backoff is the restart back-off remembered for one container.
type Backoff struct {
	Delay      time.Duration
	LastUpdate time.Time
}

// Policy is the restart back-off's shape.
type Policy struct {
	Initial time.Duration // 10s
	Max     time.Duration // 5m
	// Reset: a back-off not updated for this long is forgotten (10m).
	Reset time.Duration
}

// KubeletPolicy is the kubelet's back-off.
var KubeletPolicy = Policy{Initial: 10 * time.Second, Max: 5 * time.Minute, Reset: 10 * time.Minute}

// Input is everything Decide looks at.
type Input struct {
	Pod        *corev1.Pod
	Containers map[string]Container
	Blocked    map[string]Blocked
	Backoff    map[string]Backoff
	Policy     Policy
	// PodIP, HostIP and StartTime are reported as given.
	PodIP, HostIP string
	StartTime     time.Time
	// Conditions are extra pod conditions to report (e.g. that resource
	// limits are not enforced).
	Conditions []corev1.PodCondition
	Now        time.Time
}

// Kill asks for a running container to be stopped.
type Kill struct {
	Name    string
	Message string
}

// Plan is what Decide wants done.
type Plan struct {
	// Start lists the containers to start now, in order.
	Start []string
	Kill  []Kill
	// Backoff is the memory to pass to the next call.
	Backoff map[string]Backoff
	Status  corev1.PodStatus
	// Wake, when not zero, is when to decide again at the latest (a
	// back-off ends).
	Wake time.Time
}

// Reasons of waiting containers and of the pod.
const (
	ReasonContainerCreating = "ContainerCreating"
	ReasonPodInitializing   = "PodInitializing"
	ReasonCrashLoopBackOff  = "CrashLoopBackOff"
	ReasonImageNotFound     = "ImageNotFound"
	ReasonPodCompleted      = "PodCompleted"
)

// Decide computes the plan for one pod.
func Decide(in Input) Plan {
	pod := in.Pod
	p := Plan{Backoff: map[string]Backoff{}}
	for k, v := range in.Backoff {
		p.Backoff[k] = v
	}
	policy := pod.Spec.RestartPolicy
	if policy == "" {
		policy = corev1.RestartPolicyAlways
	}
	st := &p.Status
	st.PodIP, st.HostIP = in.PodIP, in.HostIP
	if in.PodIP != "" {
		st.PodIPs = []corev1.PodIP{{IP: in.PodIP}}
	}
	if in.HostIP != "" {
		st.HostIPs = []corev1.HostIP{{IP: in.HostIP}}
	}
	if !in.StartTime.IsZero() {
		t := metav1.NewTime(in.StartTime)
		st.StartTime = &t
	}
	st.QOSClass = qosClass(pod)
	terminal := pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed

	// A fatal block fails the pod.
	var fatal *Blocked
	for _, c := range allContainers(pod) {
		if b, ok := in.Blocked[c.Name]; ok && b.Fatal {
			fatal = &b
			break
		}
	}

	// A terminating pod (deleted, its containers being stopped) starts
	// and restarts nothing; its stopped containers show as terminated.
	deleting := pod.DeletionTimestamp != nil
	d := &decider{in: in, plan: &p, policy: policy, frozen: terminal || fatal != nil || deleting}

	// Sidecars (init containers with restartPolicy Always) that ran stay up
	// for the pod's life: restarted whatever the pod's restartPolicy, killed
	// when unhealthy.
	for _, c := range pod.Spec.InitContainers {
		if o := in.Containers[c.Name]; IsSidecar(c) && o.Runs {
			if o.Running {
				d.killIfUnhealthy(c.Name, o)
			} else {
				d.restart(c.Name, o)
			}
		}
	}

	// Init containers, in order, unless the app containers already ran. A
	// sidecar counts as done once it has started (its startup probe
	// passed), and the sequence goes on while it runs.
	initDone, initFailed := true, false
	anyAppRan := false
	for _, c := range pod.Spec.Containers {
		if in.Containers[c.Name].Runs {
			anyAppRan = true
		}
	}
	if !anyAppRan {
		for _, c := range pod.Spec.InitContainers {
			o := in.Containers[c.Name]
			if IsSidecar(c) {
				if o.Running && o.Started {
					continue
				}
				if !o.Runs {
					d.start(c.Name)
				}
				initDone = false
				break
			}
			if o.Runs && !o.Running && o.Exit != nil && o.Exit.Code == 0 {
				continue
			}
			initDone = false
			switch {
			case o.Running:
				d.killIfUnhealthy(c.Name, o)
			case !o.Runs:
				d.start(c.Name)
			case policy == corev1.RestartPolicyNever:
				initFailed = true
			default:
				d.restart(c.Name, o)
			}
			break
		}
	}
	var incomplete []string
	for _, c := range pod.Spec.InitContainers {
		o := in.Containers[c.Name]
		done := o.Exit != nil && o.Exit.Code == 0 && !o.Running
		if IsSidecar(c) {
			done = o.Running && o.Started
		}
		if !(initDone || done) {
			incomplete = append(incomplete, c.Name)
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, d.containerStatus(c, o, true))
	}
	if initDone && len(pod.Spec.InitContainers) > 0 {
		incomplete = nil
	}

	// App containers.
	running, waitingNew, succeeded, failed := 0, 0, 0, 0
	for _, c := range pod.Spec.Containers {
		o := in.Containers[c.Name]
		if initDone && !initFailed {
			switch {
			case o.Running:
				d.killIfUnhealthy(c.Name, o)
			case !o.Runs:
				d.start(c.Name)
			case policy == corev1.RestartPolicyAlways || (policy == corev1.RestartPolicyOnFailure && o.Exit != nil && o.Exit.Code != 0):
				d.restart(c.Name, o)
			}
		}
		switch {
		case o.Running:
			running++
		case !o.Runs:
			waitingNew++
		case o.Exit != nil && o.Exit.Code == 0:
			succeeded++
		default:
			failed++
		}
		st.ContainerStatuses = append(st.ContainerStatuses, d.containerStatus(c, o, !initDone))
	}

	// Phase.
	switch {
	case terminal:
		st.Phase, st.Reason, st.Message = pod.Status.Phase, pod.Status.Reason, pod.Status.Message
	case fatal != nil:
		st.Phase, st.Reason, st.Message = corev1.PodFailed, fatal.Reason, fatal.Message
	case initFailed:
		st.Phase = corev1.PodFailed
	case !initDone:
		st.Phase = corev1.PodPending
	case waitingNew > 0 && running == 0 && succeeded+failed == 0:
		st.Phase = corev1.PodPending
	case running > 0 || waitingNew > 0:
		st.Phase = corev1.PodRunning
	case policy == corev1.RestartPolicyAlways:
		st.Phase = corev1.PodRunning
	case policy == corev1.RestartPolicyOnFailure && failed > 0:
		st.Phase = corev1.PodRunning
	case failed > 0:
		st.Phase = corev1.PodFailed
	default:
		st.Phase = corev1.PodSucceeded
	}
	// A terminal pod runs nothing more.
	if st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed {
		p.Start = nil
		if !terminal {
			for _, c := range allContainers(pod) {
				if o := in.Containers[c.Name]; o.Running {
					why := "the pod failed"
					if st.Phase == corev1.PodSucceeded {
						why = "the pod's containers completed"
					}
					p.Kill = appendKill(p.Kill, Kill{Name: c.Name, Message: why})
				}
			}
		}
	}

	// Conditions.
	var unready []string
	for i, cs := range st.InitContainerStatuses {
		if IsSidecar(pod.Spec.InitContainers[i]) && !cs.Ready {
			unready = append(unready, cs.Name)
		}
	}
	for _, cs := range st.ContainerStatuses {
		if !cs.Ready {
			unready = append(unready, cs.Name)
		}
	}
	final := st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed
	conds := []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}
	initCond := corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}
	if len(incomplete) > 0 {
		initCond = corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionFalse, Reason: "ContainersNotInitialized",
			Message: fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(incomplete, " "))}
	}
	readyCond := func(t corev1.PodConditionType) corev1.PodCondition {
		switch {
		case final:
			return corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: ReasonPodCompleted}
		case len(unready) > 0:
			return corev1.PodCondition{Type: t, Status: corev1.ConditionFalse, Reason: "ContainersNotReady",
				Message: fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))}
		}
		return corev1.PodCondition{Type: t, Status: corev1.ConditionTrue}
	}
	conds = append(conds, initCond, readyCond(corev1.ContainersReady), readyCond(corev1.PodReady))
	conds = append(conds, in.Conditions...)
	for i := range conds {
		conds[i].LastTransitionTime = transitionTime(pod.Status.Conditions, conds[i], in.Now)
	}
	st.Conditions = conds
	return p
}

// IsSidecar reports whether an init container is a sidecar: one with
// restartPolicy Always, which Kubernetes starts in the init sequence and
// keeps running beside the app containers (KEP-753).
func IsSidecar(c corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

type decider struct {
	in     Input
	plan   *Plan
	policy corev1.RestartPolicy
	frozen bool // terminal, failing or terminating: start nothing
}

func (d *decider) start(name string) {
	if d.frozen {
		return
	}
	if _, blocked := d.in.Blocked[name]; blocked {
		return
	}
	d.plan.Start = append(d.plan.Start, name)
}

func (d *decider) killIfUnhealthy(name string, o Container) {
	if o.Unhealthy != "" {
		d.plan.Kill = appendKill(d.plan.Kill, Kill{Name: name, Message: o.Unhealthy})
	}
}

func appendKill(ks []Kill, k Kill) []Kill {
	for _, x := range ks {
		if x.Name == k.Name {
			return ks
		}
	}
	return append(ks, k)
}

// restart starts an ended container again unless it is in back-off, the
// kubelet's way: the first restart is immediate; each later one waits the
// current delay after the container ended, and the delay doubles up to Max.
func (d *decider) restart(name string, o Container) {
	if d.frozen {
		return
	}
	if _, blocked := d.in.Blocked[name]; blocked {
		return
	}
	now, pol := d.in.Now, d.in.Policy
	if pol.Initial == 0 {
		pol = KubeletPolicy
	}
	b, ok := d.plan.Backoff[name]
	if ok && now.Sub(b.LastUpdate) > pol.Reset {
		ok = false
	}
	if ok && o.Exit != nil {
		until := o.Exit.FinishedAt.Add(b.Delay)
		if now.Before(until) {
			if d.plan.Wake.IsZero() || until.Before(d.plan.Wake) {
				d.plan.Wake = until
			}
			return
		}
	}
	next := pol.Initial
	if ok {
		next = min(2*b.Delay, pol.Max)
	}
	d.plan.Backoff[name] = Backoff{Delay: next, LastUpdate: now}
	d.plan.Start = append(d.plan.Start, name)
}

// inBackoff reports whether a restart of name waits, and how long in total.
func (d *decider) inBackoff(name string) (time.Duration, bool) {
	for _, s := range d.plan.Start {
		if s == name {
			return 0, false
		}
	}
	b, ok := d.plan.Backoff[name]
	return b.Delay, ok
}

func (d *decider) containerStatus(c corev1.Container, o Container, podInitializing bool) corev1.ContainerStatus {
	pod := d.in.Pod
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "catalog://" + c.Image, RestartCount: int32(o.Attempt)}
	started := o.Running && o.Started
	cs.Started = &started
	if o.Runs {
		cs.ContainerID = fmt.Sprintf("weft://%s/%s/%d", pod.UID, c.Name, o.Attempt)
	}
	switch {
	case o.Running:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(o.StartedAt)}
		cs.Ready = o.Ready && o.Started
		if o.Previous != nil {
			cs.LastTerminationState.Terminated = terminated(o.Previous, cs.ContainerID)
		}
	case o.Runs && o.Exit != nil:
		restarting := false
		for _, s := range d.plan.Start {
			restarting = restarting || s == c.Name
		}
		delay, backingOff := d.inBackoff(c.Name)
		wantsRestart := d.policy == corev1.RestartPolicyAlways || (d.policy == corev1.RestartPolicyOnFailure && o.Exit.Code != 0) || IsSidecar(c)
		switch {
		case restarting:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: ReasonContainerCreating}
			cs.LastTerminationState.Terminated = terminated(o.Exit, cs.ContainerID)
		case wantsRestart && backingOff && !d.frozen:
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: ReasonCrashLoopBackOff,
				Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", delay, c.Name, pod.Name, pod.Namespace, pod.UID)}
			cs.LastTerminationState.Terminated = terminated(o.Exit, cs.ContainerID)
		default:
			cs.State.Terminated = terminated(o.Exit, cs.ContainerID)
			if o.Previous != nil {
				cs.LastTerminationState.Terminated = terminated(o.Previous, "")
			}
		}
	default:
		w := &corev1.ContainerStateWaiting{Reason: ReasonContainerCreating}
		if podInitializing {
			w.Reason = ReasonPodInitializing
		}
		if b, ok := d.in.Blocked[c.Name]; ok {
			w.Reason, w.Message = b.Reason, b.Message
		}
		cs.State.Waiting = w
	}
	return cs
}

func terminated(e *Exit, id string) *corev1.ContainerStateTerminated {
	return &corev1.ContainerStateTerminated{
		ExitCode: int32(e.Code), Signal: int32(e.Signal), Reason: e.Reason, Message: e.Message,
		StartedAt: metav1.NewTime(e.StartedAt), FinishedAt: metav1.NewTime(e.FinishedAt), ContainerID: id,
	}
}

// transitionTime keeps a condition's last transition time while its
// status stays the same.
func transitionTime(old []corev1.PodCondition, c corev1.PodCondition, now time.Time) metav1.Time {
	for _, o := range old {
		if o.Type == c.Type && o.Status == c.Status && !o.LastTransitionTime.IsZero() {
			return o.LastTransitionTime
		}
	}
	return metav1.NewTime(now.UTC().Truncate(time.Second))
}

func allContainers(pod *corev1.Pod) []corev1.Container {
	return append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
}

// qosClass is Kubernetes' QoS class of a pod.
func qosClass(pod *corev1.Pod) corev1.PodQOSClass {
	requests, limits := 0, 0
	guaranteed := true
	for _, c := range allContainers(pod) {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if hasReq && !req.IsZero() {
				requests++
			}
			if hasLim && !lim.IsZero() {
				limits++
			}
			if !hasLim || (hasReq && req.Cmp(lim) != 0) {
				guaranteed = false
			}
		}
	}
	switch {
	case requests == 0 && limits == 0:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// SortedNames returns a map's keys in order (for deterministic plans).
func SortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
