package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/weft-mesh/weft/controlplane/store"
)

type opKind uint8

const (
	opCreate opKind = iota + 1
	opUpdate
	opDelete
)

func (k opKind) String() string {
	switch k {
	case opCreate:
		return "create"
	case opUpdate:
		return "update"
	case opDelete:
		return "delete"
	}
	return "write"
}

// op is one write waiting for the committer.
type op struct {
	kind     opKind
	key      string
	value    []byte
	expected int64         // expected ModRevision; 0 = unconditional
	done     chan opResult // buffered; the committer sends exactly once
}

type opResult struct {
	kv  store.KV
	err error
}

// Create implements store.Store.
func (s *Store) Create(ctx context.Context, key string, value []byte) (store.KV, error) {
	return s.write(ctx, &op{kind: opCreate, key: key, value: value})
}

// Update implements store.Store.
func (s *Store) Update(ctx context.Context, key string, value []byte, expectedRev int64) (store.KV, error) {
	return s.write(ctx, &op{kind: opUpdate, key: key, value: value, expected: expectedRev})
}

// Delete implements store.Store.
func (s *Store) Delete(ctx context.Context, key string, expectedRev int64) (store.KV, error) {
	return s.write(ctx, &op{kind: opDelete, key: key, expected: expectedRev})
}

// write hands o to the committer and waits for its result. Once the
// committer has taken o, the write completes even if ctx is done meanwhile,
// so a nil error always means the write is durable.
func (s *Store) write(ctx context.Context, o *op) (store.KV, error) {
	if err := validate(o); err != nil {
		return store.KV{}, fmt.Errorf("%s %q: %w", o.kind, o.key, err)
	}
	if err := ctx.Err(); err != nil {
		return store.KV{}, fmt.Errorf("%s %q: %w", o.kind, o.key, err)
	}
	o.done = make(chan opResult, 1)
	select {
	case s.ops <- o:
	case <-ctx.Done():
		return store.KV{}, fmt.Errorf("%s %q: %w", o.kind, o.key, ctx.Err())
	case <-s.stop:
		return store.KV{}, fmt.Errorf("%s %q: %w", o.kind, o.key, store.ErrClosed)
	}
	r := <-o.done
	return r.kv, r.err
}

// validate rejects what bbolt would refuse inside the shared transaction, so
// that one bad write cannot fail the others in its group.
func validate(o *op) error {
	switch {
	case o.key == "":
		return fmt.Errorf("empty key")
	case len(o.key) > bolt.MaxKeySize:
		return fmt.Errorf("key of %d bytes exceeds %d", len(o.key), bolt.MaxKeySize)
	case int64(len(o.key))+int64(len(o.value))+64 > bolt.MaxValueSize:
		return fmt.Errorf("value of %d bytes is too large", len(o.value))
	case o.expected < 0:
		return fmt.Errorf("negative expected revision %d", o.expected)
	}
	return nil
}

// commitLoop is the committer: it owns all writes to the file. It takes
// every op that is waiting (up to MaxBatchSize) and commits them together.
func (s *Store) commitLoop() {
	defer s.wg.Done()
	batch := make([]*op, 0, s.opts.MaxBatchSize)
	for {
		batch = batch[:0]
		select {
		case o := <-s.ops:
			batch = append(batch, o)
		case <-s.stop:
			return
		}
	gather:
		for len(batch) < s.opts.MaxBatchSize {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
			default:
				break gather
			}
		}
		s.commitGroup(batch)
		clear(batch) // drop references to finished ops
	}
}

// commitGroup commits batch in one transaction and answers every op. If the
// transaction itself fails, each op is retried alone so that the failure is
// charged only to the ops that cause it.
func (s *Store) commitGroup(batch []*op) {
	results, err := s.commit(batch)
	if err == nil {
		for i, o := range batch {
			o.done <- results[i]
		}
		return
	}
	if len(batch) == 1 {
		o := batch[0]
		o.done <- opResult{err: fmt.Errorf("%s %q: commit: %w", o.kind, o.key, err)}
		return
	}
	for _, o := range batch {
		s.commitGroup([]*op{o})
	}
}

// commit applies batch in one read-write transaction, which bbolt fsyncs
// before returning. Per-op failures are results, not transaction errors.
func (s *Store) commit(batch []*op) ([]opResult, error) {
	results := make([]opResult, len(batch))
	var (
		rev     int64
		written int64
	)
	err := s.db.Update(func(tx *bolt.Tx) error {
		t := txn{
			kv:   tx.Bucket(bucketKV),
			log:  tx.Bucket(bucketLog),
			meta: tx.Bucket(bucketMeta),
		}
		var err error
		if t.rev, err = metaInt(t.meta, metaRevision); err != nil {
			return err
		}
		start := t.rev
		for i, o := range batch {
			if results[i], err = t.apply(o); err != nil {
				return fmt.Errorf("%s %q: %w", o.kind, o.key, err)
			}
		}
		rev, written = t.rev, t.rev-start
		if written == 0 {
			return nil
		}
		if err := t.meta.Put(metaRevision, revKey(t.rev)); err != nil {
			return fmt.Errorf("write revision: %w", err)
		}
		return t.compact(min(t.rev-int64(s.opts.HistoryLimit), s.delivered.Load()))
	})
	if err != nil {
		return nil, err
	}
	if written > 0 {
		s.current.Store(rev)
		s.commits.Add(1)
		s.writes.Add(written)
		select {
		case s.wake <- struct{}{}:
		default: // the dispatcher is already due to look
		}
	}
	return results, nil
}

// txn applies ops inside one read-write transaction.
type txn struct {
	kv, log, meta *bolt.Bucket
	rev           int64 // revision of the last write applied
}

// apply performs one op. A store error (ErrExists, ErrNotFound,
// ErrConflict) is returned in the result and leaves the transaction
// untouched; the error return is for failures of the transaction.
func (t *txn) apply(o *op) (opResult, error) {
	key := []byte(o.key)
	old := t.kv.Get(key)
	var prev store.KV
	if old != nil {
		var err error
		if prev, err = decodeKV(o.key, old); err != nil {
			return opResult{}, err
		}
	}
	fail := func(err error) (opResult, error) {
		return opResult{err: fmt.Errorf("%s %q: %w", o.kind, o.key, err)}, nil
	}
	switch {
	case o.kind == opCreate && old != nil:
		return fail(store.ErrExists)
	case o.kind != opCreate && old == nil:
		return fail(store.ErrNotFound)
	case o.kind != opCreate && o.expected != 0 && o.expected != prev.ModRevision:
		return opResult{err: fmt.Errorf("%s %q: %w: expected revision %d, have %d",
			o.kind, o.key, store.ErrConflict, o.expected, prev.ModRevision)}, nil
	}

	rev := t.rev + 1
	var (
		kv  store.KV
		typ store.EventType
	)
	switch o.kind {
	case opCreate:
		typ = store.Added
		kv = store.KV{Key: o.key, Value: clone(o.value), CreateRevision: rev, ModRevision: rev}
	case opUpdate:
		typ = store.Modified
		kv = store.KV{Key: o.key, Value: clone(o.value), CreateRevision: prev.CreateRevision, ModRevision: rev}
	case opDelete:
		typ = store.Deleted
		kv = prev
		kv.ModRevision = rev
	}
	if typ == store.Deleted {
		if err := t.kv.Delete(key); err != nil {
			return opResult{}, err
		}
	} else if err := t.kv.Put(key, encodeKV(kv)); err != nil {
		return opResult{}, err
	}
	if err := t.log.Put(revKey(rev), encodeEvent(typ, kv)); err != nil {
		return opResult{}, fmt.Errorf("append to log: %w", err)
	}
	t.rev = rev
	return opResult{kv: kv}, nil
}

// compact deletes the log entries up to and including revision target.
// Every revision has exactly one entry, so it deletes them by number.
func (t *txn) compact(target int64) error {
	compacted, err := metaInt(t.meta, metaCompacted)
	if err != nil || target <= compacted {
		return err
	}
	for rev := compacted + 1; rev <= target; rev++ {
		if err := t.log.Delete(revKey(rev)); err != nil {
			return fmt.Errorf("compact log: %w", err)
		}
	}
	if err := t.meta.Put(metaCompacted, revKey(target)); err != nil {
		return fmt.Errorf("write compacted revision: %w", err)
	}
	return nil
}

// clone copies v so that the caller may reuse it; nil stays empty.
func clone(v []byte) []byte { return append([]byte{}, v...) }
