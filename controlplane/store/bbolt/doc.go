// Package boltstore implements store.Store on a single bbolt file.
//
// Open a store with
//
//	s, err := boltstore.Open("/var/lib/weft/store.db", boltstore.Options{})
//	defer s.Close()
//
// The file holds three buckets: "kv" (key → revisions and value), "log"
// (revision → event, the history that Watch replays from) and "meta" (the
// current revision and the highest compacted revision), so revisions and
// history survive a restart.
//
// # Writes and durability
//
// Writers hand their operation to one committer goroutine and wait. The
// committer takes every operation that is waiting, applies them in one bbolt
// read-write transaction in arrival order, and commits it with fsync (group
// commit): a write acknowledged with a nil error is on disk and survives a
// crash of the process, and concurrent writers share one fsync instead of
// paying one each. A serial writer never waits for a batch to fill. A
// per-operation failure (ErrExists, ErrNotFound, ErrConflict) writes nothing
// and does not affect the other operations of its transaction; bbolt's
// DB.Batch is not used because it delays every batch by a timer and reruns
// functions on failure. Since one goroutine owns all writes, revisions are
// assigned in commit order.
//
// # Watches
//
// One dispatcher goroutine delivers events. After each commit it reads the
// log entries after the last revision it delivered and fans them out, so
// every watcher sees events in strict revision order with no gaps whatever
// the writers do. Sends to watchers never block: a watcher whose buffer
// (Options.WatchBuffer) is full has its channel closed and must re-list. A
// Watch from a past revision first gets the retained history after that
// revision replayed into its channel (whose buffer is grown to hold it).
//
// The log keeps at least the last Options.HistoryLimit events; older entries
// are deleted as new ones are written, and Watch from a revision before them
// fails with store.ErrCompacted. Entries the dispatcher has not delivered yet
// are never deleted.
package boltstore
