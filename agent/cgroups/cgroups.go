package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Version is the kind of hierarchy found.
type Version int

// Hierarchies.
const (
	None Version = iota
	V1
	V2
)

// Limits are what a container's group enforces; zero means unlimited.
type Limits struct {
	MemoryBytes int64
	// CPUMilli is the CPU limit in millicores (a CFS quota).
	CPUMilli int64
	// CPUSharesMilli is the CPU request in millicores (a relative weight).
	CPUSharesMilli int64
}

// Group is one container's control group: a directory per controller.
type Group struct {
	Version Version `json:"version"`
	// Dirs are the group's directories; the process joins each.
	Dirs []string `json:"dirs"`
	// Memory and CPU are the directories holding those controllers' files.
	Memory string `json:"memory,omitempty"`
	CPU    string `json:"cpu,omitempty"`
	CPUAcc string `json:"cpuacct,omitempty"`
}

// Manager makes groups under one base.
type Manager struct {
	version Version
	reason  string
	// v1: controller name → parent directory; v2: "" → parent directory.
	parents map[string]string
}

// Detect looks at root (normally /sys/fs/cgroup) and prepares groups below
// base (e.g. weft/<node>). It never fails: a Manager that cannot make groups
// says why in Reason.
func Detect(root, base string) *Manager {
	m := &Manager{parents: map[string]string{}}
	if os.Geteuid() != 0 {
		m.reason = "the agent does not run as root"
		return m
	}
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		ctrls, _ := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
		if !strings.Contains(string(ctrls), "memory") || !strings.Contains(string(ctrls), "cpu") {
			m.reason = "the cgroup v2 hierarchy lacks the memory or cpu controller"
			return m
		}
		// Enable the controllers for children, down to base's parent.
		dir := root
		for _, part := range strings.Split(base, "/") {
			_ = os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+memory +cpu"), 0)
			dir = filepath.Join(dir, part)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				m.reason = fmt.Sprintf("cannot create cgroup %s: %v", dir, err)
				return m
			}
		}
		_ = os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+memory +cpu"), 0)
		m.version, m.parents[""] = V2, dir
		return m
	}
	own := ownGroups()
	for _, ctrl := range []string{"memory", "cpu", "cpuacct"} {
		mount := filepath.Join(root, ctrl)
		if _, err := os.Stat(filepath.Join(mount, "cgroup.procs")); err != nil {
			m.reason = fmt.Sprintf("no cgroup v1 %s controller at %s", ctrl, mount)
			return m
		}
		dir := filepath.Join(mount, own[ctrl], base)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			m.reason = fmt.Sprintf("cannot create cgroup %s: %v", dir, err)
			return m
		}
		m.parents[ctrl] = dir
	}
	m.version = V1
	return m
}

// ownGroups reads /proc/self/cgroup: v1 controller → path.
func ownGroups() map[string]string {
	out := map[string]string{}
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out
}

// Version is the hierarchy in use (None when groups cannot be made).
func (m *Manager) Version() Version { return m.version }

// Reason says why limits cannot be enforced ("" when they can).
func (m *Manager) Reason() string { return m.reason }

// Create makes the group name (relative to the base) with limits.
func (m *Manager) Create(name string, lim Limits) (Group, error) {
	switch m.version {
	case V2:
		dir := filepath.Join(m.parents[""], name)
		if err := mkdirEnabling(m.parents[""], name); err != nil {
			return Group{}, err
		}
		g := Group{Version: V2, Dirs: []string{dir}, Memory: dir, CPU: dir, CPUAcc: dir}
		if lim.MemoryBytes > 0 {
			if err := write(dir, "memory.max", strconv.FormatInt(lim.MemoryBytes, 10)); err != nil {
				return g, err
			}
			_ = write(dir, "memory.swap.max", "0")
		}
		if lim.CPUMilli > 0 {
			if err := write(dir, "cpu.max", fmt.Sprintf("%d 100000", cpuQuota(lim.CPUMilli))); err != nil {
				return g, err
			}
		}
		if lim.CPUSharesMilli > 0 {
			// Kubernetes' mapping of shares (2..262144) to weight (1..10000).
			shares := sharesOf(lim.CPUSharesMilli)
			_ = write(dir, "cpu.weight", strconv.FormatInt(1+((shares-2)*9999)/262142, 10))
		}
		return g, nil
	case V1:
		g := Group{Version: V1}
		for _, ctrl := range []string{"memory", "cpu", "cpuacct"} {
			dir := filepath.Join(m.parents[ctrl], name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return g, fmt.Errorf("create cgroup: %w", err)
			}
			g.Dirs = append(g.Dirs, dir)
		}
		g.Memory, g.CPU, g.CPUAcc = g.Dirs[0], g.Dirs[1], g.Dirs[2]
		if lim.MemoryBytes > 0 {
			if err := write(g.Memory, "memory.limit_in_bytes", strconv.FormatInt(lim.MemoryBytes, 10)); err != nil {
				return g, err
			}
			_ = write(g.Memory, "memory.memsw.limit_in_bytes", strconv.FormatInt(lim.MemoryBytes, 10))
		}
		if lim.CPUMilli > 0 {
			if err := write(g.CPU, "cpu.cfs_period_us", "100000"); err != nil {
				return g, err
			}
			if err := write(g.CPU, "cpu.cfs_quota_us", strconv.FormatInt(cpuQuota(lim.CPUMilli), 10)); err != nil {
				return g, err
			}
		}
		if lim.CPUSharesMilli > 0 {
			_ = write(g.CPU, "cpu.shares", strconv.FormatInt(sharesOf(lim.CPUSharesMilli), 10))
		}
		return g, nil
	}
	return Group{}, fmt.Errorf("cgroups unavailable: %s", m.reason)
}

// mkdirEnabling creates parent/name level by level, enabling the memory and
// cpu controllers for each new level's children (v2).
func mkdirEnabling(parent, name string) error {
	dir := parent
	parts := strings.Split(name, "/")
	for i, p := range parts {
		dir = filepath.Join(dir, p)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create cgroup: %w", err)
		}
		if i < len(parts)-1 {
			_ = os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+memory +cpu"), 0)
		}
	}
	return nil
}

func cpuQuota(milli int64) int64 {
	q := milli * 100000 / 1000
	if q < 1000 {
		q = 1000 // the kernel's minimum
	}
	return q
}

func sharesOf(milli int64) int64 {
	s := milli * 1024 / 1000
	if s < 2 {
		s = 2
	}
	return s
}

func write(dir, file, value string) error {
	if err := os.WriteFile(filepath.Join(dir, file), []byte(value), 0); err != nil {
		return fmt.Errorf("set %s: %w", file, err)
	}
	return nil
}

// Join moves process pid into every directory of g.
func Join(g Group, pid int) error {
	for _, d := range g.Dirs {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			return fmt.Errorf("join cgroup %s: %w", d, err)
		}
	}
	return nil
}

// Procs lists the processes in g.
func Procs(g Group) []int {
	seen := map[int]bool{}
	var out []int
	for _, d := range g.Dirs {
		b, err := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && !seen[pid] {
				seen[pid] = true
				out = append(out, pid)
			}
		}
	}
	return out
}

// OOMKills is how many processes of g the kernel's OOM killer has killed.
func OOMKills(g Group) int64 {
	switch g.Version {
	case V1:
		return fieldOf(filepath.Join(g.Memory, "memory.oom_control"), "oom_kill")
	case V2:
		return fieldOf(filepath.Join(g.Memory, "memory.events"), "oom_kill")
	}
	return 0
}

// Remove kills what is left in g and deletes its directories (and empty
// parents up to, not including, stopAt levels above).
func Remove(g Group) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		procs := Procs(g)
		if len(procs) == 0 {
			break
		}
		for _, p := range procs {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup: processes %v did not die", procs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var errs []error
	for _, d := range g.Dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove cgroup: %w", err))
		}
	}
	return errors.Join(errs...)
}

// RemoveDir deletes a pod's group directory name (relative to the base)
// once its containers' groups are gone.
func (m *Manager) RemoveDir(name string) {
	for _, p := range m.parents {
		_ = os.Remove(filepath.Join(p, name))
	}
}

// Usage is a group's resource use at one moment.
type Usage struct {
	// CPUNanos is the cumulative CPU time used.
	CPUNanos uint64
	// WorkingSetBytes is memory in use minus inactive file cache, as
	// metrics-server reports it.
	WorkingSetBytes uint64
}

// Sample reads g's usage.
func Sample(g Group) (Usage, error) {
	var u Usage
	switch g.Version {
	case V1:
		b, err := os.ReadFile(filepath.Join(g.CPUAcc, "cpuacct.usage"))
		if err != nil {
			return u, fmt.Errorf("read cpu usage: %w", err)
		}
		u.CPUNanos, _ = strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		mem, err := readUint(filepath.Join(g.Memory, "memory.usage_in_bytes"))
		if err != nil {
			return u, err
		}
		inactive := uint64(fieldOf(filepath.Join(g.Memory, "memory.stat"), "total_inactive_file"))
		u.WorkingSetBytes = sub(mem, inactive)
	case V2:
		usec := fieldOf(filepath.Join(g.CPU, "cpu.stat"), "usage_usec")
		u.CPUNanos = uint64(usec) * 1000
		mem, err := readUint(filepath.Join(g.Memory, "memory.current"))
		if err != nil {
			return u, err
		}
		u.WorkingSetBytes = sub(mem, uint64(fieldOf(filepath.Join(g.Memory, "memory.stat"), "inactive_file")))
	default:
		return u, errors.New("no cgroup")
	}
	return u, nil
}

func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

func readUint(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", filepath.Base(path), err)
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// fieldOf reads "key value" lines and returns key's value (0 if absent).
func fieldOf(path, key string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == key {
			v, _ := strconv.ParseInt(f[1], 10, 64)
			return v
		}
	}
	return 0
}
