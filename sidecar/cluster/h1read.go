package cluster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"

	"github.com/weft-mesh/weft/sidecar/internal/h1wire"
)

// The upstream HTTP/1.1 response reader. A response head is read whole
// into the connection's scratch buffer first; a plain head (an HTTP/1.x
// status line with a three-digit code, "Token: value" lines ending in
// CRLF, a single numeric Content-Length or none, and none of
// Transfer-Encoding, Connection, Trailer and Pragma) is parsed here with a
// handful of allocations, anything else by net/http's http.ReadResponse on
// the buffered head, so that every odd or malformed head gets exactly
// net/http's treatment. The body is framed here in both cases (Content-Length,
// chunked with trailers, or up to the connection's end). FuzzReadResponse
// checks the two against each other.

// maxResponseHead bounds a response head (status line and headers).
const maxResponseHead = 1 << 20

var errHeadTooLarge = errors.New("upstream response head larger than 1 MiB")

// readHead reads one response head, up to and including its blank line,
// into buf. A connection that ends before the first byte returns io.EOF
// (a kept-alive connection the upstream closed); one that ends inside the
// head returns io.ErrUnexpectedEOF.
func readHead(br *bufio.Reader, buf []byte) ([]byte, error) {
	buf = buf[:0]
	start := 0 // of the current line in buf
	for {
		frag, err := br.ReadSlice('\n')
		if len(buf)+len(frag) > maxResponseHead {
			return buf, errHeadTooLarge
		}
		buf = append(buf, frag...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && len(buf) == 0:
			return buf, io.EOF
		case err == io.EOF:
			return buf, io.ErrUnexpectedEOF
		case err != nil:
			return buf, err
		}
		// A blank line ("\r\n" or "\n") ends the head; as the first
		// line it is a malformed status line, which parseResponse rejects.
		line := buf[start:]
		if len(line) == 1 || len(line) == 2 && line[0] == '\r' {
			return buf, nil
		}
		start = len(buf)
	}
}

// h1Resp holds what a plain response needs, in one allocation: the
// response, its body, and the value slices of up to eight header lines.
type h1Resp struct {
	resp http.Response
	body h1Body
	strs [8]string
}

// parseResponse parses one response head (from readHead) for a request
// with the given method. The returned response's Body is nil: the caller
// frames it (bodyMode). body, when not nil, is the h1Body allocated with
// the response for the caller to use.
func parseResponse(head []byte, method string) (resp *http.Response, body *h1Body, err error) {
	if r := parsePlain(head, method); r != nil {
		return &r.resp, &r.body, nil
	}
	var req *http.Request
	if method == http.MethodHead {
		req = headRequest
	}
	resp, err = http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), req)
	if err != nil {
		return nil, nil, err
	}
	resp.Body = nil
	return resp, nil, nil
}

// parsePlain parses a plain head (see above) or returns nil. Strings in the
// result share one allocation of the head.
func parsePlain(head []byte, method string) *h1Resp {
	if method == http.MethodHead || len(head) < 16 || !bytes.HasPrefix(head, []byte("HTTP/1.")) || (head[7] != '0' && head[7] != '1') || head[8] != ' ' {
		return nil
	}
	// Count header lines for the value block; check the line ends.
	lines := 0
	for i := 0; i < len(head); i++ {
		if head[i] == '\n' {
			if i == 0 || head[i-1] != '\r' {
				return nil
			}
			lines++
		}
	}
	s := string(head)
	eol := indexCRLF(s)
	status := s[9:eol]
	for len(status) > 0 && status[0] == ' ' {
		status = status[1:]
	}
	if len(status) < 3 || !isDigit(status[0]) || !isDigit(status[1]) || !isDigit(status[2]) || (len(status) > 3 && status[3] != ' ') {
		return nil
	}
	for i := 0; i < len(status); i++ {
		if !validValueByte(status[i]) {
			return nil
		}
	}
	r := new(h1Resp)
	resp := &r.resp
	*resp = http.Response{
		Status: status, StatusCode: int(status[0]-'0')*100 + int(status[1]-'0')*10 + int(status[2]-'0'),
		Proto: s[:8], ProtoMajor: 1, ProtoMinor: int(s[7] - '0'),
	}
	h := make(http.Header, lines-2)
	strs := r.strs[:]
	if lines-2 > len(strs) {
		strs = make([]string, lines-2)
	}
	rest := s[eol+2:]
	var cl string
	for {
		eol = indexCRLF(rest)
		line := rest[:eol]
		rest = rest[eol+2:]
		if line == "" {
			break
		}
		colon := -1
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c == ':' {
				colon = i
				break
			}
			if !validFieldByte(c) {
				return nil
			}
		}
		if colon <= 0 {
			return nil
		}
		v := line[colon+1:]
		for i := 0; i < len(v); i++ {
			if !validValueByte(v[i]) {
				return nil
			}
		}
		v = trimOWS(v)
		k := textproto.CanonicalMIMEHeaderKey(line[:colon])
		switch k {
		case "Transfer-Encoding", "Connection", "Trailer", "Pragma":
			return nil
		case "Content-Length":
			if cl != "" || !allDigits(v) || len(v) > 18 {
				return nil
			}
			cl = v
		}
		if vv := h[k]; vv != nil {
			h[k] = append(vv, v)
		} else {
			vv, strs = strs[:1:1], strs[1:]
			vv[0] = v
			h[k] = vv
		}
	}
	resp.Header = h
	resp.Close = resp.ProtoMinor == 0
	switch {
	case resp.StatusCode/100 == 1 || resp.StatusCode == 204 || resp.StatusCode == 304:
		resp.ContentLength = 0
	case cl != "":
		var n int64
		for i := 0; i < len(cl); i++ {
			n = n*10 + int64(cl[i]-'0')
		}
		resp.ContentLength = n
	default:
		// Delimited by the connection's end.
		resp.ContentLength = -1
		resp.Close = true
	}
	return r
}

func indexCRLF(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\r' && s[i+1] == '\n' {
			return i
		}
	}
	return len(s)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// trimOWS trims spaces and tabs on both ends, as textproto does.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// validFieldByte: a token character (RFC 9110 5.6.2).
func validFieldByte(c byte) bool {
	return c < 0x80 && tokenTable[c]
}

// validValueByte: VCHAR, SP, HTAB or obs-text.
func validValueByte(c byte) bool {
	return c >= 0x80 || (c >= 0x20 && c < 0x7f) || c == '\t'
}

var tokenTable = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// Body framing of an upstream response.
type bodyMode uint8

const (
	bodyNone    bodyMode = iota // no body (HEAD, 1xx, 204, 304, length 0)
	bodyLength                  // Content-Length bytes
	bodyChunked                 // chunked, then trailers
	bodyToEOF                   // up to the connection's end
)

// framing says how resp's body is delimited; resp comes from parseResponse
// for a request with the given method.
func framing(resp *http.Response, method string) bodyMode {
	chunked := len(resp.TransferEncoding) > 0
	switch {
	case method == http.MethodHead || resp.StatusCode/100 == 1 || resp.StatusCode == 204 || resp.StatusCode == 304:
		return bodyNone
	case chunked:
		return bodyChunked
	case resp.ContentLength > 0:
		return bodyLength
	case resp.ContentLength == 0:
		return bodyNone
	case resp.Close:
		return bodyToEOF
	}
	return bodyNone
}

// frameReader reads a response body off the connection's reader.
type frameReader struct {
	br      *bufio.Reader
	mode    bodyMode
	left    int64     // bodyLength: bytes still to read
	chunked io.Reader // bodyChunked
	resp    *http.Response
}

func (f *frameReader) Read(p []byte) (int, error) {
	switch f.mode {
	case bodyLength:
		if f.left <= 0 {
			return 0, io.EOF
		}
		if int64(len(p)) > f.left {
			p = p[:f.left]
		}
		n, err := f.br.Read(p)
		f.left -= int64(n)
		switch {
		case f.left == 0:
			return n, io.EOF
		case err == io.EOF:
			return n, io.ErrUnexpectedEOF
		}
		return n, err
	case bodyChunked:
		n, err := f.chunked.Read(p)
		if err == io.EOF {
			if terr := f.readTrailer(); terr != nil {
				return n, terr
			}
		}
		return n, err
	case bodyToEOF:
		return f.br.Read(p)
	}
	return 0, io.EOF
}

// readTrailer reads the trailer section after the last chunk into
// resp.Trailer, as net/http does (up to the reader's buffer size).
func (f *frameReader) readTrailer() error {
	hdr, err := h1wire.ReadTrailer(f.br)
	switch {
	case errors.Is(err, h1wire.ErrTrailerEOF):
		return io.ErrUnexpectedEOF
	case err != nil:
		return fmt.Errorf("response trailer: %w", err)
	case hdr == nil:
		return nil
	}
	if f.resp.Trailer == nil {
		f.resp.Trailer = make(http.Header, len(hdr))
	}
	for k, v := range hdr {
		f.resp.Trailer[k] = v
	}
	return nil
}

// frame sets up f to read the body of resp (from parseResponse) off br.
func (f *frameReader) frame(br *bufio.Reader, resp *http.Response, method string) {
	*f = frameReader{br: br, mode: framing(resp, method), left: resp.ContentLength, resp: resp}
	if f.mode == bodyChunked {
		f.chunked = httputil.NewChunkedReader(br)
	}
}
