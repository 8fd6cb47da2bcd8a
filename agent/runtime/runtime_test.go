package runtime

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "shim" {
		os.Exit(ShimMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

func newRuntime(t *testing.T) *Runtime {
	t.Helper()
	root := t.TempDir()
	r, err := New(root, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := KillAll(root); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return r
}

func waitExit(t *testing.T, r *Runtime, uid, name string) Observed {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		obs, err := r.Observe(uid)
		if err != nil {
			t.Fatal(err)
		}
		if o, ok := obs[name]; ok && o.Exit != nil {
			return o
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not exit", name)
	return Observed{}
}

func TestShimRecordsLogsAndExit(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	ctx := context.Background()
	spec := Spec{Args: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, Env: []string{"PATH=" + DefaultPath}}
	if err := r.Start(ctx, "pod1", "c", 0, spec); err != nil {
		t.Fatal(err)
	}
	o := waitExit(t, r, "pod1", "c")
	if o.Exit.ExitCode != 3 || o.Exit.Reason != ReasonError {
		t.Fatalf("exit = %+v, want code 3, Error", o.Exit)
	}
	p, err := r.LogPath("pod1", "c", false)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if !strings.Contains(string(b), " stdout F out\n") || !strings.Contains(string(b), " stderr F err\n") {
		t.Fatalf("log = %q", b)
	}
	// A second run; the first one's log is the previous.
	if err := r.Start(ctx, "pod1", "c", 1, Spec{Args: []string{"true"}}); err != nil {
		t.Fatal(err)
	}
	o = waitExit(t, r, "pod1", "c")
	if o.Attempt != 1 || o.Exit.Reason != ReasonCompleted || o.Previous == nil || o.Previous.ExitCode != 3 {
		t.Fatalf("observed %+v (previous %+v)", o, o.Previous)
	}
	if prev, _ := r.LogPath("pod1", "c", true); prev != p {
		t.Fatalf("previous log %s, want %s", prev, p)
	}
}

func TestStartErrorForMissingCommand(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	if err := r.Start(context.Background(), "pod2", "c", 0, Spec{Args: []string{"no-such-command-weft"}}); err != nil {
		t.Fatal(err)
	}
	o := waitExit(t, r, "pod2", "c")
	if o.Exit.Reason != ReasonStartError || o.Exit.ExitCode != 128 || !strings.Contains(o.Exit.Message, "executable file not found") {
		t.Fatalf("exit = %+v", o.Exit)
	}
}

func TestStopSendsTermThenKill(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	ctx := context.Background()
	// Ignores SIGTERM: needs the SIGKILL after the grace period. The
	// marker says the trap is set (a SIGTERM before it would just kill sh).
	marker := filepath.Join(t.TempDir(), "trapped")
	spec := Spec{Args: []string{"sh", "-c", "trap '' TERM; touch " + marker + "; while true; do sleep 0.1; done"}}
	if err := r.Start(ctx, "pod3", "c", 0, spec); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the container never set its SIGTERM trap")
		}
	}
	start := time.Now()
	if err := r.Stop(ctx, "pod3", "c", 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	o := waitExit(t, r, "pod3", "c")
	if o.Exit.Signal != int(syscall.SIGKILL) || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("exit = %+v after %v", o.Exit, time.Since(start))
	}
}

func TestMountsAndExecSeeTheContainerView(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("mount namespaces need root")
	}
	r := newRuntime(t)
	ctx := context.Background()
	vol := t.TempDir()
	if err := os.WriteFile(filepath.Join(vol, "index.html"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "app.properties")
	if err := os.WriteFile(cfg, []byte("port=1"), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	scratch := t.TempDir()
	spec := Spec{
		Args: []string{"sh", "-c", "touch /tmp/healthy; sleep 60"},
		Mounts: []Mount{
			{Source: tmp, Target: "/tmp"},
			{Source: vol, Target: "/usr/share/weft-test-missing/html"},
			{Source: cfg, Target: "/root/weft-test/application.properties", ReadOnly: true},
		},
		Scratch: scratch,
	}
	if err := r.Start(ctx, "pod4", "c", 0, spec); err != nil {
		t.Fatal(err)
	}
	run := func(argv ...string) (string, int) {
		cmd, err := r.ExecCommand(ctx, "pod4", "c", argv)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err = cmd.Run()
		return out.String(), cmd.ProcessState.ExitCode()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, code := run("cat", "/tmp/healthy"); code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/tmp/healthy never appeared in the container's /tmp")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(tmp, "healthy")); err != nil {
		t.Fatalf("the private /tmp is not the pod's directory: %v", err)
	}
	if out, code := run("cat", "/usr/share/weft-test-missing/html/index.html"); code != 0 || out != "hello" {
		t.Fatalf("volume: %q (exit %d)", out, code)
	}
	if out, code := run("cat", "/root/weft-test/application.properties"); code != 0 || out != "port=1" {
		t.Fatalf("subPath file: %q (exit %d)", out, code)
	}
	if _, code := run("sh", "-c", "echo x > /root/weft-test/application.properties"); code == 0 {
		t.Fatal("a read-only mount was writable")
	}
	if _, code := run("sh", "-c", "exit 7"); code != 7 {
		t.Fatalf("exec exit code %d, want 7", code)
	}
	if _, code := run("no-such-command-weft"); code != 127 {
		t.Fatalf("exec of a missing command: exit %d, want 127", code)
	}
	// A program that only the container's view has (in a volume).
	if err := os.WriteFile(filepath.Join(vol, "hello.sh"), []byte("#!/bin/sh\necho from the volume\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, code := run("/usr/share/weft-test-missing/html/hello.sh"); code != 0 || out != "from the volume\n" {
		t.Fatalf("a program in a volume: %q (exit %d)", out, code)
	}
	for _, p := range []string{"/usr/share/weft-test-missing", "/root/weft-test"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was created on the host", p)
		}
	}
}

func TestUserAndHostName(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("running as another user and UTS namespaces need root")
	}
	r := newRuntime(t)
	host, _ := os.Hostname()
	spec := Spec{
		Args:     []string{"sh", "-c", "echo $(id -u) $(id -g) $(id -G) $(cat /proc/sys/kernel/hostname)"},
		Env:      []string{"PATH=" + DefaultPath},
		User:     &User{UID: 1337, GID: 1338},
		Hostname: "pod-x",
	}
	if err := r.Start(context.Background(), "pod5", "c", 0, spec); err != nil {
		t.Fatal(err)
	}
	o := waitExit(t, r, "pod5", "c")
	p, _ := r.LogPath("pod5", "c", false)
	b, _ := os.ReadFile(p)
	if o.Exit.ExitCode != 0 || !strings.Contains(string(b), " stdout F 1337 1338 1338 pod-x\n") {
		t.Fatalf("exit %+v, log %q", o.Exit, b)
	}
	if now, _ := os.Hostname(); now != host {
		t.Fatalf("the host's name changed from %q to %q", host, now)
	}
}
