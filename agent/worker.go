package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/weft-mesh/weft/agent/catalog"
	"github.com/weft-mesh/weft/agent/cgroups"
	"github.com/weft-mesh/weft/agent/lifecycle"
	"github.com/weft-mesh/weft/agent/network"
	"github.com/weft-mesh/weft/agent/probe"
	"github.com/weft-mesh/weft/agent/runtime"
	"github.com/weft-mesh/weft/agent/volumes"
	"github.com/weft-mesh/weft/api"
	"github.com/weft-mesh/weft/client"
)

// podRecord is the agent's own record of a pod, kept in its directory so a
// restarted agent keeps the pod's address and start time.
type podRecord struct {
	UID       types.UID `json:"uid"`
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	PodIP     string    `json:"podIP"`
	StartTime time.Time `json:"startTime"`
}

const podRecordFile = "pod.json"

// podWorker owns one pod: one goroutine (run) decides and acts; probe and
// kill goroutines report back through the mutex-guarded fields and poke.
type podWorker struct {
	a      *Agent
	uid    types.UID
	notify chan struct{}

	mu      sync.Mutex
	pod     *corev1.Pod // latest desired; nil once deleted
	deleted bool
	seen    bool // update was called at least once

	// Owned by run.
	rec        *podRecord
	netEnv     map[string]string
	netNS      string          // the pod's network namespace; "" for the host's
	podMounts  []runtime.Mount // the pod's /etc/resolv.conf and /etc/hosts (netns mode)
	vols       map[string]volumes.Volume
	backoff    map[string]lifecycle.Backoff
	blocked    map[string]blockEntry
	lastStatus *corev1.PodStatus

	// Shared with probe and kill goroutines.
	pmu     sync.Mutex
	probes  map[string]*probeState
	killing map[string]int // container → attempt being stopped
	bg      sync.WaitGroup
}

type blockEntry struct {
	b  lifecycle.Blocked
	at time.Time
}

// probeState is what the probes say about one run of a container.
type probeState struct {
	attempt   int
	ready     bool
	started   bool
	unhealthy string
	cancel    context.CancelFunc
}

func newPodWorker(a *Agent, uid types.UID) *podWorker {
	return &podWorker{a: a, uid: uid, notify: make(chan struct{}, 1),
		backoff: map[string]lifecycle.Backoff{}, blocked: map[string]blockEntry{},
		probes: map[string]*probeState{}, killing: map[string]int{}}
}

func (w *podWorker) update(p *corev1.Pod) {
	w.mu.Lock()
	if p == nil {
		w.deleted = true
	} else if !w.deleted {
		w.pod = p
	}
	w.seen = true
	w.mu.Unlock()
	w.poke()
}

func (w *podWorker) poke() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

func (w *podWorker) desired() (*corev1.Pod, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod, w.deleted
}

func (w *podWorker) dir() string { return w.a.rt.PodDir(string(w.uid)) }

// run syncs the pod until it is deleted (then stops and removes it) or
// ctx ends (then leaves its containers running).
func (w *podWorker) run(ctx context.Context) {
	defer w.a.workerDone(w.uid)
	defer w.stopProbes()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			w.bg.Wait()
			return
		case <-w.notify:
		case <-timer.C:
		}
		pod, deleted := w.desired()
		if deleted {
			grace := 30 * time.Second
			if pod != nil && pod.Spec.TerminationGracePeriodSeconds != nil {
				grace = time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
			}
			if pod != nil && pod.DeletionGracePeriodSeconds != nil {
				grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
			}
			w.terminate(ctx, grace, nil)
			w.cleanup(ctx)
			return
		}
		if pod == nil {
			continue
		}
		wake := w.sync(ctx, pod)
		next := w.a.cfg.SyncPeriod
		if !wake.IsZero() {
			if d := time.Until(wake); d < next {
				next = max(d, 10*time.Millisecond)
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

// sync is one round: observe, decide, act, report. It returns when to
// look again at the latest.
func (w *podWorker) sync(ctx context.Context, pod *corev1.Pod) time.Time {
	log := w.a.log.With(zap.String("pod", pod.Namespace+"/"+pod.Name))
	if err := w.setup(ctx, pod); err != nil {
		log.Warn("pod setup failed", zap.Error(err))
		w.a.event(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", err.Error())
		return time.Now().Add(2 * time.Second)
	}
	if pod.DeletionTimestamp != nil {
		grace := 30 * time.Second
		if pod.DeletionGracePeriodSeconds != nil {
			grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
		}
		w.terminate(ctx, grace, pod)
		// Every container has stopped: finish the graceful deletion.
		zero := int64(0)
		_, err := w.a.cfg.Client.DeleteWith(ctx, api.LookupName("pods"), pod.Namespace, pod.Name, client.DeleteOptions{GracePeriodSeconds: &zero})
		if err != nil && !apierrors.IsNotFound(err) {
			log.Warn("delete terminated pod", zap.Error(err))
		}
	}
	obs, err := w.a.rt.Observe(string(w.uid))
	if err != nil {
		log.Warn("observe containers", zap.Error(err))
		return time.Now().Add(time.Second)
	}
	now := time.Now()
	w.expireBlocks(now)
	w.checkImages(pod, obs)
	w.syncProbes(ctx, pod, obs)
	plan := lifecycle.Decide(w.input(pod, obs, now))
	w.backoff = plan.Backoff
	acted := false
	if pod.DeletionTimestamp == nil {
		for _, name := range plan.Start {
			if err := w.start(ctx, pod, name, obs); err != nil {
				log.Info("container not started", zap.String("container", name), zap.Error(err))
			}
			acted = true
		}
		for _, k := range plan.Kill {
			w.kill(ctx, pod, k.Name, obs[k.Name].Attempt, k.Message)
		}
	}
	if acted {
		// Look again at once: the status then shows what was started.
		w.poke()
		return plan.Wake
	}
	w.report(ctx, pod, plan.Status)
	return plan.Wake
}

// setup gives the pod its directory and network identity, once.
func (w *podWorker) setup(ctx context.Context, pod *corev1.Pod) error {
	if w.rec != nil {
		return nil
	}
	if err := os.MkdirAll(w.dir(), 0o700); err != nil {
		return fmt.Errorf("pod dir: %w", err)
	}
	var rec podRecord
	_ = runtime.ReadJSON(filepath.Join(w.dir(), podRecordFile), &rec)
	var res network.Result
	var err error
	if pod.Spec.HostNetwork && w.a.net.Mode() == network.ModeNetns {
		// The node's own network and address, as Kubernetes gives it.
		res = network.Result{IP: w.a.cfg.NodeIP}
	} else if res, err = w.a.net.Setup(ctx, network.Pod{UID: string(w.uid), Namespace: pod.Namespace, Name: pod.Name, IP: rec.PodIP, Sidecar: hasSidecar(pod)}); err != nil {
		return err
	}
	if rec.StartTime.IsZero() {
		rec.StartTime = time.Now().UTC().Truncate(time.Second)
	}
	rec.UID, rec.Namespace, rec.Name, rec.PodIP = w.uid, pod.Namespace, pod.Name, res.IP
	if err := runtime.WriteJSON(filepath.Join(w.dir(), podRecordFile), rec); err != nil {
		return err
	}
	env := map[string]string{}
	for k, v := range res.Env {
		env[k] = v
	}
	if xds := w.a.xdsForPods(res); xds != "" {
		env["WEFT_XDS_ADDR"] = xds
	}
	env["WEFT_NETWORK"] = w.a.net.Mode()
	for k, v := range hostModeProxyEnv(w.a.net.Mode(), pod, res.IP) {
		env[k] = v
	}
	var mounts []runtime.Mount
	if res.NetNS != "" {
		if mounts, err = writePodFiles(w.dir(), pod, res.IP, res.Gateway, w.a.cfg.ClusterDomain); err != nil {
			return err
		}
	}
	w.rec, w.netEnv, w.netNS, w.podMounts = &rec, env, res.NetNS, mounts
	return nil
}

func (w *podWorker) expireBlocks(now time.Time) {
	for name, e := range w.blocked {
		if !e.b.Fatal && now.Sub(e.at) > 2*time.Second {
			delete(w.blocked, name)
		}
	}
}

// checkImages blocks, fatally, containers whose image cannot be resolved.
func (w *podWorker) checkImages(pod *corev1.Pod, obs map[string]runtime.Observed) {
	for _, c := range allContainers(pod) {
		if _, ran := obs[c.Name]; ran {
			continue
		}
		if _, err := w.a.cat.Resolve(c.Image, c.Command, c.Args); err != nil {
			if _, ok := w.blocked[c.Name]; !ok {
				w.a.event(pod, corev1.EventTypeWarning, "Failed", fmt.Sprintf("Failed to resolve image %q: %v", c.Image, err))
			}
			w.blocked[c.Name] = blockEntry{b: lifecycle.Blocked{Reason: lifecycle.ReasonImageNotFound, Message: err.Error(), Fatal: errors.Is(err, catalog.ErrImageNotFound)}, at: time.Now()}
		}
	}
}

func (w *podWorker) input(pod *corev1.Pod, obs map[string]runtime.Observed, now time.Time) lifecycle.Input {
	in := lifecycle.Input{
		Pod: pod, Containers: map[string]lifecycle.Container{}, Blocked: map[string]lifecycle.Blocked{},
		Backoff: w.backoff, Policy: w.a.cfg.Backoff, PodIP: w.rec.PodIP, HostIP: w.a.cfg.NodeIP,
		StartTime: w.rec.StartTime, Now: now,
	}
	for name, e := range w.blocked {
		in.Blocked[name] = e.b
	}
	w.pmu.Lock()
	for name, o := range obs {
		c := lifecycle.Container{Runs: true, Attempt: o.Attempt, Previous: exitOf(o.Previous)}
		switch {
		case o.Exit != nil:
			c.Exit = exitOf(o.Exit)
		default:
			c.Running = true
			c.StartedAt = now
			if o.State != nil {
				c.StartedAt = o.State.StartedAt
			}
			c.Ready, c.Started = true, true
			if ps, ok := w.probes[name]; ok && ps.attempt == o.Attempt {
				c.Ready, c.Started, c.Unhealthy = ps.ready, ps.started, ps.unhealthy
			}
		}
		in.Containers[name] = c
	}
	w.pmu.Unlock()
	if reason := w.limitsNotEnforced(pod); reason != "" {
		in.Conditions = append(in.Conditions, corev1.PodCondition{Type: ConditionLimitsEnforced, Status: corev1.ConditionFalse,
			Reason: "CgroupsUnavailable", Message: "resource limits are not enforced: " + reason})
	}
	if !*w.a.cfg.MountNamespaces && hasMounts(pod) {
		in.Conditions = append(in.Conditions, corev1.PodCondition{Type: ConditionVolumesAtMountPaths, Status: corev1.ConditionFalse,
			Reason: "NoMountNamespaces", Message: "the agent does not run as root: volumes are not at their mountPaths; each container gets WEFT_VOLUME_<NAME>=<directory> instead"})
	}
	return in
}

// Pod condition types the agent adds beside Kubernetes' own.
const (
	// ConditionLimitsEnforced is False when the pod has resource limits
	// that the host cannot enforce (no usable cgroups).
	ConditionLimitsEnforced corev1.PodConditionType = "weft.io/ResourceLimitsEnforced"
	// ConditionVolumesAtMountPaths is False when volumes cannot be mounted
	// at their mountPaths (no mount namespaces without root).
	ConditionVolumesAtMountPaths corev1.PodConditionType = "weft.io/VolumesAtMountPaths"
)

func (w *podWorker) limitsNotEnforced(pod *corev1.Pod) string {
	has := false
	for _, c := range allContainers(pod) {
		if _, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
			has = true
		}
		if _, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
			has = true
		}
	}
	switch {
	case !has:
		return ""
	case w.a.cg == nil:
		return "cgroups are turned off for this agent"
	case w.a.cg.Version() == cgroups.None:
		return w.a.cg.Reason()
	}
	return ""
}

func hasMounts(pod *corev1.Pod) bool {
	for _, c := range allContainers(pod) {
		if len(c.VolumeMounts) > 0 {
			return true
		}
	}
	return false
}

func exitOf(e *runtime.Exit) *lifecycle.Exit {
	if e == nil {
		return nil
	}
	return &lifecycle.Exit{Code: e.ExitCode, Signal: e.Signal, Reason: e.Reason, Message: e.Message, StartedAt: e.StartedAt, FinishedAt: e.FinishedAt}
}

// report posts the status when it changed.
func (w *podWorker) report(ctx context.Context, pod *corev1.Pod, st corev1.PodStatus) {
	if w.lastStatus != nil && equality.Semantic.DeepEqual(*w.lastStatus, st) {
		return
	}
	if w.lastStatus == nil && equality.Semantic.DeepEqual(pod.Status, st) {
		w.lastStatus = &st
		return
	}
	out := pod.DeepCopy()
	out.Status = st
	out.ResourceVersion = ""
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := w.a.c.UpdateStatus(rctx, out); err != nil {
		if ctx.Err() == nil {
			w.a.log.Warn("post pod status", zap.String("pod", pod.Namespace+"/"+pod.Name), zap.Error(err))
		}
		return
	}
	w.lastStatus = &st
}

func allContainers(pod *corev1.Pod) []*corev1.Container {
	out := make([]*corev1.Container, 0, len(pod.Spec.InitContainers)+len(pod.Spec.Containers))
	for i := range pod.Spec.InitContainers {
		out = append(out, &pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		out = append(out, &pod.Spec.Containers[i])
	}
	return out
}

func containerOf(pod *corev1.Pod, name string) *corev1.Container {
	for _, c := range allContainers(pod) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// runsToCompletion reports whether a container is an init container that
// runs to completion: it is not probed and has no postStart hook. Sidecars
// (init containers with restartPolicy Always) run like app containers.
func runsToCompletion(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return !lifecycle.IsSidecar(c)
		}
	}
	return false
}

// start runs the next attempt of a container. A configuration it cannot
// build blocks the container for a moment (the status says why).
func (w *podWorker) start(ctx context.Context, pod *corev1.Pod, name string, obs map[string]runtime.Observed) error {
	c := containerOf(pod, name)
	block := func(reason string, err error, fatal bool) error {
		if _, ok := w.blocked[name]; !ok {
			w.a.event(pod, corev1.EventTypeWarning, "Failed", fmt.Sprintf("Error: %v", err))
		}
		w.blocked[name] = blockEntry{b: lifecycle.Blocked{Reason: reason, Message: err.Error(), Fatal: fatal}, at: time.Now()}
		return err
	}
	argv, err := w.a.cat.Resolve(c.Image, c.Command, c.Args)
	if err != nil {
		return block(lifecycle.ReasonImageNotFound, err, errors.Is(err, catalog.ErrImageNotFound))
	}
	view := w.podView(pod)
	env, lookup, err := w.a.env.build(ctx, view, c, w.netEnv)
	if err != nil {
		return block("CreateContainerConfigError", err, false)
	}
	if w.vols == nil {
		vols, err := volumes.Prepare(ctx, view, w.dir(), w.a.lookup)
		if err != nil {
			w.a.event(pod, corev1.EventTypeWarning, "FailedMount", err.Error())
			w.blocked[name] = blockEntry{b: lifecycle.Blocked{Reason: lifecycle.ReasonContainerCreating, Message: err.Error()}, at: time.Now()}
			return err
		}
		w.vols = vols
	}
	for i := range argv {
		argv[i] = volumes.Expand(argv[i], lookup)
	}
	attempt := 0
	if o, ok := obs[name]; ok {
		attempt = o.Attempt + 1
	}
	spec := runtime.Spec{Args: argv, Env: env, Dir: c.WorkingDir, NetNS: w.netNS}
	if w.netNS != "" {
		spec.Hostname = podHostname(pod)
	}
	if os.Geteuid() == 0 {
		spec.User = runAs(c)
	}
	mounts, err := volumes.Mounts(c, w.vols, lookup)
	if err != nil {
		return block("CreateContainerConfigError", err, false)
	}
	if *w.a.cfg.MountNamespaces {
		tmpAtMount := false
		taken := map[string]bool{}
		for _, m := range mounts {
			tmpAtMount = tmpAtMount || filepath.Clean(m.Target) == "/tmp"
			taken[filepath.Clean(m.Target)] = true
		}
		// The pod's /etc/resolv.conf and /etc/hosts, unless the container
		// mounts its own there.
		for _, m := range w.podMounts {
			if !taken[m.Target] {
				mounts = append(mounts, m)
			}
		}
		if !tmpAtMount {
			// A fresh /tmp per run, as a container's own filesystem would be.
			tmp := filepath.Join(w.dir(), "tmp", name)
			_ = os.RemoveAll(tmp)
			if err := os.MkdirAll(tmp, 0o777); err != nil {
				return block("CreateContainerError", err, false)
			}
			_ = os.Chmod(tmp, 0o1777)
			mounts = append(mounts, runtime.Mount{Source: tmp, Target: "/tmp"})
		}
		spec.Mounts = mounts
		spec.Scratch = filepath.Join(w.dir(), "scratch", name, fmt.Sprint(attempt))
	} else {
		for _, vm := range c.VolumeMounts {
			if v, ok := w.vols[vm.Name]; ok {
				spec.Env = append(spec.Env, "WEFT_VOLUME_"+envName(vm.Name)+"="+v.Path)
			}
		}
	}
	if w.a.cg != nil && w.a.cg.Version() != cgroups.None {
		g, err := w.a.cg.Create("pod"+string(w.uid)+"/"+name, limitsOf(c))
		if err != nil {
			w.a.log.Warn("cgroup", zap.String("container", name), zap.Error(err))
		} else {
			spec.Cgroup = &g
		}
	}
	if err := w.a.rt.Start(ctx, string(w.uid), name, attempt, spec); err != nil {
		return block("RunContainerError", err, false)
	}
	delete(w.blocked, name)
	if attempt == 0 {
		w.a.event(pod, corev1.EventTypeNormal, "Started", fmt.Sprintf("Started container %s", name))
	} else {
		w.a.event(pod, corev1.EventTypeNormal, "Started", fmt.Sprintf("Started container %s (restart %d)", name, attempt))
	}
	if c.Lifecycle != nil && c.Lifecycle.PostStart != nil && !runsToCompletion(pod, name) {
		h := c.Lifecycle.PostStart
		tgt := w.target(pod, c)
		w.bg.Add(1)
		go func() {
			defer w.bg.Done()
			hctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			if err := probe.RunHandler(hctx, h, tgt); err != nil && ctx.Err() == nil {
				w.a.event(pod, corev1.EventTypeWarning, "FailedPostStartHook", err.Error())
				w.setProbe(name, attempt, func(ps *probeState) { ps.unhealthy = "PostStartHookError: " + err.Error() })
			}
		}()
	}
	return nil
}

func envName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '_'
	}, s)
}

// podView is the pod as its containers see it (the downward API).
func (w *podWorker) podView(pod *corev1.Pod) *corev1.Pod {
	v := pod.DeepCopy()
	v.Status.PodIP = w.rec.PodIP
	v.Status.PodIPs = []corev1.PodIP{{IP: w.rec.PodIP}}
	v.Status.HostIP = w.a.cfg.NodeIP
	v.Status.HostIPs = []corev1.HostIP{{IP: w.a.cfg.NodeIP}}
	return v
}

func limitsOf(c *corev1.Container) cgroups.Limits {
	var l cgroups.Limits
	if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		l.MemoryBytes = q.Value()
	}
	if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		l.CPUMilli = q.MilliValue()
	}
	if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
		l.CPUSharesMilli = q.MilliValue()
	}
	return l
}

// target is where a container's probes and hooks go.
func (w *podWorker) target(pod *corev1.Pod, c *corev1.Container) probe.Target {
	uid, name := string(w.uid), c.Name
	return probe.Target{PodIP: w.rec.PodIP, Container: c, Exec: func(ctx context.Context, argv []string) ([]byte, int, error) {
		cmd, err := w.a.rt.ExecCommand(ctx, uid, name, argv)
		if err != nil {
			return nil, -1, err
		}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out, ee.ExitCode(), nil
		}
		if err != nil {
			return out, -1, err
		}
		return out, 0, nil
	}}
}

// syncProbes runs probe workers for each running container's current run
// and stops those of runs that ended.
func (w *podWorker) syncProbes(ctx context.Context, pod *corev1.Pod, obs map[string]runtime.Observed) {
	w.pmu.Lock()
	defer w.pmu.Unlock()
	for name, ps := range w.probes {
		o, ok := obs[name]
		if !ok || !o.Running() || o.Attempt != ps.attempt {
			ps.cancel()
			delete(w.probes, name)
		}
	}
	for name, o := range obs {
		if !o.Running() {
			continue
		}
		if _, ok := w.probes[name]; ok {
			continue
		}
		c := containerOf(pod, name)
		if c == nil {
			continue
		}
		pctx, cancel := context.WithCancel(ctx)
		ps := &probeState{attempt: o.Attempt, ready: c.ReadinessProbe == nil, started: c.StartupProbe == nil, cancel: cancel}
		w.probes[name] = ps
		if runsToCompletion(pod, name) {
			continue // init containers are not probed, sidecars are
		}
		tgt := w.target(pod, c)
		attempt := o.Attempt
		started := func() bool {
			w.pmu.Lock()
			defer w.pmu.Unlock()
			return ps.started
		}
		launch := func(kind probe.Kind, p *corev1.Probe, gate func() bool, report func(bool, string)) {
			if p == nil {
				return
			}
			wk := &probe.Worker{Kind: kind, Probe: p, Target: tgt, Gate: gate,
				Report: func(ok bool, msg string) {
					report(ok, msg)
					w.poke()
				},
				// One Unhealthy event per failed probe, as the kubelet's
				// prober records them (the event counter aggregates repeats).
				Failed: func(msg string) { w.a.event(pod, corev1.EventTypeWarning, "Unhealthy", msg) },
			}
			w.bg.Add(1)
			go func() { defer w.bg.Done(); wk.Run(pctx) }()
		}
		launch(probe.Startup, c.StartupProbe, nil, func(ok bool, msg string) {
			w.setProbe(name, attempt, func(ps *probeState) {
				if ok {
					ps.started = true
				} else {
					ps.unhealthy = msg
				}
			})
		})
		launch(probe.Liveness, c.LivenessProbe, started, func(ok bool, msg string) {
			if !ok {
				w.setProbe(name, attempt, func(ps *probeState) { ps.unhealthy = msg })
			}
		})
		launch(probe.Readiness, c.ReadinessProbe, started, func(ok bool, _ string) {
			w.setProbe(name, attempt, func(ps *probeState) { ps.ready = ok })
		})
	}
}

func (w *podWorker) setProbe(name string, attempt int, f func(*probeState)) {
	w.pmu.Lock()
	defer w.pmu.Unlock()
	if ps, ok := w.probes[name]; ok && ps.attempt == attempt {
		f(ps)
	}
}

func (w *podWorker) stopProbes() {
	w.pmu.Lock()
	defer w.pmu.Unlock()
	for name, ps := range w.probes {
		ps.cancel()
		delete(w.probes, name)
	}
}

// kill stops one run of a container in the background: preStop hook,
// SIGTERM, grace period, SIGKILL.
func (w *podWorker) kill(ctx context.Context, pod *corev1.Pod, name string, attempt int, why string) {
	w.pmu.Lock()
	if a, ok := w.killing[name]; ok && a == attempt {
		w.pmu.Unlock()
		return
	}
	w.killing[name] = attempt
	w.pmu.Unlock()
	c := containerOf(pod, name)
	grace := 30 * time.Second
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	if c != nil {
		for _, p := range []*corev1.Probe{c.LivenessProbe, c.StartupProbe} {
			if p != nil && p.TerminationGracePeriodSeconds != nil && strings.Contains(why, "probe") {
				grace = time.Duration(*p.TerminationGracePeriodSeconds) * time.Second
			}
		}
	}
	w.a.event(pod, corev1.EventTypeNormal, "Killing", fmt.Sprintf("Container %s %s, will be restarted", name, why))
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		defer w.poke()
		defer func() {
			w.pmu.Lock()
			delete(w.killing, name)
			w.pmu.Unlock()
		}()
		w.stopContainer(ctx, pod, c, grace)
	}()
}

// stopContainer runs the preStop hook, then stops the program within
// what is left of the grace period.
func (w *podWorker) stopContainer(ctx context.Context, pod *corev1.Pod, c *corev1.Container, grace time.Duration) {
	if c == nil {
		return
	}
	deadline := time.Now().Add(grace)
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && w.rec != nil && w.a.rt.Running(string(w.uid), c.Name) {
		hctx, cancel := context.WithDeadline(ctx, deadline)
		if err := probe.RunHandler(hctx, c.Lifecycle.PreStop, w.target(pod, c)); err != nil && ctx.Err() == nil {
			w.a.event(pod, corev1.EventTypeWarning, "FailedPreStopHook", err.Error())
		}
		cancel()
	}
	if err := w.a.rt.Stop(ctx, string(w.uid), c.Name, max(time.Until(deadline), 0)); err != nil && ctx.Err() == nil {
		w.a.log.Warn("stop container", zap.String("container", c.Name), zap.Error(err))
	}
}

// terminate stops every running container of the pod as the kubelet does:
// the app containers (and init containers) in parallel first, then the
// sidecars one by one in reverse order, so that a sidecar proxy keeps
// serving while the app drains. The grace period covers both; sidecars
// get at least two seconds. A mesh pod's app containers are stopped only
// after MeshTerminationDelay, while the pod leaves the other proxies'
// endpoints.
//
// When shown is the terminating pod (it is still in the API), its status
// is posted as the containers stop, as the kubelet does: `get pods` shows
// 1/2 Terminating once the app has stopped and the proxy still drains.
func (w *podWorker) terminate(ctx context.Context, grace time.Duration, shown *corev1.Pod) {
	pod, _ := w.desired()
	obs, _ := w.a.rt.Observe(string(w.uid))
	deadline := time.Now().Add(grace)
	stop := func(name string, grace time.Duration) {
		var c *corev1.Container
		if pod != nil {
			c = containerOf(pod, name)
		}
		if c == nil {
			_ = w.a.rt.Stop(ctx, string(w.uid), name, grace)
			return
		}
		w.stopContainer(ctx, pod, c, grace)
	}
	var sidecars []string
	if pod != nil {
		for i := len(pod.Spec.InitContainers) - 1; i >= 0; i-- {
			if c := pod.Spec.InitContainers[i]; lifecycle.IsSidecar(c) && obs[c.Name].Running() {
				sidecars = append(sidecars, c.Name)
			}
		}
	}
	appsRunning := false
	for name, o := range obs {
		appsRunning = appsRunning || (o.Running() && !slices.Contains(sidecars, name))
	}
	if d := w.a.cfg.MeshTerminationDelay; d > 0 && pod != nil && hasSidecar(pod) && appsRunning {
		// The endpoints controller dropped the pod at its deletion; the
		// other proxies learn it a push later. Until then the app serves.
		select {
		case <-ctx.Done():
		case <-time.After(min(d, grace/2)):
		}
	}
	var wg sync.WaitGroup
	for name, o := range obs {
		if !o.Running() || slices.Contains(sidecars, name) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			stop(name, grace)
		}()
	}
	wg.Wait()
	for _, name := range sidecars {
		w.reportStopping(ctx, shown)
		stop(name, max(time.Until(deadline), 2*time.Second))
	}
	w.reportStopping(ctx, shown)
}

// reportStopping posts the status of a terminating pod whose containers
// are being stopped.
func (w *podWorker) reportStopping(ctx context.Context, pod *corev1.Pod) {
	if pod == nil || ctx.Err() != nil {
		return
	}
	obs, err := w.a.rt.Observe(string(w.uid))
	if err != nil {
		return
	}
	w.report(ctx, pod, lifecycle.Decide(w.input(pod, obs, time.Now())).Status)
}

// cleanup removes everything of a deleted pod: processes, cgroups,
// network, files.
func (w *podWorker) cleanup(ctx context.Context) {
	w.stopProbes()
	w.bg.Wait()
	// The network goes before the files: the pod's directory is what
	// tells a restarted agent that the pod's network is there to remove.
	if err := w.a.net.Teardown(context.WithoutCancel(ctx), network.Pod{UID: string(w.uid)}); err != nil {
		w.a.log.Warn("remove pod network", zap.String("uid", string(w.uid)), zap.Error(err))
	}
	if err := w.a.rt.RemovePod(string(w.uid)); err != nil {
		w.a.log.Warn("remove pod", zap.String("uid", string(w.uid)), zap.Error(err))
	}
	if w.a.cg != nil {
		w.a.cg.RemoveDir("pod" + string(w.uid))
	}
}
