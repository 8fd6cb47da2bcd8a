package httpproxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Causes a stream's context is cancelled with when the connection
// manager's timeouts expire.
var (
	errStreamIdle     = errors.New("stream idle timeout")
	errRequestTimeout = errors.New("request timeout")
)

// watch enforces the connection manager's stream_idle_timeout (no bytes
// either way for that long) and request_timeout (the whole request not
// received in time) on one stream: expiry cancels the stream's context
// with the cause and unblocks a pending read of the downstream body. Its
// timers stop, and it touches nothing, once stop returns. Watches and their
// timers are pooled: stop returns one to the pool when neither timer can
// still fire.
type watch struct {
	w      http.ResponseWriter
	cancel context.CancelCauseFunc
	start  time.Time
	idle   time.Duration
	last   atomic.Int64 // activity, ns since start
	idleT  *time.Timer
	reqT   *time.Timer

	// reading is set while the downstream body is being read.
	reading atomic.Bool
	// reqArmed: reqT is armed for this stream and was not stopped yet.
	// (The request body may be read, and requestDone called, by an HTTP/2
	// transport's goroutine.)
	reqArmed atomic.Bool

	mu      sync.Mutex
	stopped bool
}

var watches sync.Pool

// readingBody says whether the downstream body is still being read.
func (wt *watch) readingBody(v bool) {
	if wt != nil {
		wt.reading.Store(v)
	}
}

func newWatch(w http.ResponseWriter, cancel context.CancelCauseFunc, idle, request time.Duration) *watch {
	if idle <= 0 && request <= 0 {
		return nil
	}
	wt, _ := watches.Get().(*watch)
	if wt == nil {
		wt = new(watch)
	}
	wt.w, wt.cancel, wt.start, wt.idle = w, cancel, time.Now(), idle
	wt.last.Store(0)
	wt.reading.Store(false)
	wt.stopped = false // no timer armed: no one else looks
	if idle > 0 {
		if wt.idleT == nil {
			wt.idleT = time.AfterFunc(idle, wt.checkIdle)
		} else {
			wt.idleT.Reset(idle)
		}
	}
	wt.reqArmed.Store(request > 0)
	if request > 0 {
		if wt.reqT == nil {
			wt.reqT = time.AfterFunc(request, wt.expireRequest)
		} else {
			wt.reqT.Reset(request)
		}
	}
	return wt
}

func (wt *watch) expireRequest() { wt.expire(errRequestTimeout) }

// touch records activity on the stream.
func (wt *watch) touch() {
	if wt != nil && wt.idleT != nil {
		wt.last.Store(int64(time.Since(wt.start)))
	}
}

func (wt *watch) checkIdle() {
	wt.mu.Lock()
	if wt.stopped {
		wt.mu.Unlock()
		return
	}
	quiet := time.Since(wt.start) - time.Duration(wt.last.Load())
	if quiet < wt.idle {
		wt.idleT.Reset(wt.idle - quiet)
		wt.mu.Unlock()
		return
	}
	wt.mu.Unlock()
	wt.expire(errStreamIdle)
}

func (wt *watch) expire(cause error) {
	wt.mu.Lock()
	defer wt.mu.Unlock()
	if wt.stopped {
		return
	}
	wt.cancel(cause)
	if wt.reading.Load() {
		// A handler blocked reading the downstream body wakes up.
		_ = http.NewResponseController(wt.w).SetReadDeadline(time.Now())
	}
}

// requestDone disarms request_timeout: the request is all in, or the
// response has started.
func (wt *watch) requestDone() {
	if wt != nil && wt.reqArmed.Load() && wt.reqT.Stop() {
		wt.reqArmed.Store(false)
	}
}

// stop disarms both timers for good. The watch goes back to the pool when
// no timer function can run any more; wt must not be used after stop.
func (wt *watch) stop() {
	if wt == nil {
		return
	}
	wt.mu.Lock()
	if wt.stopped {
		wt.mu.Unlock()
		return
	}
	wt.stopped = true
	wt.mu.Unlock()
	// A timer that Stop finds still armed never runs its function; one
	// that already fired may be running it, so its watch is not reused.
	reuse := true
	if wt.idle > 0 && !wt.idleT.Stop() {
		reuse = false
	}
	// (A concurrent requestDone that stopped reqT but has not cleared
	// reqArmed yet only makes this watch not reused.)
	if wt.reqArmed.Load() && !wt.reqT.Stop() {
		reuse = false
	}
	wt.reqArmed.Store(false)
	if reuse {
		wt.w, wt.cancel = nil, nil
		watches.Put(wt)
	}
}

// activityReader touches the watch on every read (the upstream response
// body).
type activityReader struct {
	r  io.Reader
	wt *watch
}

func (a *activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.wt.touch()
	}
	return n, err
}

// connTerminated reports whether err says the upstream connection ended
// (flag UC) rather than the stream being reset (UR).
func connTerminated(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}
