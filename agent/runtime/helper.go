package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/weft-mesh/weft/agent/cgroups"
)

// DefaultPath is the PATH of a container whose env sets none.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// shimExec runs in the container's view and execs the program (argv nil)
// or argv. It only returns on failure.
func shimExec(dir string, argv []string) int {
	// Joining the pod's network namespace changes the calling thread
	// only: stay on the thread that execs.
	goruntime.LockOSThread()
	main := argv == nil
	fail := func(code int, err error) int {
		if main {
			_ = os.WriteFile(filepath.Join(dir, startErrorFile), []byte(err.Error()), 0o600)
			code = 128
		}
		fmt.Fprintln(os.Stderr, err)
		return code
	}
	var spec Spec
	if err := ReadJSON(filepath.Join(dir, specFile), &spec); err != nil {
		return fail(126, err)
	}
	if main {
		argv = spec.Args
	}
	if len(argv) == 0 {
		return fail(126, errors.New("no command to run"))
	}
	if spec.Cgroup != nil {
		if err := cgroups.Join(*spec.Cgroup, os.Getpid()); err != nil {
			return fail(126, err)
		}
	}
	// The program is looked up on the host first (catalogue programs
	// live there), then, when not found, in the container's view (a
	// program in a volume).
	path := envValue(spec.Env, "PATH", DefaultPath)
	prog, hostErr := lookPath(argv[0], path, spec.Dir)
	if hostErr == nil && (len(spec.Mounts) > 0 || spec.User != nil) {
		// Open the program first: the mounts may hide it (a private /tmp),
		// and the container's user may not reach it.
		fd, err := syscall.Open(prog, syscall.O_RDONLY, 0)
		if err != nil {
			return fail(126, fmt.Errorf("open %s: %w", prog, err))
		}
		prog = "/proc/self/fd/" + strconv.Itoa(fd)
	}
	if hostErr != nil && len(spec.Mounts) == 0 {
		return fail(127, hostErr)
	}
	if spec.NetNS != "" {
		if err := joinNetNS(spec.NetNS); err != nil {
			return fail(126, err)
		}
	}
	if len(spec.Mounts) > 0 {
		if err := setupMounts(spec); err != nil {
			return fail(126, err)
		}
		if hostErr != nil {
			var err error
			if prog, err = lookPath(argv[0], path, spec.Dir); err != nil {
				return fail(127, err)
			}
		}
	}
	if spec.Hostname != "" {
		if err := syscall.Sethostname([]byte(spec.Hostname)); err != nil {
			return fail(126, fmt.Errorf("set host name %q: %w", spec.Hostname, err))
		}
	}
	wd := spec.Dir
	if wd == "" {
		wd = "/"
	}
	if err := os.MkdirAll(wd, 0o755); err != nil {
		return fail(126, fmt.Errorf("working directory: %w", err))
	}
	if err := syscall.Chdir(wd); err != nil {
		return fail(126, fmt.Errorf("working directory %s: %w", wd, err))
	}
	if u := spec.User; u != nil {
		if err := becomeUser(*u); err != nil {
			return fail(126, err)
		}
	}
	err := syscall.Exec(prog, argv, spec.Env)
	return fail(126, fmt.Errorf("exec %q: %w", argv[0], err))
}

// joinNetNS moves the calling thread into the network namespace at path.
func joinNetNS(path string) error {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open the pod's network namespace: %w", err)
	}
	defer syscall.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("join the pod's network namespace %s: %w", path, err)
	}
	return nil
}

// becomeUser drops root for u: no supplementary groups, then the group,
// then the user (each for every thread of the process).
func becomeUser(u User) error {
	if err := syscall.Setgroups([]int{}); err != nil {
		return fmt.Errorf("drop supplementary groups: %w", err)
	}
	if err := syscall.Setgid(u.GID); err != nil {
		return fmt.Errorf("run as group %d: %w", u.GID, err)
	}
	if err := syscall.Setuid(u.UID); err != nil {
		return fmt.Errorf("run as user %d: %w", u.UID, err)
	}
	return nil
}

func envValue(env []string, key, def string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return def
}

// lookPath finds name in path, as a shell would; the error reads like
// the container runtimes' ("executable file not found in $PATH").
func lookPath(name, path, wd string) (string, error) {
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) && wd != "" {
			p = filepath.Join(wd, p)
		}
		if err := executable(p); err != nil {
			return "", fmt.Errorf("exec: %q: %w", name, err)
		}
		return p, nil
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, name)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

func executable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return fmt.Errorf("%s: permission denied", p)
	}
	return nil
}

// setupMounts runs in a fresh mount namespace: it makes it private, then
// binds each source at its target, parents first. Sources and the scratch
// directory are opened before anything is mounted, so a mount (a private
// /tmp) cannot hide them.
func setupMounts(spec Spec) error {
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	mounts := append([]Mount(nil), spec.Mounts...)
	sort.SliceStable(mounts, func(i, j int) bool { return depth(mounts[i].Target) < depth(mounts[j].Target) })
	srcs := make([]string, len(mounts))
	dirs := make([]bool, len(mounts))
	for i, m := range mounts {
		fd, err := syscall.Open(m.Source, oPath|syscall.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("volume source %s: %w", m.Source, err)
		}
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return fmt.Errorf("volume source %s: %w", m.Source, err)
		}
		srcs[i] = "/proc/self/fd/" + strconv.Itoa(fd)
		dirs[i] = st.Mode&syscall.S_IFMT == syscall.S_IFDIR
	}
	scratch := ""
	if spec.Scratch != "" {
		if err := os.MkdirAll(spec.Scratch, 0o700); err == nil {
			if fd, err := syscall.Open(spec.Scratch, oPath|syscall.O_CLOEXEC, 0); err == nil {
				scratch = "/proc/self/fd/" + strconv.Itoa(fd)
			}
		}
	}
	mp := &mountPoints{scratch: scratch}
	for i, m := range mounts {
		target := filepath.Clean(m.Target)
		if err := mp.ensure(target, dirs[i]); err != nil {
			return fmt.Errorf("mount point %s: %w", target, err)
		}
		if err := syscall.Mount(srcs[i], target, "", syscall.MS_BIND|syscall.MS_REC, ""); err != nil {
			return fmt.Errorf("mount %s at %s: %w", m.Source, target, err)
		}
		if m.ReadOnly {
			if err := syscall.Mount("", target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY|syscall.MS_REC, ""); err != nil {
				return fmt.Errorf("mount %s read-only: %w", target, err)
			}
		}
		mp.writable = append(mp.writable, target)
	}
	return nil
}

func depth(p string) int { return strings.Count(filepath.Clean(p), "/") }

// mountPoints makes missing mount points without touching the host: in a
// directory already mounted for the container, directly; below any other
// existing directory but "/", in an overlay of that directory whose upper
// layer is in the scratch directory; directly below "/" (or when overlays
// fail), on the host.
type mountPoints struct {
	scratch  string
	writable []string // targets of earlier mounts and overlays
	overlays int
}

func (mp *mountPoints) ensure(target string, dir bool) error {
	if st, err := os.Stat(target); err == nil {
		if st.IsDir() != dir {
			if dir {
				return errors.New("a file is there, the volume is a directory")
			}
			return errors.New("a directory is there, the volume is a file")
		}
		return nil
	}
	anc := filepath.Dir(target)
	for {
		if _, err := os.Stat(anc); err == nil {
			break
		}
		anc = filepath.Dir(anc)
	}
	if anc != "/" && mp.scratch != "" && !mp.inWritable(anc) {
		mp.overlays++
		base := filepath.Join(mp.scratch, "overlay"+strconv.Itoa(mp.overlays))
		upper, work := filepath.Join(base, "upper"), filepath.Join(base, "work")
		if os.MkdirAll(upper, 0o755) == nil && os.MkdirAll(work, 0o755) == nil {
			opts := "lowerdir=" + anc + ",upperdir=" + upper + ",workdir=" + work
			if syscall.Mount("overlay", anc, "overlay", 0, opts) == nil {
				mp.writable = append(mp.writable, anc)
			}
		}
	}
	if dir {
		return os.MkdirAll(target, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

func (mp *mountPoints) inWritable(p string) bool {
	for _, w := range mp.writable {
		if p == w || strings.HasPrefix(p, w+"/") {
			return true
		}
	}
	return false
}

// oPath is Linux's O_PATH (the syscall package lacks it).
const oPath = 0x200000
