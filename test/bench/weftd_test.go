package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

// TestBoltTxid checks the meta-page reader against a real store file: every
// serial write is one commit, so the txid grows by one per write.
func TestBoltTxid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "weft.db")
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := txidOf(t, path)
	const writes = 5
	for i := range writes {
		if _, err := s.Create(context.Background(), fmt.Sprintf("/k/%d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if got := txidOf(t, path) - before; got != writes {
		t.Errorf("txid grew by %d over %d serial writes, want %d", got, writes, writes)
	}
	if st := s.Stats(); st.Commits != writes {
		t.Errorf("the store counted %d commits, want %d", st.Commits, writes)
	}
}

func txidOf(t *testing.T, path string) int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	txid, err := boltTxid(f)
	if err != nil {
		t.Fatal(err)
	}
	return txid
}

func TestBoltTxidRejectsOtherFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "not.db")
	if err := os.WriteFile(path, make([]byte, 8192), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := boltTxid(f); err == nil {
		t.Error("boltTxid accepted a file of zeros")
	}
}

func TestParseStatusKB(t *testing.T) {
	status := []byte("Name:\tweftd\nVmHWM:\t   52000 kB\nVmRSS:\t   48123 kB\nThreads:\t9\n")
	if got := parseStatusKB(status, "VmRSS:"); got != 48123 {
		t.Errorf("VmRSS = %d, want 48123", got)
	}
	if got := parseStatusKB(status, "VmHWM:"); got != 52000 {
		t.Errorf("VmHWM = %d, want 52000", got)
	}
	if got := parseStatusKB(status, "VmSwap:"); got != 0 {
		t.Errorf("VmSwap = %d, want 0 (absent)", got)
	}
}

func TestParseStatCPU(t *testing.T) {
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
	stat := []byte("4242 (weft d) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 123 0 0\n")
	got, err := parseStatCPU(stat)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3250 * time.Millisecond; got != want {
		t.Errorf("parseStatCPU = %v, want %v", got, want)
	}
	if _, err := parseStatCPU([]byte("garbage")); err == nil {
		t.Error("parseStatCPU accepted garbage")
	}
}

func TestParseAddrFlags(t *testing.T) {
	usage := `Usage of weftd:
  -api-addr string
    	address of the API (HTTP); port 0 picks a free one (default "127.0.0.1:7780")
  -data-dir string
    	directory for the store, tokens and the client config (default ".weft")
  -dns-addr string
    	address of the cluster DNS (UDP and TCP); port 0 picks a free one; "" turns it off (default "127.0.0.1:10053")
  -dns-upstream string
    	comma-separated resolvers for names outside the cluster
  -debug
    	log at debug level
`
	got := parseAddrFlags(usage)
	if want := []string{"api-addr", "dns-addr"}; !slices.Equal(got, want) {
		t.Errorf("parseAddrFlags = %q, want %q", got, want)
	}
}
