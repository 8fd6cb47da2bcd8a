// Package apiserver serves Weft's Kubernetes-shaped HTTP/JSON API over a
// store.Store:
//
//	/api/v1/namespaces/{ns}/{resource}[/{name}[/status]]
//	/apis/{group}/{version}/namespaces/{ns}/{resource}[/{name}[/status]]
//	/api/v1/{resource}              (cluster-scoped kinds, or all namespaces)
//
// GET lists (labelSelector, fieldSelector) or gets, `?watch=true` streams
// JSON-line events (without a resourceVersion it starts with the current
// objects as ADDED; a compacted one is 410 Expired), POST creates, PUT
// updates (a stale resourceVersion is 409), PATCH with Content-Type
// application/apply-patch+yaml applies like kubectl apply (the result is in
// the X-Weft-Apply-Result header: created, configured or unchanged),
// DELETE deletes (a namespace takes its contents with it).
//
// Every write runs admission: defaulting (api.Default), the configured
// AdmissionPlugins, then validation (api.Validate and, for Istio kinds,
// package policies). Problems come back as a metav1.Status with reason
// Invalid and one cause per field; accepted-but-unsupported fields and
// stored-only kinds come back as Warning headers. Every request but
// /healthz and /readyz needs a bearer token known to the Authenticator.
//
// POST /apis/authentication.k8s.io/v1/tokenreviews (nodes and admins only)
// says whom a token belongs to: node agents check the requests they serve
// with it. Pods' log, exec and proxy-admin subresources and the metrics API
// are proxied to the pod's node agent with the API server's own token
// (Config.AgentToken), never the caller's.
package apiserver
