// Package h1server is weft-proxy's lean downstream HTTP/1.1 server: the
// common case of net/http's server, for less CPU per request.
//
// A Server serves connections handed to ServeConn, one goroutine each,
// which reads request heads and runs the handler. Per connection it keeps
// pooled 4 KiB bufio readers and writers, one reused *http.Request (its
// context is the connection's, cancelled when the connection ends) and
// reused header maps. net/http starts a background read per request to see
// the client go away; here one starts only for a request still running
// watchDelay (20 ms) after its body was read, so a client that disconnects
// mid-request still cancels it, within that delay, and quick requests do
// not pay for it.
//
// The request head must be whole in the reader's buffer (and within
// MaxHeaderBytes) and plain (parsePlain: CRLF lines, an HTTP/1.1 request
// line with an origin- or absolute-form target, valid names and values,
// one valid Host, one Content-Length or Transfer-Encoding: chunked, and no
// Expect, Upgrade, Trailer, Pragma, or Connection: upgrade). Anything else,
// HTTP/1.0, h2c's preface, CONNECT and every malformed request included,
// goes to Fallback with the bytes already read, so net/http answers it
// exactly as it would have (431, 400, 501, 417, hijacking, HTTP/2). The
// fuzz target FuzzParse holds the parser to http.ReadRequest and the checks
// net/http's server adds.
//
// Responses are what net/http writes for the same handler calls (see
// response): held back up to 2 KiB for a Content-Length and a sniffed
// Content-Type, else chunked with trailers; no body for HEAD, 1xx, 204 and
// 304; Connection: close when the request asked for it, when keep-alives
// are off, or when an unread request body is too big to drop. Shutdown and
// SetKeepAlivesEnabled behave as http.Server's.
package h1server
