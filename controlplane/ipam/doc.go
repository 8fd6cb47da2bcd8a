// Package ipam allocates Service ClusterIPs from the service CIDR and
// NodePorts from the node port range, as kube-apiserver's service
// registry does, as an apiserver.AdmissionPlugin on Services.
//
// Allocations are records in the store, one key per IP or port
// (/weft/ipam/serviceips/<ip>, /weft/ipam/nodeports/<port>), created with
// the store's create-if-absent: the store is the final word on who holds
// what, so concurrent creates — in one weftd or several over one etcd —
// never get the same IP. An in-memory bitmap, rebuilt from the records at
// start (New) and on every repair pass, only makes finding a free one
// fast.
//
// Admission cannot see deletions, nor creates that fail after admission.
// Allocator.Run (started by weftd next to the API server) releases what a
// deleted Service held as soon as the deletion is seen, and a periodic
// repair pass — kube-apiserver's repair loops — releases records no stored
// Service holds and records the allocations of stored Services that have
// none. A record touched within the grace period is never released, so an
// allocation on its way into the store is safe.
//
// Wiring (controlplane/weftd.go):
//
//	alloc, err := ipam.New(ctx, ipam.Config{Store: st, ServiceCIDR: cfg.ServiceCIDR, Log: log.Named("ipam")})
//	api := apiserver.New(apiserver.Config{..., Admission: []apiserver.AdmissionPlugin{alloc}})
//	go alloc.Run(ctx, adminClient) // release on delete, repair
package ipam
