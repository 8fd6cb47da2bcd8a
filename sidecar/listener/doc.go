// Package listener binds weft-proxy's listeners and hands each accepted
// connection to a filter chain, as Envoy's listener manager does:
//
//   - netns sidecar mode: virtualOutbound (15001, use_original_dst) and
//     virtualInbound (15006) are bound; SO_ORIGINAL_DST recovers where a
//     redirected connection was going, and the connection moves to the
//     listener for that address (0.0.0.0_<port>) or stays on the virtual
//     listener's passthrough chain;
//   - host sidecar mode: virtualOutbound is an HTTP proxy on the pod IP
//     (HTTP_PROXY): each request is served by the outbound listener of its
//     destination port; CONNECT tunnels too; TCP-only listeners bind on
//     the pod IP. weft's translator instead sends "<podIP>_<port>", an HTTP
//     listener with route configuration "http_proxy": listeners on a
//     specific IP bind there and route by Host (absolute-form URLs
//     included); an unknown host:port, and CONNECT (no route matches it),
//     get 404 NR — host mode has no allow_any passthrough;
//   - gateway mode: every listener with bind_to_port binds its address.
//
// Filter chains are chosen by destination port, IP prefix, and sniffed
// transport and application protocol; TCP chains go to package tcpproxy.
// HTTP chains are served per listener version by the lean HTTP/1.1 server
// of package internal/h1server when the codec allows HTTP/1, which hands
// every connection it does not take (h2c, CONNECT, upgrades, Expect,
// HTTP/1.0, odd or malformed requests) with the bytes it read to the
// listener's http.Server (HTTP/1.1 and h2c); with codec HTTP2, or
// Options.NetHTTPOnly (WEFT_PROXY_H1_FASTPATH=off), the http.Server takes
// every connection. Both honour the connection manager's timeouts and
// header limit, the draining Connection: close, retirement and Drain.
package listener
