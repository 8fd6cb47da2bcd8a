package boltstore_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/weft-mesh/weft/controlplane/store"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
	"github.com/weft-mesh/weft/controlplane/store/storetest"
)

func open(t *testing.T, path string, opts boltstore.Options) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "store.db"), boltstore.Options{
			HistoryLimit: 50,
			WatchBuffer:  storetest.OrderingEvents + 64,
		})
	})
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	a, err := s.Create(ctx, "/a", []byte("1"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	b, err := s.Create(ctx, "/b", []byte("1"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if b, err = s.Update(ctx, "/b", []byte("2"), b.ModRevision); err != nil {
		t.Fatalf("Update: %v", err)
	}
	d, err := s.Delete(ctx, "/a", 0)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, path, boltstore.Options{})
	rev, err := s.Revision(ctx)
	if err != nil || rev != d.ModRevision {
		t.Fatalf("Revision after reopen = %d, %v; want %d", rev, err, d.ModRevision)
	}
	got, err := s.Get(ctx, "/b")
	if err != nil || string(got.Value) != "2" || got.ModRevision != b.ModRevision || got.CreateRevision != b.CreateRevision {
		t.Fatalf("Get /b after reopen = %+v, %v; want %+v", got, err, b)
	}
	if _, err := s.Get(ctx, "/a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get deleted /a after reopen = %v, want ErrNotFound", err)
	}

	// History survives too: watch from before the update.
	ch, err := s.Watch(ctx, "", a.ModRevision)
	if err != nil {
		t.Fatalf("Watch after reopen: %v", err)
	}
	for _, want := range []int64{b.CreateRevision, b.ModRevision, d.ModRevision} {
		select {
		case ev := <-ch:
			if ev.KV.ModRevision != want {
				t.Fatalf("replayed revision %d, want %d", ev.KV.ModRevision, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no replayed event for revision %d", want)
		}
	}

	// New writes continue the revisions.
	c, err := s.Create(ctx, "/c", nil)
	if err != nil || c.ModRevision != d.ModRevision+1 {
		t.Fatalf("Create after reopen = %+v, %v; want revision %d", c, err, d.ModRevision+1)
	}
}

// TestHistoryLimit checks that at least HistoryLimit events stay watchable.
func TestHistoryLimit(t *testing.T) {
	ctx := t.Context()
	const limit = 20
	s := open(t, filepath.Join(t.TempDir(), "store.db"), boltstore.Options{HistoryLimit: limit})
	var last store.KV
	for i := range 3 * limit {
		var err error
		if last, err = s.Create(ctx, fmt.Sprintf("/k/%03d", i), nil); err != nil {
			t.Fatalf("Create: %v", err)
		}
	}
	ch, err := s.Watch(ctx, "/k/", last.ModRevision-limit)
	if err != nil {
		t.Fatalf("Watch from %d events back: %v", limit, err)
	}
	for want := last.ModRevision - limit + 1; want <= last.ModRevision; want++ {
		select {
		case ev := <-ch:
			if ev.KV.ModRevision != want {
				t.Fatalf("replayed revision %d, want %d", ev.KV.ModRevision, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no replayed event for revision %d", want)
		}
	}
	if _, err := s.Watch(ctx, "/k/", 1); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("Watch from revision 1 = %v, want ErrCompacted", err)
	}
}

// TestSlowWatcherClosed checks that a watcher that does not read is closed
// once its buffer is full, and the others keep going.
func TestSlowWatcherClosed(t *testing.T) {
	ctx := t.Context()
	const buffer = 4
	s := open(t, filepath.Join(t.TempDir(), "store.db"), boltstore.Options{WatchBuffer: buffer})
	slow, err := s.Watch(ctx, "", 0)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	var last store.KV
	for i := range buffer + 1 {
		if last, err = s.Create(ctx, fmt.Sprintf("/k/%d", i), nil); err != nil {
			t.Fatalf("Create: %v", err)
		}
	}
	// Read only once every write has been fanned out.
	waitFor(t, "all writes delivered", func() bool { return s.Stats().Delivered == last.ModRevision })
	deadline := time.After(10 * time.Second)
	n := 0
	for {
		select {
		case ev, ok := <-slow:
			if !ok {
				if n != buffer {
					t.Fatalf("slow watcher got %d events before closing, want %d", n, buffer)
				}
				fresh, err := s.Watch(ctx, "", 0)
				if err != nil {
					t.Fatalf("Watch after a slow watcher was closed: %v", err)
				}
				kv, err := s.Create(ctx, "/after", nil)
				if err != nil {
					t.Fatalf("Create: %v", err)
				}
				select {
				case ev := <-fresh:
					if ev.KV.ModRevision != kv.ModRevision {
						t.Fatalf("fresh watcher got revision %d, want %d", ev.KV.ModRevision, kv.ModRevision)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("fresh watcher got nothing")
				}
				return
			}
			if want := int64(n + 1); ev.KV.ModRevision != want {
				t.Fatalf("slow watcher event %d has revision %d, want %d", n, ev.KV.ModRevision, want)
			}
			n++
		case <-deadline:
			t.Fatalf("slow watcher not closed after %d writes with a buffer of %d", buffer+1, buffer)
		}
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	open(t, path, boltstore.Options{})
	if _, err := boltstore.Open(path, boltstore.Options{LockTimeout: 50 * time.Millisecond}); err == nil {
		t.Fatalf("second Open of a file in use succeeded")
	}
}

// waitFor polls cond until it holds, failing t after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
