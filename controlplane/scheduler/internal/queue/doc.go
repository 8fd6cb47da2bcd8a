// Package queue is the scheduler's queue of pods waiting for a node, after
// kube-scheduler's: an active heap (highest priority, then oldest, first)
// that Pop serves; a back-off heap of pods that failed recently, each
// waiting initialBackoff·2^(attempts-1) up to maxBackoff; and a set of
// unschedulable pods, moved back when a cluster event that could help them
// arrives (a node added, a pod deleted, …) or after a long timeout.
//
// Time comes from a clock function, so tests drive it.
package queue
