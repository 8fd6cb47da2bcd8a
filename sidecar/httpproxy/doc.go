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
// The per-request state is pooled and the copy buffers shared, so a plain
// proxied request allocates little beyond what net/http itself does.
package httpproxy
