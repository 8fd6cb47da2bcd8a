package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/weft-mesh/weft/controlplane/store"
)

// dispatchChunk bounds how many log entries the dispatcher reads per read
// transaction, so that it never holds one open for long.
const dispatchChunk = 1024

// watcher is one Watch call; the dispatcher owns it.
type watcher struct {
	prefix  string
	after   int64 // events at or below this revision are not for this watcher
	out     chan store.Event
	stopCtx func() bool // stops the context.AfterFunc that unregisters the watcher
}

// watchReq asks the dispatcher to register a watcher.
type watchReq struct {
	ctx     context.Context
	prefix  string
	fromRev int64
	reply   chan watchReply // buffered; the dispatcher answers exactly once
}

type watchReply struct {
	ch  <-chan store.Event
	err error
}

// Watch implements store.Store. Events already in the log after fromRev are
// put in the channel before Watch returns; its buffer is grown to hold them.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (<-chan store.Event, error) {
	if fromRev < 0 {
		return nil, fmt.Errorf("watch %q: negative revision %d", prefix, fromRev)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("watch %q: %w", prefix, err)
	}
	req := &watchReq{ctx: ctx, prefix: prefix, fromRev: fromRev, reply: make(chan watchReply, 1)}
	select {
	case s.watchReqs <- req:
	case <-ctx.Done():
		return nil, fmt.Errorf("watch %q: %w", prefix, ctx.Err())
	case <-s.stop:
		return nil, fmt.Errorf("watch %q: %w", prefix, store.ErrClosed)
	}
	r := <-req.reply
	return r.ch, r.err
}

// dispatchLoop is the dispatcher: it owns the watchers and is the only
// goroutine that sends to or closes their channels.
func (s *Store) dispatchLoop() {
	defer s.wg.Done()
	defer s.closeAll()
	for {
		select {
		case <-s.stop:
			return
		case <-s.wake:
			s.dispatch()
		case req := <-s.watchReqs:
			req.reply <- s.register(req)
		case w := <-s.unwatch:
			if _, ok := s.watchers[w]; ok {
				s.drop(w)
			}
		}
	}
}

// register replays the retained history after req.fromRev up to the last
// delivered revision, then adds the watcher to the live fan-out; both happen
// on the dispatcher, so nothing is missed or repeated in between.
func (s *Store) register(req *watchReq) watchReply {
	var (
		replay []store.Event
		after  int64
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if req.fromRev == 0 {
			cur, err := metaInt(meta, metaRevision)
			after = max(cur, s.dlv)
			return err
		}
		compacted, err := metaInt(meta, metaCompacted)
		if err != nil {
			return err
		}
		if req.fromRev < compacted {
			return fmt.Errorf("from revision %d, oldest kept is %d: %w", req.fromRev, compacted+1, store.ErrCompacted)
		}
		after = max(req.fromRev, s.dlv)
		c := tx.Bucket(bucketLog).Cursor()
		for k, v := c.Seek(revKey(req.fromRev + 1)); k != nil; k, v = c.Next() {
			rev, err := decodeRev(k)
			if err != nil {
				return err
			}
			if rev > s.dlv {
				break
			}
			h, err := parseEvent(v)
			if err != nil {
				return fmt.Errorf("log revision %d: %w", rev, err)
			}
			if h.hasPrefix(req.prefix) {
				replay = append(replay, h.event(rev))
			}
		}
		return nil
	})
	if err != nil {
		return watchReply{err: fmt.Errorf("watch %q: %w", req.prefix, err)}
	}
	w := &watcher{
		prefix: req.prefix,
		after:  after,
		out:    make(chan store.Event, len(replay)+s.opts.WatchBuffer),
	}
	for _, ev := range replay {
		w.out <- ev
	}
	w.stopCtx = context.AfterFunc(req.ctx, func() {
		select {
		case s.unwatch <- w:
		case <-s.stop:
		}
	})
	s.watchers[w] = struct{}{}
	return watchReply{ch: w.out}
}

// dispatch fans out the log entries committed since the last delivered
// revision.
func (s *Store) dispatch() {
	target := s.current.Load()
	if len(s.watchers) == 0 {
		s.setDelivered(target)
		return
	}
	for s.dlv < target {
		events, err := s.readLog(s.dlv, target)
		if err != nil {
			// The watchers cannot be served without a gap: close them so
			// that they re-list.
			s.closeAll()
			s.setDelivered(target)
			return
		}
		for _, ev := range events {
			s.fanOut(ev)
		}
		s.setDelivered(events[len(events)-1].KV.ModRevision)
	}
}

// readLog reads up to dispatchChunk events after revision from, up to
// revision to, and checks that none is missing.
func (s *Store) readLog(from, to int64) ([]store.Event, error) {
	events := make([]store.Event, 0, min(to-from, dispatchChunk))
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		next := from + 1
		for k, v := c.Seek(revKey(next)); next <= to && len(events) < dispatchChunk; k, v = c.Next() {
			if k == nil {
				return fmt.Errorf("log ends before revision %d", next)
			}
			rev, err := decodeRev(k)
			if err != nil {
				return err
			}
			if rev != next {
				return fmt.Errorf("log has revision %d where %d was due", rev, next)
			}
			h, err := parseEvent(v)
			if err != nil {
				return fmt.Errorf("log revision %d: %w", rev, err)
			}
			events = append(events, h.event(rev))
			next++
		}
		return nil
	})
	return events, err
}

// fanOut sends ev to every watcher it is for, without blocking: a watcher
// whose buffer is full is closed.
func (s *Store) fanOut(ev store.Event) {
	rev := ev.KV.ModRevision
	for w := range s.watchers {
		if rev <= w.after || len(ev.KV.Key) < len(w.prefix) || ev.KV.Key[:len(w.prefix)] != w.prefix {
			continue
		}
		select {
		case w.out <- ev:
			w.after = rev
		default:
			s.drop(w)
		}
	}
}

func (s *Store) setDelivered(rev int64) {
	s.dlv = rev
	s.delivered.Store(rev)
}

// drop closes w's channel and forgets it.
func (s *Store) drop(w *watcher) {
	w.stopCtx()
	close(w.out)
	delete(s.watchers, w)
}

func (s *Store) closeAll() {
	for w := range s.watchers {
		s.drop(w)
	}
}
