package h1server

import (
	"fmt"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// bufferBeforeChunking is how much body a response holds back before
// committing to chunked encoding; a handler that ends within it gets a
// Content-Length (net/http's value).
const bufferBeforeChunking = 2048

// Header keys a response head may drop (delHeader in net/http).
const (
	delContentLength = 1 << iota
	delTransferEncoding
	delConnection
	delContentType
)

type field struct{ k, v string }

// response is the http.ResponseWriter of one request. It writes what
// net/http's server writes for the same calls: the head is held until the
// first body bytes beyond bufferBeforeChunking, a Flush, or the handler's
// end, so that a short body gets a Content-Length and a sniffed
// Content-Type; longer or flushed bodies are chunked, with trailers
// (declared with Trailer, or http.TrailerPrefix keys); HEAD, 1xx, 204 and
// 304 responses have no body; the header map is read once, at
// WriteHeader, as net/http's clone is.
type response struct {
	c      *conn
	req    *http.Request
	body   *body // nil: no request body
	header http.Header

	isHEAD          bool
	wantsClose      bool
	wroteHeader     bool
	committed       bool
	handlerDone     bool
	chunking        bool
	closeAfterReply bool
	status          int
	contentLength   int64 // declared or set; -1 unknown
	written         int64
	pending         []byte // body held back before the head is written
	werr            error

	// The head as of WriteHeader.
	fields    []field
	trailer   bool     // trailers declared or TrailerPrefix keys set
	declared  []string // declared trailer keys
	te        string   // first Transfer-Encoding value
	connHdr   string   // first Connection value
	hasCL     bool     // a Content-Length key
	hasType   bool     // a Content-Type key
	hasDate   bool     // a Date key
	hasConn   bool     // a Connection key
	hasCE     bool     // a non-empty Content-Encoding
	dropped   uint8    // del* keys left out of the head
	setCL     []byte   // automatic Content-Length, in clenBuf
	clenBuf   [20]byte
	setType   string // sniffed Content-Type
	setConn   string // Connection value added
	setChunks bool   // Transfer-Encoding: chunked added
}

func (w *response) reset(c *conn, req *http.Request, b *body, hd head) {
	pending, fields, declared := w.pending[:0], w.fields[:0], w.declared[:0]
	*w = response{c: c, req: req, body: b, header: c.respHeader, isHEAD: req.Method == http.MethodHead,
		wantsClose: hd.wantsClose, contentLength: -1, pending: pending, fields: fields, declared: declared}
}

func (w *response) Header() http.Header { return w.header }

// SetReadDeadline sets the connection's read deadline (for
// http.ResponseController): it wakes a handler blocked reading the body.
func (w *response) SetReadDeadline(t time.Time) error { return w.c.rwc.SetReadDeadline(t) }

// SetWriteDeadline sets the connection's write deadline.
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.rwc.SetWriteDeadline(t) }

func (w *response) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		writeStatusLine(w.c, code)
		_ = w.header.WriteSubset(w.c.bw, excludedNoBody)
		_, _ = w.c.bw.WriteString("\r\n")
		if err := w.c.bw.Flush(); err != nil {
			w.werr = err
		}
		return
	}
	w.wroteHeader = true
	w.status = code
	w.snapshot()
	if vv := w.header["Content-Length"]; len(vv) > 0 {
		if v, err := strconv.ParseInt(vv[0], 10, 64); err == nil && v >= 0 {
			w.contentLength = v
		} else {
			// (Like net/http: dropped from the handler's map only.)
			delete(w.header, "Content-Length")
		}
	}
}

var excludedNoBody = map[string]bool{"Content-Length": true, "Transfer-Encoding": true}

// snapshot records the head as of WriteHeader, keys sorted.
func (w *response) snapshot() {
	keys := w.c.keys[:0]
	for k := range w.header {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.HasPrefix(k, http.TrailerPrefix) {
			w.trailer = true
			continue
		}
		vv := w.header[k]
		switch k {
		case "Trailer":
			for _, v := range vv {
				w.trailer = true
				for _, t := range strings.Split(v, ",") {
					if t = textproto.TrimString(t); t != "" {
						t = http.CanonicalHeaderKey(t)
						if httpguts.ValidTrailerHeader(t) {
							w.declared = append(w.declared, t)
						}
					}
				}
			}
		case "Transfer-Encoding":
			if len(vv) > 0 {
				w.te = vv[0]
			}
		case "Connection":
			w.hasConn = true
			if len(vv) > 0 {
				w.connHdr = vv[0]
			}
		case "Content-Length":
			w.hasCL = true
		case "Content-Type":
			w.hasType = true
		case "Date":
			w.hasDate = true
		case "Content-Encoding":
			w.hasCE = len(vv) > 0 && vv[0] != ""
		}
		for _, v := range vv {
			w.fields = append(w.fields, field{k, v})
		}
	}
	clear(keys)
	w.c.keys = keys[:0]
}

func (w *response) keepAlives() bool {
	s := w.c.s
	return !s.noKeepAlives.Load() && !s.inShutdown.Load()
}

func bodyAllowedForStatus(status int) bool {
	return !(status >= 100 && status <= 199 || status == 204 || status == 304)
}

// commit writes the head (net/http's chunkWriter.writeHeader); a, b are
// the first body bytes, all of them when the handler is done.
func (w *response) commit(a, b []byte) {
	w.committed = true
	keepAlives := w.keepAlives()
	n := len(a) + len(b)
	hasTE := w.te != ""
	if w.handlerDone && !w.trailer && !hasTE && bodyAllowedForStatus(w.status) && !w.hasCL && (!w.isHEAD || n > 0) {
		w.contentLength = int64(n)
		w.setCL = strconv.AppendInt(w.clenBuf[:0], int64(n), 10)
	}
	hasCL := w.contentLength != -1
	if w.wantsClose {
		w.closeAfterReply = true
	}
	if w.connHdr == "close" || !keepAlives {
		w.closeAfterReply = true
	}
	if w.body != nil && !w.closeAfterReply {
		tooBig := false
		b := w.body
		b.mu.Lock()
		switch {
		case b.closed:
			if !b.sawEOF {
				w.closeAfterReply = true
			}
		case b.sawEOF:
		default:
			switch err := b.discardLocked(); {
			case err == errBodyTooBig:
				tooBig = true
			case err != nil:
				w.closeAfterReply = true
			}
		}
		b.mu.Unlock()
		if tooBig {
			w.closeAfterReply = true
			w.dropped |= delConnection
			w.setConn = "close"
		}
	}
	code := w.status
	if bodyAllowedForStatus(code) {
		if !w.hasCE && !w.hasType && !hasTE && n > 0 {
			w.setType = http.DetectContentType(w.sniff(a, b))
		}
	} else {
		w.dropped |= delContentLength | delTransferEncoding
		if code == 304 {
			w.dropped |= delContentType
		}
	}
	if hasCL && hasTE && w.te != "identity" {
		w.dropped |= delContentLength
		hasCL = false
	}
	switch {
	case w.isHEAD || !bodyAllowedForStatus(code):
		w.dropped |= delTransferEncoding
	case hasCL:
		w.dropped |= delTransferEncoding
	case hasTE && w.te == "identity":
		w.closeAfterReply = true
		w.dropped |= delTransferEncoding
	default:
		w.chunking = true
		w.setChunks = true
		if hasTE && w.te == "chunked" {
			w.dropped |= delTransferEncoding
		}
	}
	if w.chunking {
		w.dropped |= delContentLength
	}
	if w.closeAfterReply && (!keepAlives || !hasToken(w.connHdr, "close")) {
		w.dropped |= delConnection
		w.setConn = "close"
	}
	w.writeHead()
}

// sniff returns up to 512 bytes of a then b.
func (w *response) sniff(a, b []byte) []byte {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	s := append(w.c.sniffBuf[:0], a...)
	return append(s, b[:min(len(b), max(0, 512-len(s)))]...)
}

func (w *response) writeHead() {
	bw := w.c.bw
	writeStatusLine(w.c, w.status)
	for _, f := range w.fields {
		switch f.k {
		case "Content-Length":
			if w.dropped&delContentLength != 0 {
				continue
			}
		case "Transfer-Encoding":
			if w.dropped&delTransferEncoding != 0 {
				continue
			}
		case "Connection":
			if w.dropped&delConnection != 0 {
				continue
			}
		case "Content-Type":
			if w.dropped&delContentType != 0 {
				continue
			}
		}
		writeField(w.c, f.k, f.v)
	}
	if !w.hasDate {
		_, _ = bw.WriteString("Date: ")
		_, _ = bw.Write(httpDate())
		_, _ = bw.WriteString("\r\n")
	}
	if w.setCL != nil {
		_, _ = bw.WriteString("Content-Length: ")
		_, _ = bw.Write(w.setCL)
		_, _ = bw.WriteString("\r\n")
	}
	if w.setType != "" {
		_, _ = bw.WriteString("Content-Type: ")
		_, _ = bw.WriteString(w.setType)
		_, _ = bw.WriteString("\r\n")
	}
	if w.setConn != "" {
		_, _ = bw.WriteString("Connection: ")
		_, _ = bw.WriteString(w.setConn)
		_, _ = bw.WriteString("\r\n")
	}
	if w.setChunks {
		_, _ = bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	_, _ = bw.WriteString("\r\n")
}

// writeField writes "k: v" as net/http's Header.Write does: invalid names
// dropped, CR and LF in values turned into spaces, values trimmed.
func writeField(c *conn, k, v string) {
	if !httpguts.ValidHeaderFieldName(k) {
		return
	}
	if strings.ContainsAny(v, "\r\n") {
		v = strings.NewReplacer("\n", " ", "\r", " ").Replace(v)
	}
	v = textproto.TrimString(v)
	bw := c.bw
	_, _ = bw.WriteString(k)
	_, _ = bw.WriteString(": ")
	_, _ = bw.WriteString(v)
	_, _ = bw.WriteString("\r\n")
}

func writeStatusLine(c *conn, code int) {
	bw := c.bw
	_, _ = bw.WriteString("HTTP/1.1 ")
	if text := http.StatusText(code); text != "" {
		_, _ = bw.Write(strconv.AppendInt(c.clBuf[:0], int64(code), 10))
		_ = bw.WriteByte(' ')
		_, _ = bw.WriteString(text)
		_, _ = bw.WriteString("\r\n")
	} else {
		fmt.Fprintf(bw, "%03d status code %d\r\n", code, code)
	}
}

func hasToken(v, token string) bool {
	for _, f := range strings.Split(v, ",") {
		if strings.EqualFold(textproto.TrimString(f), token) {
			return true
		}
	}
	return false
}

func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowedForStatus(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.contentLength != -1 && w.written > w.contentLength {
		return 0, http.ErrContentLength
	}
	if w.committed {
		return w.writeBody(p, nil)
	}
	if len(w.pending)+len(p) <= bufferBeforeChunking {
		w.pending = append(w.pending, p...)
		return len(p), nil
	}
	w.commit(w.pending, p)
	_, err := w.writeBody(w.pending, p)
	w.pending = w.pending[:0]
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// writeBody writes a then b as body bytes (one chunk when chunking).
func (w *response) writeBody(a, b []byte) (int, error) {
	n := len(a) + len(b)
	if w.isHEAD || n == 0 {
		return n, nil
	}
	if w.werr != nil {
		return 0, w.werr
	}
	bw := w.c.bw
	if w.chunking {
		_, _ = bw.Write(strconv.AppendUint(w.c.clBuf[:0], uint64(n), 16))
		_, _ = bw.WriteString("\r\n")
	}
	_, _ = bw.Write(a)
	_, err := bw.Write(b)
	if w.chunking && err == nil {
		_, err = bw.WriteString("\r\n")
	}
	if err != nil {
		w.werr = err
		_ = w.c.rwc.Close()
		return 0, err
	}
	return n, nil
}

// Flush writes the head and what body is held back, and flushes the
// connection's writer.
func (w *response) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(w.pending, nil)
		_, _ = w.writeBody(w.pending, nil)
		w.pending = w.pending[:0]
	}
	if err := w.c.bw.Flush(); err != nil && w.werr == nil {
		w.werr = err
	}
}

// finish ends the response after the handler returned: the head if not
// written yet (with a Content-Length for a held-back body), the last
// chunk and trailers, and a flush.
func (w *response) finish() {
	w.handlerDone = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(w.pending, nil)
		_, _ = w.writeBody(w.pending, nil)
		w.pending = w.pending[:0]
	}
	bw := w.c.bw
	if w.chunking {
		_, _ = bw.WriteString("0\r\n")
		for k, vv := range w.header {
			if kk, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
				for _, v := range vv {
					writeField(w.c, kk, v)
				}
			}
		}
		for _, k := range w.declared {
			for _, v := range w.header[k] {
				writeField(w.c, k, v)
			}
		}
		_, _ = bw.WriteString("\r\n")
	}
	if err := bw.Flush(); err != nil && w.werr == nil {
		w.werr = err
	}
}

// reusable reports whether the connection may serve another request.
func (w *response) reusable() bool {
	if w.closeAfterReply || w.werr != nil {
		return false
	}
	if !w.isHEAD && w.contentLength != -1 && bodyAllowedForStatus(w.status) && w.contentLength != w.written {
		return false
	}
	return true
}

// httpDate returns the current Date header value, formatted once a second.
func httpDate() []byte {
	now := time.Now()
	sec := now.Unix()
	if d := dateCache.Load(); d != nil && d.sec == sec {
		return d.b
	}
	d := &cachedDate{sec: sec, b: now.UTC().AppendFormat(make([]byte, 0, len(http.TimeFormat)), http.TimeFormat)}
	dateCache.Store(d)
	return d.b
}

type cachedDate struct {
	sec int64
	b   []byte
}

var dateCache atomic.Pointer[cachedDate]
