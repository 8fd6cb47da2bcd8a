// Package inject adds the weft-proxy sidecar to pods, as Istio's injector
// does: at admission for pods whose namespace is labelled
// istio-injection=enabled (or weft-injection=enabled) or that carry
// sidecar.istio.io/inject: "true" ("false" opts out), and in files for
// `weftctl kube-inject`. The injected container shows in the stored pod spec.
//
// The proxy is a native sidecar, as Istio injects it with
// ENABLE_NATIVE_SIDECARS: the first init container, with restartPolicy
// Always and a startup probe on its readiness endpoint. The agent therefore
// starts it before anything else and starts the next container only once
// the proxy has its configuration (Istio's holdApplicationUntilProxyStarts,
// always on); on deletion it stops the app containers first and the proxy
// after them; and a pod whose app containers completed (a Job's) stops its
// proxy and completes.
//
// A pod's proxy.istio.io/config annotation is read as Istio reads it (a
// ProxyConfig): terminationDrainDuration becomes the proxy's drain on
// shutdown (--drain-time; Istio's default, 5s, otherwise). The API warns
// on apply about the fields and the other Istio pod annotations Weft does
// not act on, and rejects an annotation that is not a ProxyConfig.
package inject
