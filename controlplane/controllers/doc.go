// Package controllers is Weft's kube-controller-manager: level-triggered
// reconcile loops over shared watch caches (client.NewInformer) and work
// queues of keys. Every controller reads desired and actual state from the
// caches in Reconcile(ctx, key), decides what to do with a pure function
// of (desired, actual, now) — table-tested in *_plan_test.go — and acts
// through the API client, never the store, so admission and validation
// always run.
//
// The controllers:
//
//   - replicaset.go: ReplicaSets and ReplicationControllers (pods from the
//     template, adoption and release by selector, kube's delete order,
//     status with minReadySeconds);
//   - deployment.go: Deployments (RollingUpdate and Recreate, revisions,
//     proportional scaling, revisionHistoryLimit, progressDeadlineSeconds);
//   - hpa.go: HorizontalPodAutoscalers (autoscaling/v2 resource and
//     container-resource metrics, from a MetricsSource);
//   - nodelifecycle.go: nodes that stop heartbeating become Ready=Unknown,
//     get the unreachable taints, and lose their pods after the eviction
//     timeout;
//   - gc.go: background garbage collection through ownerReferences;
//   - podgc.go: pods bound to a node that no longer exists are failed and
//     deleted after a quarantine (40s), as upstream's PodGC does, so that
//     their controllers replace them;
//   - endpoints.go: Service selector × pods → Endpoints and EndpointSlices.
//
// Every decision and failure is recorded as a core/v1 Event (events.go).
//
// Use:
//
//	err := controllers.Run(ctx, controllers.Config{Client: c, Log: log})
//
// Run blocks until ctx is done.
package controllers
