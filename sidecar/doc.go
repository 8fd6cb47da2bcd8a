// Package sidecar wires weft-proxy together: the ADS client
// (sidecar/xdsclient) feeds decoded resources (sidecar/xdsresource) into
// immutable snapshots (sidecar/dataplane) of route tables (sidecar/router)
// and clusters (sidecar/cluster); listeners (sidecar/listener) hand
// connections to the HTTP proxy (sidecar/httpproxy) or the TCP proxy
// (sidecar/tcpproxy); the admin API (sidecar/admin), Istio-named metrics
// (sidecar/metrics) and the access log (sidecar/accesslog) observe it.
//
// It depends on Envoy's protos only — nothing of weft's control plane — so
// anything that speaks xDS can feed it. cmd/weft-proxy parses flags into a
// Config and calls Run.
package sidecar
