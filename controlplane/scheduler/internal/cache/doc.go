// Package cache is the scheduler's view of the cluster: the nodes and the
// pods bound to them, as the informers report them, plus the pods this
// scheduler has placed but whose binding the informers have not shown yet
// ("assumed" pods, as in kube-scheduler), so the next cycle counts their
// resources and ports.
//
// Each scheduling cycle starts with UpdateSnapshot, which copies into the
// cycle's Snapshot only the nodes that changed since the last one; the
// cycle then reads the Snapshot without locks.
package cache
