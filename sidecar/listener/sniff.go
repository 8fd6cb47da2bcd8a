package listener

import (
	"bytes"
	"net"
	"time"
)

// peekConn replays bytes read while sniffing before reading the socket.
type peekConn struct {
	net.Conn
	buf []byte
}

func (p *peekConn) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// CloseWrite half-closes the underlying TCP connection.
func (p *peekConn) CloseWrite() error {
	if cw, ok := p.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

var h2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

// sniff reads the first bytes of c (up to timeout) and reports the
// transport protocol ("tls" or "raw_buffer") and, for plaintext HTTP, the
// application protocol ("http/1.1" or "h2c"), like Envoy's tls_inspector
// and http_inspector. The returned conn replays what was read.
func sniff(c net.Conn, timeout time.Duration) (net.Conn, string, string) {
	buf := make([]byte, 0, 512)
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	for len(buf) < cap(buf) {
		n, err := c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil || decided(buf) {
			break
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	pc := &peekConn{Conn: c, buf: buf}
	transport, app := classify(buf)
	return pc, transport, app
}

func decided(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	if b[0] == 0x16 {
		return true
	}
	if bytes.HasPrefix(h2Preface, b) && len(b) < len(h2Preface) {
		return false
	}
	return len(b) >= len(h2Preface) || bytes.IndexByte(b, '\n') >= 0
}

// classify is pure: transport and application protocol of a prefix.
func classify(b []byte) (transport, app string) {
	if len(b) > 0 && b[0] == 0x16 {
		return "tls", ""
	}
	if bytes.HasPrefix(b, h2Preface) {
		return "raw_buffer", "h2c"
	}
	line := b
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		line = bytes.TrimRight(b[:i], "\r")
	} else {
		return "raw_buffer", ""
	}
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return "raw_buffer", ""
	}
	for _, ch := range line[:sp] {
		if ch < 'A' || ch > 'Z' {
			return "raw_buffer", ""
		}
	}
	if bytes.HasSuffix(line, []byte(" HTTP/1.1")) || bytes.HasSuffix(line, []byte(" HTTP/1.0")) {
		return "raw_buffer", "http/1.1"
	}
	return "raw_buffer", ""
}
