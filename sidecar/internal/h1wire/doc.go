// Package h1wire holds the pieces of HTTP/1.1 framing that weft-proxy's
// lean readers share: the upstream response reader (package cluster) and
// the downstream request server (package h1server). Both follow net/http's
// rules, so that what one accepts the other would too.
package h1wire
