package cgroups

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestQuotaAndShares(t *testing.T) {
	for _, tc := range []struct{ milli, quota, shares int64 }{
		{500, 50000, 512}, {1000, 100000, 1024}, {1, 1000, 2}, {2500, 250000, 2560},
	} {
		if q := cpuQuota(tc.milli); q != tc.quota {
			t.Errorf("cpuQuota(%d) = %d, want %d", tc.milli, q, tc.quota)
		}
		if s := sharesOf(tc.milli); s != tc.shares {
			t.Errorf("sharesOf(%d) = %d, want %d", tc.milli, s, tc.shares)
		}
	}
}

func TestGroupLimitsAndUsage(t *testing.T) {
	m := Detect("/sys/fs/cgroup", "weft/cgroups-test")
	if m.Version() == None {
		t.Skipf("cgroups unavailable here: %s", m.Reason())
	}
	g, err := m.Create("pod1/c", Limits{MemoryBytes: 64 << 20, CPUMilli: 500})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Remove(g); err != nil {
			t.Error(err)
		}
		m.RemoveDir("pod1")
		for _, p := range m.parents {
			os.Remove(p)
			os.Remove(filepath.Dir(p))
		}
	})
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if err := Join(g, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if procs := Procs(g); len(procs) != 1 || procs[0] != cmd.Process.Pid {
		t.Fatalf("procs = %v", procs)
	}
	if _, err := Sample(g); err != nil {
		t.Fatal(err)
	}
	if OOMKills(g) != 0 {
		t.Fatal("an OOM kill without memory use")
	}
}
