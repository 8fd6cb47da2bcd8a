// Package api is Weft's resource model: the Kubernetes types of k8s.io/api
// and the Istio types of istio.io/api that users already write, and what
// the control plane does with them before they are stored.
//
//   - scheme.go: the kinds Weft serves (Kind: group, versions, resource,
//     short names, whether Weft acts on it) and lookups by apiVersion/kind,
//     API path, or the names kubectl accepts (po, svc, vs, ...).
//   - decode.go, istio_decode.go: strict decoding of multi-document YAML or
//     JSON from files, folders and stdin into typed objects in their
//     storage version. Every problem is a *DocError naming the file, the
//     document, the object and the field path
//     (`flaskapp.yaml doc 2 (Deployment/flaskapp-v1): spec.template.spec.containers[0].imagePullPolice: unknown field`).
//     Istio specs are checked against their protobuf descriptors, so unknown
//     fields, bad enums and bad durations are named too; durations take both
//     "180.000s" and "3m".
//   - istio.go: IstioResource, the Kubernetes envelope of Istio specs.
//   - defaults.go: Kubernetes' defaulting. validation*.go: Kubernetes'
//     validation (Validate, ValidateUpdate) with field paths, and warnings
//     for fields Weft accepts but does not act on yet (support.go).
//   - mesh.go, proxyconfig.go: the sidecar's switches — injection labels
//     and annotations, and a pod's proxy.istio.io/config (a ProxyConfig,
//     checked against its descriptor; Istio pod annotations and ProxyConfig
//     fields Weft does not act on are warned about).
//   - hpa_convert.go: autoscaling/v1 ⇄ v2 (HPAs are stored as v2).
//
// Istio VirtualService/DestinationRule semantics live in package policies.
// Package api imports nothing else of Weft.
package api
