// Package lifecycle is the agent's pod-lifecycle core: a pure function from
// (desired pod, observed containers, back-off memory, now) to a Plan — the
// containers to start and kill, the back-off memory to keep, and the pod
// status to report. It does no I/O and reads no clock: the agent's pod
// worker gathers the inputs, calls Decide, acts on the plan and calls it
// again when anything changes (a container exits, a probe flips, a timer
// fires, the spec changes).
//
// It follows the kubelet: init containers run in order, each to
// completion, before the app containers; restartPolicy Always, OnFailure
// and Never; the exponential restart back-off (10s doubling to 5m, forgotten
// after 10 minutes without a restart) shown as CrashLoopBackOff; phases and
// the conditions PodScheduled, Initialized, ContainersReady and Ready.
package lifecycle
