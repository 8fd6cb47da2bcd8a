package h1server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"sync"

	"github.com/weft-mesh/weft/sidecar/internal/h1wire"
)

// maxPostHandlerReadBytes is how much of an unread request body is read
// and dropped to keep a connection alive (net/http's value).
const maxPostHandlerReadBytes = 256 << 10

var errTrailerEOF = errors.New("http: unexpected EOF reading trailer")

// body is a request body read off the connection's reader: Content-Length
// bytes, or chunks and a trailer section. Reaching its end tells the
// connection (eof), which then watches for the client going away. Read and
// Close are safe for concurrent use (an upstream transport may still read
// while the handler answers).
type body struct {
	mu      sync.Mutex
	br      *bufio.Reader
	req     *http.Request
	chunked bool
	left    int64     // Content-Length bytes still to read
	cr      io.Reader // chunked
	sawEOF  bool
	closed  bool
	err     error // sticky read error
	eof     func()
}

func (b *body) reset(br *bufio.Reader, req *http.Request, hd head, eof func()) {
	*b = body{br: br, req: req, chunked: hd.chunked, left: hd.contentLength, eof: eof}
	if hd.chunked {
		b.cr = httputil.NewChunkedReader(br)
	}
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	return b.readLocked(p)
}

func (b *body) readLocked(p []byte) (int, error) {
	if b.sawEOF {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	var n int
	var err error
	if b.chunked {
		n, err = b.cr.Read(p)
		if err == io.EOF {
			if terr := b.readTrailer(); terr != nil {
				err = terr
			}
		}
	} else {
		if int64(len(p)) > b.left {
			p = p[:b.left]
		}
		if len(p) == 0 {
			err = io.EOF
		} else {
			n, err = b.br.Read(p)
			b.left -= int64(n)
			switch {
			case b.left == 0:
				err = io.EOF
			case err == io.EOF:
				err = io.ErrUnexpectedEOF
			}
		}
	}
	switch {
	case err == io.EOF:
		b.sawEOF = true
		b.eof()
	case err != nil:
		b.err = err
	}
	return n, err
}

// readTrailer reads the trailer section after the last chunk into the
// request's Trailer, as net/http does.
func (b *body) readTrailer() error {
	hdr, err := h1wire.ReadTrailer(b.br)
	switch {
	case errors.Is(err, h1wire.ErrTrailerEOF):
		return errTrailerEOF
	case err != nil:
		return fmt.Errorf("http: %w", err)
	case hdr == nil:
		return nil
	}
	if b.req.Trailer == nil {
		b.req.Trailer = hdr
	} else {
		for k, v := range hdr {
			b.req.Trailer[k] = v
		}
	}
	return nil
}

// Close reads what is left of a short body so the connection can serve
// the next request, as net/http's server does.
func (b *body) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if b.sawEOF {
		return nil
	}
	return b.discardLocked()
}

// discardLocked reads and drops up to maxPostHandlerReadBytes; it returns
// nil when it reached the end of the body.
func (b *body) discardLocked() error {
	if !b.chunked {
		if b.left > maxPostHandlerReadBytes {
			return errBodyTooBig
		}
		n, err := b.br.Discard(int(b.left))
		b.left -= int64(n)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			b.err = err
			return err
		}
		b.sawEOF = true
		b.eof()
		return nil
	}
	var buf [512]byte
	total := 0
	for total <= maxPostHandlerReadBytes {
		n, err := b.readLocked(buf[:])
		total += n
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return errBodyTooBig
}

var errBodyTooBig = errors.New("http: request body too large to discard")

// done reports whether the body was read to its end, and whether it was
// closed.
func (b *body) state() (sawEOF, closed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sawEOF, b.closed
}
