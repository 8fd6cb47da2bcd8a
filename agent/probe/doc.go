// Package probe runs Kubernetes' container probes — exec, httpGet,
// tcpSocket and grpc — on their schedule (initialDelaySeconds,
// periodSeconds, timeoutSeconds, successThreshold, failureThreshold) and
// reports each change of verdict. Check runs one probe once; Worker runs
// one probe of one container run until its context ends. Lifecycle hooks
// (postStart, preStop) use the same handlers through RunHandler.
//
// One deliberate difference from the kubelet: until a readiness or startup
// probe first succeeds, it is also tried 25 ms, 50 ms, 100 ms and then every
// 200 ms after each scheduled attempt (within the period), and those early failures do
// not count. A container is then Ready within milliseconds of answering
// instead of up to a period later; the probe's counted schedule, and so
// failureThreshold × periodSeconds, is the kubelet's.
package probe
