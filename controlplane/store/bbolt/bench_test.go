package boltstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/weft-mesh/weft/controlplane/store"
	boltstore "github.com/weft-mesh/weft/controlplane/store/bbolt"
)

var value = []byte(`{"kind":"Service","metadata":{"name":"checkout","namespace":"shop"},"spec":{"ports":[{"port":8080}]}}`)

func benchStore(b *testing.B, opts boltstore.Options) *boltstore.Store {
	b.Helper()
	s, err := boltstore.Open(filepath.Join(b.TempDir(), "store.db"), opts)
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// reportWrites reports writes per second and, from the store's counters,
// how many writes shared each commit (fsync).
func reportWrites(b *testing.B, s *boltstore.Store, writes int, elapsed time.Duration) {
	b.ReportMetric(float64(writes)/elapsed.Seconds(), "writes/s")
	if st := s.Stats(); st.Commits > 0 {
		b.ReportMetric(float64(st.Writes)/float64(st.Commits), "writes/commit")
	}
}

// BenchmarkCreateSerial is one writer: one fsync per write.
func BenchmarkCreateSerial(b *testing.B) {
	s := benchStore(b, boltstore.Options{})
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Create(ctx, fmt.Sprintf("/bench/%09d", i), value); err != nil {
			b.Fatal(err)
		}
	}
	reportWrites(b, s, b.N, b.Elapsed())
}

// BenchmarkCreateParallel is many writers: group commit shares fsyncs.
func BenchmarkCreateParallel(b *testing.B) {
	s := benchStore(b, boltstore.Options{})
	ctx := context.Background()
	var next atomic.Int64
	b.SetParallelism(32) // writers per GOMAXPROCS
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.Create(ctx, fmt.Sprintf("/bench/%09d", next.Add(1)), value); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportWrites(b, s, b.N, b.Elapsed())
}

// BenchmarkList10000 lists a prefix of 10000 keys.
func BenchmarkList10000(b *testing.B) {
	const n = 10000
	s := benchStore(b, boltstore.Options{})
	ctx := context.Background()
	fill(b, s, n)
	for b.Loop() { // the first call resets the timer after fill

		kvs, _, err := s.List(ctx, "/bench/", store.ListOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(kvs) != n {
			b.Fatalf("listed %d keys, want %d", len(kvs), n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "keys/s")
}

// fill creates n keys with 64 concurrent writers.
func fill(b *testing.B, s store.Store, n int) {
	b.Helper()
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range 64 {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if _, err := s.Create(context.Background(), fmt.Sprintf("/bench/%09d", i), value); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkWatchFanout100 measures delivering b.N writes (from 16 writers)
// to 100 watchers: the time until every watcher has every event.
func BenchmarkWatchFanout100(b *testing.B) {
	const watchers, writers = 100, 16
	// Buffers hold every event so that the benchmark measures delivery, not
	// the closing of lagging watchers.
	s := benchStore(b, boltstore.Options{WatchBuffer: b.N + 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var readers sync.WaitGroup
	var received atomic.Int64
	for range watchers {
		ch, err := s.Watch(ctx, "/bench/", 0)
		if err != nil {
			b.Fatal(err)
		}
		readers.Go(func() {
			for n := 0; n < b.N; n++ {
				if _, ok := <-ch; !ok {
					return
				}
				received.Add(1)
			}
		})
	}
	b.ResetTimer()
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range writers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if _, err := s.Create(ctx, fmt.Sprintf("/bench/%09d", i), value); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	readers.Wait()
	b.StopTimer()
	if got, want := received.Load(), int64(b.N)*watchers; got != want {
		b.Fatalf("watchers received %d events, want %d", got, want)
	}
	b.ReportMetric(float64(received.Load())/b.Elapsed().Seconds(), "events/s")
	reportWrites(b, s, b.N, b.Elapsed())
}
