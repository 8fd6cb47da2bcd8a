package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/weft-mesh/weft/agent/cgroups"
)

// ShimMain is the entry of the shim modes of a binary embedding the agent
// (weft-agent, weftd, test binaries): args are what follows "shim".
//
//	start DIR        launch "shim run DIR" detached; return once it runs
//	run DIR          own the program: logs, exit status (the shim proper)
//	exec DIR [-- CMD...]  join the container's cgroup and mounts, exec the
//	                 program (or CMD, for exec and exec probes)
//
// It returns the process exit code.
func ShimMain(args []string) int {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: shim start|run|exec DIR [-- CMD...]")
		return 2
	}
	dir := args[1]
	switch args[0] {
	case "start":
		return shimStart(dir)
	case "run":
		return shimRun(dir)
	case "exec":
		var argv []string
		if len(args) > 2 {
			if args[2] != "--" || len(args) < 4 {
				fmt.Fprintln(os.Stderr, "usage: shim exec DIR -- CMD...")
				return 2
			}
			argv = args[3:]
		}
		return shimExec(dir, argv)
	}
	fmt.Fprintf(os.Stderr, "shim: unknown mode %q\n", args[0])
	return 2
}

func self() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find own binary: %w", err)
	}
	return exe, nil
}

// shimStart launches the shim in its own session, so it survives the agent
// and is reparented to init, and waits until the program runs or ended.
func shimStart(dir string) int {
	exe, err := self()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	logf, err := os.OpenFile(filepath.Join(dir, shimLogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "shim start:", err)
		return 1
	}
	defer logf.Close()
	cmd := exec.Command(exe, "shim", "run", dir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "shim start:", err)
		return 1
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if exists(filepath.Join(dir, stateFile)) || exists(filepath.Join(dir, exitFile)) {
			return 0
		}
		if !alive(pid) {
			fmt.Fprintf(os.Stderr, "shim start: the shim exited early; see %s\n", filepath.Join(dir, shimLogFile))
			return 1
		}
	}
	fmt.Fprintln(os.Stderr, "shim start: the program did not start within 30s")
	return 1
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// shimRun is the shim proper: parent of the program until it ends.
func shimRun(dir string) int {
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGPIPE)
	var spec Spec
	if err := ReadJSON(filepath.Join(dir, specFile), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "shim:", err)
		return 1
	}
	exe, err := self()
	if err != nil {
		fmt.Fprintln(os.Stderr, "shim:", err)
		return 1
	}
	logw, err := newLogWriter(filepath.Join(dir, logFile))
	if err != nil {
		fmt.Fprintln(os.Stderr, "shim:", err)
		return 1
	}
	defer logw.Close()
	var oomBefore int64
	if spec.Cgroup != nil {
		oomBefore = cgroups.OOMKills(*spec.Cgroup)
	}
	cmd := helperCommand(exe, dir, spec, nil)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	started := time.Now().UTC()
	if err := cmd.Start(); err != nil {
		return writeExit(dir, Exit{ExitCode: 128, Reason: ReasonStartError, Message: err.Error(), StartedAt: started, FinishedAt: time.Now().UTC()})
	}
	pid := cmd.Process.Pid
	st := State{PID: pid, ShimPID: os.Getpid(), StartTicks: startTicks(pid), StartedAt: started}
	if err := WriteJSON(filepath.Join(dir, stateFile), st); err != nil {
		fmt.Fprintln(os.Stderr, "shim:", err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); logw.copyFrom("stdout", stdout) }()
	go func() { defer wg.Done(); logw.copyFrom("stderr", stderr) }()
	wg.Wait()
	werr := cmd.Wait()
	finished := time.Now().UTC()
	// The program's group and cgroup go with it, as a container's
	// processes go with its pid namespace.
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	if spec.Cgroup != nil {
		for _, p := range cgroups.Procs(*spec.Cgroup) {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
	}
	ex := Exit{StartedAt: started, FinishedAt: finished}
	var ee *exec.ExitError
	switch {
	case werr == nil:
	case errors.As(werr, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			ex.Signal = int(ws.Signal())
			ex.ExitCode = 128 + ex.Signal
		} else {
			ex.ExitCode = ws.ExitStatus()
		}
	default:
		ex.ExitCode, ex.Message = 255, werr.Error()
	}
	switch {
	case readStartError(dir) != "":
		ex.Reason, ex.Message = ReasonStartError, readStartError(dir)
	case spec.Cgroup != nil && cgroups.OOMKills(*spec.Cgroup) > oomBefore:
		ex.Reason = ReasonOOMKilled
	case ex.ExitCode == 0:
		ex.Reason = ReasonCompleted
	default:
		ex.Reason = ReasonError
	}
	return writeExit(dir, ex)
}

func writeExit(dir string, ex Exit) int {
	if err := WriteJSON(filepath.Join(dir, exitFile), ex); err != nil {
		fmt.Fprintln(os.Stderr, "shim:", err)
		return 1
	}
	return 0
}

func readStartError(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, startErrorFile))
	return strings.TrimSpace(string(b))
}

// helperCommand is "exe shim exec DIR [-- argv]" in a new mount namespace
// when the spec has mounts and a new UTS namespace when it names a host
// name, in a process group of its own. (The helper joins the pod's network
// namespace itself: setns applies to one thread, the one that execs.)
func helperCommand(exe, dir string, spec Spec, argv []string) *exec.Cmd {
	args := []string{"shim", "exec", dir}
	if argv != nil {
		args = append(append(args, "--"), argv...)
	}
	cmd := exec.Command(exe, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if len(spec.Mounts) > 0 {
		cmd.SysProcAttr.Unshareflags |= syscall.CLONE_NEWNS
	}
	if spec.Hostname != "" {
		cmd.SysProcAttr.Unshareflags |= syscall.CLONE_NEWUTS
	}
	cmd.Env = []string{} // the helper sets the container's own
	return cmd
}

// logWriter writes CRI-format log lines from several streams.
type logWriter struct {
	mu sync.Mutex
	f  *os.File
}

func newLogWriter(path string) (*logWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	return &logWriter{f: f}, nil
}

func (w *logWriter) Close() error { return w.f.Close() }

// maxLine is the longest log line written whole; longer ones are split
// into partial ("P") lines, as the CRI does.
const maxLine = 16 << 10

func (w *logWriter) copyFrom(stream string, r io.Reader) {
	br := bufio.NewReaderSize(r, maxLine)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			tag := "P"
			if line[len(line)-1] == '\n' {
				tag, line = "F", line[:len(line)-1]
			}
			w.write(stream, tag, line)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

func (w *logWriter) write(stream, tag string, line []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	buf := make([]byte, 0, len(line)+48)
	buf = time.Now().UTC().AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, ' ')
	buf = append(buf, stream...)
	buf = append(buf, ' ')
	buf = append(buf, tag...)
	buf = append(buf, ' ')
	buf = append(buf, line...)
	buf = append(buf, '\n')
	_, _ = w.f.Write(buf)
}

// alive reports whether pid runs (zombies count as dead).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := statFields(b)
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// startTicks is field 22 of /proc/pid/stat, the process's start time.
func startTicks(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := statFields(b)
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// statFields are the fields of /proc/pid/stat after the command name
// (field 3, the state, is index 0).
func statFields(b []byte) []string {
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	return strings.Fields(s)
}
