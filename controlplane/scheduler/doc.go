// Package scheduler places pending pods on nodes: filter → score → bind,
// after kube-scheduler's framework, kept small.
//
// Run is the whole scheduler as weftd starts it:
//
//	err := scheduler.Run(ctx, scheduler.Config{Client: c, Log: log.Named("scheduler")})
//
// It watches pods and nodes through client.NewInformer. Bound pods and
// nodes feed a cache (internal/cache); pending pods whose schedulerName is
// Config.SchedulerName (or empty) feed a queue (internal/queue). One
// goroutine runs the scheduling cycle, one pod at a time:
//
//  1. bring the cycle's snapshot up to date (only nodes that changed are
//     copied; pods this scheduler placed but the informer has not shown
//     bound yet — "assumed" pods — are counted);
//  2. run the profile's PreFilter and Filter plugins over the nodes, from
//     where the last cycle stopped, until enough nodes fit (all of them
//     below 100 nodes; an adaptive share above, as kube-scheduler);
//  3. run PreScore and Score on those, weigh, sum, and pick the best node
//     (ties at random);
//  4. assume the pod on that node in the cache and bind it through the
//     API in the background (POST pods/{name}/binding: the API's
//     optimistic concurrency refuses a pod already bound).
//
// A pod that fits no node stays Pending with PodScheduled=False, reason
// Unschedulable and Kubernetes' message (`0/3 nodes are available: 1
// node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2
// Insufficient cpu.`), gets a FailedScheduling Event, and waits until a
// cluster event one of the rejecting plugins cares about (a node added, a
// pod deleted, a taint removed, …) moves it back, after its back-off; a
// failed binding is forgotten and retried the same way.
//
// The plugins live in plugins/, their contract in framework/; which run,
// in what order and with what weights is DefaultProfile (profile.go).
// Fixture builders for tests are in schedtest/.
//
// BenchmarkThroughput runs the same cycle against in-memory nodes with a
// binder that needs no API server, for `make bench`.
package scheduler
