package store

import (
	"context"
	"errors"
)

// Sentinel errors. Errors returned by a Store wrap them with the operation and
// the key, e.g. `update "/a": store: revision conflict`; test them with
// errors.Is.
var (
	// ErrNotFound means the key does not exist.
	ErrNotFound = errors.New("store: key not found")
	// ErrExists means Create found the key already present.
	ErrExists = errors.New("store: key already exists")
	// ErrConflict means the key's ModRevision differs from the expected one:
	// somebody else wrote it since the caller read it.
	ErrConflict = errors.New("store: revision conflict")
	// ErrCompacted means Watch was asked for history older than the store
	// still keeps; the caller lists again and watches from the list's
	// revision.
	ErrCompacted = errors.New("store: revision compacted")
	// ErrClosed means the store has been closed.
	ErrClosed = errors.New("store: closed")
)

// KV is one key with its value and revisions.
//
// Revisions are global and strictly increasing across all keys (like etcd):
// every successful Create, Update or Delete gets the next revision.
type KV struct {
	Key            string
	Value          []byte
	CreateRevision int64 // revision at which the key was created
	ModRevision    int64 // revision of the last write of the key
}

// EventType says what a write did to a key.
type EventType string

// The event types.
const (
	Added    EventType = "ADDED"
	Modified EventType = "MODIFIED"
	Deleted  EventType = "DELETED"
)

// Event is one write seen by a watcher. Its revision is KV.ModRevision.
// Receivers must treat KV.Value as read-only: it may be shared with other
// watchers.
type Event struct {
	Type EventType
	KV   KV // for Deleted: the last value, with ModRevision = the delete's revision
}

// ListOptions narrows a List.
type ListOptions struct {
	// Filter, when set, keeps only the values for which it returns true (the
	// API server uses it for label and field selectors).
	Filter func(KV) bool
}

// Store is a revisioned key-value store with watches. Implementations are
// safe for concurrent use.
type Store interface {
	// Get returns the key's current value; ErrNotFound.
	Get(ctx context.Context, key string) (KV, error)
	// List returns the keys with the prefix, sorted by key, and the store's
	// current revision at the time of the read (watch from it to continue
	// after the list).
	List(ctx context.Context, prefix string, opts ListOptions) ([]KV, int64, error)
	// Create stores a new key; ErrExists.
	Create(ctx context.Context, key string, value []byte) (KV, error)
	// Update replaces the value if the key's ModRevision equals expectedRev;
	// expectedRev 0 means unconditional. ErrNotFound, ErrConflict.
	Update(ctx context.Context, key string, value []byte, expectedRev int64) (KV, error)
	// Delete removes the key if its ModRevision equals expectedRev (0 =
	// unconditional); returns the deleted KV: its last value, with
	// ModRevision = the delete's revision (as in the Deleted event).
	// ErrNotFound, ErrConflict.
	Delete(ctx context.Context, key string, expectedRev int64) (KV, error)
	// Watch streams every event on keys with the prefix whose revision is >
	// fromRev, in revision order. fromRev 0 means "from now". If fromRev is
	// older than the oldest revision the store still remembers, Watch returns
	// an error wrapping ErrCompacted.
	//
	// The channel is closed when ctx is done or the store is closed; a
	// watcher that falls too far behind (buffer full) gets its channel closed
	// with no further events (the caller re-lists), never blocks writers.
	Watch(ctx context.Context, prefix string, fromRev int64) (<-chan Event, error)
	// Revision returns the current revision, that of the last successful
	// write.
	Revision(ctx context.Context) (int64, error)
	// Close releases the store, stops its goroutines and closes all watch
	// channels.
	Close() error
}
