// Package store defines the durable key-value store behind the Weft control
// plane: opaque byte values under string keys, shaped like the etcd storage
// that the Kubernetes API server uses.
//
// Every successful write (Create, Update or Delete) gets the next global
// revision, so revisions are strictly increasing across all keys. A KV
// carries the revision that created its key and the revision of its last
// write; Update and Delete take the ModRevision the caller last saw and fail
// with ErrConflict when someone else wrote in between (optimistic
// concurrency). Passing 0 makes the write unconditional.
//
// The usual read pattern is list-then-watch:
//
//	kvs, rev, err := s.List(ctx, "/services/", store.ListOptions{})
//	...
//	events, err := s.Watch(ctx, "/services/", rev)
//	for ev := range events {
//		// apply ev; the channel closes when ctx is done, the store closes,
//		// or this watcher fell too far behind: then list again.
//	}
//
// Watch replays, in revision order, every event after the given revision
// that the store still remembers; asking for a revision that has been
// compacted away fails with an error wrapping ErrCompacted, and the caller
// lists again.
//
// Implementations live in subpackages (boltstore in controlplane/store/bbolt);
// package storetest holds the conformance suite every implementation runs.
package store
