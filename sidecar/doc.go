// Package sidecar wires weft-proxy together: the ADS client
// (sidecar/xdsclient) feeds decoded resources (sidecar/xdsresource) into
// immutable snapshots (sidecar/dataplane) of route tables (sidecar/router)
// and clusters (sidecar/cluster); listeners (sidecar/listener) hand
// connections to the HTTP proxy (sidecar/httpproxy) or the TCP proxy
// (sidecar/tcpproxy); the admin API (sidecar/admin), Istio-named metrics
// (sidecar/metrics) and the access log (sidecar/accesslog) observe it.
//
// The ADS client speaks state of the world or, with Config.XDSDelta
// (weft-proxy --xds-delta), incremental xDS.
//
// It depends on Envoy's protos only — nothing of weft's control plane — so
// anything that speaks xDS can feed it. cmd/weft-proxy parses flags into a
// Config and calls Run.
//
// Tests: e2e_test.go and its siblings run a go-control-plane server
// (state of the world and delta) and real backends on 127.0.0.1:0;
// netns_linux_test.go, as root only, builds two network namespaces with a
// veth and Istio-style iptables REDIRECT and checks SO_ORIGINAL_DST routing
// with the proxy re-executed as uid 1337.
package sidecar
