package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/weft-mesh/weft/agent/cgroups"
)

// Runtime starts, observes and stops containers under a root directory.
type Runtime struct {
	root string
	// shim is the binary run as "<shim> shim ...".
	shim string
}

// New returns a runtime keeping its files under root; shim is the binary
// whose ShimMain serves "shim" ("" for this process's own binary).
func New(root, shim string) (*Runtime, error) {
	if shim == "" {
		exe, err := self()
		if err != nil {
			return nil, err
		}
		shim = exe
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("runtime root: %w", err)
	}
	return &Runtime{root: root, shim: shim}, nil
}

// Root is the directory holding every pod's files.
func (r *Runtime) Root() string { return r.root }

// PodDir is where a pod's files live.
func (r *Runtime) PodDir(uid string) string { return filepath.Join(r.root, uid) }

func (r *Runtime) containerDir(uid, name string) string {
	return filepath.Join(r.root, uid, "containers", name)
}

// AttemptDir is the directory of one run of a container.
func (r *Runtime) AttemptDir(uid, name string, attempt int) string {
	return filepath.Join(r.containerDir(uid, name), strconv.Itoa(attempt))
}

// Pods lists the pod UIDs with files on disk.
func (r *Runtime) Pods() ([]string, error) {
	ents, err := os.ReadDir(r.root)
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// Start runs attempt number attempt of a container and returns once the
// program runs (or failed to start, which Observe then reports).
func (r *Runtime) Start(ctx context.Context, uid, name string, attempt int, spec Spec) error {
	dir := r.AttemptDir(uid, name, attempt)
	if exists(dir) {
		return fmt.Errorf("start %s attempt %d: already started", name, attempt)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	if err := WriteJSON(filepath.Join(dir, specFile), spec); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, r.shim, "shim", "start", dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("start %s: shim: %w: %s", name, err, out)
	}
	return nil
}

// Observed is what the files say about a container's latest run.
type Observed struct {
	// Attempt is the number of the latest run (its restart count).
	Attempt int
	Spec    Spec
	// State is set once the program started; Exit once it ended.
	State *State
	Exit  *Exit
	// Previous is how the run before it ended, if there was one.
	Previous *Exit
}

// Running reports whether the program runs.
func (o Observed) Running() bool { return o.State != nil && o.Exit == nil }

// Observe reads the latest run of each container of a pod that has run.
// A run whose shim vanished without writing its exit status is reported as
// ended with ContainerStatusUnknown (and its processes are killed).
func (r *Runtime) Observe(uid string) (map[string]Observed, error) {
	base := filepath.Join(r.root, uid, "containers")
	ents, err := os.ReadDir(base)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]Observed{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("observe pod %s: %w", uid, err)
	}
	out := make(map[string]Observed, len(ents))
	for _, e := range ents {
		attempts := r.attempts(uid, e.Name())
		if len(attempts) == 0 {
			continue
		}
		n := attempts[len(attempts)-1]
		o := r.observeAttempt(uid, e.Name(), n)
		if len(attempts) > 1 {
			prev := r.observeAttempt(uid, e.Name(), attempts[len(attempts)-2])
			o.Previous = prev.Exit
		}
		out[e.Name()] = o
	}
	return out, nil
}

func (r *Runtime) observeAttempt(uid, name string, n int) Observed {
	dir := r.AttemptDir(uid, name, n)
	o := Observed{Attempt: n}
	_ = ReadJSON(filepath.Join(dir, specFile), &o.Spec)
	var st State
	if ReadJSON(filepath.Join(dir, stateFile), &st) == nil {
		o.State = &st
	}
	var ex Exit
	if ReadJSON(filepath.Join(dir, exitFile), &ex) == nil {
		o.Exit = &ex
		return o
	}
	if o.State != nil && !alive(st.ShimPID) {
		// Re-check: the shim may have written its exit status and gone.
		if ReadJSON(filepath.Join(dir, exitFile), &ex) == nil {
			o.Exit = &ex
			return o
		}
		if processIs(st.PID, st.StartTicks) {
			_ = syscall.Kill(-st.PID, syscall.SIGKILL)
		}
		ex = Exit{ExitCode: 137, Reason: ReasonUnknown, Message: "the container's shim is gone; its state could not be determined",
			StartedAt: st.StartedAt, FinishedAt: time.Now().UTC()}
		_ = WriteJSON(filepath.Join(dir, exitFile), ex)
		o.Exit = &ex
	}
	return o
}

// attempts lists the run numbers of a container, ascending.
func (r *Runtime) attempts(uid, name string) []int {
	ents, err := os.ReadDir(r.containerDir(uid, name))
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil && e.IsDir() {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

// processIs reports whether pid is alive and is the process started at ticks.
func processIs(pid int, ticks uint64) bool {
	return alive(pid) && (ticks == 0 || startTicks(pid) == ticks)
}

// Signal sends sig to the process group of the container's running program.
func (r *Runtime) Signal(uid, name string, sig syscall.Signal) error {
	o := r.current(uid, name)
	if o == nil || !o.Running() {
		return nil
	}
	if !processIs(o.State.PID, o.State.StartTicks) {
		return nil
	}
	if err := syscall.Kill(-o.State.PID, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %s: %w", name, err)
	}
	return nil
}

func (r *Runtime) current(uid, name string) *Observed {
	attempts := r.attempts(uid, name)
	if len(attempts) == 0 {
		return nil
	}
	o := r.observeAttempt(uid, name, attempts[len(attempts)-1])
	return &o
}

// Stop sends SIGTERM to the container's program, waits up to grace for it
// to end, then sends SIGKILL, and waits for the shim to record the end.
func (r *Runtime) Stop(ctx context.Context, uid, name string, grace time.Duration) error {
	o := r.current(uid, name)
	if o == nil || !o.Running() {
		return nil
	}
	dir := r.AttemptDir(uid, name, o.Attempt)
	ended := func() bool { return exists(filepath.Join(dir, exitFile)) || !alive(o.State.ShimPID) }
	if grace > 0 {
		if err := r.Signal(uid, name, syscall.SIGTERM); err != nil {
			return err
		}
		if waitFor(ctx, grace, ended) {
			return nil
		}
	}
	if err := r.Signal(uid, name, syscall.SIGKILL); err != nil {
		return err
	}
	if o.Spec.Cgroup != nil {
		for _, p := range cgroups.Procs(*o.Spec.Cgroup) {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	}
	if !waitFor(ctx, 10*time.Second, ended) {
		return fmt.Errorf("stop %s: the program did not end after SIGKILL", name)
	}
	return nil
}

// waitFor polls cond until it holds (true) or timeout or ctx ends (false).
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return cond()
		case <-tick.C:
		}
	}
}

// ExecCommand returns a command running argv in the container's view (its
// env, working dir, mounts and cgroup). The caller sets its stdio, starts
// and waits for it; its exit code is argv's (126/127 when it cannot run).
func (r *Runtime) ExecCommand(ctx context.Context, uid, name string, argv []string) (*exec.Cmd, error) {
	o := r.current(uid, name)
	if o == nil || !o.Running() {
		return nil, fmt.Errorf("container %s is not running: %w", name, ErrNotRunning)
	}
	dir := r.AttemptDir(uid, name, o.Attempt)
	base := helperCommand(r.shim, dir, o.Spec, argv)
	cmd := exec.CommandContext(ctx, base.Path)
	cmd.Args, cmd.Env, cmd.SysProcAttr = base.Args, base.Env, base.SysProcAttr
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd, nil
}

// ErrNotRunning is returned for exec into a container that does not run.
var ErrNotRunning = errors.New("container not running")

// LogPath is the log file of a container's latest run, or of the run
// before it (previous).
func (r *Runtime) LogPath(uid, name string, previous bool) (string, error) {
	attempts := r.attempts(uid, name)
	i := len(attempts) - 1
	if previous {
		i--
	}
	if i < 0 {
		if previous {
			return "", fmt.Errorf("previous terminated container %q not found: %w", name, os.ErrNotExist)
		}
		return "", fmt.Errorf("container %q has not started: %w", name, os.ErrNotExist)
	}
	return filepath.Join(r.AttemptDir(uid, name, attempts[i]), logFile), nil
}

// Running reports whether the container's latest run is still running,
// for log followers.
func (r *Runtime) Running(uid, name string) bool {
	o := r.current(uid, name)
	return o != nil && o.Running()
}

// RemovePod kills whatever of the pod still runs, removes its cgroups and
// deletes its files.
func (r *Runtime) RemovePod(uid string) error {
	var errs []error
	base := filepath.Join(r.root, uid, "containers")
	ents, _ := os.ReadDir(base)
	for _, e := range ents {
		for _, n := range r.attempts(uid, e.Name()) {
			if err := killAttempt(r.AttemptDir(uid, e.Name(), n)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := os.RemoveAll(filepath.Join(r.root, uid)); err != nil {
		errs = append(errs, fmt.Errorf("remove pod files: %w", err))
	}
	return errors.Join(errs...)
}

// killAttempt kills a run's program, group and shim and removes its cgroup.
func killAttempt(dir string) error {
	var spec Spec
	_ = ReadJSON(filepath.Join(dir, specFile), &spec)
	var st State
	if ReadJSON(filepath.Join(dir, stateFile), &st) == nil {
		if processIs(st.PID, st.StartTicks) {
			_ = syscall.Kill(-st.PID, syscall.SIGKILL)
		}
		if alive(st.ShimPID) {
			// The shim notices the end and exits; wait for it so the
			// directory is not removed under its feet.
			deadline := time.Now().Add(5 * time.Second)
			for alive(st.ShimPID) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	if spec.Cgroup != nil {
		if err := cgroups.Remove(*spec.Cgroup); err != nil {
			return err
		}
	}
	return nil
}

// KillAll kills every container under root and removes their cgroups and
// files: for tests' cleanup and "weft-agent --reset".
func KillAll(root string) error {
	r := &Runtime{root: root}
	uids, err := r.Pods()
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, uid := range uids {
		if err := r.RemovePod(uid); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// CopyLog is a helper for tests and the agent: the log's raw bytes.
func CopyLog(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
