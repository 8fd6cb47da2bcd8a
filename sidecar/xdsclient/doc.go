// Package xdsclient is weft-proxy's ADS client (state of the world over
// gRPC). It subscribes to listeners and clusters, follows the route
// configurations and endpoint assignments they reference, decodes and
// validates every response with package xdsresource, and hands each
// accepted State to a callback. A response it cannot honour is NACKed with
// the decoding error as the message and the previous resources keep
// serving. When the control plane goes away the client keeps its state and
// reconnects with jittered exponential back-off.
//
//	c := xdsclient.New(xdsclient.Config{Addr: "127.0.0.1:15010", Node: node, OnUpdate: apply})
//	go c.Run(ctx)
package xdsclient
