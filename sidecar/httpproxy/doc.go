// Package httpproxy is weft-proxy's HTTP connection manager and router
// filter: for each request it loads the snapshot once, matches a route,
// applies fault injection, picks a weighted cluster and an endpoint, and
// forwards with Envoy's semantics — timeouts (504 UT), retries (retry_on,
// per-try timeout, jittered back-off, retry budget, idempotency, replayable
// bodies), circuit breakers (503 UO with x-envoy-overloaded), no route
// (404 NR), no healthy upstream (503 UH), mirroring to "-shadow" hosts,
// WebSocket upgrades, gRPC trailers and streaming — then writes the access
// log and metrics.
//
// The connection manager's stream timeouts are enforced per request:
// stream_idle_timeout (no bytes either way: 408 "stream timeout", flag SI,
// before the response starts, a reset after) and request_timeout (the
// whole request not received: 408 "request timeout"). Upgraded (WebSocket)
// streams are bound by the route's timeouts only. An upstream that ends
// mid-response resets the downstream stream with flag UC (connection
// termination) or UR (stream reset). per_connection_buffer_limit_bytes of
// the listener bounds the request body buffered for retries and mirrors.
//
// The per-request state is pooled (the exchange, and the stream timeout
// watch with its timers), the copy buffers and common header values
// shared, so a plain proxied request allocates little beyond what net/http
// itself does.
package httpproxy
