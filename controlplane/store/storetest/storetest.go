package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/weft-mesh/weft/controlplane/store"
)

// Limits of the suite; see the package documentation.
const (
	// MaxCompactionWrites is how many writes the compaction case makes at
	// most while waiting for store.ErrCompacted.
	MaxCompactionWrites = 5000
	// OrderingEvents is how many events the concurrent-writers case makes.
	OrderingEvents = writers * writesPerWriter
)

const (
	// timeout bounds every wait for a condition; it is generous because the
	// suite must not depend on speed.
	timeout = 10 * time.Second

	writers         = 8
	writesPerWriter = 24
)

// Run runs the conformance suite; open returns a fresh, empty store for one
// test and arranges for it to be closed when the test ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateGet", testCreateGet},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"ListPrefixSorted", testListPrefixSorted},
		{"ListFilter", testListFilter},
		{"RevisionMonotonic", testRevisionMonotonic},
		{"WatchFromNow", testWatchFromNow},
		{"WatchFromRevision", testWatchFromRevision},
		{"WatchPrefixIsolation", testWatchPrefixIsolation},
		{"WatchConcurrentWriters", testWatchConcurrentWriters},
		{"WatchCancel", testWatchCancel},
		{"WatchCompacted", testWatchCompacted},
		{"SlowWatcher", testSlowWatcher},
		{"CloseClosesWatchers", testCloseClosesWatchers},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, open(t))
		})
	}
}

func testCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	kv := mustCreate(t, s, "/a", "one")
	if kv.Key != "/a" || string(kv.Value) != "one" || kv.CreateRevision <= 0 || kv.ModRevision != kv.CreateRevision {
		t.Fatalf("Create = %+v, want /a=one with CreateRevision = ModRevision > 0", kv)
	}
	got, err := s.Get(ctx, "/a")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	assertKV(t, got, kv)

	_, err = s.Get(ctx, "/missing")
	assertErr(t, err, store.ErrNotFound, "/missing")
	_, err = s.Create(ctx, "/a", []byte("two"))
	assertErr(t, err, store.ErrExists, "/a")
	got, err = s.Get(ctx, "/a")
	if err != nil {
		t.Fatalf("Get after failed Create: %v", err)
	}
	assertKV(t, got, kv)

	// The store keeps its own copy of the value.
	v := []byte("mine")
	mustCreate(t, s, "/b", string(v))
	v[0] = 'X'
	got, err = s.Get(ctx, "/b")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if string(got.Value) != "mine" {
		t.Fatalf("Get after caller changed its slice = %q, want %q", got.Value, "mine")
	}

	// Empty values are values.
	mustCreate(t, s, "/empty", "")
	got, err = s.Get(ctx, "/empty")
	if err != nil {
		t.Fatalf("Get empty value: %v", err)
	}
	if len(got.Value) != 0 {
		t.Fatalf("Get empty value = %q", got.Value)
	}
}

func testUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	created := mustCreate(t, s, "/a", "v1")

	upd, err := s.Update(ctx, "/a", []byte("v2"), created.ModRevision)
	if err != nil {
		t.Fatalf("Update with current revision: %v", err)
	}
	if string(upd.Value) != "v2" || upd.CreateRevision != created.CreateRevision || upd.ModRevision <= created.ModRevision {
		t.Fatalf("Update = %+v, want v2, CreateRevision %d, ModRevision > %d", upd, created.CreateRevision, created.ModRevision)
	}

	_, err = s.Update(ctx, "/a", []byte("stale"), created.ModRevision)
	assertErr(t, err, store.ErrConflict, "/a")
	got, err := s.Get(ctx, "/a")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	assertKV(t, got, upd)

	unc, err := s.Update(ctx, "/a", []byte("v3"), 0)
	if err != nil {
		t.Fatalf("unconditional Update: %v", err)
	}
	if string(unc.Value) != "v3" || unc.ModRevision <= upd.ModRevision || unc.CreateRevision != created.CreateRevision {
		t.Fatalf("unconditional Update = %+v", unc)
	}

	_, err = s.Update(ctx, "/missing", []byte("x"), 0)
	assertErr(t, err, store.ErrNotFound, "/missing")
	_, err = s.Update(ctx, "/missing", []byte("x"), unc.ModRevision)
	assertErr(t, err, store.ErrNotFound, "/missing")
}

func testDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	kv := mustCreate(t, s, "/a", "v1")
	kv, err := s.Update(ctx, "/a", []byte("v2"), kv.ModRevision)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}

	_, err = s.Delete(ctx, "/a", kv.ModRevision-1)
	assertErr(t, err, store.ErrConflict, "/a")
	if _, err := s.Get(ctx, "/a"); err != nil {
		t.Fatalf("Get after conflicting Delete: %v", err)
	}

	del, err := s.Delete(ctx, "/a", kv.ModRevision)
	if err != nil {
		t.Fatalf("Delete with current revision: %v", err)
	}
	if del.Key != "/a" || string(del.Value) != "v2" || del.CreateRevision != kv.CreateRevision || del.ModRevision <= kv.ModRevision {
		t.Fatalf("Delete = %+v, want the last value v2 with CreateRevision %d and the delete's revision > %d", del, kv.CreateRevision, kv.ModRevision)
	}
	_, err = s.Get(ctx, "/a")
	assertErr(t, err, store.ErrNotFound, "/a")
	_, err = s.Delete(ctx, "/a", 0)
	assertErr(t, err, store.ErrNotFound, "/a")

	again := mustCreate(t, s, "/a", "v3")
	if again.CreateRevision <= del.ModRevision {
		t.Fatalf("re-Create after Delete has CreateRevision %d, want > %d", again.CreateRevision, del.ModRevision)
	}
	del, err = s.Delete(ctx, "/a", 0)
	if err != nil {
		t.Fatalf("unconditional Delete: %v", err)
	}
	if string(del.Value) != "v3" {
		t.Fatalf("unconditional Delete = %+v, want v3", del)
	}
}

func testListPrefixSorted(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, k := range []string{"/pods/c", "/svc/a", "/pods/a", "/pods", "/podsx/a", "/pods/b/1", "/pods/b"} {
		mustCreate(t, s, k, "v"+k)
	}
	kvs, rev, err := s.List(ctx, "/pods/", store.ListOptions{})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := []string{"/pods/a", "/pods/b", "/pods/b/1", "/pods/c"}
	if got := keys(kvs); !slices.Equal(got, want) {
		t.Fatalf("List(/pods/) keys = %q, want %q", got, want)
	}
	for _, kv := range kvs {
		if string(kv.Value) != "v"+kv.Key {
			t.Fatalf("List value of %s = %q", kv.Key, kv.Value)
		}
	}
	cur, err := s.Revision(ctx)
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	if rev != cur {
		t.Fatalf("List revision = %d, want the current revision %d", rev, cur)
	}

	all, _, err := s.List(ctx, "", store.ListOptions{})
	if err != nil {
		t.Fatalf("List all: %v", err)
	}
	if got := keys(all); len(got) != 7 || !slices.IsSorted(got) {
		t.Fatalf("List all keys = %q, want 7 sorted", got)
	}
	none, _, err := s.List(ctx, "/nothing/", store.ListOptions{})
	if err != nil || len(none) != 0 {
		t.Fatalf("List of an empty prefix = %v, %v; want nothing, no error", none, err)
	}
}

func testListFilter(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 10 {
		mustCreate(t, s, fmt.Sprintf("/n/%02d", i), fmt.Sprintf("%d", i%2))
	}
	kvs, _, err := s.List(ctx, "/n/", store.ListOptions{Filter: func(kv store.KV) bool {
		return string(kv.Value) == "1"
	}})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := []string{"/n/01", "/n/03", "/n/05", "/n/07", "/n/09"}
	if got := keys(kvs); !slices.Equal(got, want) {
		t.Fatalf("filtered List keys = %q, want %q", got, want)
	}
}

func testRevisionMonotonic(t *testing.T, s store.Store) {
	ctx := t.Context()
	last, err := s.Revision(ctx)
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	check := func(what string, rev int64) {
		t.Helper()
		if rev <= last {
			t.Fatalf("%s got revision %d, want > %d", what, rev, last)
		}
		last = rev
		cur, err := s.Revision(ctx)
		if err != nil {
			t.Fatalf("Revision: %v", err)
		}
		if cur != rev {
			t.Fatalf("Revision after %s = %d, want %d", what, cur, rev)
		}
	}
	a := mustCreate(t, s, "/a", "1")
	check("create /a", a.ModRevision)
	b := mustCreate(t, s, "/b", "1")
	check("create /b", b.ModRevision)
	a, err = s.Update(ctx, "/a", []byte("2"), a.ModRevision)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	check("update /a", a.ModRevision)
	// Failed writes do not take a revision.
	if _, err := s.Update(ctx, "/a", []byte("3"), b.ModRevision); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale Update = %v, want ErrConflict", err)
	}
	if _, err := s.Create(ctx, "/b", nil); !errors.Is(err, store.ErrExists) {
		t.Fatalf("duplicate Create = %v, want ErrExists", err)
	}
	if cur, err := s.Revision(ctx); err != nil || cur != last {
		t.Fatalf("Revision after failed writes = %d, %v; want %d", cur, err, last)
	}
	d, err := s.Delete(ctx, "/b", 0)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	check("delete /b", d.ModRevision)
}

func testWatchFromNow(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, "/w/before", "old")
	ch, err := s.Watch(ctx, "/w/", 0)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	c := mustCreate(t, s, "/w/x", "1")
	u, err := s.Update(ctx, "/w/x", []byte("2"), c.ModRevision)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	d, err := s.Delete(ctx, "/w/x", 0)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	assertEvent(t, recv(t, ch), store.Event{Type: store.Added, KV: c})
	assertEvent(t, recv(t, ch), store.Event{Type: store.Modified, KV: u})
	assertEvent(t, recv(t, ch), store.Event{Type: store.Deleted, KV: store.KV{
		Key: "/w/x", Value: []byte("2"), CreateRevision: c.CreateRevision, ModRevision: d.ModRevision,
	}})
}

func testWatchFromRevision(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := mustCreate(t, s, "/r/a", "1")
	a2, err := s.Update(ctx, "/r/a", []byte("2"), 0)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	b := mustCreate(t, s, "/r/b", "1")
	da, err := s.Delete(ctx, "/r/a", 0)
	if err != nil {
		t.Fatalf("Delete: %v", err)
	}
	want := []store.Event{
		{Type: store.Modified, KV: a2},
		{Type: store.Added, KV: b},
		{Type: store.Deleted, KV: store.KV{Key: "/r/a", Value: []byte("2"), CreateRevision: a.CreateRevision, ModRevision: da.ModRevision}},
	}
	ch, err := s.Watch(ctx, "/r/", a.ModRevision)
	if err != nil {
		t.Fatalf("Watch from revision %d: %v", a.ModRevision, err)
	}
	for _, w := range want {
		assertEvent(t, recv(t, ch), w)
	}
	// Nothing else was replayed: the next event is a new write.
	next := mustCreate(t, s, "/r/c", "1")
	assertEvent(t, recv(t, ch), store.Event{Type: store.Added, KV: next})

	// Watching from the last revision replays nothing.
	ch2, err := s.Watch(ctx, "/r/", next.ModRevision)
	if err != nil {
		t.Fatalf("Watch from the current revision: %v", err)
	}
	after := mustCreate(t, s, "/r/d", "1")
	assertEvent(t, recv(t, ch2), store.Event{Type: store.Added, KV: after})
}

func testWatchPrefixIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, "/z", "1") // so that start is a revision, not 0 ("now")
	start, err := s.Revision(ctx)
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	ch, err := s.Watch(ctx, "/a/", 0)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	mustCreate(t, s, "/b/x", "1")
	mustCreate(t, s, "/ab", "1")
	mustCreate(t, s, "/a", "1")
	in := mustCreate(t, s, "/a/x", "1")
	assertEvent(t, recv(t, ch), store.Event{Type: store.Added, KV: in})

	// Replays from a revision are filtered the same way.
	ch2, err := s.Watch(ctx, "/a/", start)
	if err != nil {
		t.Fatalf("Watch from revision: %v", err)
	}
	assertEvent(t, recv(t, ch2), store.Event{Type: store.Added, KV: in})
}

// testWatchConcurrentWriters checks that watchers see every write of
// concurrent writers, in strictly increasing revision order.
func testWatchConcurrentWriters(t *testing.T, s store.Store) {
	ctx := t.Context()
	const watchers = 3
	chans := make([]<-chan store.Event, watchers)
	for i := range chans {
		ch, err := s.Watch(ctx, "/c/", 0)
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
		chans[i] = ch
	}
	// Watchers read while the writers write.
	seen := make([][]store.Event, watchers)
	var readers sync.WaitGroup
	for i, ch := range chans {
		readers.Go(func() {
			seen[i] = recvN(ch, OrderingEvents)
		})
	}

	var (
		mu    sync.Mutex
		acked = map[int64]store.Event{}
		errs  = make(chan error, writers)
		wg    sync.WaitGroup
	)
	ack := func(typ store.EventType, kv store.KV) {
		mu.Lock()
		defer mu.Unlock()
		acked[kv.ModRevision] = store.Event{Type: typ, KV: kv}
	}
	for w := range writers {
		wg.Go(func() {
			// Each writer creates, updates and deletes its own keys, so
			// every write succeeds.
			for i := 0; i < writesPerWriter; i += 3 {
				key := fmt.Sprintf("/c/%d/%d", w, i)
				kv, err := s.Create(ctx, key, []byte("1"))
				if err != nil {
					errs <- err
					return
				}
				ack(store.Added, kv)
				if kv, err = s.Update(ctx, key, []byte("2"), kv.ModRevision); err != nil {
					errs <- err
					return
				}
				ack(store.Modified, kv)
				if kv, err = s.Delete(ctx, key, kv.ModRevision); err != nil {
					errs <- err
					return
				}
				ack(store.Deleted, kv)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("write: %v", err)
	}
	readers.Wait()

	revs := make([]int64, 0, len(acked))
	for rev := range acked {
		revs = append(revs, rev)
	}
	slices.Sort(revs)
	if len(revs) != OrderingEvents {
		t.Fatalf("%d distinct revisions acknowledged for %d writes", len(revs), OrderingEvents)
	}
	for i, evs := range seen {
		if len(evs) != len(revs) {
			t.Fatalf("watcher %d got %d events, want %d (channel closed or timed out)", i, len(evs), len(revs))
		}
		for j, ev := range evs {
			if ev.KV.ModRevision != revs[j] {
				t.Fatalf("watcher %d: event %d has revision %d, want %d (events must come in revision order, none missing)", i, j, ev.KV.ModRevision, revs[j])
			}
			assertEvent(t, ev, acked[revs[j]])
		}
	}
}

func testWatchCancel(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	ch, err := s.Watch(ctx, "/x/", 0)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	cancel()
	waitClosed(t, ch)

	// The store carries on.
	ch2, err := s.Watch(t.Context(), "/x/", 0)
	if err != nil {
		t.Fatalf("Watch after another was cancelled: %v", err)
	}
	kv := mustCreate(t, s, "/x/a", "1")
	assertEvent(t, recv(t, ch2), store.Event{Type: store.Added, KV: kv})
}

// testWatchCompacted writes until the history after the first write is
// compacted away, then checks that recent history is still served.
func testWatchCompacted(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := mustCreate(t, s, "/h/first", "1")
	var err error
	written := 1
	for {
		wctx, cancel := context.WithCancel(ctx)
		_, err = s.Watch(wctx, "/h/", first.ModRevision)
		cancel()
		if err != nil || written >= MaxCompactionWrites {
			break
		}
		// Write in rounds of concurrent writers to keep this quick.
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for i := range 8 {
					if _, err := s.Update(ctx, "/h/first", fmt.Appendf(nil, "%d-%d-%d", written, w, i), 0); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("Update: %v", err)
		}
		written += writers * 8
	}
	if err == nil {
		t.Fatalf("Watch from revision %d still succeeds after %d writes; want an error wrapping ErrCompacted (open a store with a short history)", first.ModRevision, written)
	}
	if !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("Watch from a compacted revision: %v, want an error wrapping ErrCompacted", err)
	}

	// Recent history and the present are still served.
	cur, err := s.Revision(ctx)
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	last, err := s.Get(ctx, "/h/first")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	ch, err := s.Watch(ctx, "/h/", cur-1)
	if err != nil {
		t.Fatalf("Watch from the previous revision %d: %v", cur-1, err)
	}
	assertEvent(t, recv(t, ch), store.Event{Type: store.Modified, KV: last})
	if _, err := s.Watch(ctx, "/h/", 0); err != nil {
		t.Fatalf("Watch from now after compaction: %v", err)
	}
}

// testSlowWatcher checks that a watcher nobody reads does not hold up
// writers; what it does get is a gap-free prefix of the writes, and if it got
// fewer than all, its channel is closed.
func testSlowWatcher(t *testing.T, s store.Store) {
	ctx := t.Context()
	slow, err := s.Watch(ctx, "/s/", 0)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	const n = 1000
	var (
		mu   sync.Mutex
		revs []int64
		wg   sync.WaitGroup
	)
	errs := make(chan error, writers)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for w := range writers {
			wg.Go(func() {
				for i := w; i < n; i += writers {
					kv, err := s.Create(ctx, fmt.Sprintf("/s/%04d", i), []byte("v"))
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					revs = append(revs, kv.ModRevision)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
	}()
	select {
	case <-done:
	case <-time.After(6 * timeout):
		t.Fatalf("writers did not finish %d writes in %v with a watcher that does not read", n, 6*timeout)
	}
	for err := range errs {
		t.Fatalf("Create: %v", err)
	}
	slices.Sort(revs)

	// Wait until the slow watcher either has all the events or is closed.
	got := recvN(slow, n)
	for i, ev := range got {
		if ev.KV.ModRevision != revs[i] {
			t.Fatalf("slow watcher event %d has revision %d, want %d: a lagging watcher must not skip events", i, ev.KV.ModRevision, revs[i])
		}
	}
	t.Logf("the watcher that did not read got %d of %d events", len(got), n)
	if len(got) < n {
		select {
		case ev, ok := <-slow:
			if ok {
				t.Fatalf("slow watcher got event %+v after a gap", ev)
			}
		case <-time.After(timeout):
			t.Fatalf("slow watcher got %d of %d events and its channel is still open", len(got), n)
		}
	}
}

func testCloseClosesWatchers(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, err := s.Watch(ctx, "/a/", 0)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	b, err := s.Watch(ctx, "", 0)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	mustCreate(t, s, "/a/1", "1")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitClosed(t, a)
	waitClosed(t, b)
	if _, err := s.Get(ctx, "/a/1"); err == nil {
		t.Fatalf("Get after Close succeeded")
	}
	if _, err := s.Create(ctx, "/a/2", nil); err == nil {
		t.Fatalf("Create after Close succeeded")
	}
}

func mustCreate(t *testing.T, s store.Store, key, value string) store.KV {
	t.Helper()
	kv, err := s.Create(t.Context(), key, []byte(value))
	if err != nil {
		t.Fatalf("Create %s: %v", key, err)
	}
	return kv
}

// recv waits for the next event; a closed channel or a timeout fails t.
func recv(t *testing.T, ch <-chan store.Event) store.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatalf("watch channel closed while waiting for an event")
		}
		return ev
	case <-time.After(timeout):
		t.Fatalf("no event within %v", timeout)
	}
	panic("unreachable")
}

// recvN reads up to n events, stopping early when the channel closes or no
// event comes for timeout. It does not use t, so readers may run it in their
// own goroutines.
func recvN(ch <-chan store.Event, n int) []store.Event {
	evs := make([]store.Event, 0, n)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for len(evs) < n {
		select {
		case ev, ok := <-ch:
			if !ok {
				return evs
			}
			evs = append(evs, ev)
			timer.Reset(timeout)
		case <-timer.C:
			return evs
		}
	}
	return evs
}

// waitClosed drains ch until it is closed.
func waitClosed(t *testing.T, ch <-chan store.Event) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("watch channel not closed within %v", timeout)
		}
	}
}

func assertErr(t *testing.T, err, want error, key string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want one wrapping %v", err, want)
	}
	if !strings.Contains(err.Error(), key) {
		t.Fatalf("error %q does not name the key %q", err, key)
	}
}

func assertKV(t *testing.T, got, want store.KV) {
	t.Helper()
	if got.Key != want.Key || !bytes.Equal(got.Value, want.Value) || got.CreateRevision != want.CreateRevision || got.ModRevision != want.ModRevision {
		t.Fatalf("KV = %s, want %s", fmtKV(got), fmtKV(want))
	}
}

func assertEvent(t *testing.T, got, want store.Event) {
	t.Helper()
	if got.Type != want.Type {
		t.Fatalf("event %s %s, want %s %s", got.Type, fmtKV(got.KV), want.Type, fmtKV(want.KV))
	}
	assertKV(t, got.KV, want.KV)
}

func fmtKV(kv store.KV) string {
	return fmt.Sprintf("{%s=%q create=%d mod=%d}", kv.Key, kv.Value, kv.CreateRevision, kv.ModRevision)
}

func keys(kvs []store.KV) []string {
	ks := make([]string, len(kvs))
	for i, kv := range kvs {
		ks[i] = kv.Key
	}
	return ks
}
