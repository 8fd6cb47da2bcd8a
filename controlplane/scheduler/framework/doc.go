// Package framework is the scheduler's plugin contract, kept small after
// the Kubernetes scheduling framework: one interface per extension point
// (PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin), a Status
// with a Code instead of a bare error, a Registry of plugin factories that
// refuses duplicate names, and the Framework that runs one Profile's
// plugins in order over a snapshot of the cluster.
//
// The types plugins read are precomputed once per object: PodInfo holds a
// pod's effective requests, host ports and parsed affinity terms; NodeInfo
// holds a node with the pods on it, their summed requests and used host
// ports. A scheduling cycle reads NodeInfos from a snapshot that does not
// change under it, so plugins take no locks.
//
//	fwk, err := framework.New(registry, profile, handle)
//	state := framework.NewCycleState()
//	st := fwk.RunPreFilterPlugins(ctx, state, pod)
//	st = fwk.RunFilterPlugins(ctx, state, pod, nodeInfo)
package framework
