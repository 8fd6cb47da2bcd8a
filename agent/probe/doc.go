// Package probe runs Kubernetes' container probes — exec, httpGet,
// tcpSocket and grpc — on their schedule (initialDelaySeconds,
// periodSeconds, timeoutSeconds, successThreshold, failureThreshold) and
// reports each change of verdict. Check runs one probe once; Worker runs
// one probe of one container run until its context ends. Lifecycle hooks
// (postStart, preStop) use the same handlers through RunHandler.
package probe
