package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a process the harness started for a comparison: a backend, a
// proxy, a DNS server. Its CPU time and memory are read from /proc and
// summed over the process and its descendants (nginx's master and
// workers), so a figure covers the whole of what was started.
type proc struct {
	name   string
	cmd    *exec.Cmd
	log    *lockedBuffer // stderr, and stdout after the ready line
	exited chan struct{}
	ready  string // what followed the ready prefix on stdout, if one was awaited
	in     io.WriteCloser
	lines  chan string // stdout lines after the ready line (bounded; extra lines are dropped)
}

// startProc starts cmd and, when readyPrefix is set, waits until a line of
// its standard output starts with it (the rest of the line is returned in
// proc.ready). The process is killed if the harness dies (setDeathSignal)
// and stopped by stop on every ordinary exit path.
func startProc(ctx context.Context, name string, cmd *exec.Cmd, readyPrefix string, wait time.Duration) (*proc, error) {
	p := &proc{name: name, cmd: cmd, log: &lockedBuffer{}, exited: make(chan struct{}), lines: make(chan string, 256)}
	cmd.Stderr = p.log
	setDeathSignal(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// The harness keeps the child's standard input open: the -serve
	// programs stop when it closes, and the xds one reads commands there.
	if p.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	ready := make(chan string, 1)
	go func() { // ends when the process closes its stdout, i.e. exits
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if readyPrefix != "" {
				if rest, ok := strings.CutPrefix(line, readyPrefix); ok {
					select {
					case ready <- strings.TrimSpace(rest):
					default:
					}
					continue
				}
			}
			select {
			case p.lines <- line:
			default:
				_, _ = p.log.Write([]byte(line + "\n"))
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { _ = cmd.Wait(); close(p.exited) }()
	if readyPrefix == "" {
		return p, nil
	}
	select {
	case p.ready = <-ready:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("%s exited before it was ready:\n%s", name, tail(p.log.String(), 20))
	case <-ctx.Done():
		p.stop()
		return nil, fmt.Errorf("%s not ready: %w", name, ctx.Err())
	case <-time.After(wait):
		p.stop()
		return nil, fmt.Errorf("%s not ready after %s:\n%s", name, wait, tail(p.log.String(), 20))
	}
}

// stop sends SIGTERM, waits up to 10 s, then kills. Safe to call twice.
func (p *proc) stop() {
	if p == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	_ = p.in.Close()
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// command writes one command line to the process and returns its next
// line of output.
func (p *proc) command(ctx context.Context, line string) (string, error) {
	if _, err := io.WriteString(p.in, line+"\n"); err != nil {
		return "", fmt.Errorf("%s: send %q: %w", p.name, line, err)
	}
	select {
	case out := <-p.lines:
		return out, nil
	case <-p.exited:
		return "", fmt.Errorf("%s exited:\n%s", p.name, tail(p.log.String(), 20))
	case <-ctx.Done():
		return "", ctx.Err()
	case <-time.After(30 * time.Second):
		return "", fmt.Errorf("%s: no answer to %q within 30s", p.name, line)
	}
}

// cpu is the CPU time (user + system) of the process and its living
// descendants.
func (p *proc) cpu() (time.Duration, error) {
	var total time.Duration
	for _, pid := range processTree(p.pid()) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			if pid == p.pid() {
				return 0, err
			}
			continue // a worker that just exited
		}
		c, err := parseStatCPU(b)
		if err != nil {
			return 0, err
		}
		total += c
	}
	return total, nil
}

// memory is VmRSS and VmHWM summed over the process and its descendants,
// in bytes. Pages the processes share (nginx's workers and master) count
// once per process, as ps shows them.
func (p *proc) memory() (rss, peak int64, err error) {
	for _, pid := range processTree(p.pid()) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			if pid == p.pid() {
				return 0, 0, err
			}
			continue
		}
		rss += parseStatusKB(b, "VmRSS:") * 1024
		peak += parseStatusKB(b, "VmHWM:") * 1024
	}
	return rss, peak, nil
}

// private is RssAnon summed over the process and its descendants, in
// bytes: the memory each copy of the process costs on its own, without the
// pages of its binary and libraries, which every process running the same
// file shares through the page cache (a node running fifty sidecars holds
// weft-proxy's code once).
func (p *proc) private() (int64, error) {
	var anon int64
	for _, pid := range processTree(p.pid()) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			if pid == p.pid() {
				return 0, err
			}
			continue
		}
		anon += parseStatusKB(b, "RssAnon:") * 1024
	}
	return anon, nil
}

// processTree is pid and every process descending from it, from the
// parent pid field of /proc/*/stat.
func processTree(root int) []int {
	parents := map[int][]int{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		if ppid, ok := parsePPID(b); ok {
			parents[ppid] = append(parents[ppid], pid)
		}
	}
	return descendants(root, parents)
}

// descendants walks a parent → children map from root, root first.
func descendants(root int, children map[int][]int) []int {
	out := []int{root}
	for i := 0; i < len(out) && len(out) < 10000; i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// parsePPID reads field 4 of /proc/<pid>/stat.
func parsePPID(stat []byte) (int, bool) {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, false
	}
	n, err := strconv.Atoi(f[1])
	return n, err == nil
}

// procMeter measures a proc's CPU time between start and stop.
type procMeter struct {
	p    *proc
	cpu0 time.Duration
	t0   time.Time
}

func (p *proc) startCPU() (*procMeter, error) {
	c, err := p.cpu()
	return &procMeter{p: p, cpu0: c, t0: time.Now()}, err
}

// stop returns the CPU time used since start and the wall time.
func (m *procMeter) stop() (cpu, wall time.Duration, err error) {
	c, err := m.p.cpu()
	return c - m.cpu0, time.Since(m.t0), err
}

// freePort returns a TCP port on ip that was free a moment ago, for the
// programs (nginx, haproxy) that cannot be told to pick one and say which.
func freePort(ip string) (int, error) {
	ln, err := listenTCP(ip + ":0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	_, port, _ := strings.Cut(ln.Addr().String()[len(ip):], ":")
	return strconv.Atoi(port)
}

// selfExe is the harness's own binary, which serves the small programs the
// comparisons need in a process of their own (see serve.go).
func selfExe() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find the harness binary: %w", err)
	}
	return exe, nil
}

// startServe starts the harness binary as "-serve kind args..." and waits
// for its "serving " line, whose rest is returned as proc.ready.
func startServe(ctx context.Context, kind string, args ...string) (*proc, error) {
	exe, err := selfExe()
	if err != nil {
		return nil, err
	}
	// WEFT_BENCH_PROFILE_DIR=DIR has each served program write a CPU
	// profile, DIR/<kind>.pprof, for `go tool pprof`.
	if dir := os.Getenv("WEFT_BENCH_PROFILE_DIR"); dir != "" {
		args = append(args, "-cpuprofile", filepath.Join(dir, kind+".pprof"))
	}
	cmd := exec.Command(exe, append([]string{"-serve", kind, "-parent"}, args...)...)
	return startProc(ctx, kind, cmd, servingPrefix, 2*time.Minute)
}
