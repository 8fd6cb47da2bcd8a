// Package bufpool holds the copy buffers shared by weft-proxy's data paths,
// so no request allocates its own.
package bufpool

import (
	"io"
	"sync"
)

// Size is the size of a pooled buffer.
const Size = 32 * 1024

var pool = sync.Pool{New: func() any { b := make([]byte, Size); return &b }}

// Get returns a buffer of Size bytes; give it back with Put.
func Get() *[]byte { return pool.Get().(*[]byte) }

// Put returns b to the pool.
func Put(b *[]byte) { pool.Put(b) }

// Copy copies src to dst with a pooled buffer, never using ReaderFrom or
// WriterTo (which would allocate their own). flusher, when not nil, is flushed
// after each write (streaming responses). It returns the bytes written, and
// whether a failure was on the read side.
func Copy(dst io.Writer, src io.Reader, flusher Flusher) (n int64, readErr bool, err error) {
	bp := Get()
	defer Put(bp)
	buf := *bp
	for {
		nr, rerr := src.Read(buf)
		if nr > 0 {
			nw, werr := dst.Write(buf[:nr])
			n += int64(nw)
			if werr != nil {
				return n, false, werr
			}
			if nw != nr {
				return n, false, io.ErrShortWrite
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if rerr == io.EOF {
			return n, false, nil
		}
		if rerr != nil {
			return n, true, rerr
		}
	}
}

// Flusher is http.Flusher without importing net/http.
type Flusher interface{ Flush() }
