package boltstore_test

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
	"sync"
	"testing"
	"time"

	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

// childEnv names the store file when this test binary runs as the writer
// child of TestKill9.
const childEnv = "WEFT_STORE_CHILD"

// ack is a write the child reported as acknowledged.
type ack struct {
	key, value string
	rev        int64
}

// TestKill9 checks that acknowledged writes survive kill -9: it re-executes
// this test binary as a child that writes concurrently and prints every
// acknowledged write, SIGKILLs it mid-stream, reopens the file and finds
// every acknowledged write. It does this twice on the same file, so the
// second child also starts from a killed store.
func TestKill9(t *testing.T) {
	if path := os.Getenv(childEnv); path != "" {
		runChild(path, os.Getenv(childEnv+"_ROUND"))
		return
	}
	path := filepath.Join(t.TempDir(), "store.db")
	var all []ack
	for round := range 2 {
		all = append(all, killChild(t, path, round)...)
		s, err := boltstore.Open(path, boltstore.Options{})
		if err != nil {
			t.Fatalf("round %d: reopen after kill -9: %v", round, err)
		}
		for _, a := range all {
			kv, err := s.Get(t.Context(), a.key)
			if err != nil {
				t.Errorf("round %d: acknowledged %s (revision %d) lost: %v", round, a.key, a.rev, err)
				continue
			}
			if string(kv.Value) != a.value || kv.ModRevision != a.rev {
				t.Errorf("round %d: %s = %q at revision %d, acknowledged %q at %d", round, a.key, kv.Value, kv.ModRevision, a.value, a.rev)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if t.Failed() {
			return
		}
	}
	t.Logf("%d acknowledged writes survived two kills", len(all))
}

// killChild starts a writer child on path, lets it acknowledge some writes,
// kills it with SIGKILL and returns every write it acknowledged.
func killChild(t *testing.T, path string, round int) []ack {
	t.Helper()
	const wantAcks = 1000
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+path, fmt.Sprintf("%s_ROUND=%d", childEnv, round))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})

	// The reader owns out until EOF, which comes when the child dies.
	acks := make(chan ack)
	readErr := make(chan error, 1)
	go func() {
		defer close(acks)
		readErr <- readAcks(out, acks)
	}()
	var got []ack
	timeout := time.After(30 * time.Second)
	for len(got) < wantAcks {
		select {
		case a, ok := <-acks:
			if !ok {
				t.Fatalf("child exited after %d acknowledgements: %v", len(got), <-readErr)
			}
			got = append(got, a)
		case <-timeout:
			t.Fatalf("child acknowledged only %d writes in 30s", len(got))
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatalf("kill child: %v", err)
	}
	killed = true
	// Acknowledgements already written to the pipe count too.
	for a := range acks {
		got = append(got, a)
	}
	if err := <-readErr; err != nil {
		t.Fatalf("read child output: %v", err)
	}
	_ = cmd.Wait() // "signal: killed"
	return got
}

// readAcks parses the child's "ACK key revision value" lines; anything else
// (test framework output) is ignored, and so is a last line cut off by the
// kill.
func readAcks(r io.Reader, acks chan<- ack) error {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		f := strings.Fields(line)
		if len(f) != 4 || f[0] != "ACK" {
			continue
		}
		rev, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return fmt.Errorf("bad ack %q: %w", line, err)
		}
		acks <- ack{key: f[1], rev: rev, value: f[3]}
	}
}

// runChild writes from 8 goroutines until it is killed, printing each
// acknowledged write as one line (one write(2), so lines never interleave).
func runChild(path, round string) {
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("/kill/%s/%d/%d", round, w, i)
				value := fmt.Sprintf("v-%s-%d-%d-%s", round, w, i, strings.Repeat("x", i%200))
				kv, err := s.Create(context.Background(), key, []byte(value))
				if err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ACK %s %d %s\n", key, kv.ModRevision, value)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}
