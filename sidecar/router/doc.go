// Package router is weft-proxy's L7 route table: it compiles a decoded
// RouteConfiguration into an immutable Table and matches requests against it
// the way Envoy does (virtual host by domain, then the first route whose
// path, header and query conditions all hold). It also holds the pure parts
// of route actions: weighted cluster choice, path rewrites, redirect
// locations, header mutations and consistent-hash keys.
//
// Tables are built once per RDS update and published whole (the HTTP proxy
// reads them through an atomic pointer); nothing here changes after
// NewTable returns and nothing does I/O.
package router
