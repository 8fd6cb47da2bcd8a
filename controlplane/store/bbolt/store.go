package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/weft-mesh/weft/controlplane/store"
)

// Options tune a Store. Zero values take the defaults.
type Options struct {
	// HistoryLimit is how many of the latest events the log keeps at least,
	// for Watch from a past revision. Default 10000.
	HistoryLimit int
	// WatchBuffer is how many events a watcher may fall behind before its
	// channel is closed. Default 1024.
	WatchBuffer int
	// MaxBatchSize caps how many writes share one transaction and fsync.
	// Default 1000.
	MaxBatchSize int
	// LockTimeout is how long Open waits for another process to release the
	// file. Default 5 s.
	LockTimeout time.Duration
}

// The defaults of Options.
const (
	DefaultHistoryLimit = 10000
	DefaultWatchBuffer  = 1024
	DefaultMaxBatchSize = 1000
	DefaultLockTimeout  = 5 * time.Second
)

func (o Options) withDefaults() Options {
	if o.HistoryLimit <= 0 {
		o.HistoryLimit = DefaultHistoryLimit
	}
	if o.WatchBuffer <= 0 {
		o.WatchBuffer = DefaultWatchBuffer
	}
	if o.MaxBatchSize <= 0 {
		o.MaxBatchSize = DefaultMaxBatchSize
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	return o
}

// Store is a store.Store on one bbolt file. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	opts Options

	ops       chan *op       // writers → committer
	wake      chan struct{}  // committer → dispatcher: new revisions committed
	watchReqs chan *watchReq // Watch → dispatcher
	unwatch   chan *watcher  // a watcher's context is done → dispatcher
	stop      chan struct{}  // closed by Close
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup // the committer and the dispatcher

	current   atomic.Int64 // last committed revision, set by the committer
	delivered atomic.Int64 // last revision fanned out, set by the dispatcher
	commits   atomic.Int64
	writes    atomic.Int64

	// Owned by the dispatcher goroutine.
	watchers map[*watcher]struct{}
	dlv      int64 // same as delivered
}

var _ store.Store = (*Store)(nil)

// Open opens or creates the store file at path and starts the store's
// committer and dispatcher goroutines; Close stops them.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout})
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	var rev int64
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketKV, bucketLog, bucketMeta} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch f := meta.Get(metaFormat); {
		case f == nil:
			if err := meta.Put(metaFormat, []byte(formatVersion)); err != nil {
				return fmt.Errorf("write format: %w", err)
			}
		case string(f) != formatVersion:
			return fmt.Errorf("format %q, want %q", f, formatVersion)
		}
		rev, err = metaInt(meta, metaRevision)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %q: %w", path, err)
	}
	s := &Store{
		db:        db,
		opts:      opts,
		ops:       make(chan *op),
		wake:      make(chan struct{}, 1),
		watchReqs: make(chan *watchReq),
		unwatch:   make(chan *watcher),
		stop:      make(chan struct{}),
		watchers:  make(map[*watcher]struct{}),
		dlv:       rev,
	}
	s.current.Store(rev)
	s.delivered.Store(rev)
	s.wg.Add(2)
	go s.commitLoop()
	go s.dispatchLoop()
	return s, nil
}

// Close stops the store's goroutines, closes every watch channel and closes
// the file. Writes accepted before Close complete; later calls fail with
// store.ErrClosed. Close is idempotent.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.wg.Wait()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close store: %w", err)
		}
	})
	return s.closeErr
}

// Stats are counters for metrics.
type Stats struct {
	Revision  int64 // current revision
	Delivered int64 // last revision fanned out to watchers; Revision-Delivered is the watch lag
	Commits   int64 // transactions committed since Open
	Writes    int64 // successful writes since Open; Writes/Commits is the mean group size
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	return Stats{
		Revision:  s.current.Load(),
		Delivered: s.delivered.Load(),
		Commits:   s.commits.Load(),
		Writes:    s.writes.Load(),
	}
}

// Get implements store.Store.
func (s *Store) Get(ctx context.Context, key string) (store.KV, error) {
	var kv store.KV
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketKV).Get([]byte(key))
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		kv, err = decodeKV(key, v)
		return err
	})
	if err != nil {
		return store.KV{}, fmt.Errorf("get %q: %w", key, err)
	}
	return kv, nil
}

// List implements store.Store. It reads in one transaction, so the keys and
// the revision are a consistent snapshot.
func (s *Store) List(ctx context.Context, prefix string, opts store.ListOptions) ([]store.KV, int64, error) {
	var (
		kvs []store.KV
		rev int64
	)
	err := s.view(ctx, func(tx *bolt.Tx) error {
		kvs = kvs[:0]
		var err error
		if rev, err = metaInt(tx.Bucket(bucketMeta), metaRevision); err != nil {
			return err
		}
		p := []byte(prefix)
		c := tx.Bucket(bucketKV).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			kv, err := decodeKV(string(k), v)
			if err != nil {
				return err
			}
			kvs = append(kvs, kv)
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list %q: %w", prefix, err)
	}
	if opts.Filter != nil {
		// Filter runs outside the transaction: it may be slow or call the
		// store without holding up writers that need to grow the file.
		kvs = slices.DeleteFunc(kvs, func(kv store.KV) bool { return !opts.Filter(kv) })
	}
	return kvs, rev, nil
}

// Revision implements store.Store.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("revision: %w", err)
	}
	if s.closed() {
		return 0, fmt.Errorf("revision: %w", store.ErrClosed)
	}
	return s.current.Load(), nil
}

// view runs fn in a read transaction.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed() {
		return store.ErrClosed
	}
	err := s.db.View(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return store.ErrClosed
	}
	return err
}

func (s *Store) closed() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// metaInt reads a revision from the meta bucket; absent means 0.
func metaInt(meta *bolt.Bucket, name []byte) (int64, error) {
	v := meta.Get(name)
	if v == nil {
		return 0, nil
	}
	rev, err := decodeRev(v)
	if err != nil {
		return 0, fmt.Errorf("meta %s: %w", name, err)
	}
	return rev, nil
}
