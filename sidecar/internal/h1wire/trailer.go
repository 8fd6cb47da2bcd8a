package h1wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/textproto"
)

// ErrTrailerEOF is a trailer section cut short.
var ErrTrailerEOF = errors.New("unexpected EOF reading trailer")

// errLongTrailer is a trailer section larger than the reader's buffer.
var errLongTrailer = errors.New("suspiciously long trailer after chunked body")

// ReadTrailer reads the trailer section after a chunked body's last chunk,
// as net/http does: an empty one is a bare CRLF; a longer one must end
// within the reader's buffer. It returns nil when there is none.
func ReadTrailer(br *bufio.Reader) (http.Header, error) {
	buf, err := br.Peek(2)
	if len(buf) == 2 && buf[0] == '\r' && buf[1] == '\n' {
		_, _ = br.Discard(2)
		return nil, nil
	}
	if len(buf) < 2 {
		return nil, ErrTrailerEOF
	}
	if err != nil {
		return nil, err
	}
	if !upcomingDoubleCRLF(br) {
		return nil, errLongTrailer
	}
	hdr, err := textproto.NewReader(br).ReadMIMEHeader()
	if err != nil {
		if err == io.EOF {
			return nil, ErrTrailerEOF
		}
		return nil, err
	}
	return http.Header(hdr), nil
}

func upcomingDoubleCRLF(r *bufio.Reader) bool {
	for peekSize := 4; ; peekSize++ {
		buf, err := r.Peek(peekSize)
		if bytes.HasSuffix(buf, []byte("\r\n\r\n")) {
			return true
		}
		if err != nil {
			return false
		}
	}
}
