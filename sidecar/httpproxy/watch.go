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
// timers stop, and it touches nothing, once stop returns.
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

	mu      sync.Mutex
	stopped bool
}

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
	wt := &watch{w: w, cancel: cancel, start: time.Now(), idle: idle}
	if idle > 0 {
		wt.idleT = time.AfterFunc(idle, wt.checkIdle)
	}
	if request > 0 {
		wt.reqT = time.AfterFunc(request, func() { wt.expire(errRequestTimeout) })
	}
	return wt
}

// touch records activity on the stream.
func (wt *watch) touch() {
	if wt != nil && wt.idleT != nil {
		wt.last.Store(int64(time.Since(wt.start)))
	}
}

func (wt *watch) checkIdle() {
	quiet := time.Since(wt.start) - time.Duration(wt.last.Load())
	if quiet < wt.idle {
		wt.mu.Lock()
		if !wt.stopped {
			wt.idleT.Reset(wt.idle - quiet)
		}
		wt.mu.Unlock()
		return
	}
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
	if wt != nil && wt.reqT != nil {
		wt.reqT.Stop()
	}
}

// stop disarms both timers for good.
func (wt *watch) stop() {
	if wt == nil {
		return
	}
	wt.mu.Lock()
	wt.stopped = true
	wt.mu.Unlock()
	if wt.idleT != nil {
		wt.idleT.Stop()
	}
	wt.requestDone()
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
