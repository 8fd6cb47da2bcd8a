// Package dns is Weft's cluster DNS server, run by weftd on --dns-addr.
// It answers the cluster's names from an immutable Index and forwards every
// other name to upstream resolvers, on miekg/dns, in the shape of CoreDNS.
//
// The index is a pure function of the cluster's objects:
//
//	ix := dns.BuildIndex("cluster.local", services, endpoints, pods)
//
// weftd builds it from its informers' contents whenever Services,
// Endpoints or Pods change, and swaps it in with Server.SetIndex; queries
// load it once each through an atomic pointer, so none sees half an update.
// What it answers (A/AAAA, SRV, PTR, CNAME, pod names, NXDOMAIN vs NODATA)
// is documented on BuildIndex and in README.md.
//
// The server:
//
//	srv, err := dns.NewServer(dns.Config{Addr: "127.0.0.1:10053", Upstreams: flagUpstreams})
//	srv.SetIndex(ix)
//	err = srv.Run(ctx, func(addr string) { /* write dns=addr to weftd.addrs */ })
//
// (or Start and Shutdown). Every query goes through request checks
// (FORMERR, NOTIMP, REFUSED, BADVERS, RFC 8482 for ANY) and then the plugin
// chain, whose order is set in one place, setup.go:
//
//	kubernetes → cache → forward
//
// Each plugin is a Handler (ServeDNS, Name) in its own file: kubernetes.go
// answers the zone and known reverse names from the index; cache.go keeps
// forwarded answers in a bounded LRU honouring TTLs (RFC 2308 negative
// caching, capped); forward.go asks the upstreams (UDP, TCP on truncation,
// per-attempt timeouts, bounded concurrency). A response writer fits every
// answer to the client: EDNS0 and truncation with TC over UDP.
//
// ResolvConf gives the resolv.conf a pod gets.
package dns
