// Package xdsclient is weft-proxy's ADS client over gRPC, state of the
// world (StreamAggregatedResources, the default) or incremental
// (DeltaAggregatedResources, Config.Delta). It subscribes to listeners and
// clusters, follows the route configurations and endpoint assignments they
// reference, decodes and validates every response with package
// xdsresource, and hands each accepted State to a callback. A response it
// cannot honour is NACKed with the decoding error as the message and the
// previous resources keep serving. When the control plane goes away the
// client keeps its state and reconnects with jittered exponential back-off.
//
// In delta mode LDS and CDS are wildcard subscriptions ("*"); RDS and EDS
// names are subscribed and unsubscribed as listeners and clusters come and
// go. Each response's added and removed resources are applied onto the last
// good State (a copy; the old one is never changed), and the whole response
// is rejected if any resource is invalid. The accepted version of every
// resource is kept in State.ResourceVersions and sent as
// initial_resource_versions when the stream reconnects, so the server sends
// only what changed meanwhile (removals included).
//
//	c := xdsclient.New(xdsclient.Config{Addr: "127.0.0.1:15010", Node: node, OnUpdate: apply, Delta: true})
//	go c.Run(ctx)
package xdsclient
