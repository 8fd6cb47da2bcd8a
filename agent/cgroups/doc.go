// Package cgroups enforces container resource limits and samples usage with
// Linux control groups, v1 (memory, cpu, cpuacct controllers mounted apart,
// as on hybrid hosts) or v2 (the unified hierarchy).
//
// Each container gets one group, weft/<node>/pod<uid>/<container>: in v1
// below the agent's own group of each controller (so the host's limits on
// the agent still apply), in v2 below the root (v2 forbids processes in
// inner groups). The runtime's exec helper joins the group itself before it
// execs the container's program, so no allocation escapes the limit.
//
// Detect says whether groups can be made here and, when not, why; callers
// report that limits are not enforced rather than failing the pod.
package cgroups
