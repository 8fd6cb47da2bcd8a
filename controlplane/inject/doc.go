// Package inject adds the weft-proxy sidecar to pods, as Istio's injector
// does: at admission for pods whose namespace is labelled
// istio-injection=enabled (or weft-injection=enabled) or that carry
// sidecar.istio.io/inject: "true" ("false" opts out), and in files for
// `weftctl kube-inject`. The injected container shows in the stored pod spec.
package inject
